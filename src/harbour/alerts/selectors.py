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
    return Alert.objects.filter(
        status=AlertStatus.PUBLISHED, valid_until__gt=timezone.now()
    ).prefetch_related("substances")


def public(alert_id: UUID | str) -> Alert | None:
    """A published alert, expired or not (links in old messages keep working); else None."""
    return (
        Alert.objects.filter(pk=alert_id, status__in=[AlertStatus.PUBLISHED, AlertStatus.WITHDRAWN])
        .prefetch_related("substances")
        .first()
    )


def staff_alerts(actor: Any, *, organization: Any) -> QuerySet[Alert]:
    return (
        scope(Alert.objects.all(), actor, minimum=Role.OUTREACH_WORKER)
        .filter(organization=organization)
        .select_related("created_by", "approved_by", "source_sample")
        .order_by("-created_at")
    )
