"""Self-referral: "ask them to contact me" from a public listing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.referrals import lifecycle
from harbour.referrals.lifecycle import Action, Side, Status
from harbour.referrals.models import (
    ClientSource,
    ConsentMethod,
    ContactMethod,
    Purpose,
    Referral,
    ReferralSource,
    ReferralStatus,
    SharedField,
    Transition,
)
from harbour.referrals.services._common import LANGUAGES
from harbour.referrals.services.clients import (
    ClientData,
    _clean_client,
    _indexes,
    client_create,
    consent_record,
)
from harbour.referrals.services.notices import _contacts, _email, _link
from harbour.referrals.services.referral_lifecycle import (
    _receiver_of,
    _service_facts,
    _service_refusal,
)
from harbour.referrals.services.reminders import reminder_due

# --- self-referral: "ask them to contact me" from a public listing --------------------------

SELF_CONSENT_DAYS = 90


@transaction.atomic
def self_referral_create(
    *,
    service: Any,
    alias: str,
    contact_method: str,
    phone: str = "",
    email: str = "",
    best_time: str = "",
    language: str = "en",
    needs: str = "",
) -> Referral:
    """A person asks the organization behind a listing to contact them: no account. Their
    client record, their own consent (to that organization, 90 days) and the referral are
    written together; the organization's coordinators are emailed. Asking again for the same
    service with the same contact while the first is still open is the same request."""
    receiver = _receiver_of(service)
    if receiver is None or not receiver.is_active:
        raise ValidationError(
            _("This listing does not take requests through Harbour. Call them instead."),
            code="no_receiver",
        )
    refusal = _service_refusal(service)
    if refusal:
        raise ValidationError(refusal, code="inactive_service")
    if contact_method not in (ContactMethod.PHONE, ContactMethod.EMAIL):
        raise ValidationError({"contact_method": _("Choose how they should contact you.")})
    data = ClientData(
        alias=alias,
        contact_method=contact_method,
        phone=phone,
        email=email,
        contact_notes=best_time.strip()[:200],
        language=language if language in LANGUAGES else "en",
    )
    clean = _clean_client(data)
    keys = _indexes(receiver.pk, clean)
    contact_index = (
        keys["phone_index"] if contact_method == ContactMethod.PHONE else keys["email_index"]
    )
    lookup = (
        "client__phone_index" if contact_method == ContactMethod.PHONE else "client__email_index"
    )
    existing = Referral.objects.filter(
        receiver=receiver,
        service=service,
        source=ReferralSource.SELF,
        status__in=[s.value for s in lifecycle.OPEN],
        **{lookup: contact_index},
    ).first()
    if existing is not None:
        return existing
    client = client_create(actor=None, organization=receiver, data=data, source=ClientSource.SELF)
    now = timezone.now()
    consent = consent_record(
        actor=None,
        client=client,
        organizations=[receiver],
        fields=SharedField.values,
        purpose=Purpose.CONTACT,
        method=ConsentMethod.SELF,
        valid_until=now + timedelta(days=SELF_CONSENT_DAYS),
    )
    kind, area = _service_facts(service, receiver)
    referral = Referral.objects.create(
        client=client,
        sender=None,
        receiver=receiver,
        service=service,
        service_name=str(service.name),
        service_type=kind,
        area=area[:40],
        needs=needs.strip()[:1000],
        consent=consent,
        status=ReferralStatus.SENT,
        version=1,
        source=ReferralSource.SELF,
        sent_at=now,
        remind_at=reminder_due(receiver, now, 0),
    )
    transition = Transition.objects.create(
        referral=referral,
        action=Action.SEND.value,
        from_status=Status.DRAFT.value,
        to_status=Status.SENT.value,
        organization=None,
        actor_label="the person",
        at=now,
    )
    audit.record(
        action=AuditAction.REFERRAL_SELF,
        organization=receiver,
        obj=referral,
        label="anonymous",
        metadata={"service": str(service.pk), "contact_method": contact_method},
    )
    for person in _contacts(referral, Side.RECEIVER):
        with translation.override(person.lang):
            _email(
                person,
                f"referral:{referral.pk}:t:{transition.pk}",
                _("Harbour: someone asked to be contacted (%(ref)s)") % {"ref": referral.reference},
                _(
                    "Through the listing “%(service)s”, someone asked %(org)s to contact them. "
                    "Please answer within two business days.\n\n%(link)s\n\nFor privacy, their "
                    "details are only in Harbour."
                )
                % {
                    "service": referral.service_name,
                    "org": receiver.name,
                    "link": _link(referral, receiver.slug),
                },
            )
    return referral
