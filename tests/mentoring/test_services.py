"""Peer mentoring end to end with a controlled clock and the real outbox (texts to the local
Twilio stub, email to Django's mailbox): a person asks, a coordinator proposes a mentor, both
accept before contact details are shared, check-ins are scheduled with reminders, and missed
check-ins tell the coordinator the match has gone quiet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from harbour.core.models import AuditAction, AuditEvent
from harbour.mentoring import selectors, services
from harbour.mentoring.models import (
    CheckIn,
    CheckInState,
    EndReason,
    Match,
    MatchStatus,
    MentorRequest,
    RequestStatus,
)
from harbour.notify import services as notify

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
MENTOR = "+16135550171"
MENTEE = "+16135550181"


def texts(twilio, to: str) -> list[str]:  # type: ignore[no-untyped-def]
    while notify.deliver_due(limit=50):
        pass
    return [r["form"]["Body"] for r in twilio.requests if r["form"]["To"] == to]


def link_of(text: str) -> str:
    start = text.index("/mentoring/m/")
    return text[start:].split()[0]


def page_of(client, link: str) -> str:  # type: ignore[no-untyped-def]
    """Open a private link: the token goes into the session, and the page's address has none."""
    opened = client.get(link)
    assert opened.status_code == 302 and link.split("/")[-2] not in opened["Location"]
    return str(opened["Location"])


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def test_matched_both_accept_checkins_scheduled_and_a_missed_one_tells_the_coordinator(
    client, coordinator, make_mentor, make_request, twilio
):
    with time_machine.travel(T0, tick=False) as clock:
        mentor = make_mentor(contact=MENTOR)
        request = make_request(contact=MENTEE)
        # the coordinator is told someone asked, and nothing about them
        assert texts(twilio, MENTEE) == []
        (told,) = mail.outbox
        assert told.to == [coordinator.email]
        assert f"/org/org-a/mentoring/requests/{request.pk}/" in told.body
        assert "River" not in told.body and MENTEE not in told.body
        mail.outbox.clear()
        # the coordinator sees the best match and proposes it
        ((best, found),) = selectors.best_mentors(coordinator, request=request)
        assert (best, found.total) == (mentor, 95.0)  # meets anywhere in person: place 10
        match = services.match_propose(actor=coordinator, request=request, mentor=mentor)
        assert MentorRequest.objects.get().status == RequestStatus.PROPOSED
        (ask_mentor,) = texts(twilio, MENTOR)
        (ask_mentee,) = texts(twilio, MENTEE)
        assert "River is looking for a mentor (Harm reduction)" in ask_mentor
        assert "we found a possible mentor for you, Jordan" in ask_mentee
        assert "9-8-8" in ask_mentee
        # neither text carries the other's number
        assert MENTEE not in ask_mentor and MENTOR not in ask_mentee

        # the person accepts on their private link; nothing is shared yet
        page = client.get(link_of(ask_mentee), follow=True)
        assert "We found a possible peer mentor for you: Jordan." in page.content.decode()
        assert MENTOR not in page.content.decode()
        client.post(page_of(client, link_of(ask_mentee)), {"action": "accept"})
        match.refresh_from_db()
        assert match.status == MatchStatus.PROPOSED and match.mentee_consent_at == T0
        assert texts(twilio, MENTOR) == [ask_mentor]
        # the mentor accepts: the match starts, each gets the other's contact
        client.post(page_of(client, link_of(ask_mentor)), {"action": "accept"})
        match.refresh_from_db()
        assert (match.status, match.started_at) == (MatchStatus.ACTIVE, T0)
        assert MentorRequest.objects.get().status == RequestStatus.MATCHED
        assert f"Reach them by text message: {MENTOR}" in texts(twilio, MENTEE)[-1]
        assert f"Reach them by text message: {MENTEE}" in texts(twilio, MENTOR)[-1]
        assert MENTOR in client.get(link_of(ask_mentee), follow=True).content.decode()
        # the first check-in is scheduled two weeks on
        (first,) = CheckIn.objects.all()
        assert (first.number, first.scheduled_for, first.state) == (1, at(14), "scheduled")

        # nothing before it is due; at its time both are reminded, with their link
        clock.move_to(at(14) - timedelta(seconds=1))
        assert services.advance_due() == 0
        clock.move_to(at(14))
        assert services.advance_due() == 1
        reminder = texts(twilio, MENTEE)[-1]
        assert reminder.startswith("Harbour peer mentoring: time to check in with Jordan.")
        assert link_of(reminder) == link_of(ask_mentee)
        assert "time to check in with River" in texts(twilio, MENTOR)[-1]
        first.refresh_from_db()
        assert (first.state, first.due_at) == (CheckInState.REMINDED, at(17))

        # nobody says they checked in: missed after 3 days; one miss is not yet "quiet"
        clock.move_to(at(17))
        assert services.advance_due() == 1
        match.refresh_from_db()
        assert (match.missed_in_row, match.quiet_since) == (1, None)
        assert mail.outbox == []
        second = CheckIn.objects.get(number=2)
        assert second.scheduled_for == at(28)

        # a second miss in a row: the coordinator is told, once
        clock.move_to(at(28))
        services.advance_due()
        clock.move_to(at(31))
        assert services.advance_due() == 1
        assert services.advance_due() == 0  # again: nothing moves, nothing is sent twice
        while notify.deliver_due(limit=50):
            pass
        assert [m.to for m in mail.outbox] == [[coordinator.email]]
        notice = mail.outbox[0]
        assert "gone quiet" in notice.subject
        assert f"/org/org-a/mentoring/matches/{match.pk}/" in notice.body
        assert "River" not in notice.body and MENTEE not in notice.body
        match.refresh_from_db()
        assert (match.missed_in_row, match.quiet_since) == (2, at(31))
        assert AuditEvent.objects.filter(action=AuditAction.MENTOR_MATCH_QUIET).count() == 1
        assert selectors.dashboard_counts(coordinator, organization=match.organization) == {
            "waiting": 0, "proposed": 0, "matched": 1, "quiet": 1,
        }  # fmt: skip

        # they talk again: the person says so on their link; the match is no longer quiet
        clock.move_to(at(33))
        client.post(page_of(client, link_of(ask_mentee)), {"action": "checked-in"})
        match.refresh_from_db()
        assert (match.missed_in_row, match.quiet_since) == (0, None)
        third = CheckIn.objects.get(number=3)
        assert (third.state, third.done_by) == (CheckInState.DONE, "mentee")
        assert CheckIn.objects.get(number=4).scheduled_for == at(47)


def test_declining_is_no_fault_and_the_person_waits_for_someone_new(
    coordinator, make_mentor, make_request, twilio
):
    first = make_mentor(contact=MENTOR)
    second = make_mentor(alias="Amira", contact="+16135550172")
    request = make_request(contact=MENTEE)
    match = services.match_propose(actor=coordinator, request=request, mentor=first)
    services.answer(match=match, side="mentor", accept=False)
    match.refresh_from_db()
    assert (match.status, match.end_reason, match.ended_by) == ("declined", "declined", "mentor")
    assert MentorRequest.objects.get().status == RequestStatus.WAITING
    assert "that is nobody's fault" in texts(twilio, MENTEE)[-1]
    # the mentor who declined is not proposed again
    assert [m for m, _s in selectors.best_mentors(coordinator, request=request)] == [second]
    with pytest.raises(ValidationError, match="cannot be proposed to this person"):
        services.match_propose(actor=coordinator, request=request, mentor=first)
    with pytest.raises(ValidationError, match="no longer open"):
        services.answer(match=match, side="mentee", accept=True)


def test_asking_for_someone_new_ends_the_match_without_blame(
    client, coordinator, make_mentor, make_request, twilio
):
    mentor = make_mentor(contact=MENTOR)
    other = make_mentor(alias="Amira", contact="+16135550172")
    request = make_request(contact=MENTEE)
    match = services.match_propose(actor=coordinator, request=request, mentor=mentor)
    services.answer(match=match, side="mentee", accept=True)
    services.answer(match=match, side="mentor", accept=True)
    link = reverse("mentoring:link", args=[services.link_token(match, "mentee")])
    client.post(page_of(client, link), {"action": "rematch"})
    match.refresh_from_db()
    assert (match.status, match.end_reason, match.ended_by) == ("ended", "rematch", "mentee")
    assert CheckIn.objects.get().state == CheckInState.CANCELLED
    assert MentorRequest.objects.get().status == RequestStatus.WAITING
    assert texts(twilio, MENTOR)[-1] == (
        "Harbour peer mentoring: your match with River has ended. Thank you."
    )
    assert "Nobody is at fault" in texts(twilio, MENTEE)[-1]
    assert [m for m, _s in selectors.best_mentors(coordinator, request=request)] == [other]
    assert "This match is no longer open." in client.get(link, follow=True).content.decode()


def test_a_proposal_not_answered_in_time_expires(coordinator, make_mentor, make_request, twilio):
    with time_machine.travel(T0, tick=False) as clock:
        match = services.match_propose(
            actor=coordinator, request=make_request(), mentor=make_mentor()
        )
        clock.move_to(at(7))
        assert services.advance_due() == 1
    match.refresh_from_db()
    assert (match.status, match.end_reason) == (MatchStatus.EXPIRED, EndReason.EXPIRED)
    event = AuditEvent.objects.get(action=AuditAction.MENTOR_MATCH_END)
    assert (event.actor_label, event.metadata) == ("clock", {"by": "clock", "reason": "expired"})
    assert MentorRequest.objects.get().status == RequestStatus.WAITING
    with pytest.raises(ValidationError, match="no longer open"):
        services.answer(match=match, side="mentee", accept=True)


def test_proposing_for_everyone_waiting_balances_the_mentors(
    coordinator, org_a, make_mentor, make_request, twilio
):
    with time_machine.travel(T0, tick=False) as clock:
        busy = make_mentor(alias="One place", contact="+16135550171", capacity=1, areas="K7L")
        roomy = make_mentor(alias="Two places", contact="+16135550172", capacity=2,
                            areas="K7K")  # fmt: skip
        for n in range(3):
            make_request(alias=f"P{n}", contact=f"+1613555019{n}")
            clock.shift(timedelta(minutes=1))
        made = services.propose_all(actor=coordinator, organization=org_a)
    assert [(m.request.alias, m.mentor.alias, m.score) for m in made] == [
        ("P0", "One place", 100.0),  # in person in the area the mentor names (place 15)
        ("P1", "Two places", 90.0),  # the first is full; online only (place 5)
        ("P2", "Two places", 85.0),  # and now half full (load 5)
    ]
    assert busy.matches.count() == 1 and roomy.matches.count() == 2


def test_contact_details_are_encrypted_and_erased_after_a_closed_request(
    coordinator, make_request, program
):
    with time_machine.travel(T0, tick=False) as clock:
        request = make_request(contact=MENTEE, notes="Evenings are best.")
        with connection.cursor() as cursor:
            cursor.execute("SELECT contact, notes FROM mentoring_mentorrequest")
            raw_contact, raw_notes = cursor.fetchone()
        assert MENTEE not in raw_contact and "Evenings" not in raw_notes
        # a coordinator reading the contact is audited
        assert services.contact_view(actor=coordinator, subject=request) == MENTEE
        assert AuditEvent.objects.filter(action=AuditAction.MENTOR_CONTACT_VIEW).count() == 1
        services.request_close(actor=coordinator, request=request)
        clock.move_to(at(90) - timedelta(seconds=1))
        assert services.purge() == 0
        clock.move_to(at(90))
        assert services.purge() == 1
    request.refresh_from_db()
    assert (request.contact, request.notes, request.purged_at) == ("", "", at(90))


def test_bad_input_is_refused_with_the_field_named(org_a, coordinator, program):
    with pytest.raises(ValidationError) as err:
        services.request_create(
            organization=org_a,
            data=services.RequestData(alias="X", channel="sms", contact="12", languages=[]),
        )
    assert set(err.value.message_dict) == {"languages"}
    with pytest.raises(ValidationError) as err:
        services.request_create(
            organization=org_a,
            data=services.RequestData(alias="X", channel="sms", contact="12", languages=["en"]),
        )
    assert err.value.message_dict == {"contact": ["This is not a mobile number we can text."]}
    with pytest.raises(ValidationError) as err:
        services.request_create(
            organization=org_a,
            data=services.RequestData(alias="X", channel="email", contact="x@example.org",
                                      languages=["en"], online=False, fsa=""),
        )  # fmt: skip
    assert err.value.message_dict == {
        "fsa": ["To meet in person, give your postal area (e.g. K7L)."]
    }
    assert MentorRequest.objects.count() == 0
    assert Match.objects.count() == 0
