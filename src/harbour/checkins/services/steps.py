"""Timed steps, advanced by the worker's clock: prompt, call-out, dispatch."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Min, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from harbour.checkins.models import (
    TIMED_STATES,
    Callout,
    OnDuty,
    Responder,
    Session,
    State,
    Step,
    Via,
)
from harbour.checkins.services.common import (
    MAX_CALLOUTS,
    Conflict,
    _cas,
    _event,
    _lang,
    _send,
    phone_index,
)
from harbour.core.views import absolute_url
from harbour.notify import services as notify

# --- timed steps (the worker's clock) -------------------------------------------------------


def next_due() -> datetime | None:
    return Session.objects.filter(state__in=TIMED_STATES).aggregate(t=Min("due_at"))["t"]


STEP_BATCH = 20


def advance_due(now: datetime | None = None, *, limit: int = 200) -> int:
    """Advance every session whose time has come, up to ``limit``. Safe in several workers at
    once: on PostgreSQL each takes due sessions with ``FOR UPDATE SKIP LOCKED`` (so two workers
    share the work instead of queueing behind each other); on SQLite the write lock does the
    same; and each step is still a compare-and-set on the session's version.

    Steps are committed ``STEP_BATCH`` at a time, each in its own savepoint (a step that fails
    is undone alone): one commit, so one disk flush, for many steps. Texts are sent only after
    the commit (the clock sends urgent messages right after this returns)."""
    now = now or timezone.now()
    moved = 0
    seen: set[Any] = set()
    while len(seen) < limit:
        with transaction.atomic():
            due = (
                Session.objects.filter(state__in=TIMED_STATES, due_at__lte=now)
                .exclude(pk__in=seen)
                .select_related("program", "program__organization")
                .order_by("due_at")
            )
            if connection.vendor == "postgresql":
                due = due.select_for_update(skip_locked=True, of=("self",))
            batch = list(due[: min(STEP_BATCH, limit - len(seen))])
            for session in batch:
                seen.add(session.pk)
                try:
                    with transaction.atomic():
                        _timed_step(session, timezone.now())
                    moved += 1
                except (Conflict, IntegrityError):
                    continue  # another worker, or a reply, moved it first
        if len(batch) < STEP_BATCH:
            break
    return moved


def _timed_step(session: Session, now: datetime) -> None:
    due = session.due_at
    program = session.program
    if session.state == State.ACTIVE:
        _cas(
            session,
            state=State.PROMPTED,
            prompted_at=now,
            due_at=now + timedelta(seconds=program.grace_seconds),
        )
        _event(session, Step.PROMPTED, "clock", at=now, due_at=due)
        with translation.override(session.lang):
            _send(
                f"checkin:{session.pk}:prompt:{due:%Y%m%d%H%M%S%f}",
                session.phone,
                (
                    _(
                        "Harbour: your check-in time is up. Reply OK if you are all right, or "
                        "MORE 10 for more time. If we do not hear from you in %(seconds)s "
                        "seconds, we will send someone."
                    )
                    if session.confirmed_at is not None
                    # an unconfirmed number calls nobody (see _escalate): never promise it
                    else _(
                        "Harbour: your check-in time is up. Reply OK if you are all right, or "
                        "MORE 10 for more time. Your number was not confirmed, so nobody will "
                        "be sent: if we do not hear from you in %(seconds)s seconds, we can "
                        "only tell the staff on duty."
                    )
                )
                % {"seconds": program.grace_seconds},
                session.lang,
            )
    elif session.state == State.PROMPTED:
        _escalate(session, now, due)
    elif session.state == State.CALLING:
        _dispatch(session, now, due, why="nobody-accepted")
    elif session.state == State.ASSIGNED:
        _dispatch(session, now, due, why="not-arrived")


def responders_for(session: Session) -> list[Responder]:
    """On-call responders of the program with valid naloxone training, covering the person's
    postal area (or all areas); training sessions reach training responders only."""
    today = timezone.localdate()
    found = Responder.objects.filter(
        organization_id=session.program.organization_id,
        active=True,
        on_call=True,
        training=session.training,
        naloxone_trained_until__gte=today,
    )
    if session.fsa:
        found = found.filter(Q(areas="") | Q(areas__contains=f" {session.fsa} "))
    return list(found.order_by("created_at")[:MAX_CALLOUTS])


def _where(session: Session) -> str:
    parts = []
    if session.address:
        parts.append(session.address)
    if session.position:
        lat, lng = session.position.split(",")
        parts.append(f"https://www.openstreetmap.org/?mlat={lat}&mlon={lng}#map=18/{lat}/{lng}")
    if not parts:
        parts.append(_("no address given; postal area %(fsa)s") % {"fsa": session.fsa or "?"})
    if session.access_notes:
        parts.append(_("Access: %(notes)s") % {"notes": session.access_notes})
    return ". ".join(parts)


def callouts_per_number() -> int:
    return int(getattr(settings, "CHECKIN_CALLOUTS_PER_NUMBER_PER_DAY", 3))


def _over_cap(session: Session, number: str, now: datetime) -> bool:
    """A contact number has had its share of call-outs today from sessions it did not start
    (so nobody can make Harbour text one number again and again)."""
    index = phone_index(number)
    recent = Callout.objects.filter(
        phone_index=index, responder__isnull=True, asked_at__gte=now - timedelta(days=1)
    ).exclude(session__phone_index=index)
    return recent.count() >= callouts_per_number()


def how_started(session: Session) -> str:
    """Told to everyone asked to go, so they can judge the call-out."""
    if session.via == Via.OPERATOR:
        return _("Started by a Harbour operator for them.")
    if session.via == Via.SMS:
        return _("Started by a text from their own phone.")
    return _("Started on the web; their number was confirmed.")


def _escalate(session: Session, now: datetime, due: datetime | None) -> None:
    program = session.program
    if session.confirmed_at is None:
        # nobody proved the number is theirs: the address may be anyone's, so no contact and
        # no responder is sent; the staff on duty decide (they can call the number)
        _cas(session, escalated_at=now)
        _event(session, Step.ESCALATED, "clock", at=now, due_at=due, asked=0, unconfirmed=True)
        _dispatch(session, now, None, why="unconfirmed")
        return
    asked: list[tuple[str, str, Responder | None]] = []
    if not session.training:
        asked += [(number, session.lang, None) for number in session.contacts.split() if number]
    asked += [(r.phone, r.lang, r) for r in responders_for(session)]
    seen: set[str] = set()
    callouts = []
    capped = 0
    for number, lang, responder in asked:
        if number in seen or number == session.phone:
            continue
        seen.add(number)
        if responder is None and _over_cap(session, number, now):
            capped += 1
            continue
        callouts.append(
            Callout.objects.create(
                session=session,
                responder=responder,
                phone=number,
                phone_index=phone_index(number),
                lang=lang,
                asked_at=now,
            )
        )
    if not callouts:
        _cas(session, escalated_at=now)
        _event(session, Step.ESCALATED, "clock", at=now, due_at=due, asked=0, capped=capped)
        _dispatch(session, now, None, why="no-responders")
        return
    _cas(
        session,
        state=State.CALLING,
        escalated_at=now,
        due_at=now + timedelta(seconds=program.accept_seconds),
    )
    _event(session, Step.ESCALATED, "clock", at=now, due_at=due, asked=len(callouts), capped=capped)
    for callout in callouts:
        with translation.override(callout.lang):
            if callout.responder is None:
                intro = _("%(alias)s asked Harbour to contact you if they stop answering.")
            else:
                intro = _("%(alias)s is not answering their check-in.")
            body = " ".join(
                [
                    _("HARBOUR CHECK-IN%(training)s:")
                    % {"training": _(" (TRAINING)") if session.training else ""},
                    intro % {"alias": session.alias},
                    how_started(session),
                    _where(session) + ".",
                    _("Reply GO if you can go now, or open %(link)s")
                    % {"link": respond_link(callout)},
                ]
            )
            if callout.responder is None:
                body += " " + _("Reply STOP to get no more texts from Harbour.")
        _send(f"checkin:{session.pk}:callout:{callout.pk}", callout.phone, body, callout.lang)
    with translation.override(session.lang):
        _send(
            f"checkin:{session.pk}:escalated",
            session.phone,
            _(
                "Harbour: we did not hear from you, so we are asking someone to check on you. "
                "Reply OK if you are all right."
            ),
            session.lang,
        )


def respond_link(callout: Callout) -> str:
    return absolute_url("checkins:respond-link", token=callout.token)


def _dispatch(session: Session, now: datetime, due: datetime | None, *, why: str) -> None:
    _cas(session, state=State.DISPATCH, dispatched_at=now, due_at=None)
    _event(session, Step.DISPATCH, "clock", at=now, due_at=due, why=why)
    link = absolute_url("checkins-staff:board", slug=session.program.organization.slug)
    for duty in OnDuty.objects.filter(organization_id=session.program.organization_id):
        lang = _lang(duty.user.preferred_language)
        with translation.override(lang):
            body = _(
                "Harbour check-in needs a dispatcher now: %(alias)s. Nobody has reached them. "
                "Open %(link)s"
            ) % {"alias": session.alias, "link": link}
            if why == "unconfirmed":
                body += " " + _(
                    "Their number was never confirmed, so nobody was sent: the address may not "
                    "be theirs. Call the number first."
                )
            notify.enqueue(
                key=f"checkin:{session.pk}:dispatch:{duty.user_id}:email",
                channel="email",
                to=duty.user.email,
                subject=_("Check-in needs a dispatcher: %(alias)s") % {"alias": session.alias},
                body=body,
                lang=lang,
                urgent=True,
            )
            if duty.phone:
                _send(f"checkin:{session.pk}:dispatch:{duty.user_id}:sms", duty.phone, body, lang)
