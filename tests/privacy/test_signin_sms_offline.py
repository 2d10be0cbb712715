"""Attack (by accident): run the demo without Twilio settings and watch the worker post people's
numbers and the texts sent to them to Twilio's real API."""

from __future__ import annotations

import socket

import pytest

from harbour.notify import services
from harbour.notify.models import Status

pytestmark = pytest.mark.django_db

NUMBER = "+16135550199"
TEXT = "Check-in: reply OK by 22:40. Address on file: 12 Queen St"


def test_without_twilio_settings_a_text_never_leaves_the_machine(
    settings, monkeypatch, capsys, run_tasks
):
    # given no Twilio settings (the demo, a developer's machine)
    settings.TWILIO_ACCOUNT_SID = ""
    settings.TWILIO_AUTH_TOKEN = ""
    settings.TWILIO_FROM = ""
    settings.NOTIFY_SMS_BACKEND = ""
    # and every outbound connection watched at the network edge
    outbound: list[object] = []
    real_connect = socket.create_connection
    real_socket_connect = socket.socket.connect

    def watch(address, *args, **kwargs):  # type: ignore[no-untyped-def]
        if address[0] not in ("127.0.0.1", "localhost", "::1"):
            outbound.append(address)
            raise OSError("outbound connection refused by the test")
        return real_connect(address, *args, **kwargs)

    def watch_socket(self, address):  # type: ignore[no-untyped-def]
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "localhost", "::1"):
            outbound.append(address)
            raise OSError("outbound connection refused by the test")
        return real_socket_connect(self, address)

    real_getaddrinfo = socket.getaddrinfo

    def watch_lookup(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host not in ("127.0.0.1", "localhost", "::1", None):
            outbound.append(host)  # a name looked up to be connected to
            raise OSError("outbound lookup refused by the test")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", watch_lookup)
    monkeypatch.setattr(socket, "create_connection", watch)
    monkeypatch.setattr(socket.socket, "connect", watch_socket)
    # when a text is queued and the real worker delivers what is due
    message = services.enqueue(key="privacy:sms:1", channel="sms", to=NUMBER, body=TEXT)
    services.deliver_due()
    run_tasks()
    # then nothing went out, and the text is in the console backend, marked sent
    assert outbound == []
    printed = capsys.readouterr().out
    assert TEXT in printed and NUMBER in printed
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.provider_id.startswith("console-")


def test_production_without_twilio_fails_texts_instead_of_printing_them(settings, capsys):
    settings.PRODUCTION = True
    settings.TWILIO_ACCOUNT_SID = ""
    settings.NOTIFY_SMS_BACKEND = ""
    message = services.enqueue(key="privacy:sms:2", channel="sms", to=NUMBER, body=TEXT)
    services.deliver_due()
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert TEXT not in capsys.readouterr().out
