"""Messages and internal notes on a referral."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.permissions import require_role
from harbour.referrals.lifecycle import Side
from harbour.referrals.models import (
    Message,
    Referral,
    ReferralStatus,
)
from harbour.referrals.selectors import STAFF, side_of
from harbour.referrals.services._common import MAX_NOTE
from harbour.referrals.services.notices import _contacts, _email, _link

# --- messages and internal notes ----------------------------------------------------------


@transaction.atomic
def message_post(
    *, actor: Any, referral: Referral, body: str, internal: bool = False, organization: Any = None
) -> Message:
    """A message both organizations see (the other side is emailed that there is one), or an
    internal note only the author's organization sees."""
    side = side_of(actor, referral, organization)
    if side is None:
        from django.http import Http404

        raise Http404
    org = referral.receiver if side == Side.RECEIVER else referral.sender
    assert org is not None
    require_role(actor, org.pk, STAFF)
    text = body.strip()
    if not text:
        raise ValidationError({"body": _("Write something first.")})
    if len(text) > MAX_NOTE:
        raise ValidationError({"body": _("Keep it under %(n)s characters.") % {"n": MAX_NOTE}})
    if referral.status == ReferralStatus.DRAFT and not internal:
        raise ValidationError(
            {"body": _("Send the referral first: until then only your notes are kept.")}
        )
    if not internal and referral.sender_id is None:
        raise ValidationError(
            {"body": _("A person asked to be contacted: reach them directly, or write a note.")}
        )
    message = Message.objects.create(
        referral=referral,
        organization=org,
        author=actor if getattr(actor, "is_user", False) else None,
        author_label=audit.actor_label(actor),
        internal=internal,
        body=text,
    )
    audit.record(
        action=AuditAction.REFERRAL_MESSAGE,
        actor=actor,
        organization=org,
        obj=referral,
        metadata={"internal": internal, "message": str(message.pk)},
    )
    if not internal:
        other = Side.RECEIVER if side == Side.SENDER else Side.SENDER
        other_org = referral.receiver if other == Side.RECEIVER else referral.sender
        assert other_org is not None
        for person in _contacts(referral, other):
            with translation.override(person.lang):
                _email(
                    person,
                    f"referral:{referral.pk}:msg:{message.pk}",
                    _("Harbour: a message about referral %(ref)s") % {"ref": referral.reference},
                    _(
                        "%(org)s wrote about referral %(ref)s.\n\n%(link)s\n\nFor privacy, the "
                        "message is only in Harbour."
                    )
                    % {
                        "org": org.name,
                        "ref": referral.reference,
                        "link": _link(referral, other_org.slug),
                    },
                )
    return message
