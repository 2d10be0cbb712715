"""Peer responders who stopped: their alias and number are erased a year after they were made
inactive (``RESPONDER_DAYS``, the ``checkins.responders-purge`` job, daily). The row stays so
past call-outs keep pointing at one (now nameless) responder; call-outs keep their own copy of
the number only until their session is purged."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django_tasks import task

RESPONDER_DAYS = 365


def responders_purge(*, now: datetime | None = None) -> int:
    """Erase inactive responders unchanged for ``RESPONDER_DAYS``; returns how many."""
    from harbour.checkins.models import Responder

    now = now or timezone.now()
    return (
        Responder.objects.filter(active=False, updated_at__lt=now - timedelta(days=RESPONDER_DAYS))
        .exclude(alias="", phone="", phone_index="")
        .update(alias="", phone="", phone_index="", on_call=False, updated_at=now)
    )


@task()
def responders_purge_task() -> int:
    """The ``checkins.responders-purge`` job."""
    return responders_purge()
