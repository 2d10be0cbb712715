"""Every write of outreach: encounters and overdose responses (one record from a form, or a
batch from a device coming back online: idempotent on the device's UUID), stock receipts,
transfers and corrections, naloxone kits given and training sessions, anonymous kit-use
reports and their refills, settings, and the periodic stock notices and purges.

Stock is a ledger (:class:`StockMovement`, one row per movement) with a running balance per
team, supply and lot (:class:`StockLevel`), changed in the same transaction. Every write that
changes stock first locks the organization's :class:`Program` row, so two devices syncing at
once take turns and the balance can never go below zero (also a database constraint)."""

from __future__ import annotations

import hashlib
import logging
import math
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from harbour.core import audit, geo
from harbour.core.models import AuditAction
from harbour.core.permissions import require_role
from harbour.core.roles import ROLE_RANK, Role
from harbour.notify import addresses
from harbour.notify import services as notify
from harbour.notify.crypto import blind_index
from harbour.outreach import bulk, inventory
from harbour.outreach.models import (
    DEFAULT_TRACKED,
    MAX_DOSES,
    MAX_PEOPLE,
    MAX_QUANTITY,
    NALOXONE,
    POSITION_DAYS,
    REMOVABLE_RECORDS,
    Breathing,
    Distribution,
    EmsCame,
    Encounter,
    EncounterReferral,
    Help,
    KitKind,
    KitUseReport,
    Movement,
    Outcome,
    OverdoseResponse,
    Program,
    Recipient,
    RefillStatus,
    RemovedRecord,
    Route,
    Spot,
    StockLevel,
    StockMovement,
    StockNotice,
    Substance,
    Supply,
    Team,
    TrainingSession,
    UnitKind,
)

log = logging.getLogger(__name__)

CLOCK_SKEW = timedelta(minutes=10)  # a phone clock a little ahead is not "the future"
OLDEST = timedelta(days=365)
MAX_RECEIPT = 100_000
CONTACT_DAYS = 30
# encounter and response notes, client codes and their blind index are erased this long after
# the record's time: "returning people" and unique-client counts use the index inside it
NOTES_DAYS = 730
NOTES_MAX = 500
CLIENT_CODE = re.compile(r"^(?=.*\d)[A-Z0-9-]{3,16}$")


# chosen once: TextChoices build these lists on every access
SUPPLY_LABELS = dict(Supply.choices)
HELP_CODES = frozenset(Help.values)
RECIPIENT_CODES = frozenset(Recipient.values)
ROUTE_CODES = frozenset(Route.values)
BREATHING_CODES = frozenset(Breathing.values)
OUTCOME_CODES = frozenset(Outcome.values)
SUBSTANCE_CODES = frozenset(Substance.values)
NEW_PEOPLE = gettext_lazy("New people")
RETURNING_PEOPLE = gettext_lazy("Returning people")
DOSES_LABEL = gettext_lazy("Naloxone doses")


def padded(codes: Iterable[str]) -> str:
    items = list(dict.fromkeys(c for c in codes if c))
    return f" {' '.join(items)} " if items else ""


def program_for(organization: Any) -> Program:
    """The organization's outreach settings, made with defaults the first time."""
    program, _created = Program.objects.get_or_create(
        organization=organization, defaults={"tracked": padded(DEFAULT_TRACKED)}
    )
    return program


def _locked_program(organization: Any) -> Program:
    """The program row, locked until the transaction ends (PostgreSQL; SQLite's IMMEDIATE
    transactions already take the write lock): writes that change stock take turns."""
    program = Program.objects.select_for_update().filter(organization=organization).first()
    if program is None:
        program_for(organization)
        program = Program.objects.select_for_update().get(organization=organization)
    return program


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


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


# --- the stock ledger -------------------------------------------------------------------------


MOVEMENT_COLUMNS = (
    "team",
    "supply",
    "lot",
    "expires_on",
    "change",
    "kind",
    "at",
    "other_team",
    "distribution",
    "response",
    "note",
    "actor",
)


def _movement(**values: Any) -> tuple[Any, ...]:
    """One ledger row, as a tuple in MOVEMENT_COLUMNS order (models given as objects or ids)."""
    row = []
    for column in MOVEMENT_COLUMNS:
        value = values.get(
            column, values.get(f"{column}_id", "" if column in {"lot", "note"} else None)
        )
        row.append(getattr(value, "pk", value))
    return tuple(row)


class Ledger:
    """Stock of some teams, loaded once, changed in memory, written in one go (bulk insert of
    the movements, one conditional UPDATE per lot). Callers hold the program lock."""

    def __init__(self, team_ids: Iterable[Any], supplies: Iterable[str]) -> None:
        self.levels: dict[tuple[Any, str], list[StockLevel]] = {}
        self.delta: dict[int, int] = {}
        self.movements: list[tuple[Any, ...]] = []
        team_ids, supplies = list(team_ids), list(supplies)
        if team_ids and supplies:
            for level in StockLevel.objects.filter(team_id__in=team_ids, supply__in=supplies):
                self.levels.setdefault((level.team_id, level.supply), []).append(level)

    def on_hand(self, team_id: Any, supply: str) -> int:
        return sum(x.quantity for x in self.levels.get((team_id, supply), []))

    def plan(self, team_id: Any, supply: str, quantity: int) -> list[tuple[StockLevel, int]] | None:
        lots = self.levels.get((team_id, supply), [])
        by_pk: dict[Any, StockLevel] = {x.pk: x for x in lots}
        chosen = inventory.allocate(
            [inventory.Lot(x.pk, x.lot, x.expires_on, x.quantity) for x in lots], quantity
        )
        return None if chosen is None else [(by_pk[pk], n) for pk, n in chosen]

    def reserve(self, plan: list[tuple[StockLevel, int]]) -> None:
        """Take the plan's units off the balance (so later records see what is left)."""
        for level, n in plan:
            level.quantity -= n
            self.delta[level.pk] = self.delta.get(level.pk, 0) - n

    def log(self, plan: list[tuple[StockLevel, int]], **movement: Any) -> None:
        """The ledger rows of a reserved plan."""
        for level, n in plan:
            self.movements.append(
                _movement(
                    team_id=level.team_id,
                    supply=level.supply,
                    lot=level.lot,
                    expires_on=level.expires_on,
                    change=-n,
                    **movement,
                )
            )

    def take(self, plan: list[tuple[StockLevel, int]], **movement: Any) -> None:
        self.reserve(plan)
        self.log(plan, **movement)

    def put(
        self,
        team_id: Any,
        supply: str,
        quantity: int,
        *,
        lot: str = "",
        expires_on: date | None = None,
        **movement: Any,
    ) -> StockLevel:
        level = next((x for x in self.levels.get((team_id, supply), []) if x.lot == lot), None)
        if level is None:
            level, _created = StockLevel.objects.get_or_create(
                team_id=team_id, supply=supply, lot=lot, defaults={"expires_on": expires_on}
            )
            self.levels.setdefault((team_id, supply), []).append(level)
        level.quantity += quantity
        self.delta[level.pk] = self.delta.get(level.pk, 0) + quantity
        self.movements.append(
            _movement(
                team_id=team_id,
                supply=supply,
                lot=lot,
                expires_on=level.expires_on,
                change=quantity,
                **movement,
            )
        )
        return level

    def write(self) -> None:
        bulk.insert(StockMovement, MOVEMENT_COLUMNS, self.movements)
        changes = [(change, pk, change) for pk, change in self.delta.items() if change]
        # never below zero, whatever happened since the balances were read (the database
        # constraint says the same); one statement for all the lots
        if bulk.update_stock(changes) != len(changes):
            # only if something changed stock without the program lock: refuse it all
            raise ValidationError(_("The stock changed while saving; please try again."))
        self.movements, self.delta = [], {}


def _short_of(team: Team, supply: str, wanted: int, left: int) -> str:
    return ngettext(
        "Not enough %(supply)s in the stock of %(team)s: %(wanted)s given, %(left)s left. "
        "Record a receipt or a transfer first.",
        "Not enough %(supply)s in the stock of %(team)s: %(wanted)s given, %(left)s left. "
        "Record a receipt or a transfer first.",
        wanted,
    ) % {"supply": Supply(supply).label, "team": team.name, "wanted": wanted, "left": left}


# --- encounters and overdose responses --------------------------------------------------------


@dataclass
class Result:
    id: str
    kind: str  # encounter or response
    status: str  # stored, duplicate or rejected
    detail: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)


def _rejected(kind: str, record_id: Any, exc: ValidationError) -> Result:
    if hasattr(exc, "error_dict"):
        errors = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
    else:
        errors = {"__all__": [str(m) for m in exc.messages]}
    detail = " ".join(m for messages in errors.values() for m in messages)
    return Result(
        id=str(record_id or ""), kind=kind, status="rejected", detail=detail, errors=errors
    )


def _existing(model: Any, ids: list[str], organization: Any) -> dict[str, bool]:
    """Of these record ids, those already stored: True when by this organization."""
    valid = []
    for value in ids:
        try:
            valid.append(uuid.UUID(str(value)))
        except (TypeError, ValueError):
            continue
    found = {str(pk): org_id == organization.pk for pk, org_id in bulk.owners(model, valid)}
    if valid and len(found) < len(valid):
        # removed as entered in error: a phone sending it again must not store it anew
        for pk, org_id in RemovedRecord.objects.filter(id__in=valid).values_list(
            "id", "organization_id"
        ):
            found.setdefault(str(pk), org_id == organization.pk)
    return found


def _duplicate_or_conflict(kind: str, record_id: str, ours: bool) -> Result:
    if ours:
        return Result(id=record_id, kind=kind, status="duplicate", detail=_("Already received."))
    return Result(
        id=record_id,
        kind=kind,
        status="rejected",
        detail=_("This record id is already used."),
        errors={"id": [_("This record id is already used.")]},
    )


def _actor_user(actor: Any) -> Any:
    return actor if getattr(actor, "is_user", False) else None


Plan = list[tuple[StockLevel, int]]


def encounters_record(
    *, actor: Any, organization: Any, records: Sequence[Mapping[str, Any]], via: str = "sync"
) -> list[Result]:
    """Store encounters (from a form: one; from a device: a batch). Each record carries the
    UUID its device gave it: a record already stored answers "duplicate" and changes nothing.
    A wrong record is rejected with the reason and the others are kept; supplies given are
    deducted from the team's stock (first lot to expire first), and a record that would take
    stock below zero is rejected.

    Records are checked before the write transaction (reads only), so that devices syncing at
    once hold the database's write lock only for the writes; everything written, with its
    audit event, is one transaction."""
    require_role(actor, organization.pk, Role.PEER_WORKER)
    ctx = Context.load(
        organization,
        program_for(organization),
        (s for r in records for s in _as_list(r.get("referrals"))),
    )
    checked: list[CheckedEncounter | Result] = []
    for raw in records:
        try:
            checked.append(check_encounter(raw, ctx))
        except ValidationError as exc:
            checked.append(_rejected("encounter", str(raw.get("id") or ""), exc))
    with transaction.atomic():
        return _store_encounters(checked, actor=actor, organization=organization, via=via)


def _store_encounters(
    checked: list[CheckedEncounter | Result], *, actor: Any, organization: Any, via: str
) -> list[Result]:
    program = _locked_program(organization)
    tracked = set(program.tracked_list())
    good = [c for c in checked if isinstance(c, CheckedEncounter)]
    stored = _existing(Encounter, [str(c.id) for c in good], organization)
    ledger = Ledger({c.team.pk for c in good}, tracked & {s for c in good for s in c.supplies})
    results: list[Result] = []
    accepted: list[tuple[CheckedEncounter, list[tuple[str, int, Plan | None]]]] = []
    seen: set[str] = set()
    for item in checked:
        if isinstance(item, Result):
            results.append(item)
            continue
        key = str(item.id)
        if key in stored or key in seen:
            results.append(_duplicate_or_conflict("encounter", key, stored.get(key, True)))
            continue
        plans: list[tuple[str, int, Plan | None]] = []
        short = ""
        for supply, quantity in item.supplies.items():
            plan = None
            if supply in tracked:
                plan = ledger.plan(item.team.pk, supply, quantity)
                if plan is None:
                    short = _short_of(
                        item.team, supply, quantity, ledger.on_hand(item.team.pk, supply)
                    )
                    break
            plans.append((supply, quantity, plan))
        if short:
            results.append(
                Result(
                    id=key,
                    kind="encounter",
                    status="rejected",
                    detail=short,
                    errors={"supplies": [short]},
                )
            )
            continue
        for _supply, _quantity, plan in plans:
            if plan:
                ledger.reserve(plan)  # later records see what is left
        seen.add(key)
        accepted.append((item, plans))
        results.append(Result(id=key, kind="encounter", status="stored"))
    if accepted:
        _write_encounters(accepted, organization=organization, actor=actor, ledger=ledger)
    counts = {
        s: sum(1 for r in results if r.status == s) for s in ("stored", "duplicate", "rejected")
    }
    if counts["stored"] or counts["rejected"]:
        audit.record(
            action=AuditAction.OUTREACH_ENCOUNTERS_RECORD,
            actor=actor,
            organization=organization,
            obj=None,
            metadata={"via": via, **counts},
        )
    return results


def _as_list(value: Any) -> list[Any]:
    if value in (None, ""):
        return []
    return (
        [value]
        if isinstance(value, str)
        else list(value)
        if isinstance(value, list | tuple)
        else []
    )


ENCOUNTER_COLUMNS = (
    "id",
    "organization",
    "team",
    "occurred_at",
    "fsa",
    "spot",
    "lat",
    "lng",
    "people_new",
    "people_returning",
    "services",
    "notes",
    "client_code",
    "client_code_index",
    "consent",
    "recorded_by",
    "created_at",
)
DISTRIBUTION_COLUMNS = (
    "id",
    "organization",
    "team",
    "given_at",
    "supply",
    "quantity",
    "recipient",
    "trained",
    "encounter",
    "training",
)


def _write_encounters(
    accepted: list[tuple[CheckedEncounter, list[tuple[str, int, Plan | None]]]],
    *,
    organization: Any,
    actor: Any,
    ledger: Ledger,
) -> None:
    user = _actor_user(actor)
    user_id = user.pk if user is not None else None
    now = timezone.now()
    encounters, referrals, distributions = [], [], []
    for item, plans in accepted:
        code = item.client_code
        encounters.append(
            (
                item.id,
                organization.pk,
                item.team.pk,
                item.occurred_at,
                item.fsa,
                item.spot.pk if item.spot else None,
                item.lat,
                item.lng,
                item.people_new,
                item.people_returning,
                padded(item.services),
                item.notes,
                code,
                blind_index(code, kind="outreach-client") if code else "",
                bool(code),
                user_id,
                now,
            )
        )
        for service_id, name in item.referrals:
            referrals.append(
                EncounterReferral(
                    encounter_id=item.id, service_id=service_id, service_name=name[:300]
                )
            )
        for supply, quantity, plan in plans:
            naloxone = supply in NALOXONE
            given = uuid.uuid4()
            distributions.append(
                (
                    given,
                    organization.pk,
                    item.team.pk,
                    item.occurred_at,
                    supply,
                    quantity,
                    item.recipient if naloxone else "",
                    item.trained if naloxone else None,
                    item.id,
                    None,
                )
            )
            if plan:
                ledger.log(
                    plan,
                    kind=Movement.DISTRIBUTION,
                    at=item.occurred_at,
                    distribution_id=given,
                    actor_id=user_id,
                )
    bulk.insert(Encounter, ENCOUNTER_COLUMNS, encounters)
    if referrals:
        EncounterReferral.objects.bulk_create(referrals, batch_size=500)
    bulk.insert(Distribution, DISTRIBUTION_COLUMNS, distributions)
    ledger.write()


@transaction.atomic
def responses_record(
    *, actor: Any, organization: Any, records: Sequence[Mapping[str, Any]], via: str = "sync"
) -> list[Result]:
    """Store overdose responses (idempotent on the device's UUID, like encounters); each new
    one becomes an overdose event for spike detection in the same transaction, and kits used
    from stock are deducted."""
    from harbour.surveillance.models import Source
    from harbour.surveillance.services import EventIn, event_record

    require_role(actor, organization.pk, Role.PEER_WORKER)
    program = _locked_program(organization)
    stored = _existing(OverdoseResponse, [str(r.get("id") or "") for r in records], organization)
    ctx = Context.load(organization, program, [])
    tracked = set(program.tracked_list())
    ledger = Ledger([t.pk for t in ctx.teams.values()], tracked & set(NALOXONE))
    results: list[Result] = []
    user = _actor_user(actor)
    for raw in records:
        record_id = str(raw.get("id") or "")
        try:
            checked = check_response(raw, ctx)
        except ValidationError as exc:
            results.append(_rejected("response", record_id, exc))
            continue
        key = str(checked.id)
        if key in stored:
            results.append(_duplicate_or_conflict("response", key, stored[key]))
            continue
        plans = []
        short = ""
        for supply, quantity in checked.kits.items():
            if supply not in tracked:
                continue
            plan = ledger.plan(checked.team.pk, supply, quantity)
            if plan is None:
                short = _short_of(
                    checked.team, supply, quantity, ledger.on_hand(checked.team.pk, supply)
                )
                break
            plans.append(plan)
        if short:
            results.append(
                Result(
                    id=key,
                    kind="response",
                    status="rejected",
                    detail=short,
                    errors={"kits": [short]},
                )
            )
            continue
        try:
            with transaction.atomic():
                response = OverdoseResponse.objects.create(
                    id=checked.id,
                    organization=organization,
                    team=checked.team,
                    occurred_at=checked.occurred_at,
                    fsa=checked.fsa,
                    spot=checked.spot,
                    lat=checked.lat,
                    lng=checked.lng,
                    naloxone_doses=checked.doses,
                    route=checked.route,
                    kits_nasal=checked.kits.get(Supply.NALOXONE_NASAL, 0),
                    kits_injectable=checked.kits.get(Supply.NALOXONE_INJECTABLE, 0),
                    breathing=checked.breathing,
                    oxygen=checked.oxygen,
                    outcome=checked.outcome,
                    substances=padded(checked.substances),
                    notes=checked.notes,
                    recorded_by=user,
                )
                event, _new = event_record(
                    organization=organization,
                    data=EventIn(
                        occurred_at=checked.occurred_at,
                        source=Source.OUTREACH,
                        source_ref=f"outreach:{response.pk}",
                        fsa=checked.fsa,
                        lat=checked.lat,
                        lng=checked.lng,
                        fatal=True
                        if checked.outcome == Outcome.DECEASED
                        else None
                        if checked.outcome == Outcome.UNKNOWN
                        else False,
                        naloxone_given=checked.doses > 0,
                        substances=[s for s in checked.substances if s != Substance.UNKNOWN],
                    ),
                )
        except ValidationError as exc:
            results.append(_rejected("response", key, exc))
            continue
        OverdoseResponse.objects.filter(pk=response.pk).update(surveillance_event=event.pk)
        for plan in plans:
            ledger.take(
                plan, kind=Movement.RESPONSE, at=checked.occurred_at, response=response, actor=user
            )
        stored[key] = True
        results.append(Result(id=key, kind="response", status="stored"))
    ledger.write()
    counts = {
        s: sum(1 for r in results if r.status == s) for s in ("stored", "duplicate", "rejected")
    }
    if counts["stored"] or counts["rejected"]:
        audit.record(
            action=AuditAction.OUTREACH_RESPONSES_RECORD,
            actor=actor,
            organization=organization,
            metadata={"via": via, **counts},
        )
    return results


# --- stock: receipts, transfers, corrections --------------------------------------------------


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


@transaction.atomic
def stock_receive(
    *,
    actor: Any,
    team: Team,
    supply: str,
    quantity: Any,
    lot: str = "",
    expires_on: date | None = None,
    note: str = "",
) -> StockLevel:
    """Supplies arrive (from a health unit, a supplier, a donation). Naloxone needs its lot
    number and expiry date; an expired lot is refused."""
    require_role(actor, team.organization_id, Role.OUTREACH_WORKER)
    program = _locked_program(team.organization)
    supply = _supply(supply)
    _require_tracked(program, supply)
    count = _quantity(quantity)
    lot = " ".join(lot.split()).upper()[:40]
    errors = Errors()
    if supply in NALOXONE:
        if not lot:
            errors.add("lot", _("Naloxone needs its lot number (on the box)."))
        if expires_on is None:
            errors.add("expires_on", _("Naloxone needs its expiry date (on the box)."))
    if expires_on is not None and expires_on <= timezone.localdate():
        errors.add("expires_on", _("This lot has already expired."))
    existing = StockLevel.objects.filter(team=team, supply=supply, lot=lot).first()
    if existing is not None and existing.expires_on != expires_on and lot:
        errors.add(
            "expires_on",
            _("Lot %(lot)s is already recorded with another expiry date.") % {"lot": lot},
        )
    errors.raise_if_any()
    ledger = Ledger([team.pk], [supply])
    level = ledger.put(
        team.pk,
        supply,
        count,
        lot=lot,
        expires_on=expires_on,
        kind=Movement.RECEIPT,
        at=timezone.now(),
        note=note[:200],
        actor=_actor_user(actor),
    )
    ledger.write()
    audit.record(
        action=AuditAction.OUTREACH_STOCK_CHANGE,
        actor=actor,
        organization_id=team.organization_id,
        obj=team,
        metadata={"kind": "receipt", "supply": supply, "quantity": count, "lot": lot},
    )
    level.refresh_from_db()
    return level


@transaction.atomic
def stock_transfer(
    *, actor: Any, from_team: Team, to_team: Team, supply: str, quantity: Any, note: str = ""
) -> int:
    """Move stock between two teams or sites of one organization (first lot to expire goes
    first, lots and expiry dates travel with it). Refused when the source has too little."""
    require_role(actor, from_team.organization_id, Role.OUTREACH_WORKER)
    _own_team(to_team, from_team.organization)
    if from_team.pk == to_team.pk:
        raise ValidationError({"to_team": [_("Choose another team or site to send to.")]})
    program = _locked_program(from_team.organization)
    supply = _supply(supply)
    _require_tracked(program, supply)
    count = _quantity(quantity)
    ledger = Ledger([from_team.pk, to_team.pk], [supply])
    plan = ledger.plan(from_team.pk, supply, count)
    if plan is None:
        raise ValidationError(
            {
                "quantity": [
                    _short_of(from_team, supply, count, ledger.on_hand(from_team.pk, supply))
                ]
            }
        )
    now, user = timezone.now(), _actor_user(actor)
    ledger.take(
        plan, kind=Movement.TRANSFER_OUT, at=now, other_team=to_team, note=note[:200], actor=user
    )
    for level, n in plan:
        ledger.put(
            to_team.pk,
            supply,
            n,
            lot=level.lot,
            expires_on=level.expires_on,
            kind=Movement.TRANSFER_IN,
            at=now,
            other_team=from_team,
            note=note[:200],
            actor=user,
        )
    ledger.write()
    audit.record(
        action=AuditAction.OUTREACH_STOCK_CHANGE,
        actor=actor,
        organization_id=from_team.organization_id,
        obj=from_team,
        metadata={
            "kind": "transfer",
            "supply": supply,
            "quantity": count,
            "to_team": str(to_team.pk),
        },
    )
    return count


@transaction.atomic
def stock_correct(
    *, actor: Any, level: StockLevel, counted: Any = None, thrown_away: Any = None, note: str = ""
) -> StockLevel:
    """A coordinator's count correction (``counted``: what is really on the shelf) or a
    disposal (``thrown_away``: expired or damaged). Never below zero."""
    team = level.team
    require_role(actor, team.organization_id, Role.COORDINATOR)
    _locked_program(team.organization)
    level = StockLevel.objects.get(pk=level.pk)
    ledger = Ledger([team.pk], [level.supply])
    current = next(x for x in ledger.levels[(team.pk, level.supply)] if x.pk == level.pk)
    now, user = timezone.now(), _actor_user(actor)
    if thrown_away not in (None, ""):
        n = _quantity(thrown_away, name="thrown_away")
        if n > current.quantity:
            raise ValidationError(
                {"thrown_away": [_("Only %(left)s left in this lot.") % {"left": current.quantity}]}
            )
        ledger.take([(current, n)], kind=Movement.DISPOSAL, at=now, note=note[:200], actor=user)
        kind, change = "disposal", -n
    else:
        errors = Errors()
        total = _int(errors, "counted", counted, low=0, high=MAX_RECEIPT, label=_("Counted"))
        if counted in (None, ""):
            errors.add("counted", _("How many are there?"))
        errors.raise_if_any()
        change = total - current.quantity
        if change == 0:
            return current
        if change < 0:
            ledger.take(
                [(current, -change)], kind=Movement.ADJUSTMENT, at=now, note=note[:200], actor=user
            )
        else:
            ledger.put(
                team.pk,
                level.supply,
                change,
                lot=level.lot,
                expires_on=level.expires_on,
                kind=Movement.ADJUSTMENT,
                at=now,
                note=note[:200],
                actor=user,
            )
        kind = "adjustment"
    ledger.write()
    audit.record(
        action=AuditAction.OUTREACH_STOCK_CHANGE,
        actor=actor,
        organization_id=team.organization_id,
        obj=team,
        metadata={"kind": kind, "supply": level.supply, "lot": level.lot, "change": change},
    )
    return StockLevel.objects.get(pk=level.pk)


@transaction.atomic
def record_remove(
    *, actor: Any, organization: Any, kind: str, record_id: Any, reason: str
) -> RemovedRecord:
    """A coordinator removes an encounter or overdose response entered in error: the supplies
    it took go back to the lots they came from (a correction in the ledger), an overdose
    response leaves spike detection, and its id is kept so a phone cannot send it again."""
    require_role(actor, organization.pk, Role.COORDINATOR)
    model = REMOVABLE_RECORDS.get(kind)
    try:
        record = (
            model.objects.filter(pk=record_id, organization=organization).first() if model else None
        )
    except (ValueError, ValidationError):
        record = None
    if record is None:
        raise ValidationError(_("There is no such record in this organization."))
    reason = " ".join(str(reason or "").split())[:200]
    if not reason:
        raise ValidationError({"reason": [_("Say what was wrong with it.")]})
    _locked_program(organization)
    if kind == "encounter":
        taken = StockMovement.objects.filter(distribution__encounter=record)
    else:
        taken = StockMovement.objects.filter(response=record)
    moves = list(taken)
    ledger = Ledger({m.team_id for m in moves}, {m.supply for m in moves})
    now, user = timezone.now(), _actor_user(actor)
    for move in moves:
        ledger.put(
            move.team_id,
            move.supply,
            -move.change,
            lot=move.lot,
            expires_on=move.expires_on,
            kind=Movement.ADJUSTMENT,
            at=now,
            note=(_("Entered in error: %(reason)s") % {"reason": reason})[:200],
            actor=user,
        )
    ledger.write()
    if kind == "response":
        from harbour.surveillance.models import Source
        from harbour.surveillance.services import event_exclude

        event_exclude(source=Source.OUTREACH, source_ref=f"outreach:{record.pk}")
    removed = RemovedRecord.objects.create(
        id=record.pk, organization=organization, kind=kind, removed_by=user, reason=reason
    )
    audit.record(
        action=AuditAction.OUTREACH_RECORD_REMOVE,
        actor=actor,
        organization=organization,
        obj=removed,
        metadata={
            "kind": kind,
            "occurred_at": record.occurred_at.isoformat(),
            "returned": {
                supply: sum(-m.change for m in moves if m.supply == supply)
                for supply in sorted({m.supply for m in moves})
            },
        },
    )
    record.delete()
    return removed


# --- naloxone: kits given, training sessions --------------------------------------------------


def _naloxone(value: Any) -> str:
    if value not in NALOXONE:
        raise ValidationError({"supply": [_("Choose nasal or injectable naloxone.")]})
    return str(value)


def _give(
    *,
    organization: Any,
    program: Program,
    team: Team,
    supply: str,
    quantity: int,
    given_at: datetime,
    recipient: str,
    trained: bool | None,
    actor: Any,
    training: TrainingSession | None = None,
) -> Distribution:
    ledger = Ledger([team.pk], [supply])
    plan = None
    if supply in program.tracked_list():
        plan = ledger.plan(team.pk, supply, quantity)
        if plan is None:
            raise ValidationError(
                {"quantity": [_short_of(team, supply, quantity, ledger.on_hand(team.pk, supply))]}
            )
    distribution = Distribution.objects.create(
        organization=organization,
        team=team,
        given_at=given_at,
        supply=supply,
        quantity=quantity,
        recipient=recipient,
        trained=trained,
        training=training,
    )
    if plan:
        ledger.take(
            plan,
            kind=Movement.DISTRIBUTION,
            at=given_at,
            distribution=distribution,
            actor=_actor_user(actor),
        )
        ledger.write()
    return distribution


@transaction.atomic
def kits_give(
    *,
    actor: Any,
    team: Team,
    supply: str,
    quantity: Any,
    recipient: str,
    trained: bool,
    given_at: datetime | None = None,
) -> Distribution:
    """Naloxone kits handed out at a site (outside an encounter)."""
    require_role(actor, team.organization_id, Role.PEER_WORKER)
    program = _locked_program(team.organization)
    supply = _naloxone(supply)
    count = _quantity(quantity, high=MAX_QUANTITY)
    if recipient not in Recipient.values:
        raise ValidationError({"recipient": [_("Unknown kind of naloxone recipient.")]})
    errors = Errors()
    when = _when(errors, given_at, timezone.now(), name="given_at")
    errors.raise_if_any()
    distribution = _give(
        organization=team.organization,
        program=program,
        team=team,
        supply=supply,
        quantity=count,
        given_at=when,
        recipient=recipient,
        trained=trained,
        actor=actor,
    )
    audit.record(
        action=AuditAction.OUTREACH_KITS_GIVE,
        actor=actor,
        organization_id=team.organization_id,
        obj=team,
        metadata={"supply": supply, "quantity": count, "recipient": recipient},
    )
    return distribution


@transaction.atomic
def training_record(
    *,
    actor: Any,
    team: Team,
    held_on: date,
    people_trained: Any,
    audience: str,
    kits_given: Any = 0,
    supply: str = Supply.NALOXONE_NASAL,
) -> TrainingSession:
    """A naloxone training session; kits handed out at it count as given to trained people."""
    require_role(actor, team.organization_id, Role.PEER_WORKER)
    program = _locked_program(team.organization)
    errors = Errors()
    people = _int(
        errors,
        "people_trained",
        people_trained,
        low=1,
        high=MAX_QUANTITY,
        label=_("People trained"),
    )
    if not people and "people_trained" not in errors.by_field:
        errors.add("people_trained", _("How many people were trained?"))
    kits = _int(errors, "kits_given", kits_given, low=0, high=MAX_QUANTITY, label=_("Kits given"))
    if audience not in Recipient.values:
        errors.add("audience", _("Unknown kind of naloxone recipient."))
    today = timezone.localdate()
    if held_on > today:
        errors.add("held_on", _("The date is in the future."))
    elif held_on < today - OLDEST:
        errors.add("held_on", _("This is more than a year ago."))
    errors.raise_if_any()
    session = TrainingSession.objects.create(
        organization=team.organization,
        team=team,
        held_on=held_on,
        people_trained=people,
        audience=audience,
        recorded_by=_actor_user(actor),
    )
    if kits:
        when = datetime.combine(held_on, time(12), _tz())
        _give(
            organization=team.organization,
            program=program,
            team=team,
            supply=_naloxone(supply),
            quantity=kits,
            given_at=min(when, timezone.now()),
            recipient=audience,
            trained=True,
            actor=actor,
            training=session,
        )
    audit.record(
        action=AuditAction.OUTREACH_TRAINING_RECORD,
        actor=actor,
        organization_id=team.organization_id,
        obj=session,
        metadata={"people": people, "kits": kits},
    )
    return session


# --- anonymous kit-use reports and refills ----------------------------------------------------


def route_refill(fsa: str) -> Any:
    """Which organization follows up a report from a postal area: the one whose outreach
    program lists that area (the most local one: fewest areas, then the oldest program); else
    the program whose nearest listed area is closest, within 100 km; else none (the report
    waits for any outreach coordinator to take it)."""
    if not fsa:
        return None
    programs = list(
        Program.objects.filter(organization__is_active=True)
        .exclude(areas="")
        .select_related("organization")
        .order_by("created_at")
    )
    serving = [p for p in programs if fsa in p.area_list()]
    if serving:
        return min(serving, key=lambda p: len(p.area_list())).organization
    here = geo.fsa_centroid(fsa)
    if here is None:
        return None
    best, best_km = None, 100.0
    for program in programs:
        for area in program.area_list():
            there = geo.fsa_centroid(area)
            if there is None:
                continue
            km = geo.haversine_km(here.lat, here.lng, there.lat, there.lng)
            if km < best_km:
                best, best_km = program.organization, km
    return best


def coordinators(organization: Any) -> list[Any]:
    from harbour.accounts.models import Membership

    roles = [r for r, rank in ROLE_RANK.items() if rank >= ROLE_RANK[Role.COORDINATOR]]
    return [
        m.user
        for m in Membership.objects.filter(
            organization=organization, role__in=roles, user__is_active=True
        ).select_related("user")
    ]


def _refill_notice(report: KitUseReport) -> int:
    from harbour.core.views import absolute_url

    if report.organization is None:
        return 0
    link = absolute_url("outreach-staff:refills", slug=report.organization.slug)
    sent = 0
    for user in coordinators(report.organization):
        lang = "fr" if user.preferred_language.startswith("fr") else "en"
        with translation.override(lang):
            body = _(
                "Someone used a naloxone kit%(area)s and asked for a refill. "
                "See the request and mark it done when a kit is given or offered: %(link)s"
            ) % {
                "area": (_(" in %(fsa)s") % {"fsa": report.fsa}) if report.fsa else "",
                "link": link,
            }
            notify.enqueue(
                key=f"outreach:refill:{report.pk}:user:{user.pk}",
                channel="email",
                to=user.email,
                subject=_("Harbour: a naloxone refill was asked for"),
                body=body,
                lang=lang,
            )
        sent += 1
    return sent


def _contact(value: str) -> str:
    text = value.strip()
    if not text:
        return ""
    if "@" in text:
        try:
            return addresses.normalize_email(text)
        except ValueError:
            pass
    else:
        try:
            return addresses.normalize_phone(text)
        except ValueError:
            pass
    raise ValidationError(
        {"contact": [_("Give a phone number or an email address, or leave it empty.")]}
    )


@transaction.atomic
def kit_use_report(
    *,
    report_id: Any = None,
    used_on: date,
    fsa: str,
    doses: Any,
    outcome: str,
    ems_came: str = EmsCame.UNKNOWN,
    kit_kind: str = KitKind.UNKNOWN,
    want_refill: bool = False,
    contact: str = "",
) -> tuple[KitUseReport, bool]:
    """Anyone, no account: "I used a kit". Counts toward reversals, becomes an anonymous
    overdose event (when the area is given), and a refill request goes to the organization
    serving the area. The form's one-time id makes a double submit one report.
    Returns the report and whether it is new."""
    from harbour.surveillance.models import Source
    from harbour.surveillance.services import EventIn, event_record

    pk = None
    if report_id:
        try:
            pk = uuid.UUID(str(report_id))
        except ValueError:
            pk = None
    if pk is not None:
        found = KitUseReport.objects.filter(pk=pk).first()
        if found is not None:
            return found, False
    errors = Errors()
    today = timezone.localdate()
    if used_on > today:
        errors.add("used_on", _("The date is in the future."))
    elif used_on < today - OLDEST:
        errors.add("used_on", _("This is more than a year ago."))
    area = _fsa(errors, fsa)
    count = _int(errors, "doses", doses, low=1, high=MAX_DOSES, label=_("Doses"))
    if not count and "doses" not in errors.by_field:
        errors.add("doses", _("How many doses were given?"))
    if outcome not in Outcome.values:
        errors.add("outcome", _("What happened?"))
    if ems_came not in EmsCame.values:
        errors.add("ems_came", _("Unknown answer."))
    if kit_kind not in KitKind.values:
        errors.add("kit_kind", _("Unknown answer."))
    reach = ""
    try:
        reach = _contact(contact) if want_refill else ""
    except ValidationError as exc:
        for message in exc.messages:
            errors.add("contact", message)
    errors.raise_if_any()
    now = timezone.now()
    report = KitUseReport.objects.create(
        **({"id": pk} if pk else {}),
        used_on=used_on,
        fsa=area,
        doses=count,
        outcome=outcome,
        ems_came=ems_came,
        kit_kind=kit_kind,
        want_refill=want_refill,
        contact=reach,
        contact_purge_at=now + timedelta(days=CONTACT_DAYS) if reach else None,
        organization=route_refill(area),
        refill_status=RefillStatus.OPEN if want_refill else RefillStatus.NONE,
    )
    if area:
        when = now if used_on == today else datetime.combine(used_on, time(12), _tz())
        event_record(
            organization=None,
            data=EventIn(
                occurred_at=when,
                source=Source.ANONYMOUS_REPORT,
                source_ref=f"kit-use:{report.pk}",
                fsa=area,
                naloxone_given=True,
                fatal=True
                if outcome == Outcome.DECEASED
                else None
                if outcome == Outcome.UNKNOWN
                else False,
            ),
        )
    if want_refill:
        _refill_notice(report)
    audit.record(
        action=AuditAction.OUTREACH_KIT_USE_REPORT,
        actor=None,
        label="anonymous",
        organization=report.organization,
        obj=report,
        metadata={"refill": want_refill, "fsa": area},
    )
    return report, True


@transaction.atomic
def refill_claim(*, actor: Any, organization: Any, report: KitUseReport) -> KitUseReport:
    """A coordinator takes a refill request nobody was routed to."""
    require_role(actor, organization.pk, Role.COORDINATOR)
    taken = KitUseReport.objects.filter(pk=report.pk, organization__isnull=True).update(
        organization=organization
    )
    if not taken:
        raise ValidationError(_("Another organization has already taken this request."))
    audit.record(
        action=AuditAction.OUTREACH_REFILL,
        actor=actor,
        organization=organization,
        obj=report,
        metadata={"step": "claim"},
    )
    return KitUseReport.objects.get(pk=report.pk)


@transaction.atomic
def refill_done(*, actor: Any, report: KitUseReport) -> KitUseReport:
    """A kit was given or offered: the request closes and any contact detail is erased."""
    if report.organization_id is None:
        raise ValidationError(_("Take the request for your organization first."))
    require_role(actor, report.organization_id, Role.PEER_WORKER)
    KitUseReport.objects.filter(pk=report.pk).update(
        refill_status=RefillStatus.DONE,
        refilled_at=timezone.now(),
        contact="",
        contact_purge_at=None,
    )
    audit.record(
        action=AuditAction.OUTREACH_REFILL,
        actor=actor,
        organization_id=report.organization_id,
        obj=report,
        metadata={"step": "done"},
    )
    return KitUseReport.objects.get(pk=report.pk)


@transaction.atomic
def kit_use_exclude(*, actor: Any, report: KitUseReport) -> KitUseReport:
    """A coordinator finds a report is spam: it stops counting anywhere (also in detection)."""
    from harbour.surveillance.models import Source
    from harbour.surveillance.services import event_exclude

    if report.organization_id is None:
        raise ValidationError(_("Take the request for your organization first."))
    require_role(actor, report.organization_id, Role.COORDINATOR)
    KitUseReport.objects.filter(pk=report.pk).update(
        excluded=True, contact="", contact_purge_at=None, refill_status=RefillStatus.NONE
    )
    event_exclude(source=Source.ANONYMOUS_REPORT, source_ref=f"kit-use:{report.pk}")
    audit.record(
        action=AuditAction.OUTREACH_REFILL,
        actor=actor,
        organization_id=report.organization_id,
        obj=report,
        metadata={"step": "exclude"},
    )
    return KitUseReport.objects.get(pk=report.pk)


# --- settings ---------------------------------------------------------------------------------


def _unit_name(
    errors: Errors, model: Any, organization: Any, name: str, current: Any, taken: str
) -> str:
    """A team's or spot's name: white space folded, required, unique in the organization."""
    name = " ".join(name.split())[:80]
    if not name:
        errors.add("name", _("Give it a name."))
    clash = model.objects.filter(organization=organization, name__iexact=name)
    if current is not None:
        clash = clash.exclude(pk=current.pk)
    if name and clash.exists():
        errors.add("name", taken)
    return name


def _unit_store(
    model: Any, *, actor: Any, organization: Any, current: Any, what: str, **values: Any
) -> Any:
    """Create or update a team or spot (of this organization) and audit it."""
    if current is None:
        values.pop("active", None)
        current = model.objects.create(organization=organization, **values)
    else:
        model.objects.filter(pk=current.pk).update(**values)
        current.refresh_from_db()
    audit.record(
        action=AuditAction.OUTREACH_SETTINGS,
        actor=actor,
        organization=organization,
        obj=current,
        metadata={"what": what, "active": current.active},
    )
    return current


@transaction.atomic
def team_save(
    *,
    actor: Any,
    organization: Any,
    name: str,
    kind: str = UnitKind.TEAM,
    fsa: str = "",
    team: Team | None = None,
    active: bool = True,
) -> Team:
    require_role(actor, organization.pk, Role.COORDINATOR)
    if team is not None:
        _own_team(team, organization)
    errors = Errors()
    name = _unit_name(
        errors, Team, organization, name, team, _("There is already a team or site with this name.")
    )
    if kind not in UnitKind.values:
        errors.add("kind", _("Choose a mobile team or a site."))
    area = _fsa(errors, fsa)
    errors.raise_if_any()
    return _unit_store(
        Team, actor=actor, organization=organization, current=team, what="team",
        name=name, kind=kind, fsa=area, active=active,
    )  # fmt: skip


@transaction.atomic
def spot_save(
    *,
    actor: Any,
    organization: Any,
    name: str,
    fsa: str,
    active: bool = True,
    spot: Spot | None = None,
) -> Spot:
    require_role(actor, organization.pk, Role.COORDINATOR)
    if spot is not None and spot.organization_id != organization.pk:
        raise ValidationError(_("This spot is not one of your organization’s named spots."))
    errors = Errors()
    name = _unit_name(
        errors, Spot, organization, name, spot, _("There is already a spot with this name.")
    )
    area = _fsa(errors, fsa)
    if not area and "fsa" not in errors.by_field:
        errors.add("fsa", _("Give the postal area (like K7L) or choose a named spot."))
    errors.raise_if_any()
    return _unit_store(
        Spot, actor=actor, organization=organization, current=spot, what="spot",
        name=name, fsa=area, active=active,
    )  # fmt: skip


@transaction.atomic
def program_update(
    *,
    actor: Any,
    organization: Any,
    tracked: Sequence[str],
    areas: Sequence[str],
    expiry_warning_days: int,
    cover_weeks: int,
    low_stock_weeks: int,
) -> Program:
    require_role(actor, organization.pk, Role.COORDINATOR)
    program = _locked_program(organization)
    errors = Errors()
    codes = _choices(errors, "tracked", list(tracked), Supply.values, _("supply type"))
    fsas = []
    for area in areas:
        code = _fsa(errors, area, name="areas")
        if code:
            fsas.append(code)
    for name, value, low, high in (
        ("expiry_warning_days", expiry_warning_days, 1, 365),
        ("cover_weeks", cover_weeks, 1, 26),
        ("low_stock_weeks", low_stock_weeks, 1, 12),
    ):
        if not (low <= int(value) <= high):
            errors.add(name, _("Between %(low)s and %(high)s.") % {"low": low, "high": high})
    errors.raise_if_any()
    program.tracked = padded(codes)
    program.areas = padded(fsas)
    program.expiry_warning_days = int(expiry_warning_days)
    program.cover_weeks = int(cover_weeks)
    program.low_stock_weeks = int(low_stock_weeks)
    program.save()
    audit.record(
        action=AuditAction.OUTREACH_SETTINGS,
        actor=actor,
        organization=organization,
        obj=program,
        metadata={"what": "program", "tracked": codes, "areas": fsas},
    )
    return program


@transaction.atomic
def referral_choice_set(*, actor: Any, organization: Any, service: Any, on: bool) -> None:
    from harbour.outreach.models import ReferralChoice

    require_role(actor, organization.pk, Role.COORDINATOR)
    program = program_for(organization)
    if on:
        ReferralChoice.objects.get_or_create(program=program, service=service)
    else:
        ReferralChoice.objects.filter(program=program, service=service).delete()
    audit.record(
        action=AuditAction.OUTREACH_SETTINGS,
        actor=actor,
        organization=organization,
        obj=program,
        metadata={"what": "referral", "service": str(service.pk), "on": on},
    )


# --- periodic work ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StockItem:
    key: str  # stable per item: "low:<team>:<supply>" or "expiry:<team>:<supply>:<lot>"
    team: str
    supply: str
    on_hand: int
    lot: str = ""
    expires_on: date | None = None
    weeks_left: float | None = None


def stock_problems(program: Program, *, today: date) -> list[StockItem]:
    """Low stock (see :mod:`harbour.outreach.inventory`) and naloxone lots that expire within
    the warning period (or have expired) while some are on hand."""
    from harbour.outreach import selectors

    items = []
    for row in selectors.stock_rows(program, today=today):
        if row.low:
            items.append(
                StockItem(
                    key=f"low:{row.team.pk}:{row.supply}",
                    team=row.team.name,
                    supply=row.supply,
                    on_hand=row.on_hand,
                    weeks_left=row.weeks_left,
                )
            )
        for lot in row.lots:
            if (
                lot.quantity > 0
                and lot.expires_on is not None
                and lot.expires_on <= today + timedelta(days=program.expiry_warning_days)
            ):
                items.append(
                    StockItem(
                        key=f"expiry:{row.team.pk}:{row.supply}:{lot.lot}",
                        team=row.team.name,
                        supply=row.supply,
                        on_hand=lot.quantity,
                        lot=lot.lot,
                        expires_on=lot.expires_on,
                    )
                )
    return items


def _notice_line(item: StockItem) -> str:
    label = Supply(item.supply).label
    if item.key.startswith("low:"):
        return _("Low stock: %(team)s has %(n)s %(supply)s left") % {
            "team": item.team,
            "n": item.on_hand,
            "supply": label,
        }
    return _("Expiring: %(team)s, %(supply)s lot %(lot)s (%(n)s), expires %(date)s") % {
        "team": item.team,
        "supply": label,
        "lot": item.lot,
        "n": item.on_hand,
        "date": item.expires_on.isoformat() if item.expires_on else "?",
    }


@transaction.atomic
def stock_notices(*, now: datetime | None = None) -> int:
    """Tell each organization's coordinators (by email, in their language) about low stock and
    naloxone about to expire. Each item is told once a day (``StockNotice``); a run with new
    items sends one message per coordinator (idempotency key per organization, day and
    items). Returns the number of messages queued."""
    from harbour.core.views import absolute_url

    now = now or timezone.now()
    today = timezone.localdate(now)
    sent = 0
    for program in Program.objects.filter(organization__is_active=True).select_related(
        "organization"
    ):
        items = stock_problems(program, today=today)
        if not items:
            continue
        told = set(
            StockNotice.objects.filter(item__in=[i.key for i in items], day=today).values_list(
                "item", flat=True
            )
        )
        new = [i for i in items if i.key not in told]
        if not new:
            continue
        StockNotice.objects.bulk_create(
            [StockNotice(organization=program.organization, item=i.key, day=today) for i in new],
            ignore_conflicts=True,
        )
        digest = hashlib.sha256(" ".join(sorted(i.key for i in new)).encode()).hexdigest()[:16]
        link = absolute_url("outreach-staff:stock", slug=program.organization.slug)
        for user in coordinators(program.organization):
            lang = "fr" if user.preferred_language.startswith("fr") else "en"
            with translation.override(lang):
                body = "\n".join(
                    ["- " + _notice_line(i) for i in new]
                    + ["", _("Stock and order suggestions: %(link)s") % {"link": link}]
                )
                notify.enqueue(
                    key=f"outreach:stock:{program.organization_id}:{today}:{digest}:user:{user.pk}",
                    channel="email",
                    to=user.email,
                    subject=_("Harbour: outreach stock needs attention"),
                    body=body,
                    lang=lang,
                )
            sent += 1
    return sent


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
