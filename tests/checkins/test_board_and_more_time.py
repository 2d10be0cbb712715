"""Adding time adds it; the dispatcher board shows how late a person is and, on request (audited
as viewed), their phone and address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone, translation

from harbour.checkins import services
from harbour.checkins.models import Program, Session, State
from harbour.core.models import AuditAction, AuditEvent
from harbour.core.roles import Role

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 22, 0, tzinfo=UTC)


@pytest.fixture
def program(make_org):  # type: ignore[no-untyped-def]
    org = make_org("kingston-hr")
    return Program.objects.create(
        organization=org, is_default=True, areas=" K7L ", grace_seconds=60,
        accept_seconds=120, arrival_seconds=900, purge_hours=24,
    )  # fmt: skip


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
    services.confirm(session.pk, by_reply=True)
    session.refresh_from_db()
    return session


def due(session: Session):  # type: ignore[no-untyped-def]
    return Session.objects.get(pk=session.pk).due_at


def test_more_time_is_added_to_the_time_left_not_started_again(program):
    with time_machine.travel(T0, tick=False) as clock:
        session = start(program)
        assert due(session) == T0 + timedelta(minutes=10)
        # 3 minutes in, 7 left: "add 10 minutes" leaves 17, due at 20 minutes
        clock.move_to(T0 + timedelta(minutes=3))
        assert services.reply(session.pk, "more", minutes=10) == "extended"
        assert due(session) == T0 + timedelta(minutes=20)
        # twice: 27 minutes left
        assert services.reply(session.pk, "more", minutes=10) == "extended"
        assert due(session) == T0 + timedelta(minutes=30)
        # never more than an hour ahead of now
        assert services.reply(session.pk, "more", minutes=60) == "extended"
        assert due(session) == T0 + timedelta(minutes=3 + 60)
        # "OK" still restarts the timer from now with its length (60, the last chosen)
        assert services.reply(session.pk, "ok") == "reset"
        assert due(session) == T0 + timedelta(minutes=63)


def test_more_time_after_the_time_is_up_counts_from_now(program):
    with time_machine.travel(T0, tick=False) as clock:
        session = start(program)
        clock.move_to(T0 + timedelta(minutes=10, seconds=1))
        assert services.advance_due() == 1
        assert Session.objects.get(pk=session.pk).state == State.PROMPTED
        clock.move_to(T0 + timedelta(minutes=10, seconds=30))
        assert services.reply(session.pk, "more", minutes=10) == "extended"
        session.refresh_from_db()
        assert session.state == State.ACTIVE
        assert session.due_at == T0 + timedelta(minutes=20, seconds=30)


def test_the_web_page_says_how_much_was_added_and_when_the_text_comes(client, program):
    with time_machine.travel(T0, tick=False) as clock:
        session = start(program)
        client.get(f"/checkin/s/{session.token}/")  # the private link, as texted
        clock.move_to(T0 + timedelta(minutes=4))
        page = client.post("/checkin/me/more/", {"minutes": 10, "nonce": "n1-more"}, follow=True)
    text = page.content.decode()
    local = timezone.localtime(T0 + timedelta(minutes=20))
    assert f"10 minutes added. We will text you at {local:%H:%M}." in text
    assert due(session) == T0 + timedelta(minutes=20)


def test_the_board_says_how_late_a_person_is(program, make_member, staff_client):
    dispatcher = make_member(program.organization, Role.PEER_WORKER)
    with time_machine.travel(T0, tick=False) as clock:
        start(program, alias="Lou")
        clock.move_to(T0 + timedelta(minutes=10, seconds=1))
        services.advance_due()  # prompted at 10:01
        clock.move_to(T0 + timedelta(minutes=13, seconds=30))
        web = staff_client(dispatcher)
        board = web.get(f"/org/{program.organization.slug}/checkins/").content.decode()
        assert "Overdue by 3 min" in board
        web.cookies["django_language"] = "fr"
        board = web.get(f"/org/{program.organization.slug}/checkins/").content.decode()
        assert "En retard de 3 min" in board


def test_the_dispatcher_reveals_phone_and_address_and_it_is_audited_as_viewed(
    program, make_member, staff_client
):
    dispatcher = make_member(program.organization, Role.PEER_WORKER)
    session = start(program)
    web = staff_client(dispatcher)
    url = f"/org/{program.organization.slug}/checkins/"
    board = web.get(url).content.decode()
    assert "+16135550142" not in board and "12 Princess St" not in board
    assert "Show phone and address" in board
    revealed = web.post(f"{url}s/{session.pk}/contact/")
    assert revealed.status_code == 302
    assert revealed["Location"] == f"{url}#s-{session.pk}"
    board = web.get(url).content.decode()
    assert 'href="tel:+16135550142"' in board
    assert "12 Princess St, apt 3" in board and "buzz 3, door sticks" in board
    # once per session and sign-in: polling the board and revealing again add nothing
    web.get(url)
    web.post(f"{url}s/{session.pk}/contact/")
    events = AuditEvent.objects.filter(action=AuditAction.CHECKIN_CONTACT_VIEWED)
    assert [(e.actor_id, e.object_id, e.metadata) for e in events] == [
        (dispatcher.pk, str(session.pk), {"where": "board"})
    ]


def test_the_audit_says_viewed_when_staff_only_looked(program, make_member, staff_client):
    worker = make_member(program.organization, Role.PEER_WORKER)
    session = start(program)
    staff_client(worker).get(f"/org/{program.organization.slug}/checkins/s/{session.pk}/")
    event = AuditEvent.objects.get(action=AuditAction.CHECKIN_VIEWED)
    assert event.get_action_display() == "Check-in session viewed by staff"
    with translation.override("fr"):
        assert "consulté" in str(AuditAction.CHECKIN_VIEWED.label)
        assert "consulté" in str(AuditAction.CHECKIN_CONTACT_VIEWED.label)
