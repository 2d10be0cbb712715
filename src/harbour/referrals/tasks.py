"""Referral background work: thin, idempotent, safe to retry."""

from __future__ import annotations

from django_tasks import task


@task()
def remind() -> int:
    """Remind receiving organizations of referrals they have not acknowledged (every 5 min)."""
    from harbour.referrals.services import reminders_send

    return reminders_send()


@task()
def purge() -> dict[str, int]:
    """Erase the details of clients past their organization's retention (every 6 hours)."""
    from harbour.referrals.services import retention_purge

    return retention_purge()
