"""Referrals in the JSON API: queues, create, transitions, messages, and FHIR R4 in and out.

Only the two organizations of a referral see it (another organization gets 404, whatever the
id). A client's details are in ``GET /referrals/{id}`` only as far as live consent allows.
Errors are ``{"detail", "code"}``: ``no_consent``, ``inactive_service``, ``illegal_transition``,
``conflict`` (someone changed it first: read it again), ``invalid``."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Body, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import Field

from harbour.accounts.api import actor_of
from harbour.accounts.models import Organization
from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.permissions import org_ids
from harbour.referrals import fhir, selectors, services
from harbour.referrals.lifecycle import Action, Side, actions_for
from harbour.referrals.lifecycle import Status as LifecycleStatus
from harbour.referrals.models import Client, Priority, Referral

router = Router(tags=["referrals"])


class ErrorOut(Schema):
    detail: Any
    code: str


class ReferralOut(Schema):
    id: UUID
    reference: str
    status: str
    version: int
    sender_id: UUID | None
    sender: str | None
    receiver_id: UUID
    receiver: str
    service_id: UUID | None
    service_name: str
    service_type: str
    priority: str
    created_at: datetime
    sent_at: datetime | None
    accepted_at: datetime | None
    closed_at: datetime | None
    parent_id: UUID | None


class ClientOut(Schema):
    reference: str
    hidden: bool
    why_hidden: str
    shared: list[str]
    alias: str | None
    contact_method: str | None
    phone: str | None
    email: str | None
    contact_notes: str | None
    language: str | None
    birth_year: str | None
    needs: str | None


class TransitionOut(Schema):
    action: str
    from_status: str
    to_status: str
    organization_id: UUID | None
    actor: str
    at: datetime
    reason_code: str
    note: str


class MessageOut(Schema):
    id: UUID
    organization_id: UUID
    author: str
    internal: bool
    body: str
    created_at: datetime


class ReferralDetail(ReferralOut):
    your_side: str
    actions: list[str]
    client: ClientOut
    transitions: list[TransitionOut]
    messages: list[MessageOut]


class ReferralIn(Schema):
    client_id: UUID
    receiver_id: UUID | None = None
    service_id: UUID | None = None
    needs: str = Field("", max_length=2000)
    priority: Priority = Priority.ROUTINE
    service_type: str = Field("", max_length=100)
    send: bool = False


class TransitionIn(Schema):
    action: Action
    reason_code: str = Field("", max_length=40)
    note: str = Field("", max_length=2000)
    version: int | None = Field(
        None, ge=0, description="The version you read: a stale one answers 409 `conflict`."
    )
    redirect_to: UUID | None = None


class MessageIn(Schema):
    body: str = Field(..., min_length=1, max_length=2000)
    internal: bool = False


class QueueFilter(Schema):
    box: Literal["inbound", "outbound"] = "inbound"
    group: Literal["open", "waiting", "drafts", "closed", "all"] = "open"
    organization_id: UUID | None = None


def _out(r: Referral) -> dict[str, Any]:
    return {
        "id": r.pk,
        "reference": r.reference,
        "status": r.status,
        "version": r.version,
        "sender_id": r.sender_id,
        "sender": str(r.sender.name) if r.sender else None,
        "receiver_id": r.receiver_id,
        "receiver": str(r.receiver.name),
        "service_id": r.service_id,
        "service_name": r.service_name,
        "service_type": r.service_type,
        "priority": r.priority,
        "created_at": r.created_at,
        "sent_at": r.sent_at,
        "accepted_at": r.accepted_at,
        "closed_at": r.closed_at,
        "parent_id": r.parent_id,
    }


def _error(status: int, detail: str, code: str) -> Status:
    return Status(status, {"detail": detail, "code": code})


def _validation(exc: ValidationError) -> Status:
    code = getattr(exc, "code", None) or "invalid"
    detail: Any = exc.message_dict if hasattr(exc, "error_dict") else " ".join(exc.messages)
    return _error(409 if code == "illegal_transition" else 400, detail, code)


def _acting_org(actor: Any, referral: Referral) -> Organization:
    side = selectors.side_of(actor, referral)
    if side is None:
        raise Http404
    org = referral.receiver if side == Side.RECEIVER else referral.sender
    assert org is not None
    return org


def _org_for_queue(actor: Any, organization_id: UUID | None) -> Organization:
    mine = org_ids(actor, selectors.STAFF)
    if organization_id is None:
        if len(mine) != 1:
            raise Http404
        organization_id = mine[0]
    if organization_id not in mine:
        raise Http404
    return Organization.objects.get(pk=organization_id)


@router.get("/referrals", response=list[ReferralOut], summary="An organization's referral queue")
@paginate(LimitOffsetPagination)
def referral_list(request: HttpRequest, filters: Query[QueueFilter]) -> Any:
    """Inbound (sent to the organization) or outbound (sent by it), as shells: no client
    details. `organization_id` is needed only by members of several organizations."""
    actor = actor_of(request)
    org = _org_for_queue(actor, filters.organization_id)
    return [
        _out(r)
        for r in selectors.queue(actor, organization=org, box=filters.box, group=filters.group)
    ]


@router.post(
    "/referrals",
    response={201: ReferralOut, 400: ErrorOut, 404: ErrorOut},
    summary="Create a referral (a draft, or sent at once)",
)
def referral_create(request: HttpRequest, body: ReferralIn) -> Any:
    """For one of your organization's clients, to an organization or a directory service.
    With `send`, refused (`no_consent`) unless the client's live consent covers the receiver."""
    actor = actor_of(request)
    client = (
        Client.objects.filter(pk=body.client_id, organization__in=org_ids(actor, selectors.STAFF))
        .select_related("organization")
        .first()
    )
    if client is None:
        raise Http404
    receiver = service = None
    if body.service_id is not None:
        from harbour.directory.models import Service, ServiceStatus

        service = (
            Service.objects.exclude(status=ServiceStatus.DEFUNCT)
            .select_related("organization")
            .filter(pk=body.service_id)
            .first()
        )
        if service is None:
            return _error(400, "No such service in the directory.", "invalid")
    if body.receiver_id is not None:
        receiver = Organization.objects.filter(pk=body.receiver_id).first()
        if receiver is None:
            return _error(400, "No such organization.", "invalid")
    try:
        referral = services.referral_create(
            actor=actor,
            client=client,
            receiver=receiver,
            service=service,
            needs=body.needs,
            priority=body.priority,
            service_type=body.service_type,
            send=body.send,
            source="api",
        )
    except ValidationError as exc:
        return _validation(exc)
    return Status(201, _out(referral))


@router.post(
    "/referrals/fhir",
    response={200: ReferralOut, 201: ReferralOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Receive a referral from a partner system as a FHIR R4 Bundle",
)
def referral_fhir_receive(request: HttpRequest, bundle: Body[dict[str, Any]]) -> Any:
    """A Bundle with one active ServiceRequest (with an identifier; `performer` naming a Harbour
    organization or service by identifier), its Patient, and an active Consent whose
    provision names the receiving organization, with an end date. 201 when made; 200 when the
    same ServiceRequest identifier was already received."""
    actor = actor_of(request)
    try:
        referral, created = fhir.receive(actor=actor, payload=bundle)
    except fhir.FhirError as exc:
        status = 403 if exc.code == "forbidden" else 400
        return _error(status, exc.detail, exc.code)
    return Status(201 if created else 200, _out(referral))


def _detail(actor: Any, referral: Referral) -> dict[str, Any]:
    org = _acting_org(actor, referral)
    side = selectors.side_of(actor, referral, org)
    assert side is not None
    view = selectors.client_view(actor, referral=referral, organization=org, purpose="api")
    return {
        **_out(referral),
        "your_side": side.value,
        "actions": [
            a.value
            for a in actions_for(
                LifecycleStatus(referral.status),
                side,
                held_from=LifecycleStatus(referral.held_from) if referral.held_from else None,
            )
        ],
        "client": {
            "reference": view.reference,
            "hidden": view.hidden,
            "why_hidden": view.why_hidden,
            "shared": sorted(view.fields),
            "alias": view.alias,
            "contact_method": view.contact_method,
            "phone": view.phone,
            "email": view.email,
            "contact_notes": view.contact_notes,
            "language": view.language,
            "birth_year": view.birth_year,
            "needs": view.needs,
        },
        "transitions": [
            {
                "action": t.action,
                "from_status": t.from_status,
                "to_status": t.to_status,
                "organization_id": t.organization_id,
                "actor": t.organization.name if t.organization else t.actor_label,
                "at": t.at,
                "reason_code": t.reason_code,
                "note": t.note,
            }
            for t in selectors.timeline(referral)
        ],
        "messages": [
            {
                "id": m.pk,
                "organization_id": m.organization_id,
                "author": str(m.organization.name),
                "internal": m.internal,
                "body": m.body,
                "created_at": m.created_at,
            }
            for m in selectors.messages_for(actor, referral=referral, organization=org)
        ],
    }


@router.get(
    "/referrals/{referral_id}",
    response={200: ReferralDetail, 404: ErrorOut},
    summary="One referral, with the client as far as consent allows",
)
def referral_detail(request: HttpRequest, referral_id: UUID) -> Any:
    actor = actor_of(request)
    referral = selectors.referral_for(actor, referral_id=referral_id)
    return _detail(actor, referral)


@router.post(
    "/referrals/{referral_id}/transitions",
    response={200: ReferralOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Move a referral through its lifecycle",
)
def referral_transition(request: HttpRequest, referral_id: UUID, body: TransitionIn) -> Any:
    """`send`, `receive`, `accept`, `decline` (reason `not_eligible`, `no_capacity`, `other`),
    `redirect` (with `redirect_to`), `start`, `complete`, `unsuccessful` (`no_show`,
    `could_not_contact`, `other`), `cancel`, `hold` (`waitlist`, ...), `resume`, `withdraw`,
    `entered_in_error`. 409 `illegal_transition` when not allowed from the current status;
    409 `conflict` when `version` is stale."""
    actor = actor_of(request)
    referral = selectors.referral_for(actor, referral_id=referral_id)
    redirect_to = None
    if body.redirect_to is not None:
        redirect_to = Organization.objects.filter(pk=body.redirect_to, is_active=True).first()
        if redirect_to is None:
            return _error(400, "No such active organization to redirect to.", "invalid")
    try:
        updated = services.referral_transition(
            actor=actor,
            referral=referral,
            action=body.action,
            reason_code=body.reason_code,
            note=body.note,
            expected_version=body.version,
            redirect_to=redirect_to,
        )
    except services.Conflict as exc:
        return _error(409, exc.message, "conflict")
    except ValidationError as exc:
        return _validation(exc)
    return _out(updated)


@router.post(
    "/referrals/{referral_id}/messages",
    response={201: MessageOut, 400: ErrorOut, 404: ErrorOut},
    summary="Write to the other organization, or an internal note",
)
def referral_message(request: HttpRequest, referral_id: UUID, body: MessageIn) -> Any:
    actor = actor_of(request)
    referral = selectors.referral_for(actor, referral_id=referral_id)
    try:
        message = services.message_post(
            actor=actor, referral=referral, body=body.body, internal=body.internal
        )
    except ValidationError as exc:
        return _validation(exc)
    return Status(
        201,
        {
            "id": message.pk,
            "organization_id": message.organization_id,
            "author": str(message.organization.name),
            "internal": message.internal,
            "body": message.body,
            "created_at": message.created_at,
        },
    )


@router.get(
    "/referrals/{referral_id}/fhir",
    response={200: dict[str, Any], 404: ErrorOut},
    summary="The referral as a FHIR R4 ServiceRequest (Bundle)",
)
def referral_fhir(request: HttpRequest, referral_id: UUID) -> Any:
    """A Bundle with the ServiceRequest, the Patient reduced to what consent allows the caller's
    organization to see, and the organizations. Content type `application/fhir+json`."""
    actor = actor_of(request)
    referral = selectors.referral_for(actor, referral_id=referral_id)
    org = _acting_org(actor, referral)
    view = selectors.client_view(actor, referral=referral, organization=org, purpose="fhir")
    bundle = fhir.export(referral, view)
    audit.record(
        action=AuditAction.REFERRAL_EXPORT,
        actor=actor,
        organization=org,
        obj=referral,
        metadata={"fields": sorted(view.fields)},
    )
    import json

    return HttpResponse(json.dumps(bundle), content_type="application/fhir+json")
