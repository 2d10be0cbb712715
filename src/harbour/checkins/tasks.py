"""Check-in background work. The timed steps themselves run on the worker's clock
(:mod:`harbour.core.clock`), not as queued tasks, so they never wait behind other work."""

from __future__ import annotations

from django_tasks import task


@task()
def purge() -> int:
    """Erase locations and numbers of sessions that ended long enough ago (every 10 minutes)."""
    from harbour.checkins.services import purge as erase

    return erase()
