"""Privacy, health and figures: closing stale sessions, purging, lag."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from harbour.checkins.models import (
    OPEN_STATES,
    PURGE_HOURS_MAX,
    Callout,
    Event,
    OnDuty,
    Outcome,
    Program,
    Session,
    State,
    Step,
)
from harbour.checkins.services.common import Conflict, _event, _lang, _retrying, _send, phone_index
from harbour.checkins.services.sessions import _end
from harbour.checkins.services.steps import next_due
from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.views import absolute_url
from harbour.notify import services as notify

# --- privacy, health, figures --------------------------------------------------------------


def max_open() -> timedelta:
    return timedelta(hours=float(getattr(settings, "CHECKIN_MAX_OPEN_HOURS", 12)))


def close_stale(now: datetime | None = None) -> int:
    """End every session still open ``CHECKIN_MAX_OPEN_HOURS`` after it started, whatever its
    state (a responder on scene who never recorded an outcome, a dispatch nobody closed), and
    tell the staff on duty. Returns how many were closed."""
    now = now or timezone.now()
    closed = 0
    stale = Session.objects.filter(state__in=OPEN_STATES, started_at__lte=now - max_open())
    for session_id in list(stale.values_list("pk", flat=True)):

        def once(session_id: Any = session_id) -> bool:
            session = Session.objects.select_related("program__organization").get(pk=session_id)
            if not session.is_open:
                return False
            was = session.state
            _end(session, now, Outcome.CLOSED_BY_CLOCK)
            _event(session, Step.ENDED, "clock", at=now, outcome=Outcome.CLOSED_BY_CLOCK, was=was)
            audit.record(
                action=AuditAction.CHECKIN_CLOSED, organization=session.program.organization,
                obj=session, label="clock", metadata={"outcome": "clock", "was": was},
            )  # fmt: skip
            _tell_on_duty(
                session,
                key=f"checkin:{session.pk}:closed-by-clock",
                subject=gettext_noop("Check-in closed automatically: %(alias)s"),
                text=gettext_noop(
                    "Harbour closed the check-in of %(alias)s automatically: it was still open "
                    "(%(state)s) %(hours)s hours after it started. Its address and numbers "
                    "will be erased. If anyone still needs help, act now."
                ),
                extra={"state": State(was).label, "hours": f"{max_open() / timedelta(hours=1):g}"},
            )
            return True

        try:
            closed += bool(_retrying(once))
        except Conflict:
            continue
    return closed


def _tell_on_duty(
    session: Session, *, key: str, subject: str, text: str, extra: dict[str, Any]
) -> None:
    """Email (and text, when they gave a number) every staff member on duty."""
    link = absolute_url("checkins-staff:board", slug=session.program.organization.slug)
    for duty in OnDuty.objects.filter(
        organization_id=session.program.organization_id
    ).select_related("user"):
        lang = _lang(duty.user.preferred_language)
        with translation.override(lang):
            values = {"alias": session.alias, **extra}
            body = _(text) % values + " " + link
            notify.enqueue(
                key=f"{key}:{duty.user_id}:email", channel="email", to=duty.user.email,
                subject=_(subject) % values, body=body, lang=lang, urgent=True,
            )  # fmt: skip
            if duty.phone:
                _send(f"{key}:{duty.user_id}:sms", duty.phone, body, lang)


def purge(now: datetime | None = None) -> int:
    """Erase everything about the person once their program's ``purge_hours`` (at most
    ``PURGE_HOURS_MAX``) have passed since the session ended, or since the longest a session
    may stay open (``CHECKIN_MAX_OPEN_HOURS``) when it never ended: the alias, address,
    position, access notes, contacts, phone numbers and their blind indexes, push
    subscription, the replies' message ids, the debrief's free text, and every message the
    session sent (through ``notify.messages_erase``), including replies to the person's
    texts. Counts, times, postal area and outcome stay for the program's figures."""
    now = now or timezone.now()
    erased = 0
    for program in Program.objects.all():
        hours = min(max(program.purge_hours, 1), PURGE_HOURS_MAX)
        cutoff = now - timedelta(hours=hours)
        sessions = list(
            Session.objects.filter(purged_at__isnull=True, program=program)
            .filter(
                Q(state=State.ENDED, ended_at__lte=cutoff) | Q(started_at__lte=cutoff - max_open())
            )
            .values_list("pk", "phone")
        )
        for pk, phone in sessions:
            with transaction.atomic():
                _purge_one(pk, phone, now)
            erased += 1
    return erased


def _purge_one(pk: Any, phone: str, now: datetime) -> None:
    callouts = Callout.objects.filter(session_id=pk)
    notify.messages_erase(key_prefix=f"checkin:{pk}:", now=now)
    if phone:
        # the answers to the person's own texts (OK, MORE, DONE) are keyed by the inbound text
        notify.messages_erase(key_prefix="inbound:", channel="sms", recipient=phone, now=now)
    for callout in callouts.exclude(debrief={}):
        kept = {k: v for k, v in callout.debrief.items() if k != "notes"}
        Callout.objects.filter(pk=callout.pk).update(debrief=kept)
    callouts.update(phone="", phone_index="")
    Event.objects.filter(session_id=pk).update(source=None)
    Session.objects.filter(pk=pk).update(
        alias="", address="", position="", access_notes="", contacts="", phone="",
        phone_index="", push="", confirm_hash="", due_at=None, purged_at=now, updated_at=now,
    )  # fmt: skip


def lag_seconds(now: datetime | None = None) -> float:
    """How far behind the clock is: the age of the oldest step that is due and not yet taken
    (0 when nothing is overdue)."""
    now = now or timezone.now()
    oldest = next_due()
    if oldest is None or oldest >= now:
        return 0.0
    return (now - oldest).total_seconds()


def open_for(organization: Any) -> Any:
    return (
        Session.objects.filter(program__organization=organization, state__in=OPEN_STATES)
        .select_related("responder", "responder__responder")
        .order_by("started_at")
    )


def language_of(number: str) -> str | None:
    session = (
        Session.objects.filter(phone_index=phone_index(number)).order_by("-started_at").first()
    )
    return session.lang if session else None
