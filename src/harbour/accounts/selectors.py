"""Reads for accounts and organizations, scoped to what the actor may see."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, QuerySet

from harbour.accounts.models import ApiKey, Invitation, Membership, Organization
from harbour.core.models import AuditEvent
from harbour.core.permissions import get_scoped_or_404, scope
from harbour.core.roles import Role


def organizations_for(actor: Any) -> QuerySet[Organization]:
    return scope(Organization.objects.filter(is_active=True), actor, field="self").annotate(
        member_count=Count("memberships")
    )


def organization_for(actor: Any, *, slug: str, minimum: str = Role.VIEWER) -> Organization:
    """The organization if the actor belongs to it with at least ``minimum``; else 404/403."""
    from harbour.core.permissions import require_role

    org = get_scoped_or_404(
        Organization.objects.filter(is_active=True), actor, field="self", slug=slug
    )
    require_role(actor, org.id, minimum)
    return org


def organization_by_id_for(actor: Any, *, org_id: Any) -> Organization:
    return get_scoped_or_404(
        Organization.objects.filter(is_active=True), actor, field="self", pk=org_id
    )


def members_of(actor: Any, *, organization: Organization) -> QuerySet[Membership]:
    return scope(
        Membership.objects.filter(organization=organization).select_related("user"), actor
    ).order_by("user__email")


def membership_for(actor: Any, *, organization: Organization, membership_id: Any) -> Membership:
    return get_scoped_or_404(
        Membership.objects.filter(organization=organization).select_related("user", "organization"),
        actor,
        minimum=Role.ORG_ADMIN,
        pk=membership_id,
    )


def invitations_of(actor: Any, *, organization: Organization) -> QuerySet[Invitation]:
    return scope(
        Invitation.objects.pending().filter(organization=organization),
        actor,
        minimum=Role.ORG_ADMIN,
    )


def invitation_for(actor: Any, *, organization: Organization, invitation_id: Any) -> Invitation:
    return get_scoped_or_404(
        Invitation.objects.filter(organization=organization).select_related("organization"),
        actor,
        minimum=Role.ORG_ADMIN,
        pk=invitation_id,
    )


def api_keys_of(actor: Any, *, organization: Organization) -> QuerySet[ApiKey]:
    return scope(
        ApiKey.objects.filter(organization=organization, revoked_at__isnull=True),
        actor,
        minimum=Role.ORG_ADMIN,
    )


def api_key_for(actor: Any, *, organization: Organization, key_id: Any) -> ApiKey:
    return get_scoped_or_404(
        ApiKey.objects.filter(organization=organization).select_related("organization"),
        actor,
        minimum=Role.ORG_ADMIN,
        pk=key_id,
    )


def audit_events_of(
    actor: Any,
    *,
    organization: Organization,
    action: str = "",
    by: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEvent]:
    """The organization's trail, newest first, for its org admins. ``by`` is a user id or an
    actor label (``system``, ``api-key:…``); dates are local days, both included."""
    events = scope(
        AuditEvent.objects.filter(organization=organization).select_related("actor"),
        actor,
        minimum=Role.ORG_ADMIN,
    )
    if action:
        events = events.filter(action=action)
    if by.startswith("user:") and by[5:].isdigit():
        events = events.filter(actor_id=int(by[5:]))
    elif by.startswith("label:"):
        events = events.filter(actor__isnull=True, actor_label=by[6:])
    if date_from:
        events = events.filter(created_at__date__gte=date_from)
    if date_to:
        events = events.filter(created_at__date__lte=date_to)
    return events.order_by("-created_at")


def audit_actors_of(actor: Any, *, organization: Organization) -> list[tuple[str, str]]:
    """Who appears in the organization's trail, for the filter: people by their name or
    address, then labels such as ``system`` or an API key."""
    events = scope(
        AuditEvent.objects.filter(organization=organization), actor, minimum=Role.ORG_ADMIN
    )
    users = [
        (f"user:{pk}", display or email)
        for pk, display, email in events.filter(actor__isnull=False)
        .values_list("actor_id", "actor__display_name", "actor__email")
        .distinct()
    ]
    labels = [
        (f"label:{label}", label)
        for label in events.filter(actor__isnull=True)
        .values_list("actor_label", flat=True)
        .distinct()
    ]
    return sorted(set(users), key=lambda c: c[1].lower()) + sorted(set(labels))


def member_emails(organization_id: Any, *, minimum: str = Role.COORDINATOR) -> list[str]:
    """Email addresses of the organization's active members with at least ``minimum``
    (whom the system tells about work waiting for the organization)."""
    from harbour.core.roles import ROLE_RANK

    roles = [role for role, rank in ROLE_RANK.items() if rank >= ROLE_RANK[minimum]]
    return sorted(
        Membership.objects.filter(
            organization_id=organization_id, role__in=roles, user__is_active=True
        ).values_list("user__email", flat=True)
    )
