"""Overdose events from other apps: one event, stored once by its (source, source_ref)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import h3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from harbour.core import geo
from harbour.surveillance.models import (
    H3_RESOLUTION,
    OverdoseEvent,
    Source,
)

log = logging.getLogger(__name__)

EARLIEST = datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC"))
CLOCK_SKEW = timedelta(minutes=10)  # a device clock a little ahead is not "the future"


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventIn:
    occurred_at: datetime
    source: str
    source_ref: str
    fsa: str = ""
    lat: float | None = None
    lng: float | None = None
    city: str = ""
    health_region: str = ""
    fatal: bool | None = None
    naloxone_given: bool | None = None
    substances: Sequence[str] = field(default_factory=tuple)


def _locate(fsa: str, lat: float | None, lng: float | None) -> tuple[str, str]:
    """(postal area, H3 cell) from a postal code and/or a position; the position itself is
    not kept. ValueError naming the field when neither gives a Canadian area."""
    code = ""
    if fsa.strip():
        found = geo.fsa_of(fsa)
        if found is None:
            raise ValueError("fsa")
        code = found
    if lat is not None and lng is not None:
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise ValueError("position")
        cell = h3.latlng_to_cell(lat, lng, H3_RESOLUTION)
        if not code:
            code = geo.nearest_fsa(lat, lng) or ""
        return code, cell
    if not code:
        raise ValueError("fsa")
    centroid = geo.fsa_centroid(code)
    cell = h3.latlng_to_cell(centroid.lat, centroid.lng, H3_RESOLUTION) if centroid else ""
    return code, cell


def _event_row(data: EventIn, now: datetime) -> dict[str, Any]:
    errors: dict[str, str] = {}
    when = data.occurred_at
    if timezone.is_naive(when):
        when = timezone.make_aware(when, ZoneInfo(settings.TIME_ZONE))
    if when > now + CLOCK_SKEW:
        errors["occurred_at"] = _("The time is in the future.")
    elif when < EARLIEST:
        errors["occurred_at"] = _("The time is before 2000.")
    if data.source not in Source.values:
        errors["source"] = _("Unknown source %(source)r.") % {"source": data.source}
    if not data.source_ref.strip():
        errors["source_ref"] = _("Each event needs a reference from its source.")
    fsa = cell = ""
    try:
        fsa, cell = _locate(data.fsa, data.lat, data.lng)
    except ValueError as error:
        if str(error) == "position":
            errors["position"] = _("Latitude must be -90 to 90 and longitude -180 to 180.")
        elif data.fsa.strip():
            errors["fsa"] = _("%(value)r is not a Canadian postal code.") % {"value": data.fsa}
        else:
            errors["fsa"] = _("Give a postal area or a position.")
    if errors:
        raise ValidationError(errors)
    substances = sorted({" ".join(s.split()).lower()[:60] for s in data.substances if s.strip()})
    return {
        "occurred_at": when,
        "fsa": fsa,
        "h3_cell": cell,
        "city": " ".join(data.city.split())[:120],
        "province": geo.fsa_province(fsa),
        "health_region": " ".join(data.health_region.split())[:120],
        "fatal": data.fatal,
        "naloxone_given": data.naloxone_given,
        "substances": substances[:20],
        "source": data.source,
        "source_ref": data.source_ref.strip()[:80],
    }


@transaction.atomic
def event_record(*, organization: Any, data: EventIn) -> tuple[OverdoseEvent, bool]:
    """Store one overdose event (no person: a time, a coarse area and what happened).

    Returns the event and whether it is new; the same ``(source, source_ref)`` again returns
    the event already stored, unchanged. ``organization`` is who recorded it (None for an
    anonymous community report). ValidationError names the fields that are wrong."""
    row = _event_row(data, timezone.now())
    existing = OverdoseEvent.objects.filter(
        source=row["source"], source_ref=row["source_ref"]
    ).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            event = OverdoseEvent.objects.create(organization=organization, **row)
    except IntegrityError:  # the same event at the same moment from a retry
        return OverdoseEvent.objects.get(source=row["source"], source_ref=row["source_ref"]), False
    return event, True


def event_exclude(*, source: str, source_ref: str, excluded: bool = True) -> int:
    """An event that should not count (an anonymous report found to be spam), or again."""
    return OverdoseEvent.objects.filter(source=source, source_ref=source_ref).update(
        excluded=excluded
    )
