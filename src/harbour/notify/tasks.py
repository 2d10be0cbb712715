"""Delivery runs: thin, idempotent, safe to run in several workers at once."""

from __future__ import annotations

from django.conf import settings
from django_tasks import task


@task()
def deliver() -> int:
    """Send every message that is due, batch after batch; returns how many were sent."""
    from harbour.notify import services

    callback = settings.TWILIO_STATUS_CALLBACK_URL
    total = 0
    while True:
        sent = services.deliver_due(limit=200, status_callback=callback)
        total += sent
        if sent == 0:
            return total


@task()
def expire() -> int:
    """Blank the recipients and texts of final messages past their retention."""
    from harbour.notify import services

    return services.messages_expire()
