"""How long staff accounts and invitations keep their email addresses once they are no longer
used, and the periodic job that enforces it (``accounts.purge``, daily).

- A **removed staff member** (no membership left in any organization, not a site admin) keeps
  their account, so the audit trail and referral timelines still point at one person, but once
  ``REMOVED_ACCOUNT_DAYS`` (365) have passed since their last sign-in, their joining and their
  last removal, the account is **pseudonymised**: its email becomes
  ``removed-<id>@removed.invalid``, the display name is cleared, it can no longer sign in
  (inactive, unusable password), allauth's copies of the address and the two-factor
  authenticators are deleted, and every label that named them by email (the audit trail's
  actor, referral timelines, messages, consents) now reads ``removed-<id>``. Re-inviting the
  same address later makes a new account.
- An **invitation** keeps the invited address while it can be used (7 days); once accepted,
  revoked or expired for ``INVITATION_KEPT_DAYS`` (30), the row is deleted (the audit trail keeps
  its id and role only).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from harbour.accounts.models import Invitation, Membership, User
from harbour.core import audit
from harbour.core.models import AuditAction, AuditEvent

REMOVED_ACCOUNT_DAYS = 365
INVITATION_KEPT_DAYS = 30
PSEUDONYM_DOMAIN = "removed.invalid"


def pseudonym(user_id: Any) -> str:
    return f"removed-{user_id}"


def _label_fields() -> list[tuple[type[models.Model], str]]:
    """Every text column that names an actor by their audit label (``*_label``)."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField) and field.name.endswith("_label"):
                found.append((model, field.name))
    return found


def _last_seen(user: User) -> datetime:
    removed = (
        AuditEvent.objects.filter(action=AuditAction.MEMBER_REMOVE, metadata__user=user.pk)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return max(t for t in (user.last_login, user.date_joined, removed) if t is not None)


def removed_accounts_due(now: datetime) -> list[User]:
    """Accounts with no membership, not site admins, not yet pseudonymised, unused for
    ``REMOVED_ACCOUNT_DAYS``."""
    cutoff = now - timedelta(days=REMOVED_ACCOUNT_DAYS)
    members = Membership.objects.values("user_id")
    rows = (
        User.objects.exclude(pk__in=members)
        .filter(is_staff=False, is_superuser=False, date_joined__lt=cutoff)
        .filter(Q(last_login__isnull=True) | Q(last_login__lt=cutoff))
        .exclude(email__iendswith=f"@{PSEUDONYM_DOMAIN}")
    )
    return [user for user in rows if _last_seen(user) < cutoff]


@transaction.atomic
def pseudonymise(user: User) -> int:
    """Replace everything that names ``user`` by email with a pseudonym. Returns how many
    labels were rewritten."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    old = user.email
    name = pseudonym(user.pk)
    user.email = f"{name}@{PSEUDONYM_DOMAIN}"
    user.display_name = ""
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["email", "display_name", "is_active", "password"])
    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    labels = 0
    for model, field in _label_fields():
        labels += model._default_manager.filter(**{f"{field}__iexact": old}).update(**{field: name})
    return labels


def purge(*, now: datetime | None = None) -> dict[str, int]:
    """Pseudonymise removed staff accounts past ``REMOVED_ACCOUNT_DAYS`` and delete invitations
    ended ``INVITATION_KEPT_DAYS`` ago. Idempotent; one audit event (counts only) when
    something changed."""
    now = now or timezone.now()
    accounts = labels = 0
    for user in removed_accounts_due(now):
        labels += pseudonymise(user)
        accounts += 1
    ended = now - timedelta(days=INVITATION_KEPT_DAYS)
    invitations, _rows = Invitation.objects.filter(
        Q(accepted_at__lt=ended) | Q(revoked_at__lt=ended) | Q(expires_at__lt=ended)
    ).delete()
    counts = {"accounts": accounts, "labels": labels, "invitations": invitations}
    if accounts or invitations:
        audit.record(action=AuditAction.ACCOUNTS_RETENTION_PURGE, metadata=counts)
    return counts


@task()
def purge_task() -> dict[str, int]:
    """The ``accounts.purge`` job (daily)."""
    return purge()
