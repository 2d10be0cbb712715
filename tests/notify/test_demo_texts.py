"""The demo (`make run`: no Twilio, no SMTP server) prints every text message it sends where it
prints its emails: the worker's terminal, through the console backends. A newcomer follows a
check-in (the reply to CHECKIN, the prompt), the responder call-out, the dispatcher's watchdog
warning and a mentoring link there; nothing leaves the machine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from harbour.checkins import services as checkins
from harbour.checkins import watchdog
from harbour.checkins.models import OnDuty, Program, Responder
from harbour.core import clock
from harbour.core.roles import Role
from harbour.notify import services as notify

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 22, 0, tzinfo=UTC)
PERSON, RESPONDER, DISPATCHER = "+16135550142", "+16135550111", "+16135550166"


@pytest.fixture
def demo_settings(settings):  # type: ignore[no-untyped-def]
    # what `make run` has: no EMAIL_HOST (console email), no Twilio (console texts)
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    settings.NOTIFY_SMS_BACKEND = ""
    settings.TWILIO_ACCOUNT_SID = settings.TWILIO_AUTH_TOKEN = settings.TWILIO_FROM = ""
    settings.DEMO_MODE = True
    return settings


def deliver() -> None:
    while notify.deliver_due(limit=50):
        pass


def test_a_check_in_its_call_out_and_the_watchdog_print_their_texts_beside_the_emails(
    demo_settings, make_org, make_member, capsys
) -> None:
    org = make_org("kingston-hr")
    Program.objects.create(
        organization=org, is_default=True, areas=" K7L ", grace_seconds=60, accept_seconds=120,
        arrival_seconds=900, purge_hours=24,
    )  # fmt: skip
    Responder.objects.create(
        organization=org, alias="R111", phone=RESPONDER,
        phone_index=checkins.phone_index(RESPONDER), naloxone_trained_until=date(2027, 6, 1),
        on_call=True, areas=" K7L ",
    )  # fmt: skip
    dispatcher = make_member(org, Role.PEER_WORKER)
    OnDuty.objects.create(organization=org, user=dispatcher, phone=DISPATCHER)
    with time_machine.travel(T0, tick=False) as moment:
        # a person texts CHECKIN 10 K7L
        notify.inbound_sms(sender=PERSON, text="CHECKIN 10 K7L", message_id="demo-1")
        deliver()
        # the timer runs out, then the grace period: the person is asked, then responders
        moment.move_to(T0 + timedelta(seconds=601))
        checkins.advance_due()
        deliver()
        moment.move_to(T0 + timedelta(seconds=700))
        checkins.advance_due()
        deliver()
        # the clock stalls: the watchdog tells the dispatcher on duty by email and by text
        clock.beat("clock:test")
        moment.move_to(T0 + timedelta(seconds=800))
        watchdog.check()
    printed = capsys.readouterr().out
    sms = printed.split("--- SMS (console backend, not sent)")[1:]
    to = [block.split("\n")[1] for block in sms]
    assert f"To: {PERSON}" in to  # the check-in's confirmation and prompt
    assert f"To: {RESPONDER}" in to  # the call-out
    assert f"To: {DISPATCHER}" in to  # the watchdog's text, beside its email
    assert any("check-in started" in block for block in sms)
    # the emails are in the same place, in the same run
    assert f"To: {dispatcher.email}" in printed
    assert "Subject: Harbour check-ins: the worker is behind" in printed


def test_the_demo_command_says_where_the_messages_are(demo_settings, capsys) -> None:
    call_command("demo")
    out = capsys.readouterr().out
    assert "every email and every text message the demo sends" in out
