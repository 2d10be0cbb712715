"""Meetings background work: thin, idempotent, safe to retry."""

from __future__ import annotations

from django_tasks import task


@task()
def purge() -> int:
    """Erase suggestion contacts 30 days after they were given (every 6 hours)."""
    from harbour.meetings.services import suggestion_purge

    return suggestion_purge()
