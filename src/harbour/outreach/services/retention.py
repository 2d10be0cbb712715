"""Erasing what outreach keeps only for a while."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from harbour.outreach.models import (
    POSITION_DAYS,
    Encounter,
    KitUseReport,
    OverdoseResponse,
    RemovedRecord,
)
from harbour.outreach.services.base import (
    NOTES_DAYS,
)


def purge(*, now: datetime | None = None) -> dict[str, int]:
    """Erase what is kept only for a while: refill contacts after 30 days, rounded device
    positions after ``POSITION_DAYS``, encounter and response notes and client codes (with
    their blind index) after ``NOTES_DAYS``."""
    now = now or timezone.now()
    contacts = KitUseReport.objects.filter(contact_purge_at__lte=now).update(
        contact="", contact_purge_at=None
    )
    before = now - timedelta(days=POSITION_DAYS)
    positions = Encounter.objects.filter(occurred_at__lt=before, lat__isnull=False).update(
        lat=None, lng=None
    ) + OverdoseResponse.objects.filter(occurred_at__lt=before, lat__isnull=False).update(
        lat=None, lng=None
    )
    old = now - timedelta(days=NOTES_DAYS)
    notes = Encounter.objects.filter(occurred_at__lt=old).exclude(
        notes="", client_code="", client_code_index=""
    ).update(notes="", client_code="", client_code_index="") + OverdoseResponse.objects.filter(
        occurred_at__lt=old
    ).exclude(notes="").update(notes="")
    # why a record was removed is staff's free text: it goes with the notes
    notes += RemovedRecord.objects.filter(removed_at__lt=old).exclude(reason="").update(reason="")
    return {"contacts": contacts, "positions": positions, "notes": notes}
