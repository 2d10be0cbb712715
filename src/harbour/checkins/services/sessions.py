"""Starting a check-in, confirming its number, and the person's replies."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from harbour.checkins.models import (
    Callout,
    CalloutStatus,
    Event,
    Outcome,
    Program,
    Session,
    State,
    Step,
    Via,
)
from harbour.checkins.services.common import (
    DEFAULT_MINUTES,
    MAX_CONTACTS,
    MAX_MINUTES,
    MIN_MINUTES,
    _cas,
    _event,
    _lang,
    _retrying,
    _send,
    crisis_lines,
    not_served,
    phone_index,
    postal_area,
    program_for,
)
from harbour.notify import addresses
from harbour.notify.crypto import blind_index

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


def _new_due(session: Session, now: datetime, action: str, length: int) -> datetime:
    """``ok`` restarts the timer from now. ``more`` adds ``length`` minutes to the time still
    left (a session still counting down keeps what it had: 7 minutes left and 10 more is 17),
    from now once the time is up; never more than ``MAX_MINUTES`` ahead of now."""
    if action != "more" or session.state != State.ACTIVE or not session.due_at:
        return now + timedelta(minutes=length)
    base = max(session.due_at, now)
    return min(base + timedelta(minutes=length), now + timedelta(minutes=MAX_MINUTES))


def reply(
    session_id: Any,
    action: str,
    *,
    minutes: int | None = None,
    source: str | None = None,
    by: str = "person",
) -> str:
    """The person answers: ``ok`` (restarts the timer; after the prompt or once help was called,
    ends the session as all right), ``more`` (``minutes`` more, 2–60, added to the time left,
    see ``_new_due``), ``done`` (ends it).
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
            due_at=_new_due(session, now, action, length),
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
