"""Every write to accounts and organizations. Keyword-only, atomic, audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.text import slugify
from django.utils.translation import gettext as _

from harbour.accounts.models import (
    ApiKey,
    Invitation,
    Membership,
    Organization,
    User,
    hash_token,
)
from harbour.accounts.tasks import send_invitation
from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.permissions import require_role
from harbour.core.roles import Role
from harbour.core.views import absolute_url


class InvitationError(Exception):
    """An invitation that cannot be used; the message says why, in the person's language."""


@transaction.atomic
def organization_create(
    *,
    name_en: str,
    name_fr: str = "",
    type: str,
    slug: str = "",
    city: str = "",
    province: str = "",
    actor: Any = None,
) -> Organization:
    org = Organization(
        name_en=name_en,
        name_fr=name_fr or name_en,
        type=type,
        slug=slug or slugify(name_en)[:80],
        city=city,
        province=province,
    )
    org.full_clean()
    org.save()
    audit.record(
        action=AuditAction.ORGANIZATION_CREATE,
        actor=actor,
        organization=org,
        obj=org,
        metadata={"slug": org.slug, "type": org.type},
    )
    return org


@transaction.atomic
def membership_set(
    *, organization: Organization, user: User, role: str, actor: Any = None
) -> Membership:
    """Add ``user`` to the organization or change their role (system and demo use)."""
    membership, created = Membership.objects.update_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    user.forget_roles()
    audit.record(
        action=AuditAction.MEMBER_ADD if created else AuditAction.MEMBER_ROLE_CHANGE,
        actor=actor,
        organization=organization,
        obj=membership,
        metadata={"role": role, "user": user.pk},
    )
    return membership


def invitation_token(invitation_id: object) -> str:
    """The one-time token of an invitation: a keyed hash of its id, so the worker can write the
    link again when it sends the email and no queue row or log ever holds the token. Only its
    SHA-256 is stored; changing SECRET_KEY voids pending invitations."""
    return salted_hmac("harbour.invitation", str(invitation_id), algorithm="sha256").hexdigest()


def _invitation_email(invitation: Invitation, token: str) -> tuple[str, str]:
    url = absolute_url("accounts:invitation-link", token=token)
    parts = []
    subjects = []
    for language in ("en", "fr"):
        with translation.override(language):
            context = {
                "organization": invitation.organization.name,
                "role": invitation.get_role_display(),
                "url": url,
                "expires": invitation.expires_at,
            }
            parts.append(render_to_string("accounts/email/invitation.txt", context))
            subjects.append(
                _("Invitation to join %(org)s on Harbour") % {"org": context["organization"]}
            )
    return " / ".join(subjects), "\n\n----------\n\n".join(parts)


def invitation_email_send(*, invitation: Invitation) -> int:
    """Send the invitation its email now (the worker's side of :func:`member_invite`)."""
    from django.core.mail import send_mail

    subject, body = _invitation_email(invitation, invitation_token(invitation.id))
    return send_mail(subject, body, None, [invitation.email], fail_silently=False)


@transaction.atomic
def member_invite(
    *, organization: Organization, email: str, role: str, actor: User | None
) -> tuple[Invitation, str]:
    """Invite ``email`` to the organization. Returns the invitation and its one-time token.

    ``actor`` must be an org admin; ``None`` is the system itself (``harbour createorg``)."""
    if actor is not None:
        require_role(actor, organization.id, Role.ORG_ADMIN)
    email = User.objects.normalize_email(email).strip().lower()
    if role not in Role.values:
        raise ValidationError({"role": _("Choose a valid role.")})
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise ValidationError({"email": _("This person is already a member.")})
    Invitation.objects.pending().filter(organization=organization, email__iexact=email).update(
        revoked_at=timezone.now()
    )
    invitation = Invitation(
        organization=organization,
        email=email,
        role=role,
        invited_by=actor,
        expires_at=Invitation.default_expiry(),
    )
    token = invitation_token(invitation.id)
    invitation.token_hash = hash_token(token)
    invitation.save()
    audit.record(
        action=AuditAction.MEMBER_INVITE,
        actor=actor,
        organization=organization,
        obj=invitation,
        metadata={"role": role},
    )
    # the queue row holds the id only: the worker writes the link (see accounts.tasks)
    send_invitation.enqueue(invitation_id=str(invitation.id))
    return invitation, token


def invitation_for_token(token: str) -> Invitation:
    """The invitation behind ``token`` if it can still be used, else :class:`InvitationError`."""
    invitation = (
        Invitation.objects.select_related("organization")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if invitation is None:
        raise InvitationError(
            _("This invitation link is not valid. Check that you copied all of it.")
        )
    if invitation.state == "accepted":
        raise InvitationError(_("This invitation has already been used. Sign in instead."))
    if invitation.state == "revoked":
        raise InvitationError(
            _("This invitation was withdrawn. Ask your organization for a new one.")
        )
    if invitation.state == "expired":
        raise InvitationError(
            _("This invitation has expired. Ask your organization for a new one.")
        )
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    invitation = invitation_for_token(token)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.state != "pending":
        raise InvitationError(_("This invitation has already been used. Sign in instead."))
    if invitation.email.lower() != user.email.lower():
        raise InvitationError(
            _("This invitation was sent to a different email address. Sign in with that address.")
        )
    membership, _created = Membership.objects.get_or_create(
        user=user, organization=invitation.organization, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    user.forget_roles()
    audit.record(
        action=AuditAction.INVITATION_ACCEPT,
        actor=user,
        organization=invitation.organization,
        obj=membership,
        metadata={"role": membership.role},
    )
    return membership


@transaction.atomic
def invitation_accept_new_user(*, token: str, password: str, display_name: str = "") -> User:
    """Create the account for a first-time invitee and accept the invitation."""
    invitation = invitation_for_token(token)
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise InvitationError(_("An account with this email already exists. Sign in to accept."))
    user = User.objects.create_user(
        email=invitation.email, password=password, display_name=display_name
    )
    invitation_accept(token=token, user=user)
    return user


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    require_role(actor, invitation.organization_id, Role.ORG_ADMIN)
    if invitation.state == "pending":
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at", "updated_at"])
        audit.record(
            action=AuditAction.INVITATION_REVOKE,
            actor=actor,
            organization=invitation.organization,
            obj=invitation,
            metadata={"role": invitation.role},
        )
    return invitation


def _admins_left(membership: Membership) -> int:
    return (
        Membership.objects.filter(organization=membership.organization, role=Role.ORG_ADMIN)
        .exclude(pk=membership.pk)
        .count()
    )


@transaction.atomic
def member_role_change(*, membership: Membership, role: str, actor: User) -> Membership:
    require_role(actor, membership.organization_id, Role.ORG_ADMIN)
    if role not in Role.values:
        raise ValidationError({"role": _("Choose a valid role.")})
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if (
        membership.role == Role.ORG_ADMIN
        and role != Role.ORG_ADMIN
        and not _admins_left(membership)
    ):
        raise ValidationError(
            {"role": _("An organization needs at least one admin. Make someone else admin first.")}
        )
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    membership.user.forget_roles()
    audit.record(
        action=AuditAction.MEMBER_ROLE_CHANGE,
        actor=actor,
        organization=membership.organization,
        obj=membership,
        metadata={"user": membership.user_id, "from": old, "to": role},
    )
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, actor: User) -> None:
    require_role(actor, membership.organization_id, Role.ORG_ADMIN)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == Role.ORG_ADMIN and not _admins_left(membership):
        raise ValidationError(
            _("An organization needs at least one admin. Make someone else admin first.")
        )
    audit.record(
        action=AuditAction.MEMBER_REMOVE,
        actor=actor,
        organization=membership.organization,
        obj=membership,
        metadata={"user": membership.user_id, "role": membership.role},
    )
    membership.delete()


@dataclass(frozen=True)
class NewApiKey:
    api_key: ApiKey
    secret: str  # shown once, never stored


@transaction.atomic
def api_key_create(
    *, organization: Organization, name: str, role: str = Role.VIEWER, actor: User
) -> NewApiKey:
    require_role(actor, organization.id, Role.ORG_ADMIN)
    if role not in Role.values:
        raise ValidationError({"role": _("Choose a valid role.")})
    full, prefix, digest = ApiKey.generate()
    key = ApiKey.objects.create(
        organization=organization,
        name=name.strip() or _("API key"),
        prefix=prefix,
        key_hash=digest,
        role=role,
        created_by=actor,
    )
    audit.record(
        action=AuditAction.API_KEY_CREATE,
        actor=actor,
        organization=organization,
        obj=key,
        metadata={"name": key.name, "prefix": prefix, "role": role},
    )
    return NewApiKey(api_key=key, secret=full)


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: User) -> ApiKey:
    require_role(actor, api_key.organization_id, Role.ORG_ADMIN)
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at", "updated_at"])
        audit.record(
            action=AuditAction.API_KEY_REVOKE,
            actor=actor,
            organization=api_key.organization,
            obj=api_key,
            metadata={"prefix": api_key.prefix},
        )
    return api_key


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The active key for ``raw``, or ``None``. Constant work whether or not the prefix exists."""
    import hmac

    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != "hbk":
        return None
    key = (
        ApiKey.objects.select_related("organization")
        .filter(prefix=parts[1], revoked_at__isnull=True)
        .first()
    )
    digest = hash_token(raw.strip())
    if key is None or not hmac.compare_digest(key.key_hash, digest):
        return None
    if not key.organization.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key
