"""Check-in sessions as a state machine in the database.

    active ──timer──▶ prompted ──grace──▶ calling ──accept window──▶ dispatch
      ▲  OK resets      │ OK: ended         │ GO: assigned ──arrival window──▶ dispatch
      └── MORE n ◀──────┘                   │         │ HERE: on_scene
                                            └─────────┴──▶ outcome: ended

Every change is a compare-and-set on ``Session.version`` in one transaction with the
messages it queues (idempotency keys built from the session, the step and its due time), so
two workers, a killed worker, or the same reply twice never send twice or skip a step. Timed
steps are advanced by the worker's clock (:mod:`harbour.core.clock`); everything else comes
from the person (web page or text), a responder (text or private link) or a dispatcher.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Min, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from harbour.checkins.models import (
    OPEN_STATES,
    PURGE_HOURS_MAX,
    TIMED_STATES,
    Callout,
    CalloutStatus,
    Event,
    OnDuty,
    Outcome,
    Program,
    Responder,
    Session,
    State,
    Step,
    Via,
)
from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.views import absolute_url
from harbour.notify import addresses
from harbour.notify import services as notify
from harbour.notify.crypto import blind_index
from harbour.surveillance.models import Source
from harbour.surveillance.services import EventIn, event_record

log = logging.getLogger(__name__)

MIN_MINUTES, MAX_MINUTES, DEFAULT_MINUTES = 2, 60, 10
MAX_CONTACTS = 3
MAX_CALLOUTS = 10


class Conflict(Exception):
    """Someone else changed the session first; the caller reads it again."""


def phone_index(number: str) -> str:
    return blind_index(number, kind="checkins-sms")


def postal_area(raw: str) -> str:
    """The postal area (FSA) of what a person typed: "k7l", "K7L 1A1" and "K7L1A1" give "K7L";
    "" for nothing; ValidationError for something that is not one."""
    text = raw.strip().upper().replace(" ", "")[:3]
    if text and not (
        len(text) == 3 and text[0].isalpha() and text[1].isdigit() and text[2].isalpha()
    ):
        raise ValidationError({"fsa": _("A postal area is a letter, a digit and a letter.")})
    return text


def padded_areas(raw: str) -> str:
    """ " K7L K7K " from "k7l, K7K" (space-padded for a plain substring test); "" for none."""
    from harbour.alerts.services import parse_areas

    areas = parse_areas(raw)
    return f" {' '.join(areas)} " if areas else ""


def program_for(fsa: str = "") -> Program | None:
    """The program whose areas cover this postal area; None when nobody serves it (a session
    is never sent to a program that cannot come). Only a session with no postal area at all
    (``CHECKIN 10`` by text) goes to the default program, whose reply says so."""
    programs = Program.objects.filter(enabled=True, organization__is_active=True)
    if fsa:
        return programs.filter(areas__contains=f" {fsa} ").order_by("created_at").first()
    return programs.order_by("-is_default", "created_at").first()


def crisis_lines() -> str:
    return _(
        "Emergency: 9-1-1. To talk to someone now: 9-8-8. National Overdose Response Service "
        "(stays on the phone while you use): 1-888-688-6677."
    )


def not_served(fsa: str) -> str:
    """What a person is told, before they rely on it, when no program serves their area."""
    return " ".join(
        [
            _(
                "No check-in service covers the postal area %(fsa)s yet: nobody could come to "
                "you, so no check-in was started."
            )
            % {"fsa": fsa},
            crisis_lines(),
        ]
    )


def _lang(value: str) -> str:
    return "fr" if (value or "").startswith("fr") else "en"


def _event(
    session: Session,
    step: str,
    by: str,
    *,
    at: datetime,
    due_at: datetime | None = None,
    source: str | None = None,
    **detail: Any,
) -> Event:
    return Event.objects.create(
        session=session, step=step, by=by, at=at, due_at=due_at, source=source, detail=detail
    )


def _cas(session: Session, **changes: Any) -> None:
    """Apply ``changes`` only if nobody changed the session since it was read."""
    changes["version"] = session.version + 1
    changes["updated_at"] = timezone.now()
    if not Session.objects.filter(pk=session.pk, version=session.version).update(**changes):
        raise Conflict
    for field, value in changes.items():
        setattr(session, field, value)


def _retrying(action: Callable[[], Any], attempts: int = 8) -> Any:
    for _attempt in range(attempts):
        try:
            with transaction.atomic():
                return action()
        except Conflict:
            continue
    raise Conflict


def _send(key: str, to: str, body: str, lang: str, *, urgent: bool = True) -> None:
    if to:
        notify.enqueue(key=key, channel="sms", to=to, body=body, lang=lang, urgent=urgent)


# --- starting -----------------------------------------------------------------------------


@dataclass
class Start:
    alias: str
    phone: str = ""
    minutes: int = DEFAULT_MINUTES
    lang: str = "en"
    address: str = ""
    position: str = ""
    access_notes: str = ""
    fsa: str = ""
    substance: str = ""
    route: str = ""
    contacts: tuple[str, ...] = ()
    training: bool = False


def _clean(data: Start, *, operator: bool) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    out["alias"] = data.alias.strip()[:40] or _("Someone")
    if not MIN_MINUTES <= data.minutes <= MAX_MINUTES:
        errors["minutes"] = _("Choose between %(low)s and %(high)s minutes.") % {
            "low": MIN_MINUTES,
            "high": MAX_MINUTES,
        }
    out["phone"] = ""
    if data.phone.strip():
        try:
            out["phone"] = addresses.normalize_phone(data.phone)
        except ValueError:
            errors["phone"] = _("This is not a mobile number we can text.")
    elif not operator:
        errors["phone"] = _("We need a mobile number to text you when your time is up.")
    contacts = []
    for raw in data.contacts:
        if not raw.strip():
            continue
        try:
            contacts.append(addresses.normalize_phone(raw))
        except ValueError:
            errors["contacts"] = _("One of the contacts is not a mobile number we can text.")
    if len(contacts) > MAX_CONTACTS:
        errors["contacts"] = _("At most %(n)s contacts.") % {"n": MAX_CONTACTS}
    out["contacts"] = "\n".join(dict.fromkeys(contacts))
    try:
        out["fsa"] = postal_area(data.fsa)
    except ValidationError:
        errors["fsa"] = _("A postal area is a letter, a digit and a letter, e.g. K7L.")
    position = data.position.strip()
    if position:
        try:
            lat, lng = (float(x) for x in position.split(","))
            if not (-90 <= lat <= 90 and -180 <= lng <= 180):
                raise ValueError(position)
            position = f"{lat:.5f},{lng:.5f}"
        except ValueError:
            errors["position"] = _("The device location could not be read.")
    out["position"] = position
    if errors:
        raise ValidationError(errors)
    return out


def start(
    data: Start,
    *,
    program: Program | None = None,
    started_by: Any = None,
    source: str | None = None,
    via: str = Via.WEB,
) -> Session:
    """Start a check-in: its timer runs from now. ``started_by`` is the operator who started it
    for a caller (then the phone number is optional: the operator calls). ``via`` says how it
    was started: a session started on the web calls nobody until the person confirms the
    number (:func:`confirm`). Without ``program``, the session goes to the program serving its
    postal area, and is refused (with the crisis lines) when none does. ValidationError names
    every field that is wrong."""
    clean = _clean(data, operator=started_by is not None)
    lang = _lang(data.lang)
    if program is None:
        with translation.override(lang):
            program = program_for(clean["fsa"])
            if program is None and clean["fsa"]:
                raise ValidationError({"fsa": not_served(clean["fsa"])})
            if program is None:
                raise ValidationError(
                    _("No check-in service is taking sessions here yet.") + " " + crisis_lines()
                )
    now = timezone.now()
    if started_by is not None:
        via = Via.OPERATOR
    via = Via(via)
    # the operator heard the caller, the text came from the person's own phone: confirmed;
    # a number typed on the web is confirmed by the code texted to it (or a reply from it)
    confirmed = via != Via.WEB
    code = f"{secrets.randbelow(1_000_000):06d}" if not confirmed else ""
    with transaction.atomic():
        if source and Event.objects.filter(source=source).exists():
            return Event.objects.select_related("session").get(source=source).session
        session = Session.objects.create(
            program=program,
            alias=clean["alias"],
            phone=clean["phone"],
            phone_index=phone_index(clean["phone"]) if clean["phone"] else "",
            lang=lang,
            address=data.address.strip()[:500],
            position=clean["position"],
            access_notes=data.access_notes.strip()[:500],
            fsa=clean["fsa"],
            substance=data.substance.strip()[:80],
            route=data.route,
            contacts=clean["contacts"],
            minutes=data.minutes,
            training=data.training,
            started_by=started_by,
            via=via,
            confirmed_at=now if confirmed else None,
            started_at=now,
            due_at=now + timedelta(minutes=data.minutes),
        )
        if code:
            Session.objects.filter(pk=session.pk).update(confirm_hash=_code_hash(session, code))
        _event(session, Step.STARTED, "operator" if started_by else "person", at=now, source=source)
        with translation.override(lang):
            body = _(
                "Harbour check-in started: %(minutes)s min. We will text you when time is "
                "up. Reply OK to restart the timer, MORE 10 for 10 more minutes, DONE to "
                "end. Emergency: 911."
            ) % {"minutes": data.minutes}
            if code:
                body = " ".join(
                    [
                        _(
                            "Harbour check-in: your code is %(code)s. Type it on your check-in "
                            "page, or reply OK, to confirm this is your number: until then "
                            "nobody will be sent to check on you. Not you? Ignore this text."
                        )
                        % {"code": code},
                        body,
                    ]
                )
            _send(f"checkin:{session.pk}:started", session.phone, body, lang)
    return session


def _code_hash(session: Session, code: str) -> str:
    return blind_index(f"{session.pk}:{code.strip()}", kind="checkins-code")


CONFIRM_TRIES = 5


def confirm(session_id: Any, *, code: str | None = None, by_reply: bool = False) -> str:
    """The person proves the number is theirs: the code texted to it (typed on their page), or
    any reply from that phone (``by_reply``). Returns confirmed, already, wrong or
    too-many-tries (after ``CONFIRM_TRIES`` wrong codes only a reply by text confirms)."""
    with transaction.atomic():
        session = Session.objects.select_for_update().get(pk=session_id)
        if session.confirmed_at is not None:
            return "already"
        if not by_reply:
            if session.confirm_tries >= CONFIRM_TRIES:
                return "too-many-tries"
            if not code or not secrets.compare_digest(
                _code_hash(session, code), session.confirm_hash
            ):
                Session.objects.filter(pk=session.pk).update(
                    confirm_tries=session.confirm_tries + 1
                )
                return "wrong"
        now = timezone.now()
        Session.objects.filter(pk=session.pk).update(
            confirmed_at=now, confirm_hash="", updated_at=now
        )
        return "confirmed"


# --- the person's replies -----------------------------------------------------------------


def _stand_down(session: Session, now: datetime, why: str) -> None:
    """Tell everyone asked to go that they are not needed any more."""
    for callout in session.callouts.filter(
        status__in=[CalloutStatus.ASKED, CalloutStatus.ACCEPTED]
    ):
        Callout.objects.filter(pk=callout.pk).update(status=CalloutStatus.STOOD_DOWN, done_at=now)
        with translation.override(callout.lang):
            if why == "ok":
                body = _(
                    "Harbour: %(alias)s says they are all right. You can stand down. Thank you."
                )
            else:
                body = _(
                    "Harbour: someone else is going to %(alias)s. You can stand down. Thank you."
                )
            _send(
                f"checkin:{session.pk}:standdown:{callout.pk}",
                callout.phone,
                body % {"alias": session.alias},
                callout.lang,
            )


def _end(session: Session, now: datetime, outcome: str, **extra: Any) -> None:
    _cas(session, state=State.ENDED, due_at=None, ended_at=now, outcome=outcome, **extra)
    _stand_down(session, now, "ok")


def reply(
    session_id: Any,
    action: str,
    *,
    minutes: int | None = None,
    source: str | None = None,
    by: str = "person",
) -> str:
    """The person answers: ``ok`` (restarts the timer; after the prompt or once help was called,
    ends the session as all right), ``more`` (``minutes`` more, 2–60), ``done`` (ends it).
    ``source`` (an inbound message id or a form nonce) makes a repeated reply a no-op. Returns
    what happened: reset, extended, ended, already-ended or duplicate."""
    if minutes is not None and not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise ValidationError(
            _("Choose between %(low)s and %(high)s minutes.")
            % {"low": MIN_MINUTES, "high": MAX_MINUTES}
        )

    def once() -> str:
        now = timezone.now()
        session = Session.objects.get(pk=session_id)
        if not session.is_open:
            _event(session, Step.IGNORED, by, at=now, source=source, action=action)
            return "already-ended"
        if action == "done":
            _end(session, now, Outcome.ENDED_BY_PERSON)
            _event(session, Step.ENDED, by, at=now, source=source, outcome=Outcome.ENDED_BY_PERSON)
            return "ended"
        if action == "ok" and session.state != State.ACTIVE:
            _end(session, now, Outcome.OK)
            _event(session, Step.ENDED, by, at=now, source=source, outcome=Outcome.OK)
            return "ended"
        if action not in {"ok", "more"}:
            raise ValueError(action)
        length = minutes or session.minutes
        was_calling = session.state != State.ACTIVE
        _cas(
            session,
            state=State.ACTIVE,
            due_at=now + timedelta(minutes=length),
            minutes=length if action == "more" else session.minutes,
        )
        if was_calling:
            _stand_down(session, now, "ok")
        step = Step.OK if action == "ok" else Step.EXTENDED
        _event(session, step, by, at=now, source=source, minutes=length)
        return "reset" if action == "ok" else "extended"

    try:
        return str(_retrying(once))
    except IntegrityError:
        if source and Event.objects.filter(source=source).exists():
            return "duplicate"
        raise


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


# --- responders ---------------------------------------------------------------------------


def accept(callout_id: Any, *, source: str | None = None) -> str:
    """A responder says they are going. The first to accept is assigned; the others are told
    someone is going. Returns assigned, already-assigned (to them), taken, or closed."""

    def once() -> str:
        now = timezone.now()
        callout = Callout.objects.select_related("session__program").get(pk=callout_id)
        session = callout.session
        if callout.status in {CalloutStatus.ACCEPTED, CalloutStatus.ARRIVED}:
            return "already-assigned"
        if not session.is_open or callout.status != CalloutStatus.ASKED:
            return "closed"
        if session.responder_id is not None or session.state not in {
            State.CALLING,
            State.DISPATCH,
        }:
            return "taken"
        changes: dict[str, Any] = {"responder": callout, "accepted_at": now}
        if session.state == State.CALLING:
            changes.update(
                state=State.ASSIGNED,
                due_at=now + timedelta(seconds=session.program.arrival_seconds),
            )
        _cas(session, **changes)
        Callout.objects.filter(pk=callout.pk).update(status=CalloutStatus.ACCEPTED, accepted_at=now)
        _event(
            session,
            Step.ACCEPTED,
            "responder",
            at=now,
            source=source,
            callout=str(callout.pk),
            seconds=round((now - (session.escalated_at or now)).total_seconds(), 1),
        )
        for other in session.callouts.filter(status=CalloutStatus.ASKED).exclude(pk=callout.pk):
            Callout.objects.filter(pk=other.pk).update(status=CalloutStatus.STOOD_DOWN, done_at=now)
            with translation.override(other.lang):
                _send(
                    f"checkin:{session.pk}:going:{other.pk}",
                    other.phone,
                    _("Harbour: someone is going to %(alias)s. You can stand down. Thank you.")
                    % {"alias": session.alias},
                    other.lang,
                )
        with translation.override(callout.lang):
            _send(
                f"checkin:{session.pk}:assigned:{callout.pk}",
                callout.phone,
                _(
                    "Harbour: thank you, you are going to %(alias)s. Reply HERE when you arrive. "
                    "If they are not breathing, call 911 and give naloxone. %(link)s"
                )
                % {"alias": session.alias, "link": respond_link(callout)},
                callout.lang,
            )
        with translation.override(session.lang):
            _send(
                f"checkin:{session.pk}:coming",
                session.phone,
                _("Harbour: someone is on the way to you. Reply OK if you are all right."),
                session.lang,
            )
        return "assigned"

    try:
        return str(_retrying(once))
    except IntegrityError:
        return "duplicate"


def arrive(callout_id: Any, *, source: str | None = None) -> str:
    def once() -> str:
        now = timezone.now()
        callout = Callout.objects.select_related("session").get(pk=callout_id)
        session = callout.session
        if callout.status == CalloutStatus.ARRIVED:
            return "already"
        if callout.status != CalloutStatus.ACCEPTED or not session.is_open:
            return "closed"
        changes: dict[str, Any] = {"arrived_at": now}
        if session.state == State.ASSIGNED:
            changes.update(state=State.ON_SCENE, due_at=None)
        _cas(session, **changes)
        Callout.objects.filter(pk=callout.pk).update(status=CalloutStatus.ARRIVED, arrived_at=now)
        _event(
            session,
            Step.ARRIVED,
            "responder",
            at=now,
            source=source,
            seconds=round((now - (callout.accepted_at or now)).total_seconds(), 1),
        )
        return "arrived"

    try:
        return str(_retrying(once))
    except IntegrityError:
        return "duplicate"


RESPONDER_OUTCOMES = [Outcome.RESPONDER_OK, Outcome.NALOXONE, Outcome.EMS_CALLED, Outcome.OTHER]
DISPATCH_OUTCOMES = [Outcome.EMS_CALLED, Outcome.REACHED_BY_PHONE, Outcome.FALSE_ALARM]


def finish(callout_id: Any, *, outcome: str, naloxone_doses: int | None = None) -> str:
    """The responder's outcome ends the session (and tells anyone else asked to stand down)."""
    if outcome not in RESPONDER_OUTCOMES:
        raise ValidationError(_("Choose what happened."))
    if outcome == Outcome.NALOXONE and not naloxone_doses:
        raise ValidationError(_("How many doses of naloxone?"))

    def once() -> str:
        now = timezone.now()
        callout = Callout.objects.select_related("session").get(pk=callout_id)
        session = callout.session
        if callout.status not in {CalloutStatus.ACCEPTED, CalloutStatus.ARRIVED}:
            return "closed"
        Callout.objects.filter(pk=callout.pk).update(
            status=CalloutStatus.DONE,
            done_at=now,
            outcome=outcome,
            naloxone_doses=naloxone_doses,
            arrived_at=callout.arrived_at or now,
        )
        if session.is_open:
            _cas(
                session,
                state=State.ENDED,
                due_at=None,
                ended_at=now,
                outcome=outcome,
                naloxone_doses=naloxone_doses,
                arrived_at=session.arrived_at or now,
            )
            _stand_down(session, now, "ok")
            _event(session, Step.ENDED, "responder", at=now, outcome=outcome)
            if outcome == Outcome.NALOXONE:
                _overdose_event(session, now)
        return "done"

    return str(_retrying(once))


def _overdose_event(session: Session, now: datetime) -> None:
    """A reversal by a responder counts in spike detection: the postal area only, no person.
    Its reference is random, not the session's id, so the event never leads back to the
    session (it is recorded once: ``finish`` ends the session in the same transaction)."""
    if not session.fsa or session.training:
        return
    event_record(
        organization=session.program.organization,
        data=EventIn(
            occurred_at=now, source=Source.CHECKIN, source_ref=f"checkin:{uuid.uuid4().hex}",
            fsa=session.fsa, naloxone_given=True,
            substances=[session.substance] if session.substance else [],
        ),
    )  # fmt: skip


@transaction.atomic
def responder_availability(*, phone: str, on_call: bool) -> Responder | None:
    """A peer responder goes on or off call by text (ON / OFF, DISPO / PAUSE). None when the
    number is not an active responder's."""
    found = list(Responder.objects.filter(phone_index=phone_index(phone), active=True))
    for responder in found:
        if responder.on_call != on_call:
            Responder.objects.filter(pk=responder.pk).update(
                on_call=on_call, updated_at=timezone.now()
            )
            audit.record(
                action=AuditAction.RESPONDER_CHANGED, organization=responder.organization,
                obj=responder, label="responder by text", metadata={"on_call": on_call},
            )  # fmt: skip
    return found[0] if found else None


def debrief(callout_id: Any, answers: dict[str, Any]) -> None:
    Callout.objects.filter(pk=callout_id).update(debrief=answers)


def dispatcher_outcome(session_id: Any, *, outcome: str, actor: Any) -> str:
    """A dispatcher closes a session: EMS called, reached by phone, false alarm."""
    if outcome not in DISPATCH_OUTCOMES:
        raise ValidationError(_("Choose what happened."))

    def once() -> str:
        now = timezone.now()
        session = Session.objects.get(pk=session_id)
        if not session.is_open:
            return "already-ended"
        _end(session, now, outcome)
        _event(session, Step.ENDED, "dispatcher", at=now, outcome=outcome, user=actor.pk)
        return "ended"

    return str(_retrying(once))


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
