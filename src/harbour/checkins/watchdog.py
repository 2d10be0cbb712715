"""The watchdog: if the check-in clock falls behind (a step overdue by more than
``CHECKIN_LAG_ALERT_SECONDS``) or stops beating while sessions are open, the staff on duty are
told at once, by email and text, sent from here straight to the providers: not through the
outbox, whose delivery depends on the worker that is failing. ``harbour serve`` runs it in its
own process; ``harbour checkin-watchdog`` runs it alone (e.g. on another machine)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from harbour.checkins.models import TIMED_STATES, OnDuty, Session, WatchdogNotice
from harbour.checkins.services import lag_seconds
from harbour.core.models import WorkerHeartbeat
from harbour.notify import senders
from harbour.notify.models import Message

log = logging.getLogger(__name__)


def threshold() -> float:
    return float(getattr(settings, "CHECKIN_LAG_ALERT_SECONDS", 5))


def clock_seen(now: datetime) -> datetime | None:
    beat = WorkerHeartbeat.objects.filter(worker__startswith="clock:").order_by("-seen_at").first()
    return beat.seen_at if beat else None


def status(now: datetime | None = None) -> dict[str, object]:
    """What the health check and the dispatcher view show."""
    now = now or timezone.now()
    lag = lag_seconds(now)
    seen = clock_seen(now)
    waiting = Session.objects.filter(state__in=TIMED_STATES).exists()
    stale = seen is None or now - seen > timedelta(seconds=max(3 * threshold(), 15))
    behind = lag > threshold() or (waiting and stale)
    return {
        "status": "behind" if behind else "ok",
        "lag_seconds": round(lag, 1),
        "clock_seen_at": seen,
        "waiting_sessions": waiting,
    }


def _tell(subject: str, body: str) -> int:
    told = 0
    for duty in OnDuty.objects.select_related("user"):
        try:
            send_mail(subject, body, None, [duty.user.email], fail_silently=False)
            told += 1
        except Exception:  # one failing address must not stop the others
            log.exception("watchdog email failed")
        # by Twilio, or printed by the console backend as the demo's emails are (never "none")
        if duty.phone and senders.sms_backend() != "none":
            message = Message(
                idempotency_key=f"watchdog:{subject}:{duty.pk}", channel="sms",
                recipient=duty.phone, body=body,
            )  # fmt: skip
            try:
                senders.send_sms(message)
            except Exception:
                log.exception("watchdog text failed")
    return told


def check(now: datetime | None = None) -> str:
    """One look: returns "ok", "told" (a new stall, staff told), "still-behind" or
    "recovered"."""
    now = now or timezone.now()
    state = status(now)
    current = WatchdogNotice.objects.filter(recovered_at__isnull=True).first()
    if state["status"] == "behind":
        if current is not None:
            return "still-behind"
        try:
            with transaction.atomic():
                WatchdogNotice.objects.create(
                    started_at=now.replace(microsecond=0),
                    sent_at=now,
                    lag_seconds=float(str(state["lag_seconds"])),
                )
        except IntegrityError:
            return "still-behind"  # another watchdog told them
        with translation.override(settings.LANGUAGE_CODE):
            _tell(
                _("Harbour check-ins: the worker is behind"),
                _(
                    "The check-in worker is %(lag)s seconds behind or not running. Sessions may "
                    "not escalate on time: watch the dispatcher view and restart the worker."
                )
                % {"lag": state["lag_seconds"]},
            )
        return "told"
    if current is not None:
        WatchdogNotice.objects.filter(pk=current.pk).update(recovered_at=now)
        with translation.override(settings.LANGUAGE_CODE):
            _tell(
                _("Harbour check-ins: the worker caught up"),
                _("The check-in worker is running on time again."),
            )
        return "recovered"
    return "ok"
