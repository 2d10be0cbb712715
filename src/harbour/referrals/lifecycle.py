"""The referral lifecycle as a table: (status, action) -> new status. Pure Python (no Django).

    draft ─send─▶ sent ─receive─▶ received ─accept─▶ accepted ─start─▶ in_progress
                   │                 │                  │                 │
                   │                 │                  └─────────────────┴─▶ completed (got help)
                   │                 │                                     unsuccessful, cancelled
                   └────────┬────────┘
                            ├─decline─▶ declined (not eligible, no capacity, other)
                            └─redirect─▶ redirected (a child referral to another organization)

    hold: any open point ─▶ on_hold (waitlist); resume: back to where it was held; while on hold,
          whatever was allowed where it was held is allowed (a waitlisted referral is accepted
          when a place opens).
    withdraw: the sender takes back an open referral. entered_in_error: either side, any time.

Services enforce it (with a compare-and-set on the referral's version) and keep every
transition with its actor, time, reason code and note. The errors here carry codes, not
sentences: the services word them in the person's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REDIRECTED = "redirected"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    COMPLETED = "completed"
    UNSUCCESSFUL = "unsuccessful"
    CANCELLED = "cancelled"
    WITHDRAWN = "withdrawn"
    ENTERED_IN_ERROR = "entered_in_error"


class Action(StrEnum):
    SEND = "send"
    DISCARD = "discard"  # a draft the sender will not send
    RECEIVE = "receive"  # acknowledge: the receiving organization has seen it
    ACCEPT = "accept"
    DECLINE = "decline"
    REDIRECT = "redirect"
    START = "start"
    COMPLETE = "complete"
    UNSUCCESSFUL = "unsuccessful"
    CANCEL = "cancel"
    HOLD = "hold"
    RESUME = "resume"
    WITHDRAW = "withdraw"
    ENTERED_IN_ERROR = "entered_in_error"


class Side(StrEnum):
    SENDER = "sender"
    RECEIVER = "receiver"


OPEN = frozenset(
    {Status.SENT, Status.RECEIVED, Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD}
)
CLOSED = frozenset(
    {
        Status.DECLINED,
        Status.REDIRECTED,
        Status.COMPLETED,
        Status.UNSUCCESSFUL,
        Status.CANCELLED,
        Status.WITHDRAWN,
        Status.ENTERED_IN_ERROR,
    }
)
# waiting for the receiving organization to acknowledge (the two-business-day reminder)
UNACKNOWLEDGED = frozenset({Status.SENT})

_BEFORE_ACCEPT = (Status.SENT, Status.RECEIVED)
_AFTER_ACCEPT = (Status.ACCEPTED, Status.IN_PROGRESS)

TABLE: dict[tuple[Status, Action], Status] = {
    (Status.DRAFT, Action.SEND): Status.SENT,
    (Status.DRAFT, Action.DISCARD): Status.CANCELLED,
    (Status.SENT, Action.RECEIVE): Status.RECEIVED,
    **{(s, Action.ACCEPT): Status.ACCEPTED for s in _BEFORE_ACCEPT},
    **{(s, Action.DECLINE): Status.DECLINED for s in _BEFORE_ACCEPT},
    **{(s, Action.REDIRECT): Status.REDIRECTED for s in _BEFORE_ACCEPT},
    (Status.ACCEPTED, Action.START): Status.IN_PROGRESS,
    **{(s, Action.COMPLETE): Status.COMPLETED for s in _AFTER_ACCEPT},
    **{(s, Action.UNSUCCESSFUL): Status.UNSUCCESSFUL for s in _AFTER_ACCEPT},
    **{(s, Action.CANCEL): Status.CANCELLED for s in _AFTER_ACCEPT},
    **{(s, Action.HOLD): Status.ON_HOLD for s in (*_BEFORE_ACCEPT, *_AFTER_ACCEPT)},
    **{(s, Action.WITHDRAW): Status.WITHDRAWN for s in (*_BEFORE_ACCEPT, *_AFTER_ACCEPT)},
    (Status.ON_HOLD, Action.WITHDRAW): Status.WITHDRAWN,
    **{
        (s, Action.ENTERED_IN_ERROR): Status.ENTERED_IN_ERROR
        for s in Status
        if s != Status.ENTERED_IN_ERROR
    },
}

SIDES: dict[Action, frozenset[Side]] = {
    Action.SEND: frozenset({Side.SENDER}),
    Action.DISCARD: frozenset({Side.SENDER}),
    Action.WITHDRAW: frozenset({Side.SENDER}),
    Action.ENTERED_IN_ERROR: frozenset({Side.SENDER, Side.RECEIVER}),
    **{
        a: frozenset({Side.RECEIVER})
        for a in (
            Action.RECEIVE,
            Action.ACCEPT,
            Action.DECLINE,
            Action.REDIRECT,
            Action.START,
            Action.COMPLETE,
            Action.UNSUCCESSFUL,
            Action.CANCEL,
            Action.HOLD,
            Action.RESUME,
        )
    },
}

# reason codes each action takes; "required" actions refuse an empty one; "other" needs a note
REASONS: dict[Action, tuple[str, ...]] = {
    Action.DECLINE: ("not_eligible", "no_capacity", "other"),
    Action.UNSUCCESSFUL: ("no_show", "could_not_contact", "other"),
    Action.REDIRECT: ("better_fit", "no_capacity", "not_eligible", "other"),
    Action.HOLD: ("waitlist", "client_request", "other"),
    Action.CANCEL: ("client_request", "no_longer_needed", "other"),
    Action.WITHDRAW: ("client_request", "no_longer_needed", "other"),
    Action.ENTERED_IN_ERROR: ("duplicate", "wrong_client", "wrong_organization", "other"),
}
REASON_REQUIRED = frozenset({Action.DECLINE, Action.UNSUCCESSFUL, Action.HOLD})


class TransitionError(Exception):
    """Why a transition is refused: ``code`` is one of ``illegal``, ``side``, ``reason``,
    ``reason_unknown``, ``note``."""

    def __init__(self, code: str, *, status: Status, action: Action) -> None:
        super().__init__(f"{code}: {action} from {status}")
        self.code = code
        self.status = status
        self.action = action


@dataclass(frozen=True)
class Move:
    before: Status
    after: Status
    action: Action
    held_from: Status | None  # where an on-hold referral resumes


def next_status(status: Status, action: Action, *, held_from: Status | None = None) -> Status:
    """The status after ``action``, or TransitionError("illegal")."""
    if status == Status.ON_HOLD and action not in {Action.WITHDRAW, Action.ENTERED_IN_ERROR}:
        if held_from is None or held_from == Status.ON_HOLD:
            raise TransitionError("illegal", status=status, action=action)
        if action == Action.RESUME:
            return held_from
        if action in {Action.HOLD, Action.RECEIVE}:
            raise TransitionError("illegal", status=status, action=action)
        status_then = held_from
        found = TABLE.get((status_then, action))
        if found is None:
            raise TransitionError("illegal", status=status, action=action)
        return found
    found = TABLE.get((status, action))
    if found is None:
        raise TransitionError("illegal", status=status, action=action)
    return found


def move(
    status: Status,
    action: Action,
    *,
    side: Side,
    held_from: Status | None = None,
    reason_code: str = "",
    note: str = "",
) -> Move:
    """Check one transition completely: legal from here, done by the right side, with a reason
    code the action accepts (and a note when the reason is "other")."""
    if side not in SIDES[action]:
        raise TransitionError("side", status=status, action=action)
    after = next_status(status, action, held_from=held_from)
    allowed = REASONS.get(action, ())
    if reason_code and reason_code not in allowed:
        raise TransitionError("reason_unknown", status=status, action=action)
    if action in REASON_REQUIRED and not reason_code:
        raise TransitionError("reason", status=status, action=action)
    if reason_code == "other" and not note.strip():
        raise TransitionError("note", status=status, action=action)
    if after == Status.ON_HOLD:
        new_held_from: Status | None = status
    elif status == Status.ON_HOLD and after != Status.ON_HOLD:
        new_held_from = None
    else:
        new_held_from = held_from
    return Move(before=status, after=after, action=action, held_from=new_held_from)


def actions_for(status: Status, side: Side, *, held_from: Status | None = None) -> list[Action]:
    """Every action this side may take now, in the order a person would look for them."""
    found = []
    for action in Action:
        if side not in SIDES[action]:
            continue
        try:
            next_status(status, action, held_from=held_from)
        except TransitionError:
            continue
        found.append(action)
    return found


def acknowledged(before: Status, after: Status) -> bool:
    """True when this move is the receiving organization's first answer to a sent referral."""
    return before in UNACKNOWLEDGED and after not in UNACKNOWLEDGED
