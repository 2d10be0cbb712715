"""Drug alerts with two-person review, subscriptions by area (no account), and what each alert
was sent to. Subscribers' phone numbers and emails are encrypted, found by blind index."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from harbour.core.models import BaseModel
from harbour.notify.crypto import EncryptedTextField


class Severity(models.TextChoices):
    # CAP 1.2 severities
    EXTREME = "Extreme", _("Extreme: deaths or many overdoses")
    SEVERE = "Severe", _("Severe: overdoses or a dangerous new substance")
    MODERATE = "Moderate", _("Moderate: be careful")
    MINOR = "Minor", _("Minor: for information")


class AlertStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Waiting for a second person")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    DISCARDED = "discarded", _("Discarded")


# not yet out: a draft, or one waiting for a second person (at most one per sample)
OPEN = (AlertStatus.DRAFT, AlertStatus.PENDING)


class Alert(BaseModel):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="alerts"
    )
    # the CAP identifier, stable across updates
    identifier = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=140)
    body = models.TextField(_("what people should know"))
    appearance = models.TextField(_("what it looks like, packaging"), blank=True)
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.SEVERE
    )
    substances = models.ManyToManyField(
        "drugcheck.Substance", blank=True, related_name="+", verbose_name=_("substances")
    )
    # space-padded postal areas (" K7L K7K "); empty means everywhere the organization serves
    areas = models.CharField(_("postal areas"), max_length=400)
    area_description = models.CharField(_("area, in words"), max_length=200)
    valid_until = models.DateTimeField(_("valid until"))
    status = models.CharField(max_length=10, choices=AlertStatus.choices, default=AlertStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    # a discarded draft is kept (the audit log points at it) but listed and sent nowhere
    discarded_at = models.DateTimeField(null=True, blank=True)
    source_sample = models.ForeignKey(
        "drugcheck.Sample", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # an optional photo (of the drug or its packaging), kept in the database without its
    # metadata (alerts/images.py): it is backed up and served with the alert, nowhere else
    photo = models.BinaryField(null=True, blank=True, editable=False)
    photo_type = models.CharField(max_length=20, blank=True)
    photo_width = models.PositiveIntegerField(null=True, blank=True)
    photo_height = models.PositiveIntegerField(null=True, blank=True)
    photo_alt = models.CharField(_("what the photo shows"), max_length=200, blank=True)

    class Meta:
        ordering = ["-published_at", "-created_at"]
        indexes = [models.Index(fields=["status", "valid_until"])]
        constraints = [
            # saving a sample again updates its draft: never two open alerts from one sample
            models.UniqueConstraint(
                fields=["source_sample"],
                condition=models.Q(status__in=["draft", "pending"], source_sample__isnull=False),
                name="one_open_alert_per_sample",
            )
        ]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")

    def __str__(self) -> str:
        return str(self.title)

    @property
    def area_list(self) -> list[str]:
        return self.areas.split()


def tr(alert: Alert, field: str, lang: str) -> str:
    """A translated field in ``lang``, or the English text when there is no translation."""
    return str(getattr(alert, f"{field}_{lang}", None) or getattr(alert, f"{field}_en", "") or "")


class AlertPolicy(models.Model):
    """Per organization: whether a second staff member must approve before an alert goes out
    (the default, when there is no row), and the postal areas whose anonymous community
    reports it reviews (none by default: an organization sees no report until an admin
    claims the areas it serves)."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="alert_policy"
    )
    second_approval = models.BooleanField(_("a second person approves each alert"), default=True)
    # space-padded postal areas (" K7L K7K "); community reports from these areas come here
    report_areas = models.CharField(
        _("postal areas whose community reports we review"), max_length=400, blank=True
    )

    def __str__(self) -> str:
        return f"alert policy of {self.organization_id}"

    def report_area_list(self) -> list[str]:
        return self.report_areas.split()


class Subscription(BaseModel):
    channel = models.CharField(max_length=10)  # notify Channel: sms, email, push
    recipient = EncryptedTextField()
    recipient_index = models.CharField(max_length=40)
    areas = models.CharField(max_length=400)  # space-padded postal areas, or " * " for all
    lang = models.CharField(max_length=5, default="en")
    confirmed = models.BooleanField(default=False)  # email: after the confirmation link

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "recipient_index"], name="one_subscription_per_address"
            )
        ]
        indexes = [models.Index(fields=["confirmed", "channel"])]

    def __str__(self) -> str:
        return f"{self.channel} subscription"


class ReportKind(models.TextChoices):
    BAD_DOPE = "bad-dope", _("Bad dope: something is off with the drugs")
    BAD_REACTION = "bad-reaction", _("A bad or unusual reaction")
    OVERDOSE = "overdose", _("An overdose")
    OTHER = "other", _("Something else")


class ReportStatus(models.TextChoices):
    NEW = "new", _("New")
    CONFIRMED = "confirmed", _("Reviewed: counts in the figures")
    DISMISSED = "dismissed", _("Dismissed")
    ALERTED = "alerted", _("Turned into an alert draft")


# a coordinator of the area looked at these and judged them real: only they count as events
REVIEWED = (ReportStatus.CONFIRMED, ReportStatus.ALERTED)


class CommunityReport(BaseModel):
    """An anonymous report from the community. Nothing about the person: no name, no phone
    number (even for a text), no IP address, and no precise time: ``created_at`` and
    ``updated_at`` are stored rounded down (the hour for the web form, the local day for a
    text message), so no row can be matched to a web log or to the text's acknowledgement by time.
    Never published by itself.

    It goes to one organization: the most local one whose alert policy lists its postal area
    (see services.route_report); with no area, or an area nobody lists, to no one until an
    organization's admin claims that area."""

    kind = models.CharField(_("what happened"), max_length=20, choices=ReportKind.choices)
    sold_as = models.CharField(_("sold as"), max_length=120, blank=True)
    looks_like = models.CharField(_("what it looks like"), max_length=200, blank=True)
    what_happened = models.TextField(_("effects, what happened"), max_length=1000)
    city = models.CharField(_("city or town"), max_length=120, blank=True)
    fsa = models.CharField(_("postal area"), max_length=3, blank=True)
    happened_on = models.DateField(_("when"), null=True, blank=True)
    source = models.CharField(max_length=10, default="web")  # web or sms
    status = models.CharField(
        max_length=10, choices=ReportStatus.choices, default=ReportStatus.NEW, db_index=True
    )
    # who reviews it: the most local organization serving its postal area (None: nobody yet)
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="community_reports",
    )  # fmt: skip
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("community report")
        verbose_name_plural = _("community reports")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d})"
