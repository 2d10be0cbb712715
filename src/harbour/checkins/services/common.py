"""Shared helpers of the check-in services: limits, postal areas, events, sends."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from harbour.checkins.models import (
    Event,
    Program,
    Session,
)
from harbour.notify import services as notify
from harbour.notify.crypto import blind_index

log = logging.getLogger(__name__)


MIN_MINUTES, MAX_MINUTES, DEFAULT_MINUTES = 2, 60, 10
MAX_CONTACTS = 3
MAX_CALLOUTS = 10


class Conflict(Exception):
    """Someone else changed the session first; the caller reads it again."""


def phone_index(number: str) -> str:
    return blind_index(number, kind="checkins-sms")


def postal_area(raw: str) -> str:
    """The postal area (FSA) of what a person typed: "k7l", "K7L 1A1" and "K7L1A1" give "K7L";
    "" for nothing; ValidationError for something that is not one."""
    text = raw.strip().upper().replace(" ", "")[:3]
    if text and not (
        len(text) == 3 and text[0].isalpha() and text[1].isdigit() and text[2].isalpha()
    ):
        raise ValidationError({"fsa": _("A postal area is a letter, a digit and a letter.")})
    return text


def padded_areas(raw: str) -> str:
    """ " K7L K7K " from "k7l, K7K" (space-padded for a plain substring test); "" for none."""
    from harbour.alerts.services import parse_areas

    areas = parse_areas(raw)
    return f" {' '.join(areas)} " if areas else ""


def program_for(fsa: str = "") -> Program | None:
    """The program whose areas cover this postal area; None when nobody serves it (a session
    is never sent to a program that cannot come). Only a session with no postal area at all
    (``CHECKIN 10`` by text) goes to the default program, whose reply says so."""
    programs = Program.objects.filter(enabled=True, organization__is_active=True)
    if fsa:
        return programs.filter(areas__contains=f" {fsa} ").order_by("created_at").first()
    return programs.order_by("-is_default", "created_at").first()


def crisis_lines() -> str:
    return _(
        "Emergency: 9-1-1. To talk to someone now: 9-8-8. National Overdose Response Service "
        "(stays on the phone while you use): 1-888-688-6677."
    )


def not_served(fsa: str) -> str:
    """What a person is told, before they rely on it, when no program serves their area."""
    return " ".join(
        [
            _(
                "No check-in service covers the postal area %(fsa)s yet: nobody could come to "
                "you, so no check-in was started."
            )
            % {"fsa": fsa},
            crisis_lines(),
        ]
    )


def _lang(value: str) -> str:
    return "fr" if (value or "").startswith("fr") else "en"


def _event(
    session: Session,
    step: str,
    by: str,
    *,
    at: datetime,
    due_at: datetime | None = None,
    source: str | None = None,
    **detail: Any,
) -> Event:
    return Event.objects.create(
        session=session, step=step, by=by, at=at, due_at=due_at, source=source, detail=detail
    )


def _cas(session: Session, **changes: Any) -> None:
    """Apply ``changes`` only if nobody changed the session since it was read."""
    changes["version"] = session.version + 1
    changes["updated_at"] = timezone.now()
    if not Session.objects.filter(pk=session.pk, version=session.version).update(**changes):
        raise Conflict
    for field, value in changes.items():
        setattr(session, field, value)


def _retrying(action: Callable[[], Any], attempts: int = 8) -> Any:
    for _attempt in range(attempts):
        try:
            with transaction.atomic():
                return action()
        except Conflict:
            continue
    raise Conflict


def _send(key: str, to: str, body: str, lang: str, *, urgent: bool = True) -> None:
    if to:
        notify.enqueue(key=key, channel="sms", to=to, body=body, lang=lang, urgent=urgent)
