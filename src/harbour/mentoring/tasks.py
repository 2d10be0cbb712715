"""Mentoring background work: reminders, missed check-ins and "gone quiet" notices, proposals
not answered in time, and erasing closed requests (every 5 minutes; steps are day-scale)."""

from __future__ import annotations

from django_tasks import task


@task()
def advance() -> int:
    from harbour.mentoring.services import advance_due

    return advance_due()
