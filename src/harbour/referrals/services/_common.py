"""What the referral writes share: the conflict error, the limits and the labels."""

from __future__ import annotations

from harbour.referrals.models import (
    Referral,
    ReferralStatus,
)

REMINDER_BUSINESS_DAYS = 2  # then the organization's admins, one business day later
LANGUAGES = ("en", "fr")
MAX_NOTE = 2000


class Conflict(Exception):
    """Someone changed the referral first. ``referral`` is how it is now."""

    def __init__(self, referral: Referral, message: str) -> None:
        super().__init__(message)
        self.referral = referral
        self.message = message


def status_label(status: str) -> str:
    return str(ReferralStatus(status).label)


def action_label(action: str) -> str:
    from harbour.referrals.forms import ACTION_LABELS

    return str(ACTION_LABELS.get(action, action))
