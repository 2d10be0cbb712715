"""Never use alone: every step of a check-in with a controlled clock, by text and on the web,
with the real outbox delivering to the local Twilio stub and SMTP server."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from harbour.checkins import services, watchdog
from harbour.checkins.models import (
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
from harbour.core import clock
from harbour.core.models import AuditEvent
from harbour.core.roles import Role
from harbour.notify import services as notify
from harbour.notify.models import Message

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 22, 0, tzinfo=UTC)
PERSON = "+16135550142"
FRIEND = "+16135550177"
RESPONDER_1 = "+16135550111"
RESPONDER_2 = "+16135550122"


@pytest.fixture
def program(make_org):  # type: ignore[no-untyped-def]
    org = make_org("kingston-hr")
    return Program.objects.create(
        organization=org, is_default=True, areas=" K7L K7K ", grace_seconds=60,
        accept_seconds=120, arrival_seconds=900, purge_hours=24,
    )  # fmt: skip


def responder(program, phone, **kwargs):  # type: ignore[no-untyped-def]
    values = {
        "alias": f"R{phone[-3:]}",
        "naloxone_trained_until": date(2027, 6, 1),
        "on_call": True,
        "areas": " K7L ",
        **kwargs,
    }
    return Responder.objects.create(
        organization=program.organization,
        phone=phone,
        phone_index=services.phone_index(phone),
        **values,
    )


def deliver() -> None:
    while notify.deliver_due(limit=50):
        pass


def texts(twilio, to: str | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    deliver()
    return [r["form"]["Body"] for r in twilio.requests if to is None or r["form"]["To"] == to]


def start(program, **kwargs):  # type: ignore[no-untyped-def]
    data = {
        "alias": "Sam",
        "phone": "613 555 0142",
        "minutes": 10,
        "address": "12 Princess St, apt 3",
        "access_notes": "buzz 3, door sticks",
        "fsa": "K7L",
        **kwargs,
    }
    session = services.start(services.Start(**data), program=program)
    # the state machine tests start from a confirmed number (tests/privacy covers the rest)
    services.confirm(session.pk, by_reply=True)
    session.refresh_from_db()
    return session


def at(seconds: float):  # type: ignore[no-untyped-def]
    return T0 + timedelta(seconds=seconds)


def test_starting_refuses_bad_input_with_the_fields_named(program, make_member):
    with pytest.raises(ValidationError) as err:
        start(program, minutes=61, phone="12", contacts=("not a number",), fsa="999")
    assert set(err.value.message_dict) == {"minutes", "phone", "contacts", "fsa"}
    with pytest.raises(ValidationError) as err:
        start(program, minutes=1, phone="")
    assert set(err.value.message_dict) == {"minutes", "phone"}
    # an operator may start one for a caller with no phone: the prompt is a call back
    operator = make_member(program.organization, Role.PEER_WORKER)
    with pytest.raises(ValidationError):
        start(program, phone="", minutes=2)
    session = services.start(
        services.Start(alias="Caller", minutes=2), program=program, started_by=operator
    )
    assert session.phone == "" and session.minutes == 2
    assert Session.objects.count() == 1


def test_the_whole_path_timer_prompt_responders_accept_arrive_outcome(program, twilio, sms_in):
    r1 = responder(program, RESPONDER_1, lang="fr")
    responder(program, RESPONDER_2)
    with time_machine.travel(T0, tick=False) as clock_:
        session = start(program, contacts=(FRIEND,), position="44.2312,-76.4860")
        assert session.due_at == at(600)
        assert "started: 10 min" in texts(twilio, PERSON)[0]

        clock_.move_to(at(599))
        assert services.advance_due() == 0
        clock_.move_to(at(600.4))
        assert services.advance_due() == 1
        session.refresh_from_db()
        assert session.state == State.PROMPTED and session.due_at == at(660.4)
        assert "Reply OK if you are all right" in texts(twilio, PERSON)[-1]

        clock_.move_to(at(660))
        assert services.advance_due() == 0  # grace not over yet
        clock_.move_to(at(661))
        assert services.advance_due() == 1
        session.refresh_from_db()
        assert session.state == State.CALLING and session.escalated_at == at(661)
        callouts = list(session.callouts.order_by("asked_at", "responder"))
        assert {c.phone for c in callouts} == {FRIEND, RESPONDER_1, RESPONDER_2}
        friend_text = texts(twilio, FRIEND)[0]
        assert "Sam asked Harbour to contact you" in friend_text
        assert "12 Princess St, apt 3" in friend_text and "buzz 3, door sticks" in friend_text
        assert "mlat=44.23120&mlon=-76.48600" in friend_text and "/checkin/r/" in friend_text
        assert texts(twilio, RESPONDER_1)[0].startswith("SUIVI HARBOUR\u00a0:")  # in French
        assert "asking someone to check on you" in texts(twilio, PERSON)[-1]

        clock_.move_to(at(700))
        assert sms_in("GO", "SMgo1", sender=RESPONDER_1).status_code == 200
        session.refresh_from_db()
        mine = Callout.objects.get(session=session, responder=r1)
        assert session.state == State.ASSIGNED and session.responder_id == mine.pk
        assert session.accepted_at == at(700) and session.due_at == at(700 + 900)
        assert "stand down" in texts(twilio, RESPONDER_2)[-1]
        assert "stand down" in texts(twilio, FRIEND)[-1]
        assert "Répondez ICI" in texts(twilio, RESPONDER_1)[-1]
        assert "on the way" in texts(twilio, PERSON)[-1]
        # the friend accepting too late is told someone is already going
        sms_in("GO", "SMgo2", sender=FRIEND)
        assert Session.objects.get(pk=session.pk).responder_id == mine.pk

        clock_.move_to(at(1000))
        sms_in("ICI", "SMhere", sender=RESPONDER_1)
        session.refresh_from_db()
        assert session.state == State.ON_SCENE and session.due_at is None
        assert services.finish(mine.pk, outcome=Outcome.NALOXONE, naloxone_doses=2) == "done"
    session.refresh_from_db()
    mine.refresh_from_db()
    assert session.state == State.ENDED and session.outcome == Outcome.NALOXONE
    assert session.naloxone_doses == 2 and mine.status == CalloutStatus.DONE
    steps = list(session.events.values_list("step", flat=True))
    assert steps == [
        Step.STARTED, Step.PROMPTED, Step.ESCALATED, Step.ACCEPTED, Step.ARRIVED, Step.ENDED,
    ]  # fmt: skip
    accepted = session.events.get(step=Step.ACCEPTED)
    assert accepted.detail["seconds"] == 39.0  # escalated at 661 s, accepted at 700 s
    assert session.events.get(step=Step.ARRIVED).detail["seconds"] == 300.0
    # lateness of each timed step is on record: due 600 s, fired 600.4 s
    prompted = session.events.get(step=Step.PROMPTED)
    assert (prompted.at - prompted.due_at).total_seconds() == pytest.approx(0.4)


def test_ok_restarts_the_timer_and_two_oks_are_one(program, twilio, sms_in):
    with time_machine.travel(T0, tick=False) as clock_:
        session = start(program)
        clock_.move_to(at(300))
        sms_in("ok", "SMok1")
        sms_in("ok", "SMok1")  # Twilio retried the webhook
        session.refresh_from_db()
        assert session.state == State.ACTIVE and session.due_at == at(900)
        assert session.events.filter(step=Step.OK).count() == 1
        assert len([t for t in texts(twilio, PERSON) if "timer starts again" in t]) == 1
        clock_.move_to(at(400))
        sms_in("MORE 15", "SMmore")
        session.refresh_from_db()
        # 15 more minutes on top of the 500 seconds still left
        assert session.due_at == at(900 + 900) and session.minutes == 15
        sms_in("MORE 99", "SMmore2")
        assert "between 2 and 60" in texts(twilio, PERSON)[-1]
        assert Session.objects.get(pk=session.pk).due_at == at(1800)
        clock_.move_to(at(1800))
        services.advance_due()
        sms_in("OK", "SMok2")
        session.refresh_from_db()
        assert session.state == State.ENDED and session.outcome == Outcome.OK
        assert "Glad you are okay" in texts(twilio, PERSON)[-1]
        # a reply after the end is answered politely and changes nothing
        sms_in("MORE 10", "SMlate")
        session.refresh_from_db()
        assert session.state == State.ENDED and session.ended_at == at(1800)
        assert "has ended, nothing was changed" in texts(twilio, PERSON)[-1]


def test_unknown_words_get_the_check_in_help_in_the_persons_language(program, twilio, sms_in):
    start(program, lang="fr")
    sms_in("bonjour", "SMx1")
    assert texts(twilio, PERSON)[-1].startswith("Suivi Harbour\u00a0:")
    assert sms_in("OK", "SMbad", sender=PERSON).status_code == 200
    # a forged webhook is refused
    from django.test import Client

    forged = Client().post(
        "/notify/twilio/inbound/",
        {"From": PERSON, "Body": "DONE", "MessageSid": "SMf"},
        HTTP_X_TWILIO_SIGNATURE="bad",
    )
    assert forged.status_code == 403


def test_checkin_by_text_message(program, twilio, sms_in):
    sms_in("CHECKIN 15 K7L", "SMc1")
    session = Session.objects.get()
    assert session.minutes == 15 and session.fsa == "K7L" and session.phone == PERSON
    assert "started: 15 min" in texts(twilio, PERSON)[-1]
    sms_in("CHECKIN 5", "SMc2")
    assert "already running" in texts(twilio, PERSON)[-1]
    sms_in("DONE", "SMc3")
    sms_in("SUIVI 99", "SMc4")
    assert "entre 2 et 60" in texts(twilio, PERSON)[-1]
    assert Session.objects.count() == 1


def test_responders_go_on_and_off_call_by_text(program, twilio, sms_in):
    # given an on-call responder who reads French
    jo = responder(program, RESPONDER_1, lang="fr")
    # when they text PAUSE, then ON
    sms_in("PAUSE", "SMa1", sender=RESPONDER_1)
    jo.refresh_from_db()
    assert jo.on_call is False
    assert "vous n’êtes plus de garde" in texts(twilio, RESPONDER_1)[-1]
    sms_in("on", "SMa2", sender=RESPONDER_1)
    jo.refresh_from_db()
    assert jo.on_call is True
    assert AuditEvent.objects.filter(action="responder-changed", object_id=str(jo.pk)).count() == 2
    # and a number that is no responder's gets the general help, changing nothing
    sms_in("OFF", "SMa3", sender=FRIEND)
    assert "HELP" in texts(twilio, FRIEND)[-1] or "STOP" in texts(twilio, FRIEND)[-1]
    assert Responder.objects.filter(on_call=True).count() == 1


def test_nobody_accepts_so_the_dispatcher_is_alerted_by_email(
    program, twilio, smtp, make_member, staff_client
):
    responder(program, RESPONDER_1)
    dispatcher = make_member(program.organization, Role.PEER_WORKER)
    OnDuty.objects.create(organization=program.organization, user=dispatcher)
    with time_machine.travel(T0, tick=False) as clock_:
        session = start(program)
        for seconds in (600, 660, 779):
            clock_.move_to(at(seconds))
            services.advance_due()
        assert Session.objects.get(pk=session.pk).state == State.CALLING
        clock_.move_to(at(780))
        assert services.advance_due() == 1
    session.refresh_from_db()
    assert session.state == State.DISPATCH and session.dispatched_at == at(780)
    deliver()
    assert [m["To"] for m in smtp.messages] == [dispatcher.email]
    assert "needs a dispatcher now: Sam" in smtp.messages[0].get_payload(decode=True).decode()

    web = staff_client(dispatcher)
    board = web.get(f"/org/{program.organization.slug}/checkins/").content.decode()
    assert "Needs the dispatcher" in board and 'role="alert"' in board
    url = f"/org/{program.organization.slug}/checkins/s/{session.pk}/outcome/"
    assert web.post(url, {"outcome": "phone"}).status_code == 302
    session.refresh_from_db()
    assert session.state == State.ENDED and session.outcome == Outcome.REACHED_BY_PHONE
    assert AuditEvent.objects.filter(action="checkin-closed", object_id=str(session.pk)).exists()
    # the responder who was asked is told to stand down
    assert "stand down" in texts(twilio, RESPONDER_1)[-1]


def test_with_nobody_to_call_the_dispatcher_is_alerted_at_once(program, twilio):
    with time_machine.travel(T0, tick=False) as clock_:
        session = start(program)
        clock_.move_to(at(600))
        services.advance_due()
        clock_.move_to(at(660))
        services.advance_due()
    session.refresh_from_db()
    assert session.state == State.DISPATCH and session.escalated_at == at(660)
    assert session.callouts.count() == 0


def test_a_responder_who_does_not_arrive_brings_in_the_dispatcher(program, twilio):
    one = responder(program, RESPONDER_1)
    with time_machine.travel(T0, tick=False) as clock_:
        session = start(program)
        for seconds in (600, 660):
            clock_.move_to(at(seconds))
            services.advance_due()
        callout = Callout.objects.get(responder=one)
        clock_.move_to(at(700))
        assert services.accept(callout.pk) == "assigned"
        clock_.move_to(at(1600))
        assert services.advance_due() == 1
        session.refresh_from_db()
        assert session.state == State.DISPATCH and session.responder_id == callout.pk
        # arriving late still counts, and the dispatcher still sees the session
        assert services.arrive(callout.pk) == "arrived"
    session.refresh_from_db()
    assert session.state == State.DISPATCH and session.arrived_at == at(1600)


def test_two_responders_accepting_at_once_one_wins(program, twilio):
    one, two = responder(program, RESPONDER_1), responder(program, RESPONDER_2)
    with time_machine.travel(T0, tick=False) as clock_:
        session = start(program)
        for seconds in (600, 660):
            clock_.move_to(at(seconds))
            services.advance_due()
    first = Callout.objects.get(responder=one)
    second = Callout.objects.get(responder=two)
    # the second read the session before the first accepted: its compare-and-set fails, it
    # reads again and sees the session taken
    assert services.accept(first.pk) == "assigned"
    assert services.accept(second.pk) == "closed"  # it was stood down by the first
    assert services.accept(first.pk) == "already-assigned"
    session.refresh_from_db()
    assert session.responder_id == first.pk
    assert Event.objects.filter(session=session, step=Step.ACCEPTED).count() == 1


def test_stale_version_never_repeats_a_step(program, twilio):
    responder(program, RESPONDER_1)
    with time_machine.travel(at(600), tick=False):
        session = start(program, minutes=2)
    with time_machine.travel(at(600 + 120), tick=False):
        stale = Session.objects.get(pk=session.pk)
        assert services.advance_due() == 1
        with pytest.raises(services.Conflict), transaction.atomic():
            services._timed_step(stale, at(720))
        assert services.advance_due() == 0  # already moved: nothing repeats
    assert Event.objects.filter(session=session, step=Step.PROMPTED).count() == 1
    assert Message.objects.filter(idempotency_key__contains=":prompt:").count() == 1


def test_a_worker_killed_mid_step_leaves_nothing_half_done(program, twilio, monkeypatch):
    """The step and its messages are one transaction: a crash between them undoes both, and
    the next pass (the restarted worker) does the step exactly once."""
    responder(program, RESPONDER_1)
    with time_machine.travel(T0, tick=False) as clock_:
        session = start(program, contacts=(FRIEND,))
        clock_.move_to(at(600))
        services.advance_due()
        clock_.move_to(at(661))
        real = notify.enqueue

        def crash(**kwargs):  # type: ignore[no-untyped-def]
            if ":callout:" in kwargs["key"] and kwargs["to"] == RESPONDER_1:
                raise SystemExit("killed")
            return real(**kwargs)

        monkeypatch.setattr(notify, "enqueue", crash)
        with pytest.raises(SystemExit):
            services.advance_due()
        session.refresh_from_db()
        assert session.state == State.PROMPTED and session.callouts.count() == 0
        assert not Message.objects.filter(idempotency_key__contains=":callout:").exists()
        monkeypatch.setattr(notify, "enqueue", real)
        clock_.move_to(at(663))
        assert services.advance_due() == 1
        assert services.advance_due() == 0
    session.refresh_from_db()
    assert session.state == State.CALLING and session.callouts.count() == 2
    assert Message.objects.filter(idempotency_key__contains=":callout:").count() == 2
    assert Event.objects.filter(session=session, step=Step.ESCALATED).count() == 1


def test_training_sessions_never_reach_real_responders_or_contacts(program, twilio):
    responder(program, RESPONDER_1)
    trainee = responder(program, RESPONDER_2, training=True)
    with time_machine.travel(T0, tick=False) as clock_:
        session = start(program, contacts=(FRIEND,), training=True)
        for seconds in (600, 660):
            clock_.move_to(at(seconds))
            services.advance_due()
    assert [c.responder_id for c in session.callouts.all()] == [trainee.pk]
    assert texts(twilio, RESPONDER_1) == [] and texts(twilio, FRIEND) == []
    assert "(TRAINING)" in texts(twilio, RESPONDER_2)[0]


def test_only_on_call_trained_responders_of_the_area_are_called(program, twilio):
    called = responder(program, RESPONDER_1, areas="")  # all areas
    responder(program, RESPONDER_2, naloxone_trained_until=date(2025, 1, 1))
    responder(program, "+16135550133", on_call=False)
    responder(program, "+16135550144", areas=" K7K ")
    with time_machine.travel(T0, tick=False) as clock_:
        session = start(program)
        for seconds in (600, 660):
            clock_.move_to(at(seconds))
            services.advance_due()
    assert [c.responder_id for c in session.callouts.all()] == [called.pk]


def test_locations_are_encrypted_and_purged_after_the_session(program, twilio, client):
    from django.db import connection

    with time_machine.travel(T0, tick=False) as clock_:
        session = start(program, contacts=(FRIEND,))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT address, access_notes, phone FROM checkins_session WHERE id = %s",
                [session.pk.hex if connection.vendor == "sqlite" else session.pk],
            )
            raw = " ".join(cursor.fetchone())
        assert "Princess" not in raw and "buzz" not in raw and "555" not in raw
        services.reply(session.pk, "done")
        clock_.move_to(T0 + timedelta(hours=23))
        assert services.purge() == 0
        clock_.move_to(T0 + timedelta(hours=24, seconds=1))
        assert services.purge() == 1
    session.refresh_from_db()
    assert (session.address, session.access_notes, session.phone, session.contacts) == ("",) * 4
    assert client.get(f"/checkin/s/{session.token}/").status_code == 404


def test_the_watchdog_tells_staff_on_duty_without_the_worker(
    program, twilio, smtp, make_member, client
):
    dispatcher = make_member(program.organization, Role.PEER_WORKER)
    OnDuty.objects.create(organization=program.organization, user=dispatcher, phone=FRIEND)
    with time_machine.travel(T0, tick=False) as clock_:
        start(program)
        clock.beat("clock:test")
        clock_.move_to(at(602))
        clock.beat("clock:test")  # the clock runs, but has not taken the step
        assert watchdog.check() == "ok"  # 2 s late: within the threshold
        clock_.move_to(at(607))
        # the details are for staff and API keys (anyone else reads "ok" or "stale" only)
        from harbour.accounts.services import api_key_create

        admin = make_member(program.organization, Role.ORG_ADMIN, email="boss@example.org")
        key = api_key_create(organization=program.organization, name="monitor", actor=admin)
        health = client.get("/api/v1/health", HTTP_X_API_KEY=key.secret).json()
        assert health["status"] == "degraded" and health["checkins"]["lag_seconds"] == 7.0
        assert client.get("/api/v1/health").json() == {"status": "stale"}
        assert watchdog.check() == "told"
        assert watchdog.check() == "still-behind"
        # the email and the text went straight out: nothing was left for the worker
        assert [m["To"] for m in smtp.messages] == [dispatcher.email]
        assert [r["form"]["To"] for r in twilio.requests] == [FRIEND]
        assert not Message.objects.filter(recipient_index__isnull=False, channel="email").exists()
        services.advance_due()
        clock.beat("clock:test")
        assert watchdog.check() == "recovered"
    assert len(smtp.messages) == 2


def test_a_stopped_clock_with_sessions_waiting_is_reported(program):
    with time_machine.travel(T0, tick=False) as clock_:
        clock.beat("clock:test")
        start(program)
        clock_.move_to(at(20))
        assert watchdog.status()["status"] == "behind"  # no beat for 20 s, a session waits


def test_urgent_messages_go_before_a_fan_out(twilio):
    for n in range(5):
        notify.enqueue(key=f"bulk:{n}", channel="sms", to=f"+1613555010{n}", body="alert")
    notify.enqueue(key="urgent", channel="sms", to=PERSON, body="are you ok", urgent=True)
    assert notify.deliver_due(limit=1) == 1
    assert twilio.requests[0]["form"]["Body"] == "are you ok"


def test_the_person_uses_the_web_page_in_french(program, twilio, client):
    client.cookies["django_language"] = "fr"
    page = client.post(
        "/checkin/",
        {"alias": "Sam", "phone": "12", "minutes": "10", "fsa": "K7L", "nonce": "n1"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert "pas un numéro de cellulaire" in page.content.decode()
    response = client.post(
        "/checkin/",
        {"alias": "Sam", "phone": PERSON, "minutes": "15", "fsa": "k7l", "nonce": "n2"},
    )
    session = Session.objects.get()
    assert response["Location"] == "/checkin/me/"  # no token in the address bar or logs
    assert session.lang == "fr" and session.fsa == "K7L"
    started = texts(twilio, PERSON)[0]
    assert "Suivi Harbour commencé\u00a0: 15 min" in started
    # the number typed on the web is confirmed with the code texted to it
    code = re.search(r"\b(\d{6})\b", started).group(1)  # type: ignore[union-attr]
    client.post("/checkin/me/confirm/", {"code": code})
    assert Session.objects.get().confirmed_at is not None
    # the same form sent twice starts one session
    client.post("/checkin/", {"alias": "Sam", "phone": PERSON, "minutes": "15", "nonce": "n2"})
    assert Session.objects.count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "Temps restant" in page
    url = "/checkin/me/ok/"
    client.post(url, {"nonce": "x1"})
    client.post(url, {"nonce": "x1"})
    assert session.events.filter(step=Step.OK).count() == 1
    client.post("/checkin/me/done/", {"nonce": "x2"})
    assert Session.objects.get().state == State.ENDED


def test_the_responder_page_records_outcome_and_debrief(program, twilio, client):
    one = responder(program, RESPONDER_1)
    with time_machine.travel(T0, tick=False) as clock_:
        session = start(program)
        for seconds in (600, 660):
            clock_.move_to(at(seconds))
            services.advance_due()
    callout = Callout.objects.get(responder=one)
    link = client.get(f"/checkin/r/{callout.token}/")
    assert link.status_code == 302 and callout.token not in link["Location"]
    url = link["Location"]
    page = client.get(url).content.decode()
    assert "12 Princess St, apt 3" in page and "buzz 3" in page
    client.post(url, {"step": "go", "nonce": "g"})
    client.post(url, {"step": "here", "nonce": "h"})
    page = client.post(url, {"step": "outcome", "outcome": "naloxone"}).content.decode()
    assert "How many doses" in page
    client.post(url, {"step": "outcome", "outcome": "naloxone", "naloxone_doses": "3"})
    session.refresh_from_db()
    assert session.state == State.ENDED and session.naloxone_doses == 3
    client.post(url, {"step": "debrief", "feeling": "shaken", "call_me": "on", "notes": ""})
    callout.refresh_from_db()
    assert callout.debrief == {"feeling": "shaken", "call_me": True, "notes": ""}
    assert client.get("/checkin/r/not-a-token/").status_code == 404


def test_the_dispatcher_view_is_for_the_operating_organization_only(
    program, make_org, make_member, staff_client
):
    other = make_org("elsewhere")
    outsider = make_member(other, Role.ORG_ADMIN)
    session = start(program)
    web = staff_client(outsider)
    slug = program.organization.slug
    assert web.get(f"/org/{slug}/checkins/").status_code == 404
    assert (
        web.post(f"/org/{slug}/checkins/s/{session.pk}/outcome/", {"outcome": "ems"}).status_code
        == 404
    )
    assert web.get(f"/org/{other.slug}/checkins/s/{session.pk}/").status_code == 404
    assert Session.objects.get(pk=session.pk).state == State.ACTIVE


def test_an_operator_starts_a_session_for_a_caller(program, make_member, staff_client):
    operator = make_member(program.organization, Role.PEER_WORKER)
    web = staff_client(operator)
    slug = program.organization.slug
    page = web.post(f"/org/{slug}/checkins/start/", {"alias": "Caller", "minutes": "90"})
    assert "Ensure this value is less than or equal to 60" in page.content.decode()
    web.post(f"/org/{slug}/checkins/start/", {"alias": "Caller", "minutes": "20", "nonce": "o1"})
    session = Session.objects.get()
    assert session.started_by == operator and session.phone == "" and session.minutes == 20
    board = web.get(f"/org/{slug}/checkins/").content.decode()
    assert "No phone: call them back" in board


def test_the_clock_thread_advances_what_is_due(program, twilio, monkeypatch):
    """The worker's clock: one pass advances the due session and sends its prompt at once."""
    with time_machine.travel(T0, tick=False) as clock_:
        session = start(program, minutes=2)
        deliver()
        clock_.move_to(at(121))
        assert clock.tick() == 1
        while notify.deliver_due(limit=20, urgent_only=True):
            pass
    assert Session.objects.get(pk=session.pk).state == State.PROMPTED
    assert re.search(r"time is up", twilio.requests[-1]["form"]["Body"])


@pytest.mark.parametrize(
    ("reach", "action", "state", "outcome", "stood_down"),
    [
        (State.PROMPTED, "more", State.ACTIVE, "", 0),
        (State.PROMPTED, "done", State.ENDED, Outcome.ENDED_BY_PERSON, 0),
        (State.CALLING, "ok", State.ENDED, Outcome.OK, 1),
        (State.CALLING, "more", State.ACTIVE, "", 1),
        (State.ASSIGNED, "done", State.ENDED, Outcome.ENDED_BY_PERSON, 1),
        (State.DISPATCH, "ok", State.ENDED, Outcome.OK, 1),
    ],
)
def test_the_person_answering_at_every_step(
    program, twilio, reach, action, state, outcome, stood_down
):  # type: ignore[no-untyped-def]
    one = responder(program, RESPONDER_1)
    with time_machine.travel(T0, tick=False) as clock_:
        session = start(program)
        for seconds in (600, 660, 780):
            if Session.objects.get(pk=session.pk).state == reach:
                break
            clock_.move_to(at(seconds))
            services.advance_due()
            if reach == State.ASSIGNED and seconds == 660:
                services.accept(Callout.objects.get(responder=one).pk)
        assert Session.objects.get(pk=session.pk).state == reach
        replied_at = timezone.now()
        services.reply(session.pk, action, minutes=20 if action == "more" else None)
    session.refresh_from_db()
    assert session.state == state and session.outcome == outcome
    if state == State.ACTIVE:
        assert session.due_at == replied_at + timedelta(minutes=20)
    else:
        assert session.due_at is None and session.ended_at == replied_at
    told = [t for t in texts(twilio, RESPONDER_1) if "stand down" in t]
    assert len(told) == stood_down


def test_purge_hours_are_bounded_in_the_form_and_the_database(program):
    from django.db import IntegrityError

    from harbour.checkins.forms import ProgramForm
    from harbour.checkins.models import PURGE_HOURS_MAX

    data = {"enabled": "on", "areas": "K7L", "grace_seconds": 60, "accept_seconds": 120,
            "arrival_seconds": 900, "purge_hours": PURGE_HOURS_MAX + 1}  # fmt: skip
    form = ProgramForm(data, instance=program)
    assert not form.is_valid() and "purge_hours" in form.errors
    with pytest.raises(IntegrityError), transaction.atomic():
        Program.objects.filter(pk=program.pk).update(purge_hours=24 * 365)


def test_the_staff_page_shows_how_a_session_was_started(program, make_member, staff_client):
    worker = make_member(program.organization, Role.PEER_WORKER)
    unconfirmed = services.start(
        services.Start(alias="Sam", phone=PERSON, fsa="K7L"), program=program
    )
    page = staff_client(worker).get(
        f"/org/{program.organization.slug}/checkins/s/{unconfirmed.pk}/"
    )
    assert page.status_code == 200
    assert "the web page" in page.content.decode()
    assert "number not confirmed" in page.content.decode()


@pytest.mark.parametrize("typed", ["K7L 1A1", "k7l1a1", "k7l"])
def test_a_full_or_lowercase_postal_code_of_a_served_area_starts_a_check_in(
    program, twilio, client, typed
):
    # given the program serves K7L; when the person types their postal code as they know it
    response = client.post(
        "/checkin/",
        {"alias": "Sam", "phone": PERSON, "minutes": "15", "fsa": typed, "nonce": "n9"},
    )
    # then the session starts in K7L (it is not refused as an area nobody serves)
    assert response.status_code == 302 and response["Location"] == "/checkin/me/"
    assert Session.objects.get().fsa == "K7L"
