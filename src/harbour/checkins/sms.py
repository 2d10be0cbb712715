"""Check-ins by text message. The person: ``CHECKIN 15`` (``SUIVI 15`` in French, optionally
with a postal area: ``CHECKIN 15 K7L``), ``OK``, ``MORE 10`` (``PLUS 10``), ``DONE`` (``FINI``).
Responders: ``GO`` (``J'Y VAIS`` is two words, so ``GO`` in both languages) and ``HERE``
(``ICI``). ``END`` and ``STOP`` are carriers' opt-out words, so they are never used here.
Anything else from someone in a check-in gets the check-in help in their language."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from harbour.checkins import services
from harbour.checkins.models import OPEN_STATES, Callout, CalloutStatus, Session, Via
from harbour.notify.services import help_text


def _help(lang: str) -> str:
    with translation.override(lang):
        return _(
            "Harbour check-in: reply OK if you are all right, MORE 10 for 10 more minutes, DONE "
            "to end. Text CHECKIN 10 to start one. Emergency: 911."
        )


def _session_of(number: str, *, recent: bool = False) -> Session | None:
    found = Session.objects.filter(phone_index=services.phone_index(number))
    if not recent:
        found = found.filter(state__in=OPEN_STATES)
    else:
        found = found.filter(started_at__gte=timezone.now() - timedelta(days=2))
    return found.order_by("-started_at").first()


def _callout_of(number: str) -> Callout | None:
    return (
        Callout.objects.filter(
            phone_index=services.phone_index(number),
            status__in=[CalloutStatus.ASKED, CalloutStatus.ACCEPTED, CalloutStatus.ARRIVED],
            session__state__in=OPEN_STATES,
        )
        .order_by("-asked_at")
        .first()
    )


def _minutes(text: str, default: int) -> int | None:
    for word in text.split():
        if word.isdigit():
            value = int(word)
            return value if services.MIN_MINUTES <= value <= services.MAX_MINUTES else None
    return default


def checkin(lang: str) -> Any:
    def handler(*, sender: str, text: str, message_id: str) -> str:
        with translation.override(lang):
            if _session_of(sender) is not None:
                return _(
                    "Harbour: your check-in is already running. Reply OK to restart the timer, "
                    "MORE 10 for more time, DONE to end."
                )
            minutes = _minutes(text, services.DEFAULT_MINUTES)
            if minutes is None:
                return _("Harbour: choose between 2 and 60 minutes, e.g. CHECKIN 15.")
            fsa = next((w for w in text.split() if not w.isdigit()), "")
            try:
                services.start(
                    services.Start(
                        alias=_("Texter"), phone=sender, minutes=minutes, lang=lang, fsa=fsa
                    ),
                    source=f"sms:{message_id}",
                    via=Via.SMS,
                )
            except ValidationError as exc:
                return "Harbour: " + " ".join(exc.messages)
            return ""  # the "check-in started" text is the answer

    return handler


def person(action: str) -> Any:
    def handler(*, sender: str, text: str, message_id: str) -> str:
        session = _session_of(sender)
        if session is None:
            ended = _session_of(sender, recent=True)
            if ended is None:
                return help_text()
            with translation.override(ended.lang):
                return _(
                    "Harbour: this check-in has ended, nothing was changed. Text CHECKIN 10 to "
                    "start a new one."
                )
        lang = session.lang
        # a reply from the number proves it is theirs (a session started on the web)
        services.confirm(session.pk, by_reply=True)
        minutes = None
        if action == "more":
            minutes = _minutes(text, 10)
            if minutes is None:
                with translation.override(lang):
                    return _("Harbour: choose between 2 and 60 minutes, e.g. MORE 15.")
        result = services.reply(session.pk, action, minutes=minutes, source=f"sms:{message_id}")
        with translation.override(lang):
            if result == "already-ended":
                return _(
                    "Harbour: this check-in has ended, nothing was changed. Text CHECKIN 10 to "
                    "start a new one."
                )
            if result == "ended":
                return _("Harbour: check-in ended. Glad you are okay. Text CHECKIN 10 any time.")
            if result == "extended":
                return _("Harbour: %(minutes)s more minutes. Reply OK or DONE any time.") % {
                    "minutes": minutes
                }
            if result == "reset":
                return _("Harbour: got it. The timer starts again: %(minutes)s minutes.") % {
                    "minutes": session.minutes
                }
            return ""  # a repeated message: its reply was already sent

    return handler


def responder(action: str) -> Any:
    def handler(*, sender: str, text: str, message_id: str) -> str:
        callout = _callout_of(sender)
        if callout is None:
            return help_text()
        with translation.override(callout.lang):
            if action == "go":
                result = services.accept(callout.pk, source=f"sms:{message_id}")
                if result == "taken":
                    return _("Harbour: someone else is already going. Thank you.")
                if result == "closed":
                    return _("Harbour: this call-out is over. Thank you.")
                return ""  # "assigned" sends its own message with the details
            result = services.arrive(callout.pk, source=f"sms:{message_id}")
            if result == "arrived":
                return _(
                    "Harbour: thank you. When you are done, tell us what happened: %(link)s"
                ) % {"link": services.respond_link(callout)}
            if result == "closed":
                return _("Harbour: reply GO first if you are going.")
            return ""

    return handler


def availability(on_call: bool) -> Any:
    def handler(*, sender: str, text: str, message_id: str) -> str:
        found = services.responder_availability(phone=sender, on_call=on_call)
        if found is None:
            return help_text()
        with translation.override(found.lang):
            if on_call:
                return _(
                    "Harbour: you are on call. We will text you if someone near you needs "
                    "help. Text OFF to stop."
                )
            return _("Harbour: you are off call. Text ON when you can answer again.")

    return handler


def fallback(*, sender: str, text: str, message_id: str) -> str:
    """HELP or an unknown word from someone in a check-in or a call-out: their own help."""
    callout = _callout_of(sender)
    if callout is not None:
        with translation.override(callout.lang):
            return _("Harbour: reply GO if you can go, HERE when you arrive. %(link)s") % {
                "link": services.respond_link(callout)
            }
    session = _session_of(sender, recent=True)
    return _help(session.lang) if session is not None else ""


KEYWORDS = {
    "checkin": checkin("en"),
    "check-in": checkin("en"),
    "suivi": checkin("fr"),
    "ok": person("ok"),
    "okay": person("ok"),
    "more": person("more"),
    "plus": person("more"),
    "done": person("done"),
    "fini": person("done"),
    "go": responder("go"),
    "here": responder("here"),
    "ici": responder("here"),
    "on": availability(True),
    "dispo": availability(True),
    "off": availability(False),
    "pause": availability(False),
}
