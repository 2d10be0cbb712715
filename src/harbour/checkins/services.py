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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Min, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from harbour.checkins.models import (
    OPEN_STATES,
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


def _fsa(raw: str) -> str:
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
    """The program serving this postal area, else the default one."""
    programs = Program.objects.filter(enabled=True, organization__is_active=True)
    if fsa:
        found = programs.filter(areas__contains=f" {fsa} ").first()
        if found is not None:
            return found
    return programs.order_by("-is_default", "created_at").first()


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
        out["fsa"] = _fsa(data.fsa)
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
) -> Session:
    """Start a check-in: its timer runs from now. ``started_by`` is the operator who started it
    for a caller (then the phone number is optional: the operator calls). ValidationError
    names every field that is wrong."""
    clean = _clean(data, operator=started_by is not None)
    program = program or program_for(clean["fsa"])
    if program is None:
        raise ValidationError(_("No check-in service is taking sessions here yet."))
    now = timezone.now()
    lang = _lang(data.lang)
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
            started_at=now,
            due_at=now + timedelta(minutes=data.minutes),
        )
        _event(session, Step.STARTED, "operator" if started_by else "person", at=now, source=source)
        with translation.override(lang):
            _send(
                f"checkin:{session.pk}:started",
                session.phone,
                _(
                    "Harbour check-in started: %(minutes)s min. We will text you when time is "
                    "up. Reply OK to restart the timer, MORE 10 for 10 more minutes, DONE to "
                    "end. Emergency: 911."
                )
                % {"minutes": data.minutes},
                lang,
            )
    return session


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
                _(
                    "Harbour: your check-in time is up. Reply OK if you are all right, or MORE "
                    "10 for more time. If we do not hear from you in %(seconds)s seconds, we "
                    "will send someone."
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


def _escalate(session: Session, now: datetime, due: datetime | None) -> None:
    program = session.program
    asked: list[tuple[str, str, Responder | None]] = []
    if not session.training:
        asked += [(number, session.lang, None) for number in session.contacts.split() if number]
    asked += [(r.phone, r.lang, r) for r in responders_for(session)]
    seen: set[str] = set()
    callouts = []
    for number, lang, responder in asked:
        if number in seen or number == session.phone:
            continue
        seen.add(number)
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
        _event(session, Step.ESCALATED, "clock", at=now, due_at=due, asked=0)
        _dispatch(session, now, None, why="no-responders")
        return
    _cas(
        session,
        state=State.CALLING,
        escalated_at=now,
        due_at=now + timedelta(seconds=program.accept_seconds),
    )
    _event(session, Step.ESCALATED, "clock", at=now, due_at=due, asked=len(callouts))
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
                    _where(session) + ".",
                    _("Reply GO if you can go now, or open %(link)s")
                    % {"link": respond_link(callout)},
                ]
            )
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
    return absolute_url("checkins:respond", token=callout.token)


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
    """A reversal by a responder counts in spike detection: the postal area only, no person."""
    if not session.fsa or session.training:
        return
    event_record(
        organization=session.program.organization,
        data=EventIn(
            occurred_at=now, source=Source.CHECKIN, source_ref=f"checkin:{session.pk}",
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


def purge(now: datetime | None = None) -> int:
    """Erase where people were (address, position, access notes, contacts, phone numbers) once
    their program's ``purge_hours`` have passed since the session ended."""
    now = now or timezone.now()
    erased = 0
    for program in Program.objects.all():
        cutoff = now - timedelta(hours=program.purge_hours)
        ids = list(
            Session.objects.filter(
                program=program, state=State.ENDED, ended_at__lte=cutoff, purged_at__isnull=True
            ).values_list("pk", flat=True)
        )
        if not ids:
            continue
        with transaction.atomic():
            Session.objects.filter(pk__in=ids).update(
                address="", position="", access_notes="", contacts="", phone="", push="",
                purged_at=now,
            )  # fmt: skip
            Callout.objects.filter(session_id__in=ids).update(phone="")
        erased += len(ids)
    return erased


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
