"""Every write to referrals: clients (with the duplicate check inside the organization),
consent (record, revoke), referrals (create, every lifecycle transition with a compare-and-set
on the version), messages and internal notes, self-referrals from public listings, and the
two-business-day reminders.

Every function checks the actor's role itself, writes its audit event in the same transaction
and queues its emails through ``notify`` with idempotency keys. Emails never carry a client's
details: they say that something is waiting and link to it.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from harbour.accounts.models import Membership, Organization
from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.permissions import org_ids, require_role
from harbour.core.roles import ROLE_RANK, Role
from harbour.core.views import absolute_url
from harbour.notify import addresses
from harbour.notify import services as notify
from harbour.notify.crypto import blind_index
from harbour.referrals import business, lifecycle
from harbour.referrals.lifecycle import Action, Side, Status, TransitionError
from harbour.referrals.models import (
    Client,
    ClientSource,
    Consent,
    ConsentMethod,
    ContactMethod,
    Message,
    Priority,
    Purpose,
    Referral,
    ReferralSource,
    ReferralStatus,
    SharedField,
    Transition,
)
from harbour.referrals.selectors import STAFF, live_consents, side_of

log = logging.getLogger(__name__)

REMINDER_BUSINESS_DAYS = 2  # then the organization's admins, one business day later
LANGUAGES = ("en", "fr")
MAX_NOTE = 2000


class Conflict(Exception):
    """Someone changed the referral first. ``referral`` is how it is now."""

    def __init__(self, referral: Referral, message: str) -> None:
        super().__init__(message)
        self.referral = referral
        self.message = message


# --- clients ------------------------------------------------------------------------------


def normalize_alias(alias: str) -> str:
    """Case, accents, punctuation and spacing folded: "Zoé  B." and "zoe b" are the same."""
    text = unicodedata.normalize("NFKD", alias).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def _index(organization_id: Any, kind: str, value: str) -> str:
    # the organization's id is hashed in: the same person elsewhere gives another index
    return blind_index(f"{organization_id}:{value}", kind=f"referrals-client-{kind}")


@dataclass
class ClientData:
    alias: str
    contact_method: str = ContactMethod.WORKER
    phone: str = ""
    email: str = ""
    contact_notes: str = ""
    language: str = "en"
    birth_year: int | None = None


def _clean_client(data: ClientData) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {"alias": " ".join(data.alias.split())[:80]}
    if not normalize_alias(out["alias"]):
        errors["alias"] = _("Give an alias or the name they want to be called.")
    if data.contact_method not in ContactMethod.values:
        errors["contact_method"] = _("Choose how to reach them.")
    out["contact_method"] = data.contact_method
    out["phone"] = ""
    if data.phone.strip():
        try:
            out["phone"] = addresses.normalize_phone(data.phone)
        except ValueError:
            errors["phone"] = _("This is not a phone number we can call or text.")
    out["email"] = ""
    if data.email.strip():
        try:
            out["email"] = addresses.normalize_email(data.email)
        except ValueError:
            errors["email"] = _("This is not an email address.")
    if data.contact_method == ContactMethod.PHONE and not data.phone.strip():
        errors["phone"] = _("Give the phone number to call or text.")
    if data.contact_method == ContactMethod.EMAIL and not data.email.strip():
        errors["email"] = _("Give the email address to write to.")
    out["contact_notes"] = data.contact_notes.strip()[:500]
    if data.contact_method == ContactMethod.WORKER and not out["contact_notes"]:
        errors["contact_notes"] = _("Say which worker, and how to reach them.")
    language = (data.language or "en").strip().lower()
    if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})?", language):
        errors["language"] = _("Choose a language.")
    out["language"] = language[:12]
    year = data.birth_year
    this_year = timezone.now().year
    if year is not None and not (this_year - 110 <= year <= this_year):
        errors["birth_year"] = _("Give a year between %(low)s and %(high)s, or leave it empty.") % {
            "low": this_year - 110,
            "high": this_year,
        }
    out["birth_year"] = str(year) if year is not None else ""
    if errors:
        raise ValidationError(errors)
    return out


def _indexes(organization_id: Any, clean: dict[str, Any]) -> dict[str, str]:
    return {
        "alias_index": _index(organization_id, "alias", normalize_alias(clean["alias"])),
        "phone_index": _index(organization_id, "phone", clean["phone"]) if clean["phone"] else "",
        "email_index": _index(organization_id, "email", clean["email"].lower())
        if clean["email"]
        else "",
    }


def possible_duplicates(
    *, actor: Any, organization: Any, data: ClientData, exclude: Any = None
) -> list[Client]:
    """Clients of the same organization who may be this person: the same phone or email, or
    the same alias with the same (or an unknown) year of birth. Never looks elsewhere."""
    require_role(actor, organization.pk, STAFF)
    try:
        clean = _clean_client(data)
    except ValidationError:
        return []
    keys = _indexes(organization.pk, clean)
    from django.db.models import Q

    match = Q(alias_index=keys["alias_index"])
    if keys["phone_index"]:
        match |= Q(phone_index=keys["phone_index"])
    if keys["email_index"]:
        match |= Q(email_index=keys["email_index"])
    found = []
    for client in Client.objects.filter(match, organization=organization).exclude(pk=exclude)[:20]:
        same_contact = (keys["phone_index"] and client.phone_index == keys["phone_index"]) or (
            keys["email_index"] and client.email_index == keys["email_index"]
        )
        years = {client.birth_year, clean["birth_year"]}
        if same_contact or "" in years or len(years) == 1:
            found.append(client)
    return found


@transaction.atomic
def client_create(
    *, actor: Any, organization: Any, data: ClientData, source: str = ClientSource.STAFF
) -> Client:
    """A new client of ``organization`` (peer workers and above). The duplicate check is the
    form's job (``possible_duplicates``): two people may share an alias."""
    if actor is not None:
        require_role(actor, organization.pk, STAFF)
    clean = _clean_client(data)
    client = Client.objects.create(
        organization=organization,
        source=source,
        created_by=actor if getattr(actor, "is_user", False) else None,
        **clean,
        **_indexes(organization.pk, clean),
    )
    audit.record(
        action=AuditAction.REFERRAL_CLIENT_CREATE,
        actor=actor,
        organization=organization,
        obj=client,
        label="" if actor is not None else "anonymous",
        metadata={"source": source, "contact_method": client.contact_method},
    )
    return client


def _refuse_erased(client: Client) -> None:
    if client.erased_at is not None:
        raise ValidationError(
            _("This client’s details were erased. Record the person again as a new client."),
            code="erased",
        )


@transaction.atomic
def client_update(*, actor: Any, client: Client, data: ClientData) -> Client:
    require_role(actor, client.organization_id, STAFF)
    _refuse_erased(client)
    clean = _clean_client(data)
    changed = sorted(k for k, v in clean.items() if getattr(client, k) != v)
    for name, value in {**clean, **_indexes(client.organization_id, clean)}.items():
        setattr(client, name, value)
    client.save()
    audit.record(
        action=AuditAction.REFERRAL_CLIENT_UPDATE,
        actor=actor,
        organization_id=client.organization_id,
        obj=client,
        metadata={"changed": changed},
    )
    return client


# --- consent ------------------------------------------------------------------------------


@transaction.atomic
def consent_record(
    *,
    actor: Any,
    client: Client,
    organizations: Iterable[Organization],
    fields: Iterable[str],
    purpose: str,
    method: str,
    valid_until: datetime,
) -> Consent:
    """What the client agreed may be shared, with which organizations, for what, until when.
    ``actor`` is None only for a person's own online consent (self-referral)."""
    if actor is not None:
        require_role(actor, client.organization_id, STAFF)
    _refuse_erased(client)
    orgs = list(dict.fromkeys(organizations))
    chosen = list(dict.fromkeys(str(f) for f in fields))
    errors: dict[str, str] = {}
    if not orgs:
        errors["organizations"] = _("Choose at least one organization.")
    elif any(not o.is_active for o in orgs):
        errors["organizations"] = _("One of these organizations is no longer active.")
    elif any(o.pk == client.organization_id for o in orgs) and method != ConsentMethod.SELF:
        errors["organizations"] = _("Your own organization needs no consent: choose partners.")
    if not chosen or any(f not in SharedField.values for f in chosen):
        errors["shared"] = _("Choose what may be shared.")
    if purpose not in Purpose.values:
        errors["purpose"] = _("Choose the purpose.")
    if method not in ConsentMethod.values:
        errors["method"] = _("Say how consent was given.")
    if valid_until <= timezone.now():
        errors["valid_until"] = _("Consent must last until a date to come.")
    elif valid_until > timezone.now() + timedelta(days=731):
        errors["valid_until"] = _("Consent can last two years at most: ask again then.")
    if errors:
        raise ValidationError(errors)
    consent = Consent.objects.create(
        client=client,
        fields=chosen,
        purpose=purpose,
        method=method,
        valid_until=valid_until,
        recorded_by=actor if getattr(actor, "is_user", False) else None,
        recorded_by_label=audit.actor_label(actor) if actor is not None else "the person",
    )
    consent.organizations.set(orgs)
    audit.record(
        action=AuditAction.REFERRAL_CONSENT_RECORD,
        actor=actor,
        organization_id=client.organization_id,
        obj=consent,
        label="" if actor is not None else "anonymous",
        metadata={
            "client": str(client.pk),
            "organizations": [str(o.pk) for o in orgs],
            "fields": chosen,
            "purpose": purpose,
            "method": method,
            "valid_until": valid_until.isoformat(),
        },
    )
    return consent


@transaction.atomic
def consent_revoke(*, actor: Any, consent: Consent) -> Consent:
    """Revoked at once: the organizations it covered stop seeing the client's details on their
    next read (their referrals stay, as shells)."""
    client = consent.client
    require_role(actor, client.organization_id, STAFF)
    now = timezone.now()
    if not Consent.objects.filter(pk=consent.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=actor if getattr(actor, "is_user", False) else None
    ):
        raise ValidationError(_("This consent was already revoked."), code="already_revoked")
    consent.refresh_from_db()
    audit.record(
        action=AuditAction.REFERRAL_CONSENT_REVOKE,
        actor=actor,
        organization_id=client.organization_id,
        obj=consent,
        metadata={
            "client": str(client.pk),
            "organizations": [str(pk) for pk in consent.organizations.values_list("pk", flat=True)],
        },
    )
    return consent


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


def status_label(status: str) -> str:
    return str(ReferralStatus(status).label)


def action_label(action: str) -> str:
    from harbour.referrals.forms import ACTION_LABELS

    return str(ACTION_LABELS.get(action, action))


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


# --- who is told --------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    user_id: Any
    email: str
    lang: str


def people(organization_id: Any, *, minimum: str) -> list[Person]:
    """Active members of the organization with at least ``minimum``."""
    roles = [role for role, rank in ROLE_RANK.items() if rank >= ROLE_RANK[minimum]]
    rows = Membership.objects.filter(
        organization_id=organization_id,
        organization__is_active=True,
        role__in=roles,
        user__is_active=True,
    ).values_list("user_id", "user__email", "user__preferred_language")
    return [Person(uid, email, lang if lang in LANGUAGES else "en") for uid, email, lang in rows]


def _contacts(referral: Referral, side: Side) -> list[Person]:
    """Whom to tell on one side: the people of that side who made, answered or wrote on the
    referral, and its coordinators; when that is nobody, all its staff."""
    org_id = referral.sender_id if side == Side.SENDER else referral.receiver_id
    if org_id is None:
        return []
    staff = people(org_id, minimum=STAFF)
    involved = {referral.created_by_id} if side == Side.SENDER else set()
    involved |= set(
        referral.transitions.filter(organization_id=org_id).values_list("actor_id", flat=True)
    )
    involved |= set(
        referral.messages.filter(organization_id=org_id).values_list("author_id", flat=True)
    )
    if side == Side.SENDER:
        chosen = [p for p in staff if p.user_id in involved]
        if not chosen:
            chosen = [p for p in people(org_id, minimum=Role.COORDINATOR)]
    else:
        leads = {p.user_id for p in people(org_id, minimum=Role.COORDINATOR)}
        chosen = [p for p in staff if p.user_id in involved or p.user_id in leads]
    return chosen or staff


def _email(person: Person, key: str, subject: str, body: str) -> None:
    notify.enqueue(
        key=f"{key}:{person.user_id}:email",
        channel="email",
        to=person.email,
        subject=subject,
        body=body,
        lang=person.lang,
    )


def _link(referral: Referral, organization_slug: str) -> str:
    return absolute_url("referrals-staff:detail", slug=organization_slug, referral_id=referral.pk)


def _tell_other_side(referral: Referral, transition: Transition, side: Side) -> None:
    other = Side.RECEIVER if side == Side.SENDER else Side.SENDER
    org = referral.receiver if other == Side.RECEIVER else referral.sender
    if org is None:
        return
    for person in _contacts(referral, other):
        with translation.override(person.lang):
            if transition.action == Action.SEND:
                subject = _("Harbour: a new referral for you (%(ref)s)") % {
                    "ref": referral.reference
                }
                body = _(
                    "%(sender)s referred someone to %(receiver)s%(service)s. Please acknowledge "
                    "it within two business days.\n\n%(link)s\n\nFor privacy, details are only "
                    "in Harbour."
                )
            else:
                subject = _("Harbour: referral %(ref)s is now “%(status)s”") % {
                    "ref": referral.reference,
                    "status": status_label(referral.status),
                }
                body = _(
                    "Referral %(ref)s (%(sender)s to %(receiver)s%(service)s) is now "
                    "“%(status)s”.\n\n%(link)s\n\nFor privacy, details are only in Harbour."
                )
            _email(
                person,
                f"referral:{referral.pk}:t:{transition.pk}",
                subject,
                body
                % {
                    "ref": referral.reference,
                    "sender": referral.sender.name if referral.sender else _("A person"),
                    "receiver": referral.receiver.name,
                    "service": f" ({referral.service_name})" if referral.service_name else "",
                    "status": status_label(referral.status),
                    "link": _link(referral, org.slug),
                },
            )


# --- messages and internal notes ----------------------------------------------------------


@transaction.atomic
def message_post(
    *, actor: Any, referral: Referral, body: str, internal: bool = False, organization: Any = None
) -> Message:
    """A message both organizations see (the other side is emailed that there is one), or an
    internal note only the author's organization sees."""
    side = side_of(actor, referral, organization)
    if side is None:
        from django.http import Http404

        raise Http404
    org = referral.receiver if side == Side.RECEIVER else referral.sender
    assert org is not None
    require_role(actor, org.pk, STAFF)
    text = body.strip()
    if not text:
        raise ValidationError({"body": _("Write something first.")})
    if len(text) > MAX_NOTE:
        raise ValidationError({"body": _("Keep it under %(n)s characters.") % {"n": MAX_NOTE}})
    if referral.status == ReferralStatus.DRAFT and not internal:
        raise ValidationError(
            {"body": _("Send the referral first: until then only your notes are kept.")}
        )
    if not internal and referral.sender_id is None:
        raise ValidationError(
            {"body": _("A person asked to be contacted: reach them directly, or write a note.")}
        )
    message = Message.objects.create(
        referral=referral,
        organization=org,
        author=actor if getattr(actor, "is_user", False) else None,
        author_label=audit.actor_label(actor),
        internal=internal,
        body=text,
    )
    audit.record(
        action=AuditAction.REFERRAL_MESSAGE,
        actor=actor,
        organization=org,
        obj=referral,
        metadata={"internal": internal, "message": str(message.pk)},
    )
    if not internal:
        other = Side.RECEIVER if side == Side.SENDER else Side.SENDER
        other_org = referral.receiver if other == Side.RECEIVER else referral.sender
        assert other_org is not None
        for person in _contacts(referral, other):
            with translation.override(person.lang):
                _email(
                    person,
                    f"referral:{referral.pk}:msg:{message.pk}",
                    _("Harbour: a message about referral %(ref)s") % {"ref": referral.reference},
                    _(
                        "%(org)s wrote about referral %(ref)s.\n\n%(link)s\n\nFor privacy, the "
                        "message is only in Harbour."
                    )
                    % {
                        "org": org.name,
                        "ref": referral.reference,
                        "link": _link(referral, other_org.slug),
                    },
                )
    return message


# --- self-referral: "ask them to contact me" from a public listing --------------------------

SELF_CONSENT_DAYS = 90


@transaction.atomic
def self_referral_create(
    *,
    service: Any,
    alias: str,
    contact_method: str,
    phone: str = "",
    email: str = "",
    best_time: str = "",
    language: str = "en",
    needs: str = "",
) -> Referral:
    """A person asks the organization behind a listing to contact them: no account. Their
    client record, their own consent (to that organization, 90 days) and the referral are
    written together; the organization's coordinators are emailed. Asking again for the same
    service with the same contact while the first is still open is the same request."""
    receiver = _receiver_of(service)
    if receiver is None or not receiver.is_active:
        raise ValidationError(
            _("This listing does not take requests through Harbour. Call them instead."),
            code="no_receiver",
        )
    refusal = _service_refusal(service)
    if refusal:
        raise ValidationError(refusal, code="inactive_service")
    if contact_method not in (ContactMethod.PHONE, ContactMethod.EMAIL):
        raise ValidationError({"contact_method": _("Choose how they should contact you.")})
    data = ClientData(
        alias=alias,
        contact_method=contact_method,
        phone=phone,
        email=email,
        contact_notes=best_time.strip()[:200],
        language=language if language in LANGUAGES else "en",
    )
    clean = _clean_client(data)
    keys = _indexes(receiver.pk, clean)
    contact_index = (
        keys["phone_index"] if contact_method == ContactMethod.PHONE else keys["email_index"]
    )
    lookup = (
        "client__phone_index" if contact_method == ContactMethod.PHONE else "client__email_index"
    )
    existing = Referral.objects.filter(
        receiver=receiver,
        service=service,
        source=ReferralSource.SELF,
        status__in=[s.value for s in lifecycle.OPEN],
        **{lookup: contact_index},
    ).first()
    if existing is not None:
        return existing
    client = client_create(actor=None, organization=receiver, data=data, source=ClientSource.SELF)
    now = timezone.now()
    consent = consent_record(
        actor=None,
        client=client,
        organizations=[receiver],
        fields=SharedField.values,
        purpose=Purpose.CONTACT,
        method=ConsentMethod.SELF,
        valid_until=now + timedelta(days=SELF_CONSENT_DAYS),
    )
    kind, area = _service_facts(service, receiver)
    referral = Referral.objects.create(
        client=client,
        sender=None,
        receiver=receiver,
        service=service,
        service_name=str(service.name),
        service_type=kind,
        area=area[:40],
        needs=needs.strip()[:1000],
        consent=consent,
        status=ReferralStatus.SENT,
        version=1,
        source=ReferralSource.SELF,
        sent_at=now,
        remind_at=reminder_due(receiver, now, 0),
    )
    transition = Transition.objects.create(
        referral=referral,
        action=Action.SEND.value,
        from_status=Status.DRAFT.value,
        to_status=Status.SENT.value,
        organization=None,
        actor_label="the person",
        at=now,
    )
    audit.record(
        action=AuditAction.REFERRAL_SELF,
        organization=receiver,
        obj=referral,
        label="anonymous",
        metadata={"service": str(service.pk), "contact_method": contact_method},
    )
    for person in _contacts(referral, Side.RECEIVER):
        with translation.override(person.lang):
            _email(
                person,
                f"referral:{referral.pk}:t:{transition.pk}",
                _("Harbour: someone asked to be contacted (%(ref)s)") % {"ref": referral.reference},
                _(
                    "Through the listing “%(service)s”, someone asked %(org)s to contact them. "
                    "Please answer within two business days.\n\n%(link)s\n\nFor privacy, their "
                    "details are only in Harbour."
                )
                % {
                    "service": referral.service_name,
                    "org": receiver.name,
                    "link": _link(referral, receiver.slug),
                },
            )
    return referral


# --- reminders (timed work in the database) -----------------------------------------------


def reminder_due(receiver: Organization, start: datetime, sent: int) -> datetime | None:
    """When the next reminder falls due: two business days after sending, then one more for the
    admins; none after that."""
    days = {0: REMINDER_BUSINESS_DAYS, 1: 1}.get(sent)
    if days is None:
        return None
    province = receiver.province or ""
    return business.add_business_days(
        start, days, zone=business.zone_for(province), province=province
    )


def reminders_send(now: datetime | None = None, *, limit: int = 200) -> int:
    """Remind receiving organizations of sent referrals nobody acknowledged: their coordinators
    after two business days, their admins a business day later. Each reminder advances the row
    with a compare-and-set on ``reminders_sent`` in the same transaction as its emails (keys
    ``referral:<id>:remind:<n>``), so several workers or a rerun never send one twice."""
    now = now or timezone.now()
    due = list(
        Referral.objects.filter(status=ReferralStatus.SENT, remind_at__lte=now)
        .order_by("remind_at")
        .values_list("pk", "reminders_sent")[:limit]
    )
    sent = 0
    for pk, count in due:
        with transaction.atomic():
            rows = Referral.objects.filter(
                pk=pk, status=ReferralStatus.SENT, reminders_sent=count, remind_at__lte=now
            ).select_related("receiver", "sender")
            if connection.vendor == "postgresql":
                rows = rows.select_for_update(skip_locked=True, of=("self",))
            referral = rows.first()
            if referral is None:
                continue  # acknowledged meanwhile, or another worker has it
            stage = count + 1
            assert referral.remind_at is not None
            next_at = reminder_due(referral.receiver, referral.remind_at, stage)
            if not Referral.objects.filter(pk=pk, reminders_sent=count).update(
                reminders_sent=stage, remind_at=next_at
            ):
                continue
            minimum = Role.COORDINATOR if stage == 1 else Role.ORG_ADMIN
            for person in people(referral.receiver_id, minimum=minimum):
                with translation.override(person.lang):
                    _email(
                        person,
                        f"referral:{pk}:remind:{stage}",
                        _("Harbour: referral %(ref)s is waiting for an answer")
                        % {"ref": referral.reference},
                        _(
                            "%(sender)s sent %(org)s a referral%(service)s %(days)s business "
                            "days ago and nobody has acknowledged it yet.%(admin)s\n\n%(link)s"
                        )
                        % {
                            "sender": referral.sender.name if referral.sender else _("A person"),
                            "org": referral.receiver.name,
                            "service": f" ({referral.service_name})"
                            if referral.service_name
                            else "",
                            "days": REMINDER_BUSINESS_DAYS + stage - 1,
                            "admin": (" " + _("You are told as an admin of the organization."))
                            if stage > 1
                            else "",
                            "link": _link(referral, referral.receiver.slug),
                        },
                    )
            sent += 1
    return sent


def next_reminder() -> datetime | None:
    from django.db.models import Min

    return Referral.objects.filter(status=ReferralStatus.SENT).aggregate(t=Min("remind_at"))["t"]


def acting_organizations(actor: Any) -> list[Organization]:
    """The organizations the actor may refer from (peer workers and above)."""
    return list(Organization.objects.filter(pk__in=org_ids(actor, STAFF), is_active=True))


# --- retention and erasure ------------------------------------------------------------------
#
# A client's details (alias, contact, year of birth and their blind indexes), what their
# referrals say they need, transition notes and messages are kept while anything is open for
# them, then ``ReferralPolicy.retention_days`` (365 by default, 30 days to 7 years) after the
# last of their referrals closed (or the client was last changed, when they have none). Then
# the periodic job ``referrals.purge`` erases them: the client row stays, pseudonymous and
# empty, so referral counts and the service-gap report keep their numbers. A coordinator can
# erase one client at once (``client_erase``). Audit events carry counts and ids only.


def retention_days_of(organization_id: Any) -> int:
    """The organization's retention in days (the default when it set none)."""
    from harbour.referrals.models import RETENTION_DAYS_DEFAULT, ReferralPolicy

    policy = ReferralPolicy.objects.filter(organization_id=organization_id).first()
    return policy.retention_days if policy is not None else RETENTION_DAYS_DEFAULT


@transaction.atomic
def policy_set(*, actor: Any, organization: Organization, retention_days: int) -> Any:
    """Org admins choose how long their clients' details are kept (bounded)."""
    from harbour.referrals.models import RETENTION_DAYS_MAX, RETENTION_DAYS_MIN, ReferralPolicy

    require_role(actor, organization.pk, Role.ORG_ADMIN)
    if not RETENTION_DAYS_MIN <= retention_days <= RETENTION_DAYS_MAX:
        raise ValidationError(
            {
                "retention_days": _("Choose between %(low)s and %(high)s days.")
                % {"low": RETENTION_DAYS_MIN, "high": RETENTION_DAYS_MAX}
            }
        )
    before = retention_days_of(organization.pk)
    policy, _created = ReferralPolicy.objects.update_or_create(
        organization=organization, defaults={"retention_days": retention_days}
    )
    audit.record(
        action=AuditAction.REFERRAL_POLICY_CHANGE,
        actor=actor,
        organization=organization,
        obj=policy,
        metadata={"retention_days": retention_days, "before": before},
    )
    return policy


def _erase(client_ids: list[Any], now: datetime) -> dict[str, int]:
    """Blank the clients' encrypted details and blind indexes, their referrals' needs and
    transition notes, delete their messages and notes, end their live consents. Counts."""
    if not client_ids:
        return {"clients": 0, "needs": 0, "notes": 0, "messages": 0, "consents": 0}
    clients = Client.objects.filter(pk__in=client_ids).update(
        alias="",
        phone="",
        email="",
        contact_notes="",
        birth_year="",
        alias_index="",
        phone_index="",
        email_index="",
        contact_method=ContactMethod.NONE,
        erased_at=now,
        updated_at=now,
    )
    needs = Referral.objects.filter(client_id__in=client_ids).exclude(needs="").update(needs="")
    notes = (
        Transition.objects.filter(referral__client_id__in=client_ids)
        .exclude(note="")
        .update(note="")
    )
    messages, _rows = Message.objects.filter(referral__client_id__in=client_ids).delete()
    consents = Consent.objects.filter(
        client_id__in=client_ids, revoked_at__isnull=True, valid_until__gt=now
    ).update(revoked_at=now)
    return {
        "clients": clients,
        "needs": needs,
        "notes": notes,
        "messages": messages,
        "consents": consents,
    }


def due_for_erasure(organization_id: Any, now: datetime) -> list[Any]:
    """Ids of the organization's clients whose details are past retention: nothing open, and
    the last referral closed (or the client last changed) more than ``retention_days`` ago."""
    from django.db.models import Count, DateTimeField, Max, Q
    from django.db.models.functions import Coalesce

    cutoff = now - timedelta(days=retention_days_of(organization_id))
    rows = (
        Client.objects.filter(organization_id=organization_id, erased_at__isnull=True)
        .filter(updated_at__lt=cutoff)
        .annotate(
            still_open=Count(
                "referrals", filter=Q(referrals__status__in=[s.value for s in lifecycle.OPEN])
            ),
            last_activity=Max(
                Coalesce(
                    "referrals__closed_at",
                    "referrals__updated_at",
                    output_field=DateTimeField(),
                )
            ),
        )
        .filter(still_open=0)
        .filter(Q(last_activity__isnull=True) | Q(last_activity__lt=cutoff))
    )
    return list(rows.values_list("pk", flat=True))


def retention_purge(*, now: datetime | None = None) -> dict[str, int]:
    """Erase every organization's clients past retention (the ``referrals.purge`` job). One
    transaction and one audit event (counts only) per organization. Idempotent."""
    now = now or timezone.now()
    totals = {"clients": 0, "needs": 0, "notes": 0, "messages": 0, "consents": 0}
    organizations = (
        Client.objects.filter(erased_at__isnull=True)
        .order_by()
        .values_list("organization_id", flat=True)
        .distinct()
    )
    for organization_id in list(organizations):
        with transaction.atomic():
            ids = due_for_erasure(organization_id, now)
            if not ids:
                continue
            counts = _erase(ids, now)
            audit.record(
                action=AuditAction.REFERRAL_RETENTION_PURGE,
                organization_id=organization_id,
                metadata={**counts, "retention_days": retention_days_of(organization_id)},
            )
        for name, value in counts.items():
            totals[name] += value
    return totals


@transaction.atomic
def client_erase(*, actor: Any, client: Client, reason: str) -> dict[str, int]:
    """ "Erase this client now" (coordinators): the same erasure as retention, at once, with a
    reason code (no free text, so the audit trail holds nothing about the person). Referrals
    still open stay open as shells: the receiving organization sees no details."""
    from harbour.referrals.models import EraseReason

    require_role(actor, client.organization_id, Role.COORDINATOR)
    if reason not in EraseReason.values:
        raise ValidationError({"reason": _("Choose why these details are erased.")})
    if client.erased_at is not None:
        raise ValidationError(_("This client's details were already erased."), code="erased")
    counts = _erase([client.pk], timezone.now())
    audit.record(
        action=AuditAction.REFERRAL_CLIENT_ERASE,
        actor=actor,
        organization_id=client.organization_id,
        obj=client,
        metadata={**counts, "reason": reason},
    )
    client.refresh_from_db()
    return counts
