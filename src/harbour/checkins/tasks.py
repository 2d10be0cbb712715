"""Check-in background work. The timed steps themselves run on the worker's clock
(:mod:`harbour.core.clock`), not as queued tasks, so they never wait behind other work."""

from __future__ import annotations

from django_tasks import task


@task()
def purge() -> int:
    """Every 10 minutes: close sessions left open past ``CHECKIN_MAX_OPEN_HOURS`` (staff on
    duty told), then erase everything about the person in sessions that ended (or started)
    long enough ago."""
    from harbour.checkins.services import close_stale
    from harbour.checkins.services import purge as erase

    close_stale()
    return erase()
