"""The permission layer every selector uses: default deny, scoped to the actor's organizations.

An *actor* is a signed-in user or an organization's API key. Both expose ``org_roles()``:
a mapping of organization id to role. Anything else (anonymous, inactive) has no roles and
sees nothing. A member of another organization gets 404, never the data.
"""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404

from harbour.core.roles import Role, role_at_least

M = TypeVar("M", bound=Model)


def org_roles(actor: Any) -> dict[UUID, str]:
    """Organization id -> role for an active actor; empty (deny) for anything else."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return {}
    if not getattr(actor, "is_active", True):
        return {}
    roles = getattr(actor, "org_roles", None)
    return dict(roles()) if callable(roles) else {}


def org_ids(actor: Any, minimum: str = Role.VIEWER) -> list[UUID]:
    return [org_id for org_id, role in org_roles(actor).items() if role_at_least(role, minimum)]


def role_in(actor: Any, organization_id: UUID) -> str | None:
    return org_roles(actor).get(organization_id)


def scope(
    queryset: QuerySet[M],
    actor: Any,
    *,
    field: str = "organization",
    minimum: str = Role.VIEWER,
) -> QuerySet[M]:
    """Only the rows of organizations where ``actor`` holds at least ``minimum``."""
    ids = org_ids(actor, minimum)
    if not ids:
        return queryset.none()
    lookup = "pk__in" if field in {"", "self"} else f"{field}__in"
    return queryset.filter(**{lookup: ids})


def require_role(actor: Any, organization_id: UUID, minimum: str) -> str:
    """The actor's role in the organization, or 404 (not a member) / 403 (role too low)."""
    role = role_in(actor, organization_id)
    if role is None:
        raise Http404
    if not role_at_least(role, minimum):
        raise PermissionDenied
    return role


def get_scoped_or_404(
    queryset: QuerySet[M],
    actor: Any,
    *,
    field: str = "organization",
    minimum: str = Role.VIEWER,
    **lookup: Any,
) -> M:
    """One row the actor may see, else 404 (whether it exists elsewhere or not)."""
    try:
        return scope(queryset, actor, field=field, minimum=minimum).get(**lookup)
    except (ObjectDoesNotExist, ValueError, ValidationError) as exc:
        raise Http404 from exc
