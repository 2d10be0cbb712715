"""Every write to mentoring: the program's settings, mentors, requests for a mentor, proposed
matches and both sides' answers, check-ins, no-fault rematching, and the timed work (reminders,
missed check-ins, "gone quiet" notices to the coordinator, proposals not answered in time,
erasing closed requests' contact details).

A match moves ``proposed`` -> ``active`` (both accepted; only now are contact details sent to
each side) or ``declined`` / ``expired``; ``active`` -> ``ended``. A check-in moves
``scheduled`` --(its time: reminders to both)--> ``reminded`` --(either says they connected)-->
``done``, or --(time to answer over)--> ``missed``; each done or missed check-in schedules the
next. Every step is a compare-and-set on ``version`` in one transaction with the messages it
queues (idempotency keys name the match or check-in and the step), so two workers, a retried
task or a double click never send twice.

A package by topic (program and mentors, requests, matches, timed work, and what they share);
every name is re-exported here, so ``from harbour.mentoring.services import x`` and
``services.x`` keep working.
"""

from __future__ import annotations

from harbour.mentoring.services._common import (
    COORDINATOR,
    CRISIS,
    LANGUAGE_CODES,
    LINK_SALT,
    OPEN,
    Conflict,
    T,
    _areas,
    _check,
    _contact,
    _lang,
    codes,
    padded,
    program_of,
    retrying,
)
from harbour.mentoring.services.matches import (
    _cas,
    _end,
    _every,
    _link,
    _pathway_words,
    _program,
    _schedule,
    _send,
    _start,
    _tell_declined,
    answer,
    checkin_done,
    link_token,
    match_by_token,
    match_end,
    match_propose,
    match_side,
    mentor_profiles,
    propose_all,
    reason_text,
    seeker_of,
)
from harbour.mentoring.services.program import (
    MentorData,
    mentor_save,
    program_save,
)
from harbour.mentoring.services.requests import (
    RequestData,
    _tell_coordinators,
    contact_view,
    request_close,
    request_create,
)
from harbour.mentoring.services.timed import (
    _expire,
    _miss,
    _remind,
    _step,
    advance_due,
    purge,
)
from harbour.notify.crypto import blind_index  # used through this module by the demo

__all__ = [
    "COORDINATOR",
    "CRISIS",
    "LANGUAGE_CODES",
    "LINK_SALT",
    "OPEN",
    "Conflict",
    "MentorData",
    "RequestData",
    "T",
    "_areas",
    "_cas",
    "_check",
    "_contact",
    "_end",
    "_every",
    "_expire",
    "_lang",
    "_link",
    "_miss",
    "_pathway_words",
    "_program",
    "_remind",
    "_schedule",
    "_send",
    "_start",
    "_step",
    "_tell_coordinators",
    "_tell_declined",
    "advance_due",
    "answer",
    "blind_index",
    "checkin_done",
    "codes",
    "contact_view",
    "link_token",
    "match_by_token",
    "match_end",
    "match_propose",
    "match_side",
    "mentor_profiles",
    "mentor_save",
    "padded",
    "program_of",
    "program_save",
    "propose_all",
    "purge",
    "reason_text",
    "request_close",
    "request_create",
    "retrying",
    "seeker_of",
]
