"""Every write to referrals: clients (with the duplicate check inside the organization),
consent (record, revoke), referrals (create, every lifecycle transition with a compare-and-set
on the version), messages and internal notes, self-referrals from public listings, the
two-business-day reminders, and retention and erasure.

Every function checks the actor's role itself, writes its audit event in the same transaction
and queues its emails through ``notify`` with idempotency keys. Emails never carry a client's
details: they say that something is waiting and link to it.

The writes live in one module per topic; every name is re-exported here so that
``from harbour.referrals import services`` and ``services.client_create`` keep working.
"""

from datetime import timedelta  # ``services.timedelta`` is used by fhir

from harbour.referrals.services._common import (
    LANGUAGES,
    MAX_NOTE,
    REMINDER_BUSINESS_DAYS,
    Conflict,
    action_label,
    status_label,
)
from harbour.referrals.services.clients import (
    ClientData,
    _clean_client,
    _index,
    _indexes,
    _refuse_erased,
    client_create,
    client_update,
    consent_record,
    consent_revoke,
    normalize_alias,
    possible_duplicates,
)
from harbour.referrals.services.messages import (
    message_post,
)
from harbour.referrals.services.notices import (
    Person,
    _contacts,
    _email,
    _link,
    _tell_other_side,
    people,
)
from harbour.referrals.services.referral_lifecycle import (
    REFUSALS,
    _check_send,
    _conflict,
    _lock,
    _receiver_of,
    _redirect_child,
    _refusal,
    _service_facts,
    _service_refusal,
    acting_organizations,
    referral_create,
    referral_transition,
)
from harbour.referrals.services.reminders import (
    next_reminder,
    reminder_due,
    reminders_send,
)
from harbour.referrals.services.retention import (
    _erase,
    client_erase,
    due_for_erasure,
    policy_set,
    retention_days_of,
    retention_purge,
)
from harbour.referrals.services.self_referral import (
    SELF_CONSENT_DAYS,
    self_referral_create,
)

__all__ = [
    "LANGUAGES",
    "MAX_NOTE",
    "REFUSALS",
    "REMINDER_BUSINESS_DAYS",
    "SELF_CONSENT_DAYS",
    "ClientData",
    "Conflict",
    "Person",
    "_check_send",
    "_clean_client",
    "_conflict",
    "_contacts",
    "_email",
    "_erase",
    "_index",
    "_indexes",
    "_link",
    "_lock",
    "_receiver_of",
    "_redirect_child",
    "_refusal",
    "_refuse_erased",
    "_service_facts",
    "_service_refusal",
    "_tell_other_side",
    "acting_organizations",
    "action_label",
    "client_create",
    "client_erase",
    "client_update",
    "consent_record",
    "consent_revoke",
    "due_for_erasure",
    "message_post",
    "next_reminder",
    "normalize_alias",
    "people",
    "policy_set",
    "possible_duplicates",
    "referral_create",
    "referral_transition",
    "reminder_due",
    "reminders_send",
    "retention_days_of",
    "retention_purge",
    "self_referral_create",
    "status_label",
    "timedelta",
]
