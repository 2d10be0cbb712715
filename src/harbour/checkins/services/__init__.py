"""Check-in sessions as a state machine in the database.

    active ──timer──▶ prompted ──grace──▶ calling ──accept window──▶ dispatch
      ▲  OK resets      │ OK: ended         │ GO: assigned ──arrival window──▶ dispatch
      └── MORE n ◀──────┘                   │         │ HERE: on_scene
                                            └─────────┴──▶ outcome: ended

Every change is a compare-and-set on ``Session.version`` in one transaction with the
messages it queues (idempotency keys built from the session, the step and its due time), so
two workers, a killed worker, or the same reply twice never send twice or skip a step. Timed
steps are advanced by the worker's clock (:mod:`harbour.core.clock`); everything else comes
from the person (web page or text), a responder (text or private link) or a dispatcher.
"""

from harbour.checkins.services.common import (  # noqa: F401
    DEFAULT_MINUTES,
    MAX_CALLOUTS,
    MAX_CONTACTS,
    MAX_MINUTES,
    MIN_MINUTES,
    Conflict,
    _cas,
    _event,
    _lang,
    _retrying,
    _send,
    crisis_lines,
    not_served,
    padded_areas,
    phone_index,
    postal_area,
    program_for,
)
from harbour.checkins.services.housekeeping import (  # noqa: F401
    _purge_one,
    _tell_on_duty,
    close_stale,
    lag_seconds,
    language_of,
    max_open,
    open_for,
    purge,
)
from harbour.checkins.services.responders import (  # noqa: F401
    DISPATCH_OUTCOMES,
    RESPONDER_OUTCOMES,
    _overdose_event,
    accept,
    arrive,
    debrief,
    dispatcher_outcome,
    finish,
    responder_availability,
)
from harbour.checkins.services.sessions import (  # noqa: F401
    CONFIRM_TRIES,
    Start,
    _clean,
    _code_hash,
    _end,
    _stand_down,
    confirm,
    reply,
    start,
)
from harbour.checkins.services.steps import (  # noqa: F401
    STEP_BATCH,
    _dispatch,
    _escalate,
    _over_cap,
    _timed_step,
    _where,
    advance_due,
    callouts_per_number,
    how_started,
    next_due,
    respond_link,
    responders_for,
)

__all__ = [
    "CONFIRM_TRIES",
    "DEFAULT_MINUTES",
    "DISPATCH_OUTCOMES",
    "MAX_CALLOUTS",
    "MAX_CONTACTS",
    "MAX_MINUTES",
    "MIN_MINUTES",
    "RESPONDER_OUTCOMES",
    "STEP_BATCH",
    "Conflict",
    "Start",
    "accept",
    "advance_due",
    "arrive",
    "callouts_per_number",
    "close_stale",
    "confirm",
    "crisis_lines",
    "debrief",
    "dispatcher_outcome",
    "finish",
    "how_started",
    "lag_seconds",
    "language_of",
    "max_open",
    "next_due",
    "not_served",
    "open_for",
    "padded_areas",
    "phone_index",
    "postal_area",
    "program_for",
    "purge",
    "reply",
    "respond_link",
    "responder_availability",
    "responders_for",
    "start",
]
