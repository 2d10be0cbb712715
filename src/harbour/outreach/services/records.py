"""Encounters and overdose responses: one from a form or a batch from a device coming back
online (idempotent on the device's UUID), and removing a record entered in error."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.permissions import require_role
from harbour.core.roles import Role
from harbour.notify.crypto import blind_index
from harbour.outreach import bulk
from harbour.outreach.models import (
    NALOXONE,
    REMOVABLE_RECORDS,
    Distribution,
    Encounter,
    EncounterReferral,
    Movement,
    Outcome,
    OverdoseResponse,
    RemovedRecord,
    StockLevel,
    StockMovement,
    Substance,
    Supply,
)
from harbour.outreach.services.base import (
    _actor_user,
    _locked_program,
    padded,
    program_for,
)
from harbour.outreach.services.checks import (
    CheckedEncounter,
    Context,
    check_encounter,
    check_response,
)
from harbour.outreach.services.ledger import (
    Ledger,
    _short_of,
)

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
