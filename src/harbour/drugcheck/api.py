"""Drug checking in the JSON API: a lab pushes its confirmation of a sample."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from harbour.core.permissions import get_scoped_or_404
from harbour.core.roles import Role
from harbour.drugcheck import services
from harbour.drugcheck.models import Match, Method, Sample
from harbour.drugcheck.models import Role as ComponentRole

router = Router(tags=["drug checking"])


class ComponentInSchema(Schema):
    name: str = Field("", max_length=200, description="As the lab names it; empty for no match.")
    role: ComponentRole = ComponentRole.PRIMARY
    percent: Decimal | None = Field(None, ge=0, le=100)
    match: Match = Match.MATCH


class LabConfirmation(Schema):
    method: Method = Field(Method.GCMS, description="gcms or lcms")
    completed_on: date
    components: list[ComponentInSchema] = Field(default_factory=list, max_length=100)


class ComponentOut(Schema):
    name: str
    substance: str | None
    substance_class: str | None
    role: str
    percent: Decimal | None
    match: str


class LabResult(Schema):
    code: str
    method: str
    completed_on: date | None
    components: list[ComponentOut]


@router.post(
    "/drugcheck/samples/{code}/lab",
    response={201: LabResult},
    summary="Record a lab confirmation (GC-MS or LC-MS) of a sample",
)
def lab_confirm(request: HttpRequest, code: str, body: LabConfirmation) -> Any:
    """For the sample's own organization (an API key or staff with the outreach worker role or
    above). Replaces an earlier result of the same method."""
    actor = request.auth  # type: ignore[attr-defined]
    sample = get_scoped_or_404(
        Sample.objects.all(),
        actor,
        minimum=Role.OUTREACH_WORKER,
        code=services.normalize_code(code),
    )
    for item in body.components:
        if item.match == Match.MATCH and not item.name.strip():
            raise HttpError(422, "An identified component needs its name.")
    try:
        test = services.lab_confirm(
            actor=actor,
            sample=sample,
            method=body.method,
            completed_on=body.completed_on,
            components=[
                services.ComponentIn(
                    name=item.name.strip(),
                    role=item.role,
                    percent=item.percent,
                    match=item.match,
                    method=body.method,
                )
                for item in body.components
            ],
        )
    except ValidationError as exc:
        raise HttpError(400, " ".join(exc.messages)) from exc
    return Status(
        201,
        {
            "code": sample.display_code,
            "method": test.method,
            "completed_on": test.completed_on,
            "components": [
                {
                    "name": c.reported_name,
                    "substance": str(c.substance) if c.substance else None,
                    "substance_class": c.substance.substance_class if c.substance else None,
                    "role": c.role,
                    "percent": c.percent,
                    "match": c.match,
                }
                for c in test.components.select_related("substance")
            ],
        },
    )
