"""Invitation email over a real SMTP conversation with a local server."""

from __future__ import annotations

import socket
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from harbour.accounts import services
from harbour.core.roles import Role

pytestmark = pytest.mark.django_db


class Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list = []

    def handle_message(self, message) -> None:  # type: ignore[no-untyped-def]
        self.messages.append(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(settings):  # type: ignore[no-untyped-def]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    yield inbox
    controller.stop()


def test_invitation_is_delivered_by_smtp(org_a, admin_a, run_tasks, smtp_server):
    # given
    _invitation, token = services.member_invite(
        organization=org_a, email="newcomer@example.org", role=Role.VIEWER, actor=admin_a
    )
    # when
    run_tasks()
    # then
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == "newcomer@example.org"
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject == (
        "Invitation to join org-a services on Harbour / "
        "Invitation à rejoindre services org-a sur Harbour"
    )
    body = message.get_payload(decode=True).decode()
    assert token in body
