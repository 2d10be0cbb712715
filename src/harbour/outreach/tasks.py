"""Outreach background work: thin, idempotent, safe to retry."""

from __future__ import annotations

from django_tasks import task


@task()
def stock_notices() -> int:
    """Low stock and naloxone about to expire, told to coordinators (each item once a day)."""
    from harbour.outreach import services

    return services.stock_notices()


@task()
def purge() -> dict[str, int]:
    """Erase refill contacts and rounded device positions after 30 days, notes and client
    codes after two years."""
    from harbour.outreach import services

    return services.purge()
