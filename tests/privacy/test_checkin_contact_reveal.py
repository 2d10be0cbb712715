"""Attack: read a person's phone and address from the dispatcher board without being a
dispatcher of the organization that serves them.

The board shows them only after a dispatcher (staff of that organization, peer worker and up)
asks, and each reveal is in the audit trail as "viewed". Another organization's admin, a
viewer, a signed-out visitor, and a dispatcher guessing the id of another organization's
session through their own board all get nothing, and leave no "viewed" event."""

from __future__ import annotations

import pytest
from django.test import Client

from harbour.checkins import services
from harbour.checkins.models import Program
from harbour.core.models import AuditAction, AuditEvent
from harbour.core.roles import Role

pytestmark = pytest.mark.django_db

PHONE = "+16135550142"
ADDRESS = "12 Princess St, apt 3"


def program_of(org):  # type: ignore[no-untyped-def]
    return Program.objects.create(organization=org, is_default=True, areas=" K7L ")


def started(program):  # type: ignore[no-untyped-def]
    session = services.start(
        services.Start(alias="Sam", phone="613 555 0142", minutes=10, address=ADDRESS,
                       access_notes="buzz 3", fsa="K7L"),
        program=program,
    )  # fmt: skip
    services.confirm(session.pk, by_reply=True)
    return session


def leaked(response) -> bool:  # type: ignore[no-untyped-def]
    body = response.content.decode()
    return PHONE in body or ADDRESS in body or "buzz 3" in body


def test_nobody_but_the_serving_organizations_dispatchers_sees_phone_or_address(
    make_org, make_member, staff_client
):
    serving = make_org("serving")
    session = started(program_of(serving))
    other = make_org("elsewhere")
    program_of(other)
    board = f"/org/{serving.slug}/checkins/"
    reveal = f"{board}s/{session.pk}/contact/"

    # another organization's admin: 404 on the board and on the reveal
    outsider = staff_client(make_member(other, Role.ORG_ADMIN))
    assert outsider.get(board).status_code == 404
    assert outsider.post(reveal).status_code == 404
    # ... and through their own organization's board, with the session's id
    own_reveal = f"/org/{other.slug}/checkins/s/{session.pk}/contact/"
    assert outsider.post(own_reveal).status_code == 404
    assert not leaked(outsider.get(f"/org/{other.slug}/checkins/", follow=True))

    # a viewer of the serving organization is not a dispatcher
    viewer = staff_client(make_member(serving, Role.VIEWER))
    assert viewer.get(board).status_code == 403
    assert viewer.post(reveal).status_code == 403

    # signed out: to the sign-in page, nothing shown
    anonymous = Client().post(reveal)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]

    # a reveal is a POST: a link (GET) someone is tricked into opening reveals nothing
    dispatcher = staff_client(make_member(serving, Role.PEER_WORKER))
    assert dispatcher.get(reveal).status_code == 405
    assert not leaked(dispatcher.get(board))
    assert not AuditEvent.objects.filter(action=AuditAction.CHECKIN_CONTACT_VIEWED).exists()

    # the serving organization's dispatcher sees them, once asked, and it is audited
    dispatcher.post(reveal)
    assert leaked(dispatcher.get(board))
    event = AuditEvent.objects.get(action=AuditAction.CHECKIN_CONTACT_VIEWED)
    assert event.organization_id == serving.pk and event.object_id == str(session.pk)
    # the trail names the session, never the phone or the address
    assert PHONE not in str(event.metadata) and ADDRESS not in str(event.metadata)

    # what one dispatcher revealed stays hidden from another one's board
    colleague = staff_client(make_member(serving, Role.COORDINATOR))
    assert not leaked(colleague.get(board))


def test_an_ended_session_cannot_be_revealed(make_org, make_member, staff_client):
    serving = make_org("serving")
    session = started(program_of(serving))
    dispatcher = make_member(serving, Role.PEER_WORKER)
    services.dispatcher_outcome(session.pk, outcome="false_alarm", actor=dispatcher)
    web = staff_client(dispatcher)
    assert web.post(f"/org/{serving.slug}/checkins/s/{session.pk}/contact/").status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.CHECKIN_CONTACT_VIEWED).exists()
