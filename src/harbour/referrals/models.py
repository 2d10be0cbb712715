"""Wraparound care: pseudonymous clients of one organization, their consent to share, referrals
between partner organizations with every transition, messages between the two and internal
notes.

Everything that could identify a person (alias, contact details, year of birth, what they need,
notes, messages) is encrypted at rest. The duplicate check inside an organization uses keyed
blind indexes of normalized identifiers; the organization's id is part of what is hashed, so
the same person at two organizations gives unrelated indexes (nothing links them).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from harbour.core.models import BaseModel
from harbour.notify.crypto import EncryptedTextField
from harbour.referrals.lifecycle import Action, Status


class ContactMethod(models.TextChoices):
    PHONE = "phone", _("Phone call or text")
    EMAIL = "email", _("Email")
    WORKER = "worker", _("Through a worker")
    NONE = "none", _("Do not contact me")


class ClientSource(models.TextChoices):
    STAFF = "staff", _("Recorded by staff")
    SELF = "self", _("Asked to be contacted")
    API = "api", _("Received from a partner system")


class Client(BaseModel):
    """A person an organization supports, under an alias. Belongs to one organization."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="referral_clients"
    )
    alias = EncryptedTextField(_("alias or preferred name"))
    contact_method = models.CharField(
        _("how to reach them"),
        max_length=10,
        choices=ContactMethod.choices,
        default=ContactMethod.WORKER,
    )
    phone = EncryptedTextField(_("phone"), blank=True)
    email = EncryptedTextField(_("email"), blank=True)
    contact_notes = EncryptedTextField(_("contact notes"), blank=True)
    language = models.CharField(_("language"), max_length=12, default="en")
    birth_year = EncryptedTextField(_("year of birth"), blank=True)
    source = models.CharField(max_length=10, choices=ClientSource.choices, default="staff")
    # keyed hashes of normalized identifiers, for the duplicate check inside the organization
    alias_index = models.CharField(max_length=40, db_index=True)
    phone_index = models.CharField(max_length=40, blank=True, db_index=True)
    email_index = models.CharField(max_length=40, blank=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # when the details were erased (retention or "erase now"): the row stays, pseudonymous, so
    # referral counts and the service-gap report keep their numbers
    erased_at = models.DateTimeField(_("details erased"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "-created_at"])]
        verbose_name = _("client")
        verbose_name_plural = _("clients")

    def __str__(self) -> str:
        return f"client {str(self.pk)[:8]}"

    @property
    def reference(self) -> str:
        return f"C-{str(self.pk)[:8].upper()}"


RETENTION_DAYS_DEFAULT = 365
RETENTION_DAYS_MIN = 30
RETENTION_DAYS_MAX = 7 * 365


class ReferralPolicy(models.Model):
    """Per organization: how long a client's details are kept once nothing is open for them
    (365 days when there is no row). Bounded: at least 30 days, at most 7 years."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="referral_policy"
    )
    retention_days = models.PositiveIntegerField(
        _("days a client's details are kept after their last referral closed"),
        default=RETENTION_DAYS_DEFAULT,
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    retention_days__gte=RETENTION_DAYS_MIN, retention_days__lte=RETENTION_DAYS_MAX
                ),
                name="referral_retention_bounded",
            )
        ]
        verbose_name = _("referral policy")
        verbose_name_plural = _("referral policies")

    def __str__(self) -> str:
        return f"referral policy of {self.organization_id}"


class EraseReason(models.TextChoices):
    """Why a coordinator erased a client's details at once (a code: no free text is kept)."""

    PERSON_ASKED = "person-asked", _("The person asked to be forgotten")
    ENTERED_IN_ERROR = "entered-in-error", _("Entered in error")
    DUPLICATE = "duplicate", _("A duplicate of another client")
    NO_LONGER_NEEDED = "no-longer-needed", _("No longer needed")


class SharedField(models.TextChoices):
    """What a consent lets a receiving organization see."""

    ALIAS = "alias", _("Alias or preferred name")
    CONTACT = "contact", _("How to reach them (phone, email, notes)")
    LANGUAGE = "language", _("Language")
    BIRTH_YEAR = "birth_year", _("Year of birth")
    NEEDS = "needs", _("What they need (the referral's reason and notes)")


class Purpose(models.TextChoices):
    REFERRAL = "referral", _("A referral for services")
    CARE_COORDINATION = "care_coordination", _("Coordinating care between the organizations")
    CONTACT = "contact", _("Being contacted about help they asked for")


class ConsentMethod(models.TextChoices):
    VERBAL = "verbal", _("Said yes in person or on the phone")
    WRITTEN = "written", _("Signed a form")
    SELF = "self", _("Gave it themselves online")
    PARTNER = "partner", _("Recorded by the referring partner's system")


class Consent(BaseModel):
    """What may be shared, with which organizations, for what, until when. Revocable: revoking
    hides the client's details from those organizations at once."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consents")
    organizations = models.ManyToManyField(
        "accounts.Organization", related_name="+", verbose_name=_("shared with")
    )
    fields = models.JSONField(_("what may be shared"), default=list)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    method = models.CharField(_("how it was given"), max_length=10, choices=ConsentMethod.choices)
    valid_until = models.DateTimeField(_("valid until"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_by_label = models.CharField(max_length=200, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["client", "revoked_at", "valid_until"])]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")

    def __str__(self) -> str:
        return f"consent {str(self.pk)[:8]}"


class Priority(models.TextChoices):
    ROUTINE = "routine", pgettext_lazy("referral", "Routine")
    SOON = "soon", pgettext_lazy("referral", "Soon (within a few days)")
    URGENT = "urgent", pgettext_lazy("referral", "Urgent (today)")


class ReferralStatus(models.TextChoices):
    DRAFT = Status.DRAFT.value, pgettext_lazy("referral", "Draft")
    SENT = Status.SENT.value, pgettext_lazy("referral", "Sent, waiting for them")
    RECEIVED = Status.RECEIVED.value, pgettext_lazy("referral", "Received")
    ACCEPTED = Status.ACCEPTED.value, pgettext_lazy("referral", "Accepted")
    DECLINED = Status.DECLINED.value, pgettext_lazy("referral", "Declined")
    REDIRECTED = Status.REDIRECTED.value, pgettext_lazy("referral", "Redirected")
    IN_PROGRESS = Status.IN_PROGRESS.value, pgettext_lazy("referral", "In progress")
    ON_HOLD = Status.ON_HOLD.value, pgettext_lazy("referral", "On hold (waitlist)")
    COMPLETED = Status.COMPLETED.value, pgettext_lazy("referral", "Completed: got help")
    UNSUCCESSFUL = Status.UNSUCCESSFUL.value, pgettext_lazy("referral", "Unsuccessful")
    CANCELLED = Status.CANCELLED.value, pgettext_lazy("referral", "Cancelled")
    WITHDRAWN = Status.WITHDRAWN.value, pgettext_lazy("referral", "Withdrawn by the sender")
    ENTERED_IN_ERROR = Status.ENTERED_IN_ERROR.value, pgettext_lazy("referral", "Entered in error")


class ReferralSource(models.TextChoices):
    STAFF = "staff", pgettext_lazy("referral", "Staff")
    SELF = "self", pgettext_lazy("referral", "Self-referral")
    API = "api", pgettext_lazy("referral", "API")
    FHIR = "fhir", pgettext_lazy("referral", "FHIR")


class Referral(BaseModel):
    """A person handed on from one organization (``sender``; none for a self-referral) to
    another (``receiver``), for a directory service or the organization in general."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="referrals")
    sender = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals_sent",
    )
    receiver = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="referrals_received"
    )
    service = models.ForeignKey(
        "directory.Service", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    service_name = models.CharField(_("service"), max_length=300, blank=True)
    # the service's top-level category code and postal area, kept for the service-gap report
    service_type = models.CharField(_("type of service"), max_length=100, blank=True)
    area = models.CharField(_("area"), max_length=40, blank=True)
    consent = models.ForeignKey(
        Consent, null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    status = models.CharField(
        max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.DRAFT
    )
    held_from = models.CharField(max_length=20, choices=ReferralStatus.choices, blank=True)
    version = models.PositiveIntegerField(default=0)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.ROUTINE
    )
    needs = EncryptedTextField(_("what they need"), blank=True)
    reason_code = models.CharField(max_length=40, blank=True)  # of the last transition
    source = models.CharField(max_length=10, choices=ReferralSource.choices, default="staff")
    external_id = models.CharField(max_length=200, blank=True)  # a partner's identifier
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # the two-business-day reminder: when the next reminder is due, and how many were sent
    remind_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["receiver", "-created_at"], name="referral_inbound"),
            models.Index(fields=["sender", "-created_at"], name="referral_outbound"),
            models.Index(fields=["receiver", "status", "-created_at"], name="referral_in_status"),
            models.Index(fields=["sender", "status", "-created_at"], name="referral_out_status"),
            models.Index(fields=["remind_at"], name="referral_remind"),
            models.Index(fields=["sent_at"], name="referral_sent"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "external_id"],
                condition=~models.Q(external_id=""),
                name="referral_external_once",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ReferralStatus.values), name="referral_status_valid"
            ),
        ]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"R-{str(self.pk)[:8].upper()}"

    @property
    def is_self_referral(self) -> bool:
        return self.sender_id is None


class Transition(models.Model):
    """One step of a referral: who (and for which side), when, from what to what, why."""

    id = models.BigAutoField(primary_key=True)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField(max_length=20, choices=[(a.value, a.value) for a in Action])
    from_status = models.CharField(max_length=20, choices=ReferralStatus.choices)
    to_status = models.CharField(max_length=20, choices=ReferralStatus.choices)
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()
    reason_code = models.CharField(max_length=40, blank=True)
    note = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["referral", "at"])]

    def __str__(self) -> str:
        return f"{self.action}: {self.from_status} -> {self.to_status}"


class Message(BaseModel):
    """A message between the two organizations (both see it), or an internal note (only the
    author's organization sees it)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="messages")
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=200, blank=True)
    internal = models.BooleanField(default=False)
    body = EncryptedTextField()

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["referral", "created_at"])]
        verbose_name = _("referral message")
        verbose_name_plural = _("referral messages")

    def __str__(self) -> str:
        return f"{'note' if self.internal else 'message'} on {self.referral_id}"
