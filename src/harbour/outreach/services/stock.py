"""Stock: receipts, transfers, corrections, and the periodic notices of low or expiring stock."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.permissions import require_role
from harbour.core.roles import Role
from harbour.notify import services as notify
from harbour.outreach.models import (
    NALOXONE,
    Movement,
    Program,
    StockLevel,
    StockNotice,
    Supply,
    Team,
    supply_count,
)
from harbour.outreach.services.base import (
    MAX_RECEIPT,
    _actor_user,
    _locked_program,
)
from harbour.outreach.services.checks import (
    Errors,
    _int,
    _own_team,
    _quantity,
    _require_tracked,
    _supply,
)
from harbour.outreach.services.ledger import (
    Ledger,
    _short_of,
)
from harbour.outreach.services.refills import (
    coordinators,
)

# --- stock: receipts, transfers, corrections --------------------------------------------------


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
        return _("Low stock: %(team)s has %(what)s left") % {
            "team": item.team,
            "what": supply_count(item.supply, item.on_hand),
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
