"""Attack tests (issue 16): what is erased stays erased, and the public check-in cannot be turned
against someone. Each test is written as the attack, with the real database, the real outbox
delivering to the local Twilio stub, the real task worker; nothing under test is mocked.

- after a check-in is purged, search every column of every table for the address, the access
  notes and the phone numbers (decrypting what the app can decrypt): nothing;
- the same after a mentoring request is purged;
- a session left open for days is closed and purged;
- the acknowledgement of an anonymous REPORT keeps neither the number nor the inbound id;
- a web check-in for someone else's number never texts a contact or a responder;
- a flood of call-outs against one contact number is capped;
- a check-in from an area nobody serves is refused, plainly, with the crisis lines;
- the token in a text's link does not stay in the address bar (logs, Referer)."""

from __future__ import annotations

import importlib.util
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from harbour.alerts.models import CommunityReport
from harbour.checkins import services
from harbour.checkins.models import Callout, Program, Responder, Session, State
from harbour.checkins.tasks import purge as purge_task
from harbour.core.roles import Role
from harbour.notify import services as notify
from harbour.notify.models import Message, Status
from harbour.surveillance.models import OverdoseEvent

pytestmark = pytest.mark.django_db(transaction=False)

T0 = datetime(2026, 11, 20, 22, 0, tzinfo=UTC)
PERSON = "+16135550142"
FRIEND = "+16135550177"
RESPONDER = "+16135550111"
ADDRESS = "12 Princess St, apt 3"
NOTES = "buzz 3, the key is under the blue pot"


# --- searching the whole database ---------------------------------------------------------------


def _load_dbscan() -> Any:
    """The one whole-database search of the privacy tests (``dbscan.py``, loaded by path)."""
    spec = importlib.util.spec_from_file_location(
        "harbour_privacy_dbscan", Path(__file__).with_name("dbscan.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


find_everywhere = _load_dbscan().find_everywhere


def search_everything(needles: list[str]) -> list[str]:
    """Every ``table.column`` of the database that still holds one of ``needles`` (every table,
    every column, encrypted values decrypted, phone numbers in any format)."""
    return [f"{t}.{c}: {needle}" for needle in needles for t, c in find_everywhere(needle)]


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def program(make_org):  # type: ignore[no-untyped-def]
    org = make_org("kingston-hr")
    return Program.objects.create(
        organization=org, is_default=True, areas=" K7L K7K ", grace_seconds=60,
        accept_seconds=120, arrival_seconds=900, purge_hours=24,
    )  # fmt: skip


def responder(program: Program, phone: str) -> Responder:
    return Responder.objects.create(
        organization=program.organization, alias=f"R{phone[-3:]}", phone=phone,
        phone_index=services.phone_index(phone), naloxone_trained_until=date(2027, 6, 1),
        on_call=True, areas=" K7L ",
    )  # fmt: skip


def deliver() -> None:
    while notify.deliver_due(limit=50):
        pass


def texts_to(twilio: Any, number: str) -> list[str]:
    deliver()
    return [r["form"]["Body"] for r in twilio.requests if r["form"]["To"] == number]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def web_start(client: Any, *, phone: str, contact: str = "", fsa: str = "K7L", nonce: str = "n1"):  # type: ignore[no-untyped-def]
    return client.post(
        "/checkin/",
        {
            "alias": "Sam", "phone": phone, "minutes": "10", "address": ADDRESS,
            "access_notes": NOTES, "fsa": fsa, "contact_1": contact, "nonce": nonce,
        },
    )  # fmt: skip


def time_runs_out(clock: Any, start: float = 0) -> None:
    """The timer (10 minutes), then the grace to answer the prompt (60 seconds), pass."""
    for seconds in (start + 600, start + 661):
        clock.move_to(at(seconds))
        services.advance_due()


# --- 1. the outbox and the purge ----------------------------------------------------------------


def test_a_purged_check_in_leaves_no_address_notes_or_number_anywhere_in_the_database(
    client, program, twilio, sms_in, run_tasks
):
    # given a check-in with an address, access notes, a contact and a responder who went,
    # gave naloxone (an overdose event is recorded) and answered the debrief
    responder(program, RESPONDER)
    with time_machine.travel(T0, tick=False) as clock:
        web_start(client, phone=PERSON, contact=FRIEND)
        session = Session.objects.get()
        sms_in("OK", "SMok1", sender=PERSON)  # the person answers from their phone
        time_runs_out(clock, start=0)
        session.refresh_from_db()
        assert session.state == State.CALLING
        assert ADDRESS in texts_to(twilio, FRIEND)[-1] and NOTES in texts_to(twilio, RESPONDER)[-1]
        mine = Callout.objects.get(responder__isnull=False)
        services.accept(mine.pk, source="sms:SMgo")
        services.arrive(mine.pk, source="sms:SMhere")
        services.finish(mine.pk, outcome="naloxone", naloxone_doses=2)
        services.debrief(mine.pk, {"feeling": "shaken", "call_me": True,
                                   "notes": f"went to {ADDRESS}"})  # fmt: skip
        deliver()
        ended_at = Session.objects.get().ended_at
        assert OverdoseEvent.objects.count() == 1
        assert search_everything([ADDRESS, NOTES, PERSON, FRIEND])  # it is all there now

        # when the purge runs (the real periodic task, on the real worker) after purge_hours
        clock.move_to(ended_at + timedelta(hours=24, minutes=1))
        purge_task.enqueue()
        run_tasks()

    # then nothing in the whole database holds the address, the notes or the person's or the
    # friend's number (the responder is a volunteer on the roster: their number stays there)
    assert search_everything([ADDRESS, NOTES, "Princess", "blue pot", PERSON, FRIEND]) == []
    session.refresh_from_db()
    assert session.purged_at is not None and session.alias == "" and session.phone_index == ""
    assert not Callout.objects.exclude(phone_index="").exists()
    # the overdose event does not lead back to the session
    event = OverdoseEvent.objects.get()
    assert str(session.pk) not in event.source_ref and session.pk.hex not in event.source_ref


def test_a_purged_mentoring_request_leaves_no_contact_or_notes_anywhere(org_a, make_member, twilio):
    from harbour.mentoring import services as mentoring
    from harbour.mentoring.models import Match
    from harbour.mentoring.models import Program as MentoringProgram

    coordinator = make_member(org_a, Role.COORDINATOR)
    MentoringProgram.objects.create(organization=org_a, areas=" K7L ", purge_days=90)
    mentee, notes = "+16135550181", "call after 6, my roommate reads my texts"
    with time_machine.travel(T0, tick=False) as clock:
        mentor = mentoring.mentor_save(
            actor=coordinator, organization=org_a,
            data=mentoring.MentorData(alias="Jordan", channel="sms", contact="+16135550171",
                                      languages=["en"], pathways=["harm_reduction"], identities=[]),
        )  # fmt: skip
        request = mentoring.request_create(
            organization=org_a,
            data=mentoring.RequestData(alias="River", channel="sms", contact=mentee,
                                       languages=["en"], pathways=["harm_reduction"],
                                       fsa="K7L", notes=notes),
        )  # fmt: skip
        match = mentoring.match_propose(actor=coordinator, request=request, mentor=mentor)
        mentoring.answer(match=match, side="mentee", accept=True)
        mentoring.answer(match=Match.objects.get(pk=match.pk), side="mentor", accept=True)
        # the mentor was texted the person's number
        assert any(mentee in body for body in texts_to(twilio, "+16135550171"))
        assert search_everything([mentee, notes])
        mentoring.request_close(actor=coordinator, request=request)
        clock.move_to(T0 + timedelta(days=91))
        assert mentoring.purge() == 1
    assert search_everything([mentee, notes, "roommate"]) == []


def test_final_messages_lose_recipient_and_text_after_their_retention(settings, twilio):
    settings.NOTIFY_KEEP_DAYS = 7
    settings.NOTIFY_KEEP_URGENT_HOURS = 24
    with time_machine.travel(T0, tick=False) as clock:
        plain = notify.enqueue(key="a:1", channel="sms", to=PERSON, body="an alert for K7L")
        urgent = notify.enqueue(key="c:1", channel="sms", to=FRIEND, body=ADDRESS, urgent=True)
        waiting = notify.enqueue(key="q:1", channel="sms", to=RESPONDER, body="later")
        deliver()
        Message.objects.filter(pk=waiting.pk).update(
            status=Status.QUEUED, next_attempt_at=at(10**7)
        )
        clock.move_to(T0 + timedelta(hours=24, seconds=1))
        assert notify.messages_expire() == 1
        clock.move_to(T0 + timedelta(days=7, seconds=1))
        assert notify.messages_expire() == 1
    plain.refresh_from_db()
    urgent.refresh_from_db()
    assert (plain.recipient, plain.recipient_index, plain.body, plain.provider_id) == (
        "",
        "",
        "",
        "",
    )
    assert (urgent.recipient, urgent.body) == ("", "")
    # a message not yet final keeps what it needs to be sent
    assert Message.objects.get(pk=waiting.pk).recipient == RESPONDER


# --- 2. sessions left open ----------------------------------------------------------------------


def test_a_session_left_on_scene_for_days_is_closed_and_purged(
    client, program, twilio, sms_in, run_tasks, make_member, smtp
):
    from harbour.checkins.models import OnDuty

    duty = make_member(program.organization, Role.PEER_WORKER)
    OnDuty.objects.create(organization=program.organization, user=duty)
    responder(program, RESPONDER)
    with time_machine.travel(T0, tick=False) as clock:
        web_start(client, phone=PERSON, contact=FRIEND)
        sms_in("OK", "SMok2", sender=PERSON)
        time_runs_out(clock)
        mine = Callout.objects.get(responder__isnull=False)
        services.accept(mine.pk)
        services.arrive(mine.pk)  # on scene; nobody ever records what happened
        assert Session.objects.get().state == State.ON_SCENE
        deliver()
        for days in (1, 2, 3):
            clock.move_to(T0 + timedelta(days=days))
            purge_task.enqueue()
            run_tasks()
            deliver()  # the worker's clock sends urgent messages within a second
    session = Session.objects.get()
    assert session.state == State.ENDED and session.purged_at is not None
    assert search_everything([ADDRESS, NOTES, PERSON, FRIEND]) == []
    # the staff on duty were told it was closed
    assert [m["To"] for m in smtp.messages if "closed automatically" in m["Subject"]] == [
        duty.email
    ]


# --- 3. the anonymous REPORT --------------------------------------------------------------------


def test_an_anonymous_report_by_text_keeps_no_number_and_no_inbound_id(client, twilio, sms_in):
    # given someone texts an anonymous report
    sms_in("REPORT purple down, three people fell out near the park K7L", "SMrep77", sender=PERSON)
    report = CommunityReport.objects.get()
    assert "purple down" in report.what_happened
    # when the acknowledgement has been sent and delivered
    deliver()
    assert len(texts_to(twilio, PERSON)) == 1
    # then nothing holds the sender's number, and nothing carries the inbound message's id
    assert search_everything([PERSON, "SMrep77"]) == []


# --- 4. a check-in for someone else's number ----------------------------------------------------


def test_a_web_check_in_for_someone_elses_number_never_texts_a_contact_or_a_responder(
    client, program, twilio
):
    victim, target = "+16135550199", FRIEND
    responder(program, RESPONDER)
    with time_machine.travel(T0, tick=False) as clock:
        # the attacker types someone else's number, their own words, and a contact to harass
        response = web_start(client, phone=victim, contact=target)
        assert response.status_code == 302
        # and lets the time run out, then long past it
        time_runs_out(clock)
        for minutes in (20, 40, 60):
            clock.move_to(at(minutes * 60))
            services.advance_due()
        deliver()
    assert texts_to(twilio, target) == []
    assert texts_to(twilio, RESPONDER) == []
    assert Callout.objects.count() == 0
    # and the number that was typed is never promised that someone will come
    prompts = [t for t in texts_to(twilio, victim) if "time is up" in t]
    assert prompts and all("nobody will be sent" in t for t in prompts), prompts


def test_guessing_the_code_does_not_confirm_someone_elses_number(client, program, twilio):
    web_start(client, phone="+16135550199", contact=FRIEND)
    session = Session.objects.get()
    started = texts_to(twilio, "+16135550199")[0]
    code = re.search(r"\b(\d{6})\b", started).group(1)  # type: ignore[union-attr]
    wrong = [f"{(int(code) + n) % 1_000_000:06d}" for n in range(1, 6)]
    for guess in wrong:
        assert client.post("/checkin/me/confirm/", {"code": guess}).status_code == 302
    # five wrong guesses: even the right code no longer confirms on the page
    client.post("/checkin/me/confirm/", {"code": code})
    session.refresh_from_db()
    assert session.confirmed_at is None and session.confirm_tries == 5


def test_a_flood_of_call_outs_against_one_number_is_capped(
    client, program, twilio, sms_in, settings
):
    settings.CHECKIN_CALLOUTS_PER_NUMBER_PER_DAY = 3
    target = "+16135550188"
    with time_machine.travel(T0, tick=False) as clock:
        # five sessions from five numbers the attacker holds (each confirmed from its phone),
        # each naming the same contact, each left to run out
        for n in range(5):
            attacker = f"+1613555030{n}"
            web_start(client, phone=attacker, contact=target, nonce=f"flood{n}")
            sms_in("OK", f"SMflood{n}", sender=attacker)
        time_runs_out(clock)
        deliver()
    assert len([t for t in texts_to(twilio, target) if "CHECK-IN" in t]) == 3


# --- 5. areas nobody serves ---------------------------------------------------------------------


def test_a_check_in_from_an_area_nobody_serves_is_refused_plainly(client, program, twilio, sms_in):
    # given only Kingston's program (K7L, K7K) and a Kingston responder
    responder(program, RESPONDER)
    with time_machine.travel(T0, tick=False) as clock:
        # when someone in Montréal (H2X) starts a check-in
        response = web_start(client, phone=PERSON, fsa="H2X")
        # then they are told before relying on it, with the crisis lines
        page = response.content.decode()
        assert response.status_code == 200
        assert "No check-in service covers the postal area H2X" in page
        assert "9-8-8" in page and "9-1-1" in page and "1-888-688-6677" in page
        time_runs_out(clock)
        deliver()
    assert Session.objects.count() == 0
    assert texts_to(twilio, RESPONDER) == [] and texts_to(twilio, PERSON) == []
    # by text message too: the reply says so, and nothing starts
    sms_in("CHECKIN 10 H2X", "SMarea1", sender=PERSON)
    (reply,) = texts_to(twilio, PERSON)
    assert "No check-in service covers the postal area H2X" in reply and "9-8-8" in reply
    assert Session.objects.count() == 0


# --- 6. tokens in links -------------------------------------------------------------------------


def test_the_token_in_a_texts_link_leaves_the_address_bar(client, program, twilio):
    with time_machine.travel(T0, tick=False):
        web_start(client, phone=PERSON)
    session = Session.objects.get()
    link = f"/checkin/s/{session.token}/"
    other = client.__class__()  # the person opens the link from the text on another browser
    response = other.get(link)
    assert response.status_code == 302 and session.token not in response["Location"]
    page = other.get(response["Location"])
    assert page.status_code == 200 and session.token not in page.content.decode()
    assert "Check-in for Sam" in page.content.decode()
