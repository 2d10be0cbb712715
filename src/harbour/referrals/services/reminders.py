"""Reminders of sent referrals nobody acknowledged (timed work in the database)."""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from harbour.accounts.models import Organization
from harbour.core.roles import Role
from harbour.referrals import business
from harbour.referrals.models import (
    Referral,
    ReferralStatus,
)
from harbour.referrals.services._common import REMINDER_BUSINESS_DAYS
from harbour.referrals.services.notices import _email, _link, people

# --- reminders (timed work in the database) -----------------------------------------------


def reminder_due(receiver: Organization, start: datetime, sent: int) -> datetime | None:
    """When the next reminder falls due: two business days after sending, then one more for the
    admins; none after that."""
    days = {0: REMINDER_BUSINESS_DAYS, 1: 1}.get(sent)
    if days is None:
        return None
    province = receiver.province or ""
    return business.add_business_days(
        start, days, zone=business.zone_for(province), province=province
    )


def reminders_send(now: datetime | None = None, *, limit: int = 200) -> int:
    """Remind receiving organizations of sent referrals nobody acknowledged: their coordinators
    after two business days, their admins a business day later. Each reminder advances the row
    with a compare-and-set on ``reminders_sent`` in the same transaction as its emails (keys
    ``referral:<id>:remind:<n>``), so several workers or a rerun never send one twice."""
    now = now or timezone.now()
    due = list(
        Referral.objects.filter(status=ReferralStatus.SENT, remind_at__lte=now)
        .order_by("remind_at")
        .values_list("pk", "reminders_sent")[:limit]
    )
    sent = 0
    for pk, count in due:
        with transaction.atomic():
            rows = Referral.objects.filter(
                pk=pk, status=ReferralStatus.SENT, reminders_sent=count, remind_at__lte=now
            ).select_related("receiver", "sender")
            if connection.vendor == "postgresql":
                rows = rows.select_for_update(skip_locked=True, of=("self",))
            referral = rows.first()
            if referral is None:
                continue  # acknowledged meanwhile, or another worker has it
            stage = count + 1
            assert referral.remind_at is not None
            next_at = reminder_due(referral.receiver, referral.remind_at, stage)
            if not Referral.objects.filter(pk=pk, reminders_sent=count).update(
                reminders_sent=stage, remind_at=next_at
            ):
                continue
            minimum = Role.COORDINATOR if stage == 1 else Role.ORG_ADMIN
            for person in people(referral.receiver_id, minimum=minimum):
                with translation.override(person.lang):
                    _email(
                        person,
                        f"referral:{pk}:remind:{stage}",
                        _("Harbour: referral %(ref)s is waiting for an answer")
                        % {"ref": referral.reference},
                        _(
                            "%(sender)s sent %(org)s a referral%(service)s %(days)s business "
                            "days ago and nobody has acknowledged it yet.%(admin)s\n\n%(link)s"
                        )
                        % {
                            "sender": referral.sender.name if referral.sender else _("A person"),
                            "org": referral.receiver.name,
                            "service": f" ({referral.service_name})"
                            if referral.service_name
                            else "",
                            "days": REMINDER_BUSINESS_DAYS + stage - 1,
                            "admin": (" " + _("You are told as an admin of the organization."))
                            if stage > 1
                            else "",
                            "link": _link(referral, referral.receiver.slug),
                        },
                    )
            sent += 1
    return sent


def next_reminder() -> datetime | None:
    from django.db.models import Min

    return Referral.objects.filter(status=ReferralStatus.SENT).aggregate(t=Min("remind_at"))["t"]
