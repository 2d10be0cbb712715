"""What coordinators do with signals: dismiss one, or make an alert draft of it."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.permissions import require_role
from harbour.core.roles import Role
from harbour.surveillance.models import (
    Level,
    Signal,
    SignalStatus,
)

log = logging.getLogger(__name__)


# --- what coordinators do with signals --------------------------------------------------------


@transaction.atomic
def signal_dismiss(*, signal: Signal, actor: Any, reason: str) -> Signal:
    require_role(actor, signal.organization_id, Role.COORDINATOR)
    reason = " ".join(reason.split())[:300]
    if not reason:
        raise ValidationError({"reason": _("Say why, for whoever looks at this signal later.")})
    if signal.status != SignalStatus.NEW:
        raise ValidationError({"reason": _("This signal was already handled.")})
    Signal.objects.filter(pk=signal.pk).update(
        status=SignalStatus.DISMISSED, dismissed_reason=reason, reviewed_by=actor
    )
    audit.record(
        action=AuditAction.SIGNAL_DISMISS, actor=actor, organization=signal.organization,
        obj=signal, metadata={"method": signal.method},
    )  # fmt: skip
    signal.refresh_from_db()
    return signal


@transaction.atomic
def signal_to_alert(*, signal: Signal, actor: Any) -> Any:
    """One click: an alert draft of the organization for the signal's areas (reviewed, then
    published, like any other alert)."""
    from harbour.alerts import services as alerts

    require_role(actor, signal.organization_id, Role.COORDINATOR)
    locked = Signal.objects.select_for_update().get(pk=signal.pk)
    if locked.status != SignalStatus.NEW:
        raise ValidationError({"signal": _("This signal was already handled.")})
    areas = [a for a in locked.area.split() if len(a) == 3] if locked.level in {
        Level.FSA, Level.CLUSTER} else []  # fmt: skip
    where_en = locked.area or "the community"
    where_fr = locked.area or "la communauté"
    alert = alerts.alert_draft(
        actor=actor,
        organization=signal.organization,
        title_en=f"More overdoses than usual: {where_en}"[:140],
        title_fr=f"Plus de surdoses que d’habitude : {where_fr}"[:140],
        body_en=(
            f"{locked.observed} overdoses were reported in {where_en} from "
            f"{alerts.local_time(locked.period_start, 'en')} to "
            f"{alerts.local_time(locked.period_end, 'en')}, more than usual. "
            "Do not use alone, start with a small amount, and carry naloxone."
        ),
        body_fr=(
            f"{locked.observed} surdoses ont été signalées ({where_fr}) du "
            f"{alerts.local_time(locked.period_start, 'fr')} au "
            f"{alerts.local_time(locked.period_end, 'fr')}, plus que d’habitude. "
            "Ne consommez pas seul·e, commencez par une petite quantité et "
            "ayez de la naloxone."
        ),
        areas=areas,
        area_description_en=where_en,
        area_description_fr=where_fr,
        valid_until=timezone.now() + timedelta(days=3),
    )
    Signal.objects.filter(pk=locked.pk).update(
        status=SignalStatus.ALERTED, alert=alert, reviewed_by=actor
    )
    audit.record(
        action=AuditAction.SIGNAL_ALERT, actor=actor, organization=signal.organization,
        obj=signal, metadata={"alert": str(alert.pk)},
    )  # fmt: skip
    return alert
