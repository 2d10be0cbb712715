"""Meetings background work: thin, idempotent, safe to retry."""

from __future__ import annotations

from django_tasks import task


@task()
def purge() -> dict[str, int]:
    """Erase suggestion contacts after 30 days, reviewed suggestions after a year (every 6
    hours)."""
    from harbour.meetings.services import suggestion_purge

    return suggestion_purge()
