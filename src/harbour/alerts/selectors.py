from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.utils import timezone

from harbour.alerts.models import Alert, AlertStatus
from harbour.core.permissions import scope
from harbour.core.roles import Role


def current() -> QuerySet[Alert]:
    """Published and not yet expired, newest first."""
    return (
        Alert.objects.filter(status=AlertStatus.PUBLISHED, valid_until__gt=timezone.now())
        .defer("photo")
        .prefetch_related("substances")
    )


def public(alert_id: UUID | str) -> Alert | None:
    """A published alert, expired or not (links in old messages keep working); else None."""
    return (
        Alert.objects.filter(pk=alert_id, status__in=[AlertStatus.PUBLISHED, AlertStatus.WITHDRAWN])
        .defer("photo")
        .prefetch_related("substances")
        .first()
    )


def staff_alerts(actor: Any, *, organization: Any) -> QuerySet[Alert]:
    return (
        scope(Alert.objects.defer("photo"), actor, minimum=Role.OUTREACH_WORKER)
        .filter(organization=organization)
        .select_related("created_by", "approved_by", "source_sample")
        .order_by("-created_at")
    )


def photo_of(alert_id: UUID | str, *, actor: Any = None) -> Alert | None:
    """The alert with its photo bytes: a published (or withdrawn) one for anyone; a draft or a
    pending one only for staff of its organization."""
    found = Alert.objects.filter(pk=alert_id, photo__isnull=False).first()
    if found is None:
        return None
    if found.status in (AlertStatus.PUBLISHED, AlertStatus.WITHDRAWN):
        return found
    staff = scope(Alert.objects.filter(pk=found.pk), actor, minimum=Role.OUTREACH_WORKER)
    return found if staff.exists() else None


def awaiting_second_person(actor: Any, *, organization: Any) -> QuerySet[Alert]:
    """Alerts of the organization waiting for a second person that this actor may approve: a
    coordinator's, never the ones they wrote themselves (they cannot approve those)."""
    rows = scope(Alert.objects.defer("photo"), actor, minimum=Role.COORDINATOR).filter(
        organization=organization, status=AlertStatus.PENDING
    )
    if getattr(actor, "is_user", False):
        rows = rows.exclude(created_by=actor)
    return rows.order_by("created_at")
