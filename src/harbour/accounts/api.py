from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from harbour.accounts import selectors
from harbour.core.models import AuditAction
from harbour.core.permissions import org_roles, require_role
from harbour.core.roles import Role

router = Router(tags=["organizations"])


def actor_of(request: HttpRequest) -> Any:
    return getattr(request, "api_key", None) or request.auth  # type: ignore[attr-defined]


class MembershipOut(Schema):
    organization_id: UUID
    role: str


class MeOut(Schema):
    kind: str
    label: str
    memberships: list[MembershipOut]


class OrganizationOut(Schema):
    id: UUID
    slug: str
    name: str
    name_en: str
    name_fr: str
    type: str
    city: str
    province: str
    your_role: str | None = None


class AuditEventOut(Schema):
    id: UUID
    created_at: datetime
    action: str
    actor_label: str
    object_type: str
    object_id: str
    metadata: dict[str, Any]


class AuditFilter(Schema):
    action: AuditAction | None = None


@router.get("/me", response=MeOut, summary="Who is calling")
def me(request: HttpRequest) -> dict[str, Any]:
    actor = actor_of(request)
    return {
        "kind": "user" if getattr(actor, "is_user", False) else "api_key",
        "label": actor.audit_label(),
        "memberships": [
            {"organization_id": org_id, "role": role} for org_id, role in org_roles(actor).items()
        ],
    }


def _org_out(org: Any, roles: dict[UUID, str]) -> dict[str, Any]:
    return {
        "id": org.id,
        "slug": org.slug,
        "name": str(org.name),
        "name_en": org.name_en or "",
        "name_fr": org.name_fr or "",
        "type": org.type,
        "city": org.city,
        "province": org.province,
        "your_role": roles.get(org.id),
    }


@router.get("/organizations", response=list[OrganizationOut], summary="My organizations")
@paginate(LimitOffsetPagination)
def organizations(request: HttpRequest) -> list[dict[str, Any]]:
    actor = actor_of(request)
    roles = org_roles(actor)
    return [_org_out(org, roles) for org in selectors.organizations_for(actor)]


@router.get("/organizations/{org_id}", response=OrganizationOut, summary="One organization")
def organization(request: HttpRequest, org_id: UUID) -> dict[str, Any]:
    actor = actor_of(request)
    org = selectors.organization_by_id_for(actor, org_id=org_id)
    return _org_out(org, org_roles(actor))


@router.get(
    "/organizations/{org_id}/audit-events",
    response=list[AuditEventOut],
    summary="The organization's audit trail (org admins)",
)
@paginate(LimitOffsetPagination)
def audit_events(request: HttpRequest, org_id: UUID, filters: Query[AuditFilter]) -> Any:
    actor = actor_of(request)
    org = selectors.organization_by_id_for(actor, org_id=org_id)
    require_role(actor, org.id, Role.ORG_ADMIN)
    return selectors.audit_events_of(
        actor, organization=org, action=filters.action.value if filters.action else ""
    )
