"""Responders going, arriving and finishing; dispatchers closing a session."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from harbour.checkins.models import (
    Callout,
    CalloutStatus,
    Outcome,
    Responder,
    Session,
    State,
    Step,
)
from harbour.checkins.services.common import _cas, _event, _retrying, _send, phone_index
from harbour.checkins.services.sessions import _end, _stand_down
from harbour.checkins.services.steps import respond_link
from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.surveillance.models import Source
from harbour.surveillance.services import EventIn, event_record

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
