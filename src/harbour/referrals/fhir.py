"""FHIR interchange for referrals: a referral out as a ``ServiceRequest`` (in a Bundle with the
``Patient`` reduced to what consent allows and the two organizations), and a referral in from a
partner system's Bundle (``ServiceRequest`` + ``Patient`` + an active ``Consent`` that names the
receiving organization).

Models and validation come from ``fhir.resources`` (its R4B package: FHIR 4.3.0, whose
ServiceRequest, Patient, Consent, Organization and HealthcareService are those of R4 4.0.1, so
R4 systems read them as R4). Harbour's identifiers use systems under this instance's base URL
(``<HARBOUR_BASE_URL>/ns/organization``, ``/ns/service``, ``/ns/referral``).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError as PydanticError

from harbour.accounts.models import Organization
from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.permissions import org_ids, require_role
from harbour.notify.crypto import blind_index
from harbour.referrals import services
from harbour.referrals.models import (
    ConsentMethod,
    ContactMethod,
    Priority,
    Purpose,
    Referral,
    ReferralSource,
    SharedField,
)
from harbour.referrals.selectors import STAFF, ClientView

SNOMED = "http://snomed.info/sct"
REFERRAL_CODE = {"system": SNOMED, "code": "3457005", "display": "Patient referral"}
BCP47 = "urn:ietf:bcp:47"
NAMESPACE = uuid.UUID("0c6f5cf2-7d0e-4b3e-8f51-6c2b1f4e9a77")

STATUS = {
    "draft": "draft",
    "sent": "active",
    "received": "active",
    "accepted": "active",
    "in_progress": "active",
    "on_hold": "on-hold",
    "completed": "completed",
    "declined": "revoked",
    "redirected": "revoked",
    "unsuccessful": "revoked",
    "cancelled": "revoked",
    "withdrawn": "revoked",
    "entered_in_error": "entered-in-error",
}
PRIORITY_OUT = {Priority.ROUTINE: "routine", Priority.SOON: "urgent", Priority.URGENT: "asap"}
PRIORITY_IN = {
    "routine": Priority.ROUTINE,
    "urgent": Priority.SOON,
    "asap": Priority.URGENT,
    "stat": Priority.URGENT,
}


class FhirError(Exception):
    """A Bundle Harbour cannot take, with the reason (``code`` for the API)."""

    def __init__(self, detail: str, code: str = "invalid_fhir") -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code


def system(kind: str) -> str:
    return f"{settings.HARBOUR_BASE_URL.rstrip('/')}/ns/{kind}"


def _urn(value: Any) -> str:
    return f"urn:uuid:{value}"


def patient_id(referral: Referral) -> uuid.UUID:
    """The same client gets a different, stable id for each receiving organization, so
    partners cannot link people across organizations by it."""
    digest = blind_index(f"{referral.client_id}:{referral.receiver_id}", kind="referrals-fhir")
    return uuid.uuid5(NAMESPACE, digest)


def _organization(org: Organization) -> dict[str, Any]:
    return {
        "resourceType": "Organization",
        "id": str(org.pk),
        "identifier": [{"system": system("organization"), "value": str(org.pk)}],
        "active": org.is_active,
        "name": str(org.name),
    }


def _patient(pid: uuid.UUID, view: ClientView) -> dict[str, Any]:
    patient: dict[str, Any] = {"resourceType": "Patient", "id": str(pid)}
    if view.shows(SharedField.ALIAS) and view.alias:
        patient["name"] = [{"use": "usual", "text": view.alias}]
    if view.shows(SharedField.CONTACT):
        telecom = []
        if view.phone:
            telecom.append({"system": "phone", "value": view.phone, "use": "mobile"})
        if view.email:
            telecom.append({"system": "email", "value": view.email})
        if telecom:
            patient["telecom"] = telecom
    if view.shows(SharedField.LANGUAGE) and view.language:
        patient["communication"] = [
            {"language": {"coding": [{"system": BCP47, "code": view.language}]}, "preferred": True}
        ]
    if view.shows(SharedField.BIRTH_YEAR) and view.birth_year:
        patient["birthDate"] = view.birth_year
    return patient


def export(referral: Referral, view: ClientView, *, type_label: str = "") -> dict[str, Any]:
    """The referral as a FHIR Bundle (type ``collection``): the ServiceRequest first, then the
    Patient (only what ``view`` shows: nothing but an id once consent is revoked), the
    requesting and performing Organizations and, for a directory service, its
    HealthcareService. Validated by fhir.resources before it is returned."""
    pid = patient_id(referral)
    identifiers = [{"system": system("referral"), "value": str(referral.pk)}]
    if referral.external_id and "|" in referral.external_id:
        ext_system, ext_value = referral.external_id.split("|", 1)
        identifiers.append(
            {"system": ext_system, "value": ext_value} if ext_system else {"value": ext_value}
        )
    request: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": str(referral.pk),
        "meta": {"tag": [{"system": system("referral-status"), "code": referral.status}]},
        "identifier": identifiers,
        "status": STATUS[referral.status],
        "intent": "order",
        "category": [{"coding": [REFERRAL_CODE]}],
        "priority": PRIORITY_OUT.get(Priority(referral.priority), "routine"),
        "subject": {"reference": _urn(pid)},
        "authoredOn": (referral.sent_at or referral.created_at).isoformat(),
        "performer": [
            {"reference": _urn(referral.receiver_id), "display": str(referral.receiver.name)}
        ],
    }
    code: dict[str, Any] = {}
    if referral.service_type:
        code["coding"] = [{"system": system("service-type"), "code": referral.service_type}]
    if referral.service_name or type_label:
        code["text"] = referral.service_name or type_label
    if code:
        request["code"] = code
    if referral.sender is not None:
        request["requester"] = {
            "reference": _urn(referral.sender_id),
            "display": str(referral.sender.name),
        }
    else:
        request["requester"] = {"reference": _urn(pid)}  # the person asked for themselves
    if view.shows(SharedField.NEEDS) and view.needs:
        request["note"] = [{"text": view.needs}]
    entries = [
        {"fullUrl": _urn(referral.pk), "resource": request},
        {"fullUrl": _urn(pid), "resource": _patient(pid, view)},
        {"fullUrl": _urn(referral.receiver_id), "resource": _organization(referral.receiver)},
    ]
    if referral.sender is not None:
        entries.append(
            {"fullUrl": _urn(referral.sender_id), "resource": _organization(referral.sender)}
        )
    if referral.service_id is not None:
        request["performer"].append(
            {"reference": _urn(referral.service_id), "display": referral.service_name}
        )
        entries.append(
            {
                "fullUrl": _urn(referral.service_id),
                "resource": {
                    "resourceType": "HealthcareService",
                    "id": str(referral.service_id),
                    "identifier": [
                        {"system": system("service"), "value": str(referral.service_id)}
                    ],
                    "providedBy": {"reference": _urn(referral.receiver_id)},
                    "name": referral.service_name,
                },
            }
        )
    bundle = Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "id": str(uuid.uuid4()),
            "type": "collection",
            "timestamp": timezone.now().isoformat(),
            "entry": entries,
        }
    )
    return dict(json.loads(bundle.model_dump_json(exclude_none=True)))


# --- receiving ----------------------------------------------------------------------------


def _errors(exc: PydanticError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()))
        parts.append(f"{where}: {error.get('msg', '')}" if where else str(error.get("msg", "")))
    return _("This is not a valid FHIR R4 Bundle: %(errors)s") % {"errors": "; ".join(parts)}


def _get(resource: Any, name: str) -> Any:
    return getattr(resource, name, None)


def _kind(resource: Any) -> str:
    return str(resource.get_resource_type()) if resource is not None else ""


class _Index:
    """The Bundle's resources, found by fullUrl or by ``Type/id``."""

    def __init__(self, bundle: Any) -> None:
        self.resources: list[Any] = []
        self.by_ref: dict[str, Any] = {}
        for entry in bundle.entry or []:
            resource = entry.resource
            if resource is None:
                continue
            self.resources.append(resource)
            if entry.fullUrl:
                self.by_ref[str(entry.fullUrl)] = resource
            if resource.id:
                self.by_ref[f"{_kind(resource)}/{resource.id}"] = resource

    def of(self, kind: str) -> list[Any]:
        return [r for r in self.resources if _kind(r) == kind]

    def resolve(self, reference: Any) -> Any:
        if reference is None or not reference.reference:
            return None
        return self.by_ref.get(str(reference.reference))


def _identified(identifiers: Any, kind: str) -> str | None:
    for identifier in identifiers or []:
        if identifier.system == system(kind) and identifier.value:
            return str(identifier.value)
    return None


def _organization_of(reference: Any, index: _Index) -> Organization | None:
    """A Harbour organization from a Reference: a logical identifier, a contained or bundled
    Organization or HealthcareService carrying Harbour's identifier."""
    candidates: list[tuple[str, str | None]] = []
    if reference is None:
        return None
    if reference.identifier is not None:
        candidates.append(("organization", _identified([reference.identifier], "organization")))
        candidates.append(("service", _identified([reference.identifier], "service")))
    resource = index.resolve(reference)
    if _kind(resource) == "Organization":
        candidates.append(("organization", _identified(resource.identifier, "organization")))
    elif _kind(resource) == "HealthcareService":
        candidates.append(("service", _identified(resource.identifier, "service")))
    for kind, value in candidates:
        if not value:
            continue
        if kind == "organization":
            try:
                found = Organization.objects.filter(pk=uuid.UUID(value)).first()
            except ValueError:
                found = Organization.objects.filter(slug=value).first()
            if found is not None:
                return found
        else:
            service = _service(value)
            if service is not None and service.organization.owner_id:
                return Organization.objects.filter(pk=service.organization.owner_id).first()
    return None


def _service(value: str) -> Any:
    from harbour.directory.models import Service

    try:
        return Service.objects.select_related("organization").filter(pk=uuid.UUID(value)).first()
    except ValueError:
        return None


def _service_of(request: Any, index: _Index) -> Any:
    for performer in request.performer or []:
        value = None
        if performer.identifier is not None:
            value = _identified([performer.identifier], "service")
        resource = index.resolve(performer)
        if value is None and _kind(resource) == "HealthcareService":
            value = _identified(resource.identifier, "service")
        if value:
            return _service(value)
    return None


def _until(consent: Any) -> datetime | None:
    period = consent.provision.period if consent.provision is not None else None
    end = period.end if period is not None else None
    if end is None:
        return None
    if isinstance(end, datetime):
        return end if end.tzinfo else end.replace(tzinfo=UTC)
    return datetime.combine(end, time(23, 59), tzinfo=UTC)  # a date: the end of that day


def _client_data(patient: Any, fallback: str) -> tuple[services.ClientData, list[str]]:
    shared = []
    alias = ""
    for name in patient.name or []:
        alias = name.text or " ".join(str(g) for g in (name.given or []))
        if alias.strip():
            shared.append(SharedField.ALIAS.value)
            break
    phone = email = ""
    for point in patient.telecom or []:
        if point.system in {"phone", "sms"} and point.value and not phone:
            phone = str(point.value)
        elif point.system == "email" and point.value and not email:
            email = str(point.value)
    if phone or email:
        shared.append(SharedField.CONTACT.value)
    language = "en"
    for item in patient.communication or []:
        codes = [c.code for c in (item.language.coding or []) if c.code]
        if codes:
            language = str(codes[0]).split("-")[0].lower()
            shared.append(SharedField.LANGUAGE.value)
            break
    year = None
    if patient.birthDate:
        year = int(str(patient.birthDate)[:4])
        shared.append(SharedField.BIRTH_YEAR.value)
    method = (
        ContactMethod.PHONE if phone else ContactMethod.EMAIL if email else ContactMethod.WORKER
    )
    data = services.ClientData(
        alias=alias.strip() or fallback,
        contact_method=method,
        phone=phone,
        email=email,
        contact_notes="" if phone or email else _("Through the referring organization."),
        language=language,
        birth_year=year,
    )
    return data, shared


def receive(*, actor: Any, payload: Any) -> tuple[Referral, bool]:
    """A partner system's referral: recorded as a client of the sending organization, with the
    consent the Bundle carries, and sent to the receiving organization. Refused (FhirError)
    without an active Consent naming the receiver, or for anything Harbour cannot map. The same
    ServiceRequest identifier again returns the referral already made (``created`` False)."""
    if not isinstance(payload, dict) or payload.get("resourceType") != "Bundle":
        raise FhirError(_("Send a FHIR Bundle (resourceType “Bundle”)."), "invalid")
    try:
        bundle = Bundle.model_validate(payload)
    except PydanticError as exc:
        raise FhirError(_errors(exc)) from exc
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise FhirError(_("This is not a valid FHIR R4 Bundle.")) from exc
    index = _Index(bundle)
    requests = index.of("ServiceRequest")
    if len(requests) != 1:
        raise FhirError(_("The Bundle must hold exactly one ServiceRequest."))
    request = requests[0]
    if request.status != "active":
        raise FhirError(_("Only an active ServiceRequest can be received as a referral."))
    identifier = next((i for i in request.identifier or [] if i.value), None)
    if identifier is None:
        raise FhirError(
            _(
                "ServiceRequest.identifier is needed, so that sending it again is not a second "
                "referral."
            )
        )
    external_id = f"{identifier.system or ''}|{identifier.value}"[:200]

    sender = _organization_of(request.requester, index) if request.requester else None
    mine = org_ids(actor, STAFF)
    if sender is None:
        if len(mine) != 1:
            raise FhirError(
                _("Name the referring organization in ServiceRequest.requester."), "invalid"
            )
        sender = Organization.objects.get(pk=mine[0])
    if sender.pk not in mine:
        raise FhirError(_("You cannot refer on behalf of that organization."), "forbidden")
    require_role(actor, sender.pk, STAFF)
    existing = Referral.objects.filter(sender=sender, external_id=external_id).first()
    if existing is not None:
        return existing, False

    receiver = None
    for performer in request.performer or []:
        receiver = _organization_of(performer, index)
        if receiver is not None:
            break
    if receiver is None:
        raise FhirError(
            _(
                "ServiceRequest.performer must name a Harbour organization or service (by its "
                "identifier under %(system)s)."
            )
            % {"system": system("")},
            "no_receiver",
        )
    service = _service_of(request, index)
    patient = index.resolve(request.subject)
    if _kind(patient) != "Patient":
        raise FhirError(_("ServiceRequest.subject must point to a Patient in the Bundle."))

    now = timezone.now()
    consent = None
    for candidate in index.of("Consent"):
        if candidate.status != "active" or candidate.provision is None:
            continue
        if candidate.patient is not None and index.resolve(candidate.patient) is not patient:
            continue
        actors = [_organization_of(a.reference, index) for a in candidate.provision.actor or []]
        until = _until(candidate)
        if any(o is not None and o.pk == receiver.pk for o in actors) and until and until > now:
            consent = candidate
            break
    if consent is None:
        raise FhirError(
            _(
                "No active Consent in the Bundle names %(org)s with an end date to come: a "
                "referral needs the person’s consent."
            )
            % {"org": receiver.name},
            "no_consent",
        )
    until = _until(consent)
    assert until is not None
    data, shared = _client_data(
        patient, fallback=_("Partner referral %(id)s") % {"id": str(identifier.value)[:20]}
    )
    notes = [str(n.text) for n in request.note or [] if n.text]
    notes += [str(r.text) for r in request.reasonCode or [] if r.text]
    if notes:
        shared.append(SharedField.NEEDS.value)
    if not shared:
        shared = [SharedField.LANGUAGE.value]
    priority = PRIORITY_IN.get(str(request.priority or "routine"), Priority.ROUTINE)
    try:
        with transaction.atomic():
            client = services.client_create(
                actor=actor, organization=sender, data=data, source="api"
            )
            services.consent_record(
                actor=actor,
                client=client,
                organizations=[receiver],
                fields=shared,
                purpose=Purpose.REFERRAL,
                method=ConsentMethod.PARTNER,
                valid_until=min(until, now + services.timedelta(days=730)),
            )
            referral = services.referral_create(
                actor=actor,
                client=client,
                receiver=receiver if service is None else None,
                service=service,
                needs="\n".join(notes),
                priority=priority,
                send=True,
                source=ReferralSource.FHIR,
                external_id=external_id,
            )
            audit.record(
                action=AuditAction.REFERRAL_RECEIVE,
                actor=actor,
                organization=sender,
                obj=referral,
                metadata={"receiver": str(receiver.pk), "fields": sorted(shared)},
            )
    except ValidationError as exc:
        code = getattr(exc, "code", None) or "invalid"
        raise FhirError(" ".join(exc.messages), code) from exc
    return referral, True
