"""Directory background tasks: thin, idempotent."""

from __future__ import annotations

from django_tasks import task


@task()
def stale_listings_notice() -> int:
    """Tell each organization how many of its listings need checking (run weekly)."""
    from harbour.directory.services import stale_listings_notify

    return stale_listings_notify()


@task()
def suggestion_contacts_purge() -> int:
    """Erase contacts of suggestions left undecided too long (run daily)."""
    from harbour.directory.services import suggestion_contacts_purge as purge

    return purge()
