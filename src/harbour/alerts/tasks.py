"""Drug-alert background work: thin, idempotent, safe to retry."""

from __future__ import annotations

from django_tasks import task


@task()
def purge_subscriptions() -> int:
    """Delete email subscriptions never confirmed within the link's 7 days (every 6 hours)."""
    from harbour.alerts.services import subscriptions_purge

    return subscriptions_purge()
