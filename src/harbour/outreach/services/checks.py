"""Checking one record (an encounter or an overdose response) before it is stored."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from harbour.core import geo
from harbour.outreach.models import (
    MAX_DOSES,
    MAX_PEOPLE,
    MAX_QUANTITY,
    Breathing,
    Program,
    Recipient,
    Route,
    Spot,
    Supply,
    Team,
)
from harbour.outreach.services.base import (
    BREATHING_CODES,
    CLIENT_CODE,
    CLOCK_SKEW,
    DOSES_LABEL,
    HELP_CODES,
    MAX_RECEIPT,
    NEW_PEOPLE,
    NOTES_MAX,
    OLDEST,
    OUTCOME_CODES,
    RECIPIENT_CODES,
    RETURNING_PEOPLE,
    ROUTE_CODES,
    SUBSTANCE_CODES,
    SUPPLY_LABELS,
    _tz,
)

# --- checking one record ----------------------------------------------------------------------


class Errors:
    """Field errors of one record, in the worker's language."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.by_field.setdefault(name, []).append(message)

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


def _int(errors: Errors, name: str, value: Any, *, low: int, high: int, label: Any) -> int:
    if value in (None, ""):
        return 0
    if type(value) is int and low <= value <= high:
        return value
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        errors.add(name, _("%(label)s must be a whole number.") % {"label": label})
        return 0
    if number < low or number > high:
        errors.add(
            name,
            _("%(label)s must be between %(low)s and %(high)s.")
            % {"label": label, "low": low, "high": high},
        )
        return 0
    return number


def _when(errors: Errors, value: Any, now: datetime, name: str = "occurred_at") -> datetime:
    if value in (None, ""):
        return now
    when: datetime | None = value if isinstance(value, datetime) else None
    if when is None:
        try:
            when = datetime.fromisoformat(str(value).strip())
        except ValueError:
            errors.add(name, _("This is not a date and time."))
            return now
    if timezone.is_naive(when):
        when = timezone.make_aware(when, _tz())
    try:
        # in UTC: PostgreSQL refuses offsets beyond ±15:59 that Python's datetime accepts
        when = when.astimezone(UTC)
    except OverflowError:
        errors.add(name, _("This is not a date and time."))
        return now
    if when > now + CLOCK_SKEW:
        errors.add(name, _("The time is in the future."))
    elif when < now - OLDEST:
        errors.add(name, _("This is more than a year ago."))
    return when


def _fsa(errors: Errors, value: Any, name: str = "fsa") -> str:
    text = str(value or "").strip().upper()
    if not text:
        return ""
    code = geo.fsa_of(text)
    if code is None or geo.fsa_centroid(code) is None:
        errors.add(
            name,
            _(
                "“%(value)s” is not a Canadian postal area: "
                "use the first three characters, like K7L."
            )
            % {"value": text[:10]},
        )
        return ""
    return code


def _position(errors: Errors, lat: Any, lng: Any) -> tuple[float | None, float | None]:
    if lat in (None, "") or lng in (None, ""):
        return None, None
    try:
        la, ln = float(lat), float(lng)
    except (TypeError, ValueError):
        errors.add("position", _("The device position could not be read."))
        return None, None
    if not (math.isfinite(la) and math.isfinite(ln)) or abs(la) > 90 or abs(ln) > 180:
        errors.add("position", _("Latitude must be -90 to 90 and longitude -180 to 180."))
        return None, None
    return round(la, 3), round(ln, 3)  # about 100 m


def _choices(errors: Errors, name: str, values: Any, allowed: Any, what: Any) -> list[str]:
    if values in (None, ""):
        return []
    items = [values] if isinstance(values, str) else list(values)
    out = []
    for item in items:
        code = str(item).strip()
        if not code:
            continue
        if code not in allowed:
            errors.add(
                name, _("Unknown %(what)s “%(value)s”.") % {"what": what, "value": code[:40]}
            )
            continue
        out.append(code)
    return list(dict.fromkeys(out))


@dataclass
class Context:
    """What checking a batch of records needs, loaded once per batch."""

    organization: Any
    program: Program
    teams: dict[str, Team]
    spots: dict[str, Spot]
    services: dict[str, str]  # directory service id -> name
    now: datetime

    @classmethod
    def load(cls, organization: Any, program: Program, referral_ids: Iterable[str]) -> Context:
        from harbour.directory.models import Service

        ids = []
        for value in referral_ids:
            try:
                ids.append(uuid.UUID(str(value)))
            except ValueError:
                continue
        services = {}
        if ids:
            services = {str(s.pk): str(s.name or "") for s in Service.objects.filter(pk__in=ids)}
        return cls(
            organization=organization,
            program=program,
            teams={
                str(t.pk): t for t in Team.objects.filter(organization=organization, active=True)
            },
            spots={
                str(s.pk): s for s in Spot.objects.filter(organization=organization, active=True)
            },
            services=services,
            now=timezone.now(),
        )


def _team(errors: Errors, ctx: Context, value: Any) -> Team | None:
    text = str(value or "").strip()
    if not text:
        if len(ctx.teams) == 1:
            return next(iter(ctx.teams.values()))
        errors.add("team", _("Choose the team or site."))
        return None
    team = ctx.teams.get(text)
    if team is None:
        errors.add("team", _("This team or site is not one of your organization’s active ones."))
    return team


def _place(
    errors: Errors, ctx: Context, raw: Mapping[str, Any]
) -> tuple[str, Spot | None, float | None, float | None]:
    spot = None
    spot_id = str(raw.get("spot") or "").strip()
    if spot_id:
        spot = ctx.spots.get(spot_id)
        if spot is None:
            errors.add("spot", _("This spot is not one of your organization’s named spots."))
    fsa = _fsa(errors, raw.get("fsa"))
    lat, lng = _position(errors, raw.get("lat"), raw.get("lng"))
    if spot is not None and not fsa:
        fsa = spot.fsa
    if not fsa and lat is not None and lng is not None:
        fsa = geo.nearest_fsa(lat, lng) or ""
    if not fsa and not errors.by_field.get("fsa") and not errors.by_field.get("spot"):
        errors.add("fsa", _("Give the postal area (like K7L) or choose a named spot."))
    return fsa, spot, lat, lng


@dataclass
class CheckedEncounter:
    id: uuid.UUID
    team: Team
    occurred_at: datetime
    fsa: str
    spot: Spot | None
    lat: float | None
    lng: float | None
    people_new: int
    people_returning: int
    supplies: dict[str, int]
    recipient: str
    trained: bool | None
    services: list[str]
    referrals: list[tuple[str, str]]
    notes: str
    client_code: str


def _record_id(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValidationError(
            {"id": [_("Each record needs its device-made id (a UUID).")]}
        ) from exc


def _supplies(errors: Errors, raw: Any) -> dict[str, int]:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, Mapping):
        errors.add("supplies", _("Supplies must be a list of types and counts."))
        return {}
    out: dict[str, int] = {}
    labels = SUPPLY_LABELS
    for code, count in raw.items():
        key = str(code).strip()
        if key not in labels:
            errors.add("supplies", _("Unknown supply type “%(value)s”.") % {"value": key[:40]})
            continue
        number = _int(errors, f"supply-{key}", count, low=0, high=MAX_QUANTITY, label=labels[key])
        if number:
            out[key] = number
    return out


def check_encounter(raw: Mapping[str, Any], ctx: Context) -> CheckedEncounter:
    """One encounter as a form or a device sends it; ValidationError naming each wrong field,
    in the current language."""
    record_id = _record_id(raw.get("id"))
    errors = Errors()
    team = _team(errors, ctx, raw.get("team"))
    when = _when(errors, raw.get("occurred_at"), ctx.now)
    fsa, spot, lat, lng = _place(errors, ctx, raw)
    new = _int(
        errors, "people_new", raw.get("people_new"), low=0, high=MAX_PEOPLE, label=NEW_PEOPLE
    )
    returning = _int(
        errors,
        "people_returning",
        raw.get("people_returning"),
        low=0,
        high=MAX_PEOPLE,
        label=RETURNING_PEOPLE,
    )
    if (
        not new
        and not returning
        and not any(k in errors.by_field for k in ("people_new", "people_returning"))
    ):
        errors.add("people_new", _("Count at least one person (new or returning)."))
    supplies = _supplies(errors, raw.get("supplies"))
    recipient = str(raw.get("naloxone_recipient") or Recipient.PWUD).strip()
    if recipient not in RECIPIENT_CODES:
        errors.add("naloxone_recipient", _("Unknown kind of naloxone recipient."))
    trained = raw.get("naloxone_trained")
    services = _choices(
        errors, "services", raw.get("services"), HELP_CODES, gettext_lazy("service")
    )
    referrals = []
    for value in _choices(
        errors, "referrals", raw.get("referrals"), ctx.services, gettext_lazy("directory service")
    ):
        referrals.append((value, ctx.services[value]))
    notes = " ".join(str(raw.get("notes") or "").split())
    if len(notes) > NOTES_MAX:
        errors.add("notes", _("Notes are limited to %(n)s characters.") % {"n": NOTES_MAX})
    code = str(raw.get("client_code") or "").strip().upper()
    if code:
        if not CLIENT_CODE.match(code):
            errors.add(
                "client_code",
                _(
                    "A client code is 3 to 16 letters and numbers with at least one number "
                    "(like MK84), never a name."
                ),
            )
        elif not raw.get("consent"):
            errors.add(
                "consent", _("Ask first: a client code is kept only with the person’s consent.")
            )
    errors.raise_if_any()
    assert team is not None
    return CheckedEncounter(
        id=record_id,
        team=team,
        occurred_at=when,
        fsa=fsa,
        spot=spot,
        lat=lat,
        lng=lng,
        people_new=new,
        people_returning=returning,
        supplies=supplies,
        recipient=recipient,
        trained=None if trained in (None, "") else bool(trained),
        services=services,
        referrals=referrals,
        notes=notes,
        client_code=code,
    )


@dataclass
class CheckedResponse:
    id: uuid.UUID
    team: Team
    occurred_at: datetime
    fsa: str
    spot: Spot | None
    lat: float | None
    lng: float | None
    doses: int
    route: str
    kits: dict[str, int]
    breathing: str
    oxygen: bool
    outcome: str
    substances: list[str]
    notes: str


def check_response(raw: Mapping[str, Any], ctx: Context) -> CheckedResponse:
    record_id = _record_id(raw.get("id"))
    errors = Errors()
    team = _team(errors, ctx, raw.get("team"))
    when = _when(errors, raw.get("occurred_at"), ctx.now)
    fsa, spot, lat, lng = _place(errors, ctx, raw)
    doses = _int(
        errors,
        "naloxone_doses",
        raw.get("naloxone_doses"),
        low=0,
        high=MAX_DOSES,
        label=DOSES_LABEL,
    )
    route = str(raw.get("route") or (Route.NASAL if doses else Route.NONE)).strip()
    if route not in ROUTE_CODES:
        errors.add("route", _("Unknown route."))
    elif doses and route == Route.NONE:
        errors.add("route", _("How was the naloxone given?"))
    elif not doses:
        route = Route.NONE  # the form's default route means nothing without a dose
    kits = {}
    for supply, name in (
        (Supply.NALOXONE_NASAL, "kits_nasal"),
        (Supply.NALOXONE_INJECTABLE, "kits_injectable"),
    ):
        count = _int(errors, name, raw.get(name), low=0, high=10, label=str(supply.label))
        if count:
            kits[str(supply)] = count
    breathing = str(raw.get("breathing") or Breathing.UNKNOWN).strip()
    if breathing not in BREATHING_CODES:
        errors.add("breathing", _("Unknown breathing status."))
    outcome = str(raw.get("outcome") or "").strip()
    if not outcome:
        errors.add("outcome", _("What was the outcome?"))
    elif outcome not in OUTCOME_CODES:
        errors.add("outcome", _("Unknown outcome."))
    substances = _choices(
        errors, "substances", raw.get("substances"), SUBSTANCE_CODES, gettext_lazy("substance")
    )
    notes = " ".join(str(raw.get("notes") or "").split())
    if len(notes) > NOTES_MAX:
        errors.add("notes", _("Notes are limited to %(n)s characters.") % {"n": NOTES_MAX})
    errors.raise_if_any()
    assert team is not None
    return CheckedResponse(
        id=record_id,
        team=team,
        occurred_at=when,
        fsa=fsa,
        spot=spot,
        lat=lat,
        lng=lng,
        doses=doses,
        route=route,
        kits=kits,
        breathing=breathing,
        oxygen=bool(raw.get("oxygen")),
        outcome=outcome,
        substances=substances,
        notes=notes,
    )


def _quantity(value: Any, *, high: int = MAX_RECEIPT, name: str = "quantity") -> int:
    errors = Errors()
    number = _int(errors, name, value, low=1, high=high, label=_("Quantity"))
    if not number and not errors.by_field:
        errors.add(name, _("Give a quantity of at least 1."))
    errors.raise_if_any()
    return number


def _supply(value: Any) -> str:
    if value not in Supply.values:
        raise ValidationError(
            {"supply": [_("Unknown supply type “%(value)s”.") % {"value": str(value)[:40]}]}
        )
    return str(value)


def _own_team(team: Team, organization: Any) -> None:
    if team.organization_id != organization.pk:
        raise ValidationError({"team": [_("This team or site is not one of your organization’s.")]})


def _require_tracked(program: Program, supply: str) -> None:
    if supply not in program.tracked_list():
        raise ValidationError(
            {
                "supply": [
                    _("%(supply)s is not kept in stock: turn it on in the outreach settings first.")
                    % {"supply": Supply(supply).label}
                ]
            }
        )
