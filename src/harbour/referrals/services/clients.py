"""Clients (with the duplicate check inside the organization) and their consent."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from harbour.accounts.models import Organization
from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.permissions import require_role
from harbour.notify import addresses
from harbour.notify.crypto import blind_index
from harbour.referrals.models import (
    Client,
    ClientSource,
    Consent,
    ConsentMethod,
    ContactMethod,
    Purpose,
    SharedField,
)
from harbour.referrals.selectors import STAFF

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
