"""Outreach in the JSON API: devices coming back online send what they logged offline.

One request carries a batch of encounters and overdose responses. Every record has the UUID its
device gave it, so sending a batch again (a retry, a double tap, a lost answer) stores nothing
twice. Records are checked one by one: the answer says, for each, ``stored``, ``duplicate``
(already received) or ``rejected`` with the reason in the caller's language; rejected records
are not stored and the device keeps them to be fixed."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Router
from pydantic import BaseModel, ConfigDict, Field

from harbour.accounts.models import Organization
from harbour.core.permissions import get_scoped_or_404
from harbour.core.roles import Role
from harbour.outreach import services

router = Router(tags=["outreach"])

MAX_BATCH = 200


class Schema(BaseModel):
    """Plain pydantic models: ninja's Schema also resolves Django objects for every field of
    every record, which cost more than checking a batch of 50 encounters."""

    model_config = ConfigDict(extra="ignore")


class EncounterRecord(Schema):
    id: UUID = Field(description="Made by the device (a UUID v4); the same id is stored once.")
    occurred_at: str | None = Field(None, description="ISO 8601; empty: when it is received.")
    team: str | None = Field(None, description="Team or site id (optional with one team).")
    spot: str | None = Field(None, description="A named spot's id; gives the postal area.")
    fsa: str | None = Field(None, max_length=10, description="Postal area, e.g. K7L.")
    lat: float | None = Field(None, description="Device position; rounded to about 100 m.")
    lng: float | None = None
    people_new: int | None = 0
    people_returning: int | None = 0
    supplies: dict[str, int | None] = Field(
        default_factory=dict, description='Supply type code -> count, e.g. {"syringes": 10}.'
    )
    naloxone_recipient: str | None = Field(None, description="pwud, family-friend, staff, other")
    naloxone_trained: bool | None = None
    services: list[str] = Field(default_factory=list, max_length=20)
    referrals: list[str] = Field(default_factory=list, max_length=20)
    notes: str | None = Field(None, max_length=2000)
    client_code: str | None = Field(None, max_length=40)
    consent: bool = False


class ResponseRecord(Schema):
    id: UUID
    occurred_at: str | None = None
    team: str | None = None
    spot: str | None = None
    fsa: str | None = Field(None, max_length=10)
    lat: float | None = None
    lng: float | None = None
    naloxone_doses: int | None = 0
    route: str | None = Field(None, description="nasal, injection, both, none")
    kits_nasal: int | None = 0
    kits_injectable: int | None = 0
    breathing: str | None = Field(None, description="normal, slow, none, unknown")
    oxygen: bool = False
    outcome: str | None = Field(None, description="recovered, ems, transported, deceased, unknown")
    substances: list[str] = Field(default_factory=list, max_length=20)
    notes: str | None = Field(None, max_length=2000)


class SyncIn(Schema):
    encounters: list[EncounterRecord] = Field(default_factory=list, max_length=MAX_BATCH)
    responses: list[ResponseRecord] = Field(default_factory=list, max_length=MAX_BATCH)


class RecordResult(Schema):
    id: str
    kind: str
    status: str = Field(description="stored, duplicate or rejected")
    detail: str
    errors: dict[str, list[str]]


class SyncOut(Schema):
    stored: int
    duplicates: int
    rejected: int
    results: list[RecordResult]


@router.post(
    "/outreach/organizations/{org_id}/sync",
    response={200: SyncOut},
    url_name="outreach_sync",
    summary="Send encounters and overdose responses logged on a device (idempotent)",
)
def sync(request: HttpRequest, org_id: UUID, body: SyncIn) -> Any:
    """For staff of the organization with the peer worker role or above (a signed-in session
    with CSRF, or an API key). Another organization's staff get 404."""
    actor = request.auth  # type: ignore[attr-defined]
    organization = get_scoped_or_404(
        Organization.objects.filter(is_active=True),
        actor,
        field="self",
        minimum=Role.PEER_WORKER,
        pk=org_id,
    )
    results: list[services.Result] = []
    if body.encounters:
        results += services.encounters_record(
            actor=actor,
            organization=organization,
            records=[r.model_dump() for r in body.encounters],
        )
    if body.responses:
        results += services.responses_record(
            actor=actor,
            organization=organization,
            records=[r.model_dump() for r in body.responses],
        )
    return {
        "stored": sum(1 for r in results if r.status == "stored"),
        "duplicates": sum(1 for r in results if r.status == "duplicate"),
        "rejected": sum(1 for r in results if r.status == "rejected"),
        "results": [
            {"id": r.id, "kind": r.kind, "status": r.status, "detail": r.detail, "errors": r.errors}
            for r in results
        ],
    }
