"""The outbox: encryption at rest, idempotent enqueue, delivery through the real Twilio client
and a real SMTP conversation, retries, opt-outs, signed webhooks, the inbound SMS router."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.db import connection
from django.utils import timezone
from twilio.request_validator import RequestValidator

from harbour.notify import addresses, crypto, services
from harbour.notify.models import Message, OptOut, Status

from ..conftest import ACCOUNT, FROM, TOKEN

pytestmark = pytest.mark.django_db

PHONE = "+16135550142"


def raw_column(message: Message, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM notify_message WHERE id = %s",  # noqa: S608 -- fixed names
            [message.pk.hex if connection.vendor == "sqlite" else message.pk],
        )
        return str(cursor.fetchone()[0])


def test_phone_numbers_and_emails_have_one_form():
    assert addresses.normalize_phone("(613) 555-0142") == PHONE
    assert addresses.normalize_phone("1 613 555 0142") == PHONE
    assert addresses.normalize_phone("+44 20 7946 0958") == "+442079460958"
    for bad in ("555-0142", "+1 613 555 01", "call me"):
        with pytest.raises(ValueError):
            addresses.normalize_phone(bad)
    assert addresses.normalize_email(" Sam@Example.ORG ") == "Sam@example.org"


def test_recipients_and_bodies_are_encrypted_at_rest_and_found_by_blind_index(settings):
    message = services.enqueue(key="k1", channel="sms", to="613-555-0142", body="Alert: test")
    stored = raw_column(message, "recipient")
    assert PHONE not in stored and "555" not in stored
    assert "Alert" not in raw_column(message, "body")
    fresh = Message.objects.get(pk=message.pk)
    assert (fresh.recipient, fresh.body) == (PHONE, "Alert: test")
    assert Message.objects.filter(recipient_index=services.recipient_index("sms", PHONE)).count()
    # rotation: add the new key first, rotate, then drop the old one
    k1, k2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.HARBOUR_FIELD_KEYS = [k1]
    token = crypto.encrypt("kept")
    settings.HARBOUR_FIELD_KEYS = [k2, k1]
    assert crypto.decrypt(token) == "kept"
    rotated = crypto.rotate(token)
    settings.HARBOUR_FIELD_KEYS = [k2]
    assert crypto.decrypt(rotated) == "kept"
    with pytest.raises(InvalidToken):
        crypto.decrypt(token)


def test_enqueue_is_idempotent_and_respects_opt_outs():
    first = services.enqueue(key="alert:1:sub:1:sms", channel="sms", to=PHONE, body="one")
    again = services.enqueue(key="alert:1:sub:1:sms", channel="sms", to=PHONE, body="changed")
    assert first.pk == again.pk and Message.objects.count() == 1
    services.opt_out(channel="sms", recipient=PHONE, reason="stop")
    stopped = services.enqueue(key="alert:2:sub:1:sms", channel="sms", to=PHONE, body="two")
    assert stopped.status == Status.CANCELLED
    with pytest.raises(ValueError):
        services.enqueue(key="bad", channel="sms", to="not a number", body="x")


def test_sms_goes_through_the_twilio_client_to_the_stub(twilio):
    message = services.enqueue(key="m1", channel="sms", to=PHONE, body="Bonjour")
    assert services.deliver_due() == 1
    [request] = twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert request["form"] == {"To": PHONE, "From": FROM, "Body": "Bonjour"}
    assert request["auth"].startswith("Basic ")
    assert len(request["token"]) == 64  # Twilio's idempotency token: the message's key, hashed
    message.refresh_from_db()
    assert message.status == Status.SENT and message.provider_id.startswith("SM")
    assert message.attempts == 1 and message.sent_at is not None
    assert services.deliver_due() == 0  # nothing sent twice


def test_invalid_numbers_unsubscribe_and_server_errors_retry_with_backoff(twilio):
    twilio.replies = [
        (400, {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}),
        (503, {"code": 20500, "message": "Service unavailable", "status": 503}),
    ]
    bad = services.enqueue(key="bad", channel="sms", to="+16135550199", body="x")
    busy = services.enqueue(key="busy", channel="sms", to=PHONE, body="y")
    services.deliver_due()
    bad.refresh_from_db()
    busy.refresh_from_db()
    assert bad.status == Status.FAILED and "21211" in bad.error
    assert OptOut.objects.get().reason == "invalid-number"
    assert busy.status == Status.QUEUED and busy.attempts == 1
    assert busy.next_attempt_at > timezone.now() + timedelta(seconds=20)
    assert services.deliver_due() == 0  # not due yet
    Message.objects.filter(pk=busy.pk).update(next_attempt_at=timezone.now())
    assert services.deliver_due() == 1
    busy.refresh_from_db()
    assert (busy.status, busy.attempts) == (Status.SENT, 2)


def test_a_message_whose_worker_died_is_sent_again_after_its_lease(twilio):
    message = services.enqueue(key="lease", channel="sms", to=PHONE, body="z")
    Message.objects.filter(pk=message.pk).update(
        status=Status.SENDING, lease_until=timezone.now() + timedelta(seconds=60)
    )
    assert services.deliver_due() == 0  # leased to a live worker
    Message.objects.filter(pk=message.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert services.deliver_due() == 1 and len(twilio.requests) == 1


def test_email_over_smtp_and_bounces_unsubscribe(smtp):
    smtp.refuse = {"gone@example.org"}
    services.enqueue(
        key="e1", channel="email", to="sam@example.org", subject="Drug alert", body="Text"
    )
    services.enqueue(key="e2", channel="email", to="gone@example.org", subject="S", body="B")
    services.deliver_due()
    [received] = smtp.messages
    assert received["To"] == "sam@example.org" and received["Subject"] == "Drug alert"
    assert received.get_payload().strip() == "Text"
    sent = Message.objects.get(idempotency_key="e1")
    assert sent.status == Status.SENT and sent.provider_id == received["Message-ID"]
    bounced = Message.objects.get(idempotency_key="e2")
    assert bounced.status == Status.FAILED and OptOut.objects.get().reason == "bounce"


def test_an_email_resent_after_a_worker_died_keeps_its_message_id(smtp):
    # given an email sent, whose worker died before it could record so
    message = services.enqueue(key="alert:1:sub:2:email", channel="email", to="a@example.org",
                               subject="S", body="B")  # fmt: skip
    services.deliver_due()
    Message.objects.filter(pk=message.pk).update(
        status=Status.SENDING, lease_until=timezone.now() - timedelta(seconds=1)
    )
    # when another run sends it again
    services.deliver_due()
    # then both copies have the same Message-ID: mail systems keep one of them
    first, second = smtp.messages
    assert first["Message-ID"] == second["Message-ID"]
    assert first["Message-ID"].startswith("<") and first["Message-ID"].endswith("@harbour.invalid>")


def test_the_worker_delivers_after_the_transaction_commits(
    twilio, run_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.enqueue(key="w1", channel="sms", to=PHONE, body="via the worker")
    run_tasks()
    assert Message.objects.get().status == Status.SENT
    assert [r["form"]["Body"] for r in twilio.requests] == ["via the worker"]


def sign(url: str, form: dict[str, str]) -> str:
    return str(RequestValidator(TOKEN).compute_signature(url, form))


def test_delivery_reports_need_twilios_signature(client, twilio):
    message = services.enqueue(key="d1", channel="sms", to=PHONE, body="x")
    services.deliver_due()
    message.refresh_from_db()
    url = "http://testserver/notify/twilio/status/"
    form = {"MessageSid": message.provider_id, "MessageStatus": "delivered"}
    forged = client.post(url, form, HTTP_X_TWILIO_SIGNATURE="forged")
    assert forged.status_code == 403
    message.refresh_from_db()
    assert message.status == Status.SENT
    ok = client.post(url, form, HTTP_X_TWILIO_SIGNATURE=sign(url, form))
    assert ok.status_code == 204
    message.refresh_from_db()
    assert message.status == Status.DELIVERED and message.delivered_at is not None
    services.enqueue(key="d2", channel="sms", to="+16135550177", body="y")
    services.deliver_due()
    second = Message.objects.get(idempotency_key="d2")
    form = {"MessageSid": second.provider_id, "MessageStatus": "undelivered", "ErrorCode": "21610"}
    client.post(url, form, HTTP_X_TWILIO_SIGNATURE=sign(url, form))
    second.refresh_from_db()
    assert second.status == Status.FAILED and OptOut.objects.get().reason == "stop"


def inbound(client, body: str, sid: str, sender: str = "613 555 0142"):  # type: ignore[no-untyped-def]
    url = "http://testserver/notify/twilio/inbound/"
    form = {"From": sender, "Body": body, "MessageSid": sid, "AccountSid": ACCOUNT}
    return client.post(url, form, HTTP_X_TWILIO_SIGNATURE=sign(url, form))


def test_stop_always_wins_start_resumes_help_answers(client, twilio):
    queued = services.enqueue(key="q1", channel="sms", to=PHONE, body="pending alert")
    ended: list[str] = []
    services.on_stop(ended.append)
    try:
        response = inbound(client, " Stop ", "SM1")
        assert response.status_code == 200 and b"<Response></Response>" in response.content
        queued.refresh_from_db()
        assert queued.status == Status.CANCELLED and ended == [PHONE]
        assert services.is_opted_out("sms", PHONE)
        assert services.enqueue(key="q2", channel="sms", to=PHONE, body="x").status == "cancelled"
        inbound(client, "START", "SM2")
        assert not services.is_opted_out("sms", PHONE)
        inbound(client, "aide", "SM3")
        inbound(client, "aide", "SM3")  # Twilio retried the webhook: one reply
        replies = Message.objects.filter(idempotency_key__startswith="inbound:")
        # keyed by a keyed hash of the inbound id, never the id itself
        assert sorted(m.idempotency_key for m in replies) == sorted(
            [services.inbound_reply_key("SM2"), services.inbound_reply_key("SM3")]
        )
        assert not any("SM" in m.idempotency_key for m in replies)
        reply = replies.get(idempotency_key=services.inbound_reply_key("SM3"))
        assert "STOP" in reply.body and reply.body.startswith("Harbour :")
    finally:
        services.STOP_HOOKS.remove(ended.append)


def test_keywords_go_to_the_app_that_registered_them(client, twilio):
    seen: list[tuple[str, str]] = []

    def join(*, sender: str, text: str, message_id: str) -> str:
        seen.append((sender, text))
        return f"Joined {text}"

    previous = services.KEYWORDS.get("join")  # alerts' own JOIN, restored below
    services.register_keyword("JOIN", join)
    try:
        inbound(client, "join K7L", "SM9")
        assert seen == [(PHONE, "K7L")]
        reply = Message.objects.get(idempotency_key=services.inbound_reply_key("SM9"))
        assert reply.body == "Joined K7L"
        assert inbound(client, "JOIN K7L", "SM10", sender="not a phone").status_code == 400
        url = "http://testserver/notify/twilio/inbound/"
        forged = client.post(url, {"From": PHONE, "Body": "STOP", "MessageSid": "SM11"})
        assert forged.status_code == 403 and not services.is_opted_out("sms", PHONE)
    finally:
        services.KEYWORDS.pop("join")
        if previous is not None:
            services.KEYWORDS["join"] = previous


def test_rotate_field_keys_command_rewrites_with_the_newest_key(settings, capsys):
    from django.core.management import call_command

    k1, k2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.HARBOUR_FIELD_KEYS = [k1]
    message = services.enqueue(key="r1", channel="email", to="sam@example.org", body="secret")
    settings.HARBOUR_FIELD_KEYS = [k2, k1]
    call_command("rotate-field-keys")
    assert "notify.Message: 1 rows re-encrypted" in capsys.readouterr().out
    settings.HARBOUR_FIELD_KEYS = [k2]
    fresh = Message.objects.get(pk=message.pk)
    assert (fresh.recipient, fresh.body) == ("sam@example.org", "secret")


def test_a_run_slower_than_its_lease_does_not_send_what_another_took_over(twilio, settings):
    # given a run whose lease has run out (lease of 0 s: past half of it at once)
    settings.NOTIFY_LEASE_SECONDS = 0
    first = services.enqueue(key="slow-1", channel="sms", to=PHONE, body="one")
    services.enqueue(key="slow-2", channel="sms", to="+16135550143", body="two")
    original = services.senders.send_sms
    taken: list[str] = []

    def slow_send(message, **kwargs):  # type: ignore[no-untyped-def]
        # while the first is sent, another run takes over the second
        if message.pk == first.pk:
            Message.objects.exclude(pk=first.pk).update(lease_owner="another-run")
            taken.append("taken")
        return original(message, **kwargs)

    services.senders.send_sms = slow_send
    try:
        sent = services.deliver_due()
    finally:
        services.senders.send_sms = original
    # then only the first was sent by this run: the second belongs to the other run
    assert taken == ["taken"] and sent == 1
    assert [r["form"]["Body"] for r in twilio.requests] == ["one"]
