from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from harbour.core.models import BaseModel
from harbour.core.roles import Role


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class HarbourUserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra_fields: Any) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        # the address an account is made with counts as proven (an invitation reached it, or an
        # admin typed it); a new one must be confirmed from its mailbox before it replaces this
        # (allauth's change-email flow: ACCOUNT_CHANGE_EMAIL)
        from allauth.account.models import EmailAddress

        EmailAddress.objects.using(self._db).create(
            user=user, email=user.email, verified=True, primary=True
        )
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields: Any) -> User:
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A staff or volunteer account. Signs in by email; no real name is required."""

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    display_name = models.CharField(
        _("display name"),
        max_length=80,
        blank=True,
        help_text=_("What colleagues see. An alias or first name is enough."),
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    is_demo = models.BooleanField(_("demo account"), default=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []
    is_user = True

    objects = HarbourUserManager()  # type: ignore[misc,assignment]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.display_name or self.email

    def audit_label(self) -> str:
        return self.email

    def org_roles(self) -> dict[UUID, str]:
        cached: dict[UUID, str] | None = getattr(self, "_org_roles", None)
        if cached is None:
            cached = dict(
                Membership.objects.filter(user=self, organization__is_active=True).values_list(
                    "organization_id", "role"
                )
            )
            self._org_roles = cached
        return cached

    def forget_roles(self) -> None:
        self.__dict__.pop("_org_roles", None)

    @property
    def is_staff_member(self) -> bool:
        """Holds any role in any organization (and so must use two-factor authentication)."""
        return bool(self.org_roles()) or self.is_staff or self.is_superuser


class OrganizationType(models.TextChoices):
    HARM_REDUCTION_SITE = "harm_reduction_site", _("Harm-reduction site")
    HEALTH_AUTHORITY = "health_authority", _("Health authority")
    COMMUNITY_ORGANIZATION = "community_organization", _("Community organization")
    INDIGENOUS_LED = "indigenous_led", _("Indigenous-led organization")
    PEER_GROUP = "peer_group", _("Peer / drug-user group")
    EMERGENCY_SERVICES = "emergency_services", _("Police / fire / EMS")
    FUNDER = "funder", _("Funder")


class Organization(BaseModel):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name"), max_length=80, unique=True)
    type = models.CharField(_("type"), max_length=40, choices=OrganizationType.choices)
    city = models.CharField(_("city or area"), max_length=120, blank=True)
    province = models.CharField(_("province or territory"), max_length=2, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects: ClassVar[models.Manager[Organization]] = models.Manager()

    class Meta:
        ordering = ["slug"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return str(self.name)


class Membership(BaseModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        ordering = ["organization__slug", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def pending(self) -> InvitationQuerySet:
        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )


class Invitation(BaseModel):
    """An email invitation to join an organization with a role. The token is stored hashed."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.email} → {self.organization} ({self.role})"

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def default_expiry() -> datetime:
        return timezone.now() + timedelta(days=settings.INVITATION_DAYS)

    @property
    def state(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


API_KEY_PREFIX = "hbk"


class ApiKey(BaseModel):
    """An organization's key for the JSON API. Only a hash of the secret is kept."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    role = models.CharField(
        _("role"),
        max_length=20,
        choices=Role.choices,
        default=Role.VIEWER,
        help_text=_("What the key may do, as if it were a member with this role."),
    )
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    is_user = False
    is_authenticated = True

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="api_key_role_valid"
            ),
        ]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.organization.is_active

    def audit_label(self) -> str:
        return f"api-key:{self.prefix}"

    def org_roles(self) -> dict[UUID, str]:
        return {self.organization_id: self.role} if self.is_active else {}

    @staticmethod
    def generate() -> tuple[str, str, str]:
        """A new key: (full key shown once, prefix, hash)."""
        prefix = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        full = f"{API_KEY_PREFIX}_{prefix}_{secret}"
        return full, prefix, hash_token(full)
