"""Retention and erasure of client details."""

from __future__ import annotations

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
from harbour.core.roles import Role
from harbour.referrals import lifecycle
from harbour.referrals.models import (
    Client,
    Consent,
    ContactMethod,
    Message,
    Referral,
    Transition,
)

# --- retention and erasure ------------------------------------------------------------------
#
# A client's details (alias, contact, year of birth and their blind indexes), what their
# referrals say they need, transition notes and messages are kept while anything is open for
# them, then ``ReferralPolicy.retention_days`` (365 by default, 30 days to 7 years) after the
# last of their referrals closed (or the client was last changed, when they have none). Then
# the periodic job ``referrals.purge`` erases them: the client row stays, pseudonymous and
# empty, so referral counts and the service-gap report keep their numbers. A coordinator can
# erase one client at once (``client_erase``). Audit events carry counts and ids only.


def retention_days_of(organization_id: Any) -> int:
    """The organization's retention in days (the default when it set none)."""
    from harbour.referrals.models import RETENTION_DAYS_DEFAULT, ReferralPolicy

    policy = ReferralPolicy.objects.filter(organization_id=organization_id).first()
    return policy.retention_days if policy is not None else RETENTION_DAYS_DEFAULT


@transaction.atomic
def policy_set(*, actor: Any, organization: Organization, retention_days: int) -> Any:
    """Org admins choose how long their clients' details are kept (bounded)."""
    from harbour.referrals.models import RETENTION_DAYS_MAX, RETENTION_DAYS_MIN, ReferralPolicy

    require_role(actor, organization.pk, Role.ORG_ADMIN)
    if not RETENTION_DAYS_MIN <= retention_days <= RETENTION_DAYS_MAX:
        raise ValidationError(
            {
                "retention_days": _("Choose between %(low)s and %(high)s days.")
                % {"low": RETENTION_DAYS_MIN, "high": RETENTION_DAYS_MAX}
            }
        )
    before = retention_days_of(organization.pk)
    policy, _created = ReferralPolicy.objects.update_or_create(
        organization=organization, defaults={"retention_days": retention_days}
    )
    audit.record(
        action=AuditAction.REFERRAL_POLICY_CHANGE,
        actor=actor,
        organization=organization,
        obj=policy,
        metadata={"retention_days": retention_days, "before": before},
    )
    return policy


def _erase(client_ids: list[Any], now: datetime) -> dict[str, int]:
    """Blank the clients' encrypted details and blind indexes, their referrals' needs and
    transition notes, delete their messages and notes, end their live consents. Counts."""
    if not client_ids:
        return {"clients": 0, "needs": 0, "notes": 0, "messages": 0, "consents": 0}
    clients = Client.objects.filter(pk__in=client_ids).update(
        alias="",
        phone="",
        email="",
        contact_notes="",
        birth_year="",
        alias_index="",
        phone_index="",
        email_index="",
        contact_method=ContactMethod.NONE,
        erased_at=now,
        updated_at=now,
    )
    needs = Referral.objects.filter(client_id__in=client_ids).exclude(needs="").update(needs="")
    notes = (
        Transition.objects.filter(referral__client_id__in=client_ids)
        .exclude(note="")
        .update(note="")
    )
    messages, _rows = Message.objects.filter(referral__client_id__in=client_ids).delete()
    consents = Consent.objects.filter(
        client_id__in=client_ids, revoked_at__isnull=True, valid_until__gt=now
    ).update(revoked_at=now)
    return {
        "clients": clients,
        "needs": needs,
        "notes": notes,
        "messages": messages,
        "consents": consents,
    }


def due_for_erasure(organization_id: Any, now: datetime) -> list[Any]:
    """Ids of the organization's clients whose details are past retention: nothing open, and
    the last referral closed (or the client last changed) more than ``retention_days`` ago."""
    from django.db.models import Count, DateTimeField, Max, Q
    from django.db.models.functions import Coalesce

    cutoff = now - timedelta(days=retention_days_of(organization_id))
    rows = (
        Client.objects.filter(organization_id=organization_id, erased_at__isnull=True)
        .filter(updated_at__lt=cutoff)
        .annotate(
            still_open=Count(
                "referrals", filter=Q(referrals__status__in=[s.value for s in lifecycle.OPEN])
            ),
            last_activity=Max(
                Coalesce(
                    "referrals__closed_at",
                    "referrals__updated_at",
                    output_field=DateTimeField(),
                )
            ),
        )
        .filter(still_open=0)
        .filter(Q(last_activity__isnull=True) | Q(last_activity__lt=cutoff))
    )
    return list(rows.values_list("pk", flat=True))


def retention_purge(*, now: datetime | None = None) -> dict[str, int]:
    """Erase every organization's clients past retention (the ``referrals.purge`` job). One
    transaction and one audit event (counts only) per organization. Idempotent."""
    now = now or timezone.now()
    totals = {"clients": 0, "needs": 0, "notes": 0, "messages": 0, "consents": 0}
    organizations = (
        Client.objects.filter(erased_at__isnull=True)
        .order_by()
        .values_list("organization_id", flat=True)
        .distinct()
    )
    for organization_id in list(organizations):
        with transaction.atomic():
            ids = due_for_erasure(organization_id, now)
            if not ids:
                continue
            counts = _erase(ids, now)
            audit.record(
                action=AuditAction.REFERRAL_RETENTION_PURGE,
                organization_id=organization_id,
                metadata={**counts, "retention_days": retention_days_of(organization_id)},
            )
        for name, value in counts.items():
            totals[name] += value
    return totals


@transaction.atomic
def client_erase(*, actor: Any, client: Client, reason: str) -> dict[str, int]:
    """ "Erase this client now" (coordinators): the same erasure as retention, at once, with a
    reason code (no free text, so the audit trail holds nothing about the person). Referrals
    still open stay open as shells: the receiving organization sees no details."""
    from harbour.referrals.models import EraseReason

    require_role(actor, client.organization_id, Role.COORDINATOR)
    if reason not in EraseReason.values:
        raise ValidationError({"reason": _("Choose why these details are erased.")})
    if client.erased_at is not None:
        raise ValidationError(_("This client's details were already erased."), code="erased")
    counts = _erase([client.pk], timezone.now())
    audit.record(
        action=AuditAction.REFERRAL_CLIENT_ERASE,
        actor=actor,
        organization_id=client.organization_id,
        obj=client,
        metadata={**counts, "reason": reason},
    )
    client.refresh_from_db()
    return counts
