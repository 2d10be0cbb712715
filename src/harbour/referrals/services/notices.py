"""Who is told of a change, and the emails that tell them (never a client's details)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from harbour.accounts.models import Membership
from harbour.core.roles import ROLE_RANK, Role
from harbour.core.views import absolute_url
from harbour.notify import services as notify
from harbour.referrals.lifecycle import Action, Side
from harbour.referrals.models import (
    Referral,
    Transition,
)
from harbour.referrals.selectors import STAFF
from harbour.referrals.services._common import LANGUAGES, status_label

# --- who is told --------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    user_id: Any
    email: str
    lang: str


def people(organization_id: Any, *, minimum: str) -> list[Person]:
    """Active members of the organization with at least ``minimum``."""
    roles = [role for role, rank in ROLE_RANK.items() if rank >= ROLE_RANK[minimum]]
    rows = Membership.objects.filter(
        organization_id=organization_id,
        organization__is_active=True,
        role__in=roles,
        user__is_active=True,
    ).values_list("user_id", "user__email", "user__preferred_language")
    return [Person(uid, email, lang if lang in LANGUAGES else "en") for uid, email, lang in rows]


def _contacts(referral: Referral, side: Side) -> list[Person]:
    """Whom to tell on one side: the people of that side who made, answered or wrote on the
    referral, and its coordinators; when that is nobody, all its staff."""
    org_id = referral.sender_id if side == Side.SENDER else referral.receiver_id
    if org_id is None:
        return []
    staff = people(org_id, minimum=STAFF)
    involved = {referral.created_by_id} if side == Side.SENDER else set()
    involved |= set(
        referral.transitions.filter(organization_id=org_id).values_list("actor_id", flat=True)
    )
    involved |= set(
        referral.messages.filter(organization_id=org_id).values_list("author_id", flat=True)
    )
    if side == Side.SENDER:
        chosen = [p for p in staff if p.user_id in involved]
        if not chosen:
            chosen = [p for p in people(org_id, minimum=Role.COORDINATOR)]
    else:
        leads = {p.user_id for p in people(org_id, minimum=Role.COORDINATOR)}
        chosen = [p for p in staff if p.user_id in involved or p.user_id in leads]
    return chosen or staff


def _email(person: Person, key: str, subject: str, body: str) -> None:
    notify.enqueue(
        key=f"{key}:{person.user_id}:email",
        channel="email",
        to=person.email,
        subject=subject,
        body=body,
        lang=person.lang,
    )


def _link(referral: Referral, organization_slug: str) -> str:
    return absolute_url("referrals-staff:detail", slug=organization_slug, referral_id=referral.pk)


def _tell_other_side(referral: Referral, transition: Transition, side: Side) -> None:
    other = Side.RECEIVER if side == Side.SENDER else Side.SENDER
    org = referral.receiver if other == Side.RECEIVER else referral.sender
    if org is None:
        return
    for person in _contacts(referral, other):
        with translation.override(person.lang):
            if transition.action == Action.SEND:
                subject = _("Harbour: a new referral for you (%(ref)s)") % {
                    "ref": referral.reference
                }
                body = _(
                    "%(sender)s referred someone to %(receiver)s%(service)s. Please acknowledge "
                    "it within two business days.\n\n%(link)s\n\nFor privacy, details are only "
                    "in Harbour."
                )
            else:
                subject = _("Harbour: referral %(ref)s is now “%(status)s”") % {
                    "ref": referral.reference,
                    "status": status_label(referral.status),
                }
                body = _(
                    "Referral %(ref)s (%(sender)s to %(receiver)s%(service)s) is now "
                    "“%(status)s”.\n\n%(link)s\n\nFor privacy, details are only in Harbour."
                )
            _email(
                person,
                f"referral:{referral.pk}:t:{transition.pk}",
                subject,
                body
                % {
                    "ref": referral.reference,
                    "sender": referral.sender.name if referral.sender else _("A person"),
                    "receiver": referral.receiver.name,
                    "service": f" ({referral.service_name})" if referral.service_name else "",
                    "status": status_label(referral.status),
                    "link": _link(referral, org.slug),
                },
            )
