"""Shared by the mentoring services: constants, the retry on conflicting writes, and the small
parsers of codes, languages, contacts and areas."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from harbour.core.roles import Role
from harbour.mentoring.models import (
    LANGUAGES,
    Channel,
    MatchStatus,
    Program,
)
from harbour.notify import addresses

T = TypeVar("T")
COORDINATOR = Role.COORDINATOR
CRISIS = "9-8-8"
OPEN = [MatchStatus.PROPOSED, MatchStatus.ACTIVE]
LANGUAGE_CODES = {code for code, _name in LANGUAGES}


class Conflict(Exception):
    """Someone changed the row first; nothing was done."""


def retrying(action: Callable[..., T]) -> Callable[..., T]:
    """Run ``action`` in a transaction; when someone else changed the row first (both people
    answering at the same moment), read it again and retry, a few times."""

    @functools.wraps(action)
    def run(*args: Any, **kwargs: Any) -> T:
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    return action(*args, **kwargs)
            except Conflict:
                continue
        raise ValidationError(_("Someone else answered at the same moment. Please try again."))

    return run


LINK_SALT = "mentoring-link"


def padded(codes: list[str] | tuple[str, ...]) -> str:
    return f" {' '.join(dict.fromkeys(codes))} " if codes else ""


def codes(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _lang(value: str) -> str:
    return "fr" if (value or "").startswith("fr") else "en"


def _contact(channel: str, raw: str) -> str:
    try:
        return addresses.normalize(channel, raw)
    except ValueError as exc:
        message = (
            _("This is not a mobile number we can text.")
            if channel == Channel.SMS
            else _("This is not an email address.")
        )
        raise ValidationError({"contact": message}) from exc


def _areas(raw: str) -> str:
    from harbour.alerts.services import parse_areas

    return padded(parse_areas(raw))


def _check(values: list[str], allowed: set[str], field: str) -> list[str]:
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValidationError({field: _("Unknown choice: %(value)s.") % {"value": bad[0]}})
    return values


def program_of(organization: Any) -> Program | None:
    return Program.objects.filter(organization=organization).first()
