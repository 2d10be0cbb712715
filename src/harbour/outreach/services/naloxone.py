"""Naloxone: kits given and training sessions."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.permissions import require_role
from harbour.core.roles import Role
from harbour.outreach.models import (
    MAX_QUANTITY,
    NALOXONE,
    Distribution,
    Movement,
    Program,
    Recipient,
    Supply,
    Team,
    TrainingSession,
)
from harbour.outreach.services.base import (
    OLDEST,
    _actor_user,
    _locked_program,
    _tz,
)
from harbour.outreach.services.checks import (
    Errors,
    _int,
    _quantity,
    _when,
)
from harbour.outreach.services.ledger import (
    Ledger,
    _short_of,
)

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
