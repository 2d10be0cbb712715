"""Referrals: create one, every lifecycle transition with a compare-and-set on the
version, a redirect to another organization, and who may refer from where."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from harbour.accounts.models import Organization
from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.permissions import org_ids, require_role
from harbour.referrals import lifecycle
from harbour.referrals.lifecycle import Action, Side, Status, TransitionError
from harbour.referrals.models import (
    Client,
    Consent,
    Priority,
    Referral,
    ReferralSource,
    Transition,
)
from harbour.referrals.selectors import STAFF, live_consents, side_of
from harbour.referrals.services._common import MAX_NOTE, Conflict, action_label, status_label
from harbour.referrals.services.clients import _refuse_erased
from harbour.referrals.services.notices import _tell_other_side
from harbour.referrals.services.reminders import reminder_due

# --- referrals ----------------------------------------------------------------------------


def _service_facts(service: Any, receiver: Organization) -> tuple[str, str]:
    """The service's top-level type of help and its postal area, for the gap report."""
    from harbour.directory.selectors import service_terms

    codes = [t.code for t in service_terms(service) if t.kind == "category" and t.code]
    service_type = codes[0].split(".")[0] if codes else ""
    area = ""
    for sal in service.service_at_locations.select_related("location").all():
        address = sal.location.addresses.first()
        if address and address.postal_code:
            area = address.postal_code.replace(" ", "").upper()[:3]
            break
    return service_type, area or receiver.city


def _service_refusal(service: Any) -> str | None:
    from harbour.directory.models import ServiceStatus

    if service.status != ServiceStatus.ACTIVE:
        return _("“%(service)s” is not taking referrals: the listing says it is %(status)s.") % {
            "service": service.name,
            "status": service.get_status_display().lower(),
        }
    return None


def _receiver_of(service: Any) -> Organization | None:
    owner_id = service.organization.owner_id
    return Organization.objects.filter(pk=owner_id).first() if owner_id else None


@transaction.atomic
def referral_create(
    *,
    actor: Any,
    client: Client,
    receiver: Organization | None = None,
    service: Any = None,
    needs: str = "",
    priority: str = Priority.ROUTINE,
    service_type: str = "",
    send: bool = False,
    source: str = ReferralSource.STAFF,
    external_id: str = "",
    parent: Referral | None = None,
) -> Referral:
    """A referral of the client's organization to ``receiver`` (or the organization that owns
    ``service``): a draft, or sent at once with ``send`` (then refused, and nothing is kept,
    without consent covering the receiver)."""
    sender = client.organization
    require_role(actor, sender.pk, STAFF)
    _refuse_erased(client)
    if service is not None:
        found = _receiver_of(service)
        if found is None:
            raise ValidationError(
                _("This listing has no Harbour organization that takes referrals."),
                code="no_receiver",
            )
        if receiver is not None and receiver.pk != found.pk:
            raise ValidationError(
                _("This service belongs to another organization."), code="wrong_receiver"
            )
        receiver = found
        refusal = _service_refusal(service)
        if refusal:
            raise ValidationError(refusal, code="inactive_service")
    if receiver is None:
        raise ValidationError(_("Choose who the referral is for."), code="no_receiver")
    if not receiver.is_active:
        raise ValidationError(
            _("%(org)s is no longer active on Harbour.") % {"org": receiver.name},
            code="inactive_receiver",
        )
    if receiver.pk == sender.pk:
        raise ValidationError(
            _("A referral goes to another organization."), code="same_organization"
        )
    if priority not in Priority.values:
        raise ValidationError({"priority": _("Choose a priority.")})
    kind, area = _service_facts(service, receiver) if service is not None else ("", receiver.city)
    referral = Referral.objects.create(
        client=client,
        sender=sender,
        receiver=receiver,
        service=service,
        service_name=str(service.name) if service is not None else "",
        service_type=kind or service_type[:100],
        area=area[:40],
        needs=needs.strip()[:MAX_NOTE],
        priority=priority,
        source=source,
        external_id=external_id[:200],
        parent=parent,
        created_by=actor if getattr(actor, "is_user", False) else None,
    )
    audit.record(
        action=AuditAction.REFERRAL_CREATE,
        actor=actor,
        organization=sender,
        obj=referral,
        metadata={
            "receiver": str(receiver.pk),
            "service": str(service.pk) if service is not None else "",
            "source": source,
        },
    )
    if send:
        referral = referral_transition(
            actor=actor, referral=referral, action=Action.SEND, organization=sender
        )
    return referral


REFUSALS = {
    "side": lambda: _("Only the other organization can do that."),
    "reason": lambda: _("Choose a reason."),
    "reason_unknown": lambda: _("That reason does not fit this step."),
    "note": lambda: _("Say a few words about the reason in the note."),
}


def _refusal(error: TransitionError) -> ValidationError:
    if error.code == "illegal":
        message = _("This referral is “%(status)s”: “%(action)s” is not possible now.") % {
            "status": status_label(error.status),
            "action": action_label(error.action),
        }
    else:
        message = REFUSALS[error.code]()
    return ValidationError(
        message, code="illegal_transition" if error.code == "illegal" else "invalid"
    )


def _check_send(referral: Referral, now: datetime) -> Consent:
    """Consent that covers the receiver, an active receiver and service; else refused."""
    if not referral.receiver.is_active:
        raise ValidationError(
            _("%(org)s is no longer active on Harbour.") % {"org": referral.receiver.name},
            code="inactive_receiver",
        )
    if referral.service_id is not None:
        from harbour.directory.models import Service

        service = Service.objects.select_related("organization").get(pk=referral.service_id)
        refusal = _service_refusal(service)
        if refusal:
            raise ValidationError(refusal, code="inactive_service")
    consent = (
        live_consents(referral.client_id, referral.receiver_id, now)
        .order_by("-valid_until")
        .first()
    )
    if consent is None:
        raise ValidationError(
            _(
                "No consent covers %(org)s: record the client’s consent to share with them "
                "before sending."
            )
            % {"org": referral.receiver.name},
            code="no_consent",
        )
    return consent


def _conflict(current: Referral, *, when: datetime | None = None) -> Conflict:
    last = current.transitions.select_related("organization").order_by("-at", "-id").first()
    by = str(last.organization.name) if last and last.organization else _("the person")
    return Conflict(
        current,
        _(
            "Someone else changed this referral first: it is now “%(status)s” (%(by)s). "
            "Nothing was changed."
        )
        % {"status": status_label(current.status), "by": by},
    )


def _lock(referral_id: Any) -> Referral:
    rows = Referral.objects.select_related("sender", "receiver", "client")
    if connection.vendor == "postgresql":
        rows = rows.select_for_update(of=("self",))
    return rows.get(pk=referral_id)


@transaction.atomic
def referral_transition(
    *,
    actor: Any,
    referral: Referral,
    action: str,
    reason_code: str = "",
    note: str = "",
    expected_version: int | None = None,
    organization: Any = None,
    redirect_to: Organization | None = None,
    redirect_service: Any = None,
    actor_label: str = "",
) -> Referral:
    """One step of the lifecycle, for the side the actor acts for. Refused with the reason
    when the step is not allowed from here, by this side, or without a reason it needs; with
    ``Conflict`` when the referral changed since the actor read it (``expected_version``), so
    two staff answering at once get one winner and a clear message for the other."""
    try:
        step = Action(action)
    except ValueError as exc:
        raise ValidationError(_("Unknown step."), code="invalid") from exc
    current = _lock(referral.pk)
    side = side_of(actor, current, organization)
    if side is None:
        from django.http import Http404

        raise Http404
    acting_org = current.receiver if side == Side.RECEIVER else current.sender
    assert acting_org is not None
    require_role(actor, acting_org.pk, STAFF)
    if expected_version is not None and current.version != expected_version:
        raise _conflict(current)
    note = note.strip()[:MAX_NOTE]
    try:
        moved = lifecycle.move(
            Status(current.status),
            step,
            side=side,
            held_from=Status(current.held_from) if current.held_from else None,
            reason_code=reason_code,
            note=note,
        )
    except TransitionError as exc:
        raise _refusal(exc) from exc
    now = timezone.now()
    changes: dict[str, Any] = {
        "status": moved.after.value,
        "held_from": moved.held_from.value if moved.held_from else "",
        "reason_code": reason_code,
        "version": current.version + 1,
        "updated_at": now,
    }
    if step == Action.SEND:
        changes["consent"] = _check_send(current, now)
        changes["sent_at"] = now
        changes["remind_at"] = reminder_due(current.receiver, now, 0)
        changes["reminders_sent"] = 0
    if step == Action.REDIRECT and redirect_to is None and redirect_service is None:
        raise ValidationError(
            {"redirect_to": _("Choose the organization or service to redirect to.")}
        )
    if lifecycle.acknowledged(moved.before, moved.after):
        changes["acknowledged_at"] = now
        changes["remind_at"] = None
    if moved.after == Status.ACCEPTED and current.accepted_at is None:
        changes["accepted_at"] = now
    if moved.after in lifecycle.CLOSED:
        changes["closed_at"] = now
        changes["remind_at"] = None
    if not Referral.objects.filter(pk=current.pk, version=current.version).update(**changes):
        raise _conflict(_lock(current.pk))
    label = actor_label or audit.actor_label(actor)
    transition = Transition.objects.create(
        referral=current,
        action=step.value,
        from_status=moved.before.value,
        to_status=moved.after.value,
        organization=acting_org,
        actor=actor if getattr(actor, "is_user", False) else None,
        actor_label=label,
        at=now,
        reason_code=reason_code,
        note=note,
    )
    audit.record(
        action=AuditAction.REFERRAL_STATUS_CHANGE,
        actor=actor,
        organization=acting_org,
        obj=current,
        label=actor_label,
        metadata={
            "action": step.value,
            "from": moved.before.value,
            "to": moved.after.value,
            "reason": reason_code,
        },
    )
    updated = Referral.objects.select_related("sender", "receiver", "client", "service").get(
        pk=current.pk
    )
    if step == Action.REDIRECT:
        _redirect_child(actor, updated, redirect_to, redirect_service, note)
    _tell_other_side(updated, transition, side)
    return updated


def _redirect_child(
    actor: Any, referral: Referral, to: Organization | None, service: Any, note: str
) -> Referral | None:
    """The receiving organization suggests where to go instead: a child referral waits as a
    draft for the sender, who has the client's consent to ask for (or already holds)."""
    if referral.sender is None:
        return None  # a self-referral: the receiving organization tells the person itself
    receiver = _receiver_of(service) if service is not None else to
    if receiver is None or receiver.pk == referral.sender_id:
        raise ValidationError(
            {"redirect_to": _("Choose an organization other than the referring one.")}
        )
    child = Referral.objects.create(
        client=referral.client,
        sender=referral.sender,
        receiver=receiver,
        service=service,
        service_name=str(service.name) if service is not None else "",
        service_type=(_service_facts(service, receiver)[0] if service is not None else "")
        or referral.service_type,
        area=_service_facts(service, receiver)[1] if service is not None else receiver.city,
        needs=referral.needs,
        priority=referral.priority,
        parent=referral,
        source=referral.source,
    )
    audit.record(
        action=AuditAction.REFERRAL_CREATE,
        actor=actor,
        organization_id=referral.receiver_id,
        obj=child,
        metadata={"redirected_from": str(referral.pk), "receiver": str(receiver.pk)},
    )
    return child


def acting_organizations(actor: Any) -> list[Organization]:
    """The organizations the actor may refer from (peer workers and above)."""
    return list(Organization.objects.filter(pk__in=org_ids(actor, STAFF), is_active=True))
