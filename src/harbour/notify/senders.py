"""The network edge: one function per channel that hands a message to its provider and
returns the provider's id, or raises SendError saying whether to retry."""

from __future__ import annotations

import hashlib
import json
import smtplib
import threading
from email.utils import make_msgid
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

    return IdempotentHttpClient()


@cache
def twilio_client(account_sid: str, token: str, base_url: str) -> Any:
    from twilio.rest import Client

    client = Client(account_sid, token, http_client=_idempotent_http_client())
    client.api.base_url = base_url  # tests point it at a local stub
    return client


def send_sms(message: Message, *, status_callback: str = "") -> str:
    from twilio.base.exceptions import TwilioException, TwilioRestException

    client = twilio_client(
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_API_BASE_URL
    )
    sender: dict[str, str] = (
        {"messaging_service_sid": settings.TWILIO_FROM}
        if settings.TWILIO_FROM.startswith("MG")
        else {"from_": settings.TWILIO_FROM}
    )
    _request.token = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:64]
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


def send_email(message: Message, *, connection: Any) -> str:
    message_id = make_msgid(domain="harbour")
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


def send_push(message: Message) -> str:
    from pywebpush import WebPushException, webpush

    payload = json.dumps({"title": message.subject, "body": message.body})
    try:
        response = webpush(
            subscription_info=json.loads(message.recipient),
            data=payload,
            vapid_private_key=settings.VAPID_PRIVATE_KEY,
            vapid_claims={"sub": settings.VAPID_SUBJECT},
            ttl=24 * 3600,
            timeout=10,
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
