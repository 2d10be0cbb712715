"""Reads for referrals, already scoped to the actor's organizations (default deny).

A referral is visible to the staff of its two organizations; a client to the staff of the
organization that recorded them. The receiving organization sees a client's details only
through :func:`client_view`, which checks live consent on every read (revoking hides the
details at once, the referral stays as a shell) and audits each view by another organization.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.permissions import get_scoped_or_404, org_ids, scope
from harbour.core.roles import Role
from harbour.referrals.lifecycle import CLOSED, OPEN, Side
from harbour.referrals.models import (
    Client,
    Consent,
    Message,
    Referral,
    ReferralStatus,
    SharedField,
    Transition,
)

STAFF = Role.PEER_WORKER  # the least role that works with clients and referrals

STATUS_GROUPS: dict[str, tuple[str, ...]] = {
    "open": tuple(s.value for s in OPEN),
    "waiting": (ReferralStatus.SENT,),
    "drafts": (ReferralStatus.DRAFT,),
    "closed": tuple(s.value for s in CLOSED),
    "all": (),
}


# --- clients ------------------------------------------------------------------------------


def clients_of(actor: Any, *, organization: Any) -> QuerySet[Client]:
    return (
        scope(Client.objects.all(), actor, minimum=STAFF)
        .filter(organization=organization)
        .annotate(
            open_referrals=Count("referrals", filter=Q(referrals__status__in=STATUS_GROUPS["open"]))
        )
        .order_by("-created_at")
    )


def client_for(actor: Any, *, organization: Any, client_id: Any) -> Client:
    """One of the organization's own clients, else 404."""
    return get_scoped_or_404(
        Client.objects.filter(organization=organization).select_related("organization"),
        actor,
        minimum=STAFF,
        pk=client_id,
    )


def consents_of(client: Client) -> QuerySet[Consent]:
    return client.consents.prefetch_related("organizations").select_related(
        "recorded_by", "revoked_by"
    )


def live_consents(client_id: Any, organization_id: Any, now: datetime | None = None) -> Any:
    """Consents of the client that cover the organization now: not revoked, not expired."""
    return Consent.objects.filter(
        client_id=client_id,
        organizations=organization_id,
        revoked_at__isnull=True,
        valid_until__gt=now or timezone.now(),
    )


# --- referrals ----------------------------------------------------------------------------


def _visible(actor: Any, minimum: str = STAFF) -> QuerySet[Referral]:
    ids = org_ids(actor, minimum)
    if not ids:
        return Referral.objects.none()
    return Referral.objects.filter(Q(sender__in=ids) | Q(receiver__in=ids))


def referrals_for(actor: Any) -> QuerySet[Referral]:
    """Every referral the actor's organizations sent or received."""
    return _visible(actor).select_related("sender", "receiver", "service")


def queue(
    actor: Any, *, organization: Any, box: str = "inbound", group: str = "open"
) -> QuerySet[Referral]:
    """The organization's inbound or outbound queue, newest first, as shells (no client
    details: those are read one referral at a time, through consent)."""
    if organization.pk not in org_ids(actor, STAFF):
        return Referral.objects.none()
    rows = Referral.objects.filter(**{"receiver" if box == "inbound" else "sender": organization})
    if box == "inbound":
        rows = rows.exclude(status=ReferralStatus.DRAFT)
    statuses = STATUS_GROUPS.get(group, STATUS_GROUPS["open"])
    if statuses:
        rows = rows.filter(status__in=statuses)
    return rows.select_related("sender", "receiver").order_by("-created_at")


def referral_for(actor: Any, *, referral_id: Any, organization: Any = None) -> Referral:
    """A referral of one of the actor's organizations (of ``organization`` when given), else
    404, whether it exists elsewhere or not."""
    rows = _visible(actor)
    if organization is not None:
        rows = rows.filter(Q(sender=organization) | Q(receiver=organization))
        if organization.pk not in org_ids(actor, STAFF):
            raise Http404
    try:
        found = (
            rows.select_related("sender", "receiver", "service", "client", "parent")
            .filter(pk=referral_id)
            .first()
        )
    except (ValueError, TypeError) as exc:
        raise Http404 from exc
    if found is None:
        raise Http404
    if organization is not None and found.status == ReferralStatus.DRAFT:
        if found.sender_id != organization.pk:
            raise Http404  # a draft is the sender's alone
    elif found.status == ReferralStatus.DRAFT and found.sender_id not in org_ids(actor, STAFF):
        raise Http404
    return found


def side_of(actor: Any, referral: Referral, organization: Any = None) -> Side | None:
    """Which side the actor acts for (``organization`` decides when they belong to both)."""
    ids = set(org_ids(actor, STAFF))
    if organization is not None:
        ids &= {organization.pk}
    if referral.receiver_id in ids:
        return Side.RECEIVER
    if referral.sender_id is not None and referral.sender_id in ids:
        return Side.SENDER
    return None


def timeline(referral: Referral) -> QuerySet[Transition]:
    return referral.transitions.select_related("organization", "actor").order_by("at", "id")


def messages_for(actor: Any, *, referral: Referral, organization: Any) -> QuerySet[Message]:
    """Messages between the two organizations, and the internal notes of ``organization``."""
    if organization.pk not in org_ids(actor, STAFF):
        return Message.objects.none()
    return (
        Message.objects.filter(referral=referral)
        .filter(Q(internal=False) | Q(internal=True, organization=organization))
        .select_related("organization", "author")
        .order_by("created_at")
    )


def children_of(referral: Referral) -> QuerySet[Referral]:
    return referral.children.select_related("receiver").order_by("created_at")


# --- what a client looks like to an organization --------------------------------------------


@dataclass
class ClientView:
    """A client as one organization may see them. ``hidden`` is set when consent no longer
    covers the viewer (revoked, expired) or never did: then every detail is None."""

    reference: str
    own: bool
    hidden: bool
    why_hidden: str = ""  # revoked, expired, none
    fields: set[str] = field(default_factory=set)
    consent_until: datetime | None = None
    alias: str | None = None
    contact_method: str | None = None
    contact_method_label: str | None = None
    phone: str | None = None
    email: str | None = None
    contact_notes: str | None = None
    language: str | None = None
    birth_year: str | None = None
    needs: str | None = None

    def shows(self, name: str) -> bool:
        return not self.hidden and name in self.fields


ALL_FIELDS = {f.value for f in SharedField}


def _details(view: ClientView, client: Client, referral: Referral | None) -> ClientView:
    if SharedField.ALIAS in view.fields:
        view.alias = client.alias
    if SharedField.CONTACT in view.fields:
        view.contact_method = client.contact_method
        view.contact_method_label = str(client.get_contact_method_display())
        view.phone = client.phone or ""
        view.email = client.email or ""
        view.contact_notes = client.contact_notes or ""
    if SharedField.LANGUAGE in view.fields:
        view.language = client.language
    if SharedField.BIRTH_YEAR in view.fields:
        view.birth_year = client.birth_year or ""
    if SharedField.NEEDS in view.fields and referral is not None:
        view.needs = referral.needs or ""
    return view


def client_view(
    actor: Any,
    *,
    referral: Referral,
    organization: Any,
    now: datetime | None = None,
    purpose: str = "view",
) -> ClientView:
    """The one way any organization reads a referral's client. The client's own organization
    sees everything; the receiving organization sees what live consents covering it allow, and
    each such read is audited (on the client's organization's trail, naming the viewer)."""
    if organization.pk not in org_ids(actor, STAFF) or organization.pk not in {
        referral.sender_id,
        referral.receiver_id,
    }:
        raise Http404
    client = referral.client
    if client.organization_id == organization.pk:
        return _details(
            ClientView(reference=client.reference, own=True, hidden=False, fields=ALL_FIELDS),
            client,
            referral,
        )
    now = now or timezone.now()
    consents = list(live_consents(client.pk, organization.pk, now))
    if not consents:
        ever = Consent.objects.filter(client=client, organizations=organization.pk)
        why = "none"
        if ever.filter(revoked_at__isnull=False).exists():
            why = "revoked"
        elif ever.exists():
            why = "expired"
        return ClientView(reference=client.reference, own=False, hidden=True, why_hidden=why)
    fields: set[str] = set()
    for consent in consents:
        fields.update(str(f) for f in consent.fields)
    view = _details(
        ClientView(
            reference=client.reference,
            own=False,
            hidden=False,
            fields=fields & ALL_FIELDS,
            consent_until=max(c.valid_until for c in consents),
        ),
        client,
        referral,
    )
    audit.record(
        action=AuditAction.REFERRAL_CLIENT_VIEW,
        actor=actor,
        organization_id=client.organization_id,
        obj=client,
        metadata={
            "referral": str(referral.pk),
            "viewer_organization": str(organization.pk),
            "fields": sorted(view.fields),
            "purpose": purpose,
        },
    )
    return view


def receiving_organizations(actor: Any, *, exclude: Any) -> Any:
    """Active organizations a referral or a consent may name (everyone but the sender)."""
    from harbour.accounts.models import Organization

    if not org_ids(actor, STAFF):
        return Organization.objects.none()
    return Organization.objects.filter(is_active=True).exclude(pk=exclude.pk).order_by("name_en")


def organization_ids_with_role(actor: Any) -> list[UUID]:
    return org_ids(actor, STAFF)


# --- the service-gap report (coordinators, across organizations) ---------------------------


def gap_releases(actor: Any) -> list[Any]:
    """The releases of the report the page offers, newest first (referrals of every
    organization: the coalition is everyone on this Harbour, for now); none before the first.
    Coordinators of any organization may read them; nobody else. Never computed live."""
    from django.core.exceptions import PermissionDenied

    from harbour.core.models import Release
    from harbour.referrals import gaps

    if not org_ids(actor, Role.COORDINATOR):
        raise PermissionDenied
    return list(Release.objects.filter(kind=gaps.KIND).order_by("-period_end")[: gaps.OFFERED])


def service_type_labels() -> dict[str, str]:
    """Top-level types of help (the directory's categories), in the current language."""
    from harbour.directory.models import TaxonomyTerm

    return {
        t.code: str(t.name)
        for t in TaxonomyTerm.objects.filter(kind="category", parent__isnull=True)
    }


def unacknowledged(actor: Any, *, organization: Any) -> QuerySet[Referral]:
    """Referrals sent to the organization that nobody there has acknowledged yet (still
    "sent"), oldest first: staff of the receiving organization only."""
    return queue(actor, organization=organization, box="inbound", group="waiting").order_by(
        "sent_at", "created_at"
    )
