"""Clearly fictional demo data for `harbour demo`. Idempotent: running it again changes nothing.

Later capabilities add their own demo records here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from harbour.accounts import services
from harbour.accounts.models import Membership, Organization, OrganizationType, User
from harbour.core.roles import Role

DEMO_PASSWORD = "harbour-demo-2026"  # noqa: S105 -- printed for the demo, demo accounts only


@dataclass(frozen=True)
class DemoOrg:
    slug: str
    name_en: str
    name_fr: str
    type: str
    city: str
    province: str
    roles: tuple[str, ...]


ORGS = (
    DemoOrg(
        "demo-lighthouse",
        "Lighthouse Harm Reduction (demo)",
        "Réduction des méfaits Le Phare (démo)",
        OrganizationType.HARM_REDUCTION_SITE,
        "Kingston",
        "ON",
        tuple(Role.values),
    ),
    DemoOrg(
        "demo-riverside",
        "Riverside Community Health (demo)",
        "Santé communautaire Riverside (démo)",
        OrganizationType.COMMUNITY_ORGANIZATION,
        "Montréal",
        "QC",
        (Role.OUTREACH_WORKER, Role.COORDINATOR, Role.ORG_ADMIN),
    ),
    DemoOrg(
        "demo-northhills",
        "North Hills Rural Peer Network (demo)",
        "Réseau de pairs rural North Hills (démo)",
        OrganizationType.PEER_GROUP,
        "Haliburton County",
        "ON",
        (Role.PEER_WORKER, Role.COORDINATOR, Role.ORG_ADMIN),
    ),
    DemoOrg(
        "demo-bayview",
        "Bayview Recovery Centre (demo)",
        "Centre de rétablissement Bayview (démo)",
        OrganizationType.COMMUNITY_ORGANIZATION,
        "Kingston",
        "ON",
        (Role.PEER_WORKER, Role.COORDINATOR, Role.ORG_ADMIN),
    ),
)

ROLE_LOCAL: dict[str, str] = {
    Role.VIEWER: "viewer",
    Role.PEER_WORKER: "peer",
    Role.OUTREACH_WORKER: "outreach",
    Role.COORDINATOR: "coordinator",
    Role.ORG_ADMIN: "admin",
}


def demo_email(org: DemoOrg, role: str) -> str:
    return f"{ROLE_LOCAL[role]}@{org.slug.removeprefix('demo-')}.demo.harbour.test"


@transaction.atomic
def load() -> list[tuple[str, str, str]]:
    """Create the demo organizations and users; returns (email, role, organization) rows."""
    logins = []
    for spec in ORGS:
        org = Organization.objects.filter(slug=spec.slug).first()
        if org is None:
            org = services.organization_create(
                name_en=spec.name_en,
                name_fr=spec.name_fr,
                type=spec.type,
                slug=spec.slug,
                city=spec.city,
                province=spec.province,
            )
        for role in spec.roles:
            email = demo_email(spec, role)
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(
                    email=email,
                    password=DEMO_PASSWORD,
                    display_name=f"{ROLE_LOCAL[role].title()} ({spec.city})",
                    is_demo=True,
                )
            if not Membership.objects.filter(user=user, organization=org, role=role).exists():
                services.membership_set(organization=org, user=user, role=role)
            logins.append((email, role, spec.name_en))
    return logins
