"""Twilio's webhooks: delivery reports and inbound text messages, each checked against
``X-Twilio-Signature`` (a forged request gets 403 and changes nothing)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from harbour.notify import services


def _signed(request: HttpRequest) -> bool:
    from twilio.request_validator import RequestValidator

    if not settings.TWILIO_AUTH_TOKEN:
        return False
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    return bool(
        validator.validate(
            request.build_absolute_uri(),
            request.POST.dict(),
            request.headers.get("X-Twilio-Signature", ""),
        )
    )


def _twiml(reply: str = "") -> HttpResponse:
    body = f"<Message>{escape(reply)}</Message>" if reply else ""
    return HttpResponse(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>',
        content_type="text/xml",
    )


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    if not _signed(request):
        return HttpResponseForbidden("bad signature")
    services.sms_status(
        provider_id=request.POST.get("MessageSid", ""),
        status=request.POST.get("MessageStatus", ""),
        error_code=request.POST.get("ErrorCode", "") or "",
    )
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    """Nothing about the sender is kept beyond what their keyword asks for (a subscription,
    an opt-out). The reply goes through the outbox, so the TwiML answer is empty."""
    if not _signed(request):
        return HttpResponseForbidden("bad signature")
    try:
        services.inbound_sms(
            sender=request.POST.get("From", ""),
            text=request.POST.get("Body", "")[:1600],
            message_id=request.POST.get("MessageSid", "")[:64],
        )
    except ValueError:
        return HttpResponse("not a phone number", status=400)
    return _twiml()
