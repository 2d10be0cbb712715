"""The network edge: one function per channel that hands a message to its provider and
returns the provider's id, or raises SendError saying whether to retry."""

from __future__ import annotations

import hashlib
import json
import smtplib
import sys
import threading
from functools import cache
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage

from harbour.notify.models import Message


class SendError(Exception):
    def __init__(self, reason: str, *, permanent: bool, opt_out: str = "") -> None:
        super().__init__(reason)
        self.permanent = permanent
        self.opt_out = opt_out  # the opt-out reason when the address itself is gone


# Twilio error codes meaning the number cannot or must not be texted again
TWILIO_OPT_OUT = {21211: "invalid-number", 21610: "stop", 21614: "not-mobile", 21612: "unreachable"}


_request = threading.local()


def _idempotent_http_client() -> Any:
    from twilio.http.http_client import TwilioHttpClient

    class IdempotentHttpClient(TwilioHttpClient):
        """Adds ``I-Twilio-Idempotency-Token`` (the message's key) to message requests, so a
        resend after a worker died mid-send is recognised by Twilio and not delivered twice."""

        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            token = getattr(_request, "token", "")
            if token and method.upper() == "POST":
                headers = dict(kwargs.get("headers") or {})
                headers["I-Twilio-Idempotency-Token"] = token
                kwargs["headers"] = headers
            return super().request(method, url, *args, **kwargs)

    return IdempotentHttpClient


@cache
def twilio_client(account_sid: str, token: str, base_url: str) -> Any:
    from requests.utils import get_environ_proxies
    from twilio.rest import Client

    # the proxy settings of the environment (HTTPS_PROXY, NO_PROXY) are read once for the one
    # host we talk to: requests would otherwise scan the whole environment (and ~/.netrc) for
    # every text, a quarter of the time a text takes
    http = _idempotent_http_client()(proxy=get_environ_proxies(base_url))
    if http.session is not None:
        http.session.trust_env = False
    client = Client(account_sid, token, http_client=http)
    client.api.base_url = base_url  # tests point it at a local stub
    return client


def sms_backend() -> str:
    """``twilio`` with credentials; without them ``console`` (texts printed, like the demo's
    emails; nothing leaves the machine), or ``none`` in production (texts fail: a production
    log must not hold numbers and messages). ``NOTIFY_SMS_BACKEND`` chooses explicitly."""
    chosen = str(getattr(settings, "NOTIFY_SMS_BACKEND", "") or "")
    if chosen:
        return chosen
    if settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN and settings.TWILIO_FROM:
        return "twilio"
    return "none" if settings.PRODUCTION else "console"


_console_lock = threading.Lock()


def _console_sms(message: Message) -> str:
    token = dedupe_token(message)
    with _console_lock:
        sys.stdout.write(
            f"--- SMS (console backend, not sent) {token}\nTo: {message.recipient}\n"
            f"{message.body}\n---\n"
        )
        sys.stdout.flush()
    return f"console-{token}"


def send_sms(message: Message, *, status_callback: str = "") -> str:
    from twilio.base.exceptions import TwilioException, TwilioRestException

    backend = sms_backend()
    if backend == "console":
        return _console_sms(message)
    if backend != "twilio":
        raise SendError("SMS is not configured (TWILIO_ACCOUNT_SID and others)", permanent=True)

    client = twilio_client(
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_API_BASE_URL
    )
    sender: dict[str, str] = (
        {"messaging_service_sid": settings.TWILIO_FROM}
        if settings.TWILIO_FROM.startswith("MG")
        else {"from_": settings.TWILIO_FROM}
    )
    _request.token = dedupe_token(message, 64)
    try:
        sent = client.messages.create(
            to=message.recipient,
            body=message.body,
            **sender,
            **({"status_callback": status_callback} if status_callback else {}),
        )
    except TwilioRestException as exc:
        code = int(exc.code or 0)
        permanent = 400 <= int(exc.status) < 500 and int(exc.status) != 429
        raise SendError(
            f"twilio {exc.status} {code}: {exc.msg}"[:300],
            permanent=permanent,
            opt_out=TWILIO_OPT_OUT.get(code, ""),
        ) from exc
    except (TwilioException, OSError) as exc:
        raise SendError(f"twilio: {exc}"[:300], permanent=False) from exc
    finally:
        _request.token = ""
    return str(sent.sid)


def dedupe_token(message: Message, length: int = 32) -> str:
    """A stable token for a message (from its idempotency key): the same message resent after
    a worker died mid-send carries the same token, so the receiving side can drop the repeat
    (Twilio's idempotency token, an email's Message-ID, a push's Topic and notification tag)."""
    return hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:length]


def send_email(message: Message, *, connection: Any) -> str:
    # stable across resends: mail systems and clients that see the same Message-ID twice
    # keep one copy (RFC 5322 makes it the message's identity)
    message_id = f"<{dedupe_token(message)}@{_mail_domain()}>"
    email = EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        connection=connection,
        headers={
            "Message-ID": message_id,
            "Auto-Submitted": "auto-generated",
            # lets a receiving system (and the fan-out benchmark) recognise a resend
            "X-Harbour-Message": message.idempotency_key,
            # mail clients show an "unsubscribe" button that ends the subscription in one
            # click (a POST to the signed link: RFC 8058)
            **(
                {
                    "List-Unsubscribe": f"<{message.unsubscribe_url}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                }
                if message.unsubscribe_url
                else {}
            ),
        },
    )
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _text in exc.recipients.values()]
        permanent = all(500 <= code < 600 for code in codes)
        raise SendError(
            f"smtp refused {codes}", permanent=permanent, opt_out="bounce" if permanent else ""
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(f"smtp: {exc}"[:300], permanent=False) from exc
    return message_id


def _push_session() -> Any:
    """One HTTP session per thread for push services (kept-alive connections: most alerts go
    to a handful of push services)."""
    import requests

    session = getattr(_request, "push_session", None)
    if session is None:
        session = _request.push_session = requests.Session()
    return session


@cache
def _mail_domain() -> str:
    sender = str(settings.DEFAULT_FROM_EMAIL)
    address = sender.rsplit("<", 1)[-1].rstrip(">")
    return address.rsplit("@", 1)[-1] or "harbour.invalid"


def send_push(message: Message) -> str:
    from pywebpush import WebPushException, webpush

    token = dedupe_token(message)
    # the tag makes the device show one notification for a message delivered twice; the
    # Topic lets the push service replace a copy it still holds
    payload = json.dumps({"title": message.subject, "body": message.body, "tag": token})
    try:
        response = webpush(
            requests_session=_push_session(),
            subscription_info=json.loads(message.recipient),
            data=payload,
            vapid_private_key=settings.VAPID_PRIVATE_KEY,
            vapid_claims={"sub": settings.VAPID_SUBJECT},
            ttl=24 * 3600,
            timeout=10,
            headers={"Topic": token},
        )
    except WebPushException as exc:
        status = getattr(exc.response, "status_code", 0) or 0
        gone = status in (404, 410)
        raise SendError(
            f"push {status}: {exc}"[:300],
            permanent=gone or (400 <= status < 500 and status != 429),
            opt_out="push-gone" if gone else "",
        ) from exc
    except (ValueError, OSError) as exc:
        raise SendError(f"push: {exc}"[:300], permanent=False) from exc
    return str(getattr(response, "headers", {}).get("Location", "")) or "push"
