"""Settings lookup and small helpers every outreach write shares."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext_lazy

from harbour.outreach.models import (
    DEFAULT_TRACKED,
    Breathing,
    Help,
    Outcome,
    Program,
    Recipient,
    Route,
    Substance,
    Supply,
)

log = logging.getLogger(__name__)

CLOCK_SKEW = timedelta(minutes=10)  # a phone clock a little ahead is not "the future"
OLDEST = timedelta(days=365)
MAX_RECEIPT = 100_000
CONTACT_DAYS = 30
# encounter and response notes, client codes and their blind index are erased this long after
# the record's time: "returning people" and unique-client counts use the index inside it
NOTES_DAYS = 730
NOTES_MAX = 500
CLIENT_CODE = re.compile(r"^(?=.*\d)[A-Z0-9-]{3,16}$")


# chosen once: TextChoices build these lists on every access
SUPPLY_LABELS = dict(Supply.choices)
HELP_CODES = frozenset(Help.values)
RECIPIENT_CODES = frozenset(Recipient.values)
ROUTE_CODES = frozenset(Route.values)
BREATHING_CODES = frozenset(Breathing.values)
OUTCOME_CODES = frozenset(Outcome.values)
SUBSTANCE_CODES = frozenset(Substance.values)
NEW_PEOPLE = gettext_lazy("New people")
RETURNING_PEOPLE = gettext_lazy("Returning people")
DOSES_LABEL = gettext_lazy("Naloxone doses")


def padded(codes: Iterable[str]) -> str:
    items = list(dict.fromkeys(c for c in codes if c))
    return f" {' '.join(items)} " if items else ""


def program_for(organization: Any) -> Program:
    """The organization's outreach settings, made with defaults the first time."""
    program, _created = Program.objects.get_or_create(
        organization=organization, defaults={"tracked": padded(DEFAULT_TRACKED)}
    )
    return program


def _locked_program(organization: Any) -> Program:
    """The program row, locked until the transaction ends (PostgreSQL; SQLite's IMMEDIATE
    transactions already take the write lock): writes that change stock take turns."""
    program = Program.objects.select_for_update().filter(organization=organization).first()
    if program is None:
        program_for(organization)
        program = Program.objects.select_for_update().get(organization=organization)
    return program


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _actor_user(actor: Any) -> Any:
    return actor if getattr(actor, "is_user", False) else None
