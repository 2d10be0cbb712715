"""Peer mentoring: trained peer mentors with lived experience, people asking for a mentor,
proposed matches that both sides accept before any contact detail is shared, and scheduled
check-ins whose reminders and "gone quiet" notices are timed work in the database.

Personal data is kept to the minimum: aliases, never names; contact details and notes are
encrypted; a closed request's contact and notes are erased ``purge_days`` later. Only the owning
organization's coordinators see any of it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from harbour.core.models import BaseModel
from harbour.notify.crypto import EncryptedTextField


class Pathway(models.TextChoices):
    TWELVE_STEP = "twelve_step", _("12-step (AA, NA...)")
    SMART = "smart", _("SMART Recovery")
    HARM_REDUCTION = "harm_reduction", _("Harm reduction")
    MEDICATION = "medication", _("Medication-assisted (methadone, buprenorphine...)")
    FAITH = "faith", _("Faith-based")
    CULTURAL = "cultural", _("Cultural or Indigenous")
    IDENTITY = "identity", _("Identity-based (for example 2SLGBTQ+)")
    FAMILY = "family", _("For family and friends")


class Identity(models.TextChoices):
    WOMAN = "woman", _("Woman")
    MAN = "man", _("Man")
    QUEER = "2slgbtq", _("Two-Spirit or LGBTQ+")
    INDIGENOUS = "indigenous", _("First Nations, Inuit or Métis")
    BLACK = "black", _("Black")
    YOUTH = "youth", _("Young (under 25)")
    OLDER = "older", _("Older adult (over 55)")
    PARENT = "parent", _("Parent")


# languages people can talk in, by their own names (not translated)
LANGUAGES = [
    ("en", "English"), ("fr", "Français"), ("es", "Español"), ("ar", "العربية"),
    ("zh", "中文"), ("pa", "ਪੰਜਾਬੀ"), ("tl", "Tagalog"), ("cr", "Nēhiyawēwin (Cree)"),
    ("oj", "Anishinaabemowin"), ("iu", "ᐃᓄᒃᑎᑐᑦ (Inuktitut)"),
]  # fmt: skip


class Channel(models.TextChoices):
    SMS = "sms", _("Text message")
    EMAIL = "email", _("Email")


class Program(BaseModel):
    """An organization's mentoring program and its rhythm."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="mentoring_program"
    )
    enabled = models.BooleanField(_("taking requests"), default=True)
    areas = models.CharField(
        _("postal areas served"), max_length=400, blank=True,
        help_text=_("e.g. K7L K7K. Empty: anywhere (online mentoring)."),
    )  # fmt: skip
    checkin_every_days = models.PositiveSmallIntegerField(_("days between check-ins"), default=14)
    answer_days = models.PositiveSmallIntegerField(
        _("days to answer a check-in reminder"), default=3
    )
    quiet_after_missed = models.PositiveSmallIntegerField(
        _("missed check-ins in a row before the coordinator is told"), default=2
    )
    proposal_days = models.PositiveSmallIntegerField(
        _("days both people have to accept a proposed match"), default=7
    )
    purge_days = models.PositiveSmallIntegerField(
        _("days after a request closes before its contact details are erased"), default=90
    )
    crisis_line = models.CharField(_("crisis line shown to people"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("mentoring program")
        verbose_name_plural = _("mentoring programs")

    def __str__(self) -> str:
        return f"mentoring by {self.organization_id}"


class Mentor(BaseModel):
    """A trained peer mentor with lived experience. No account: they answer on private links."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="mentors"
    )
    alias = models.CharField(_("name they go by"), max_length=60)
    channel = models.CharField(_("reach them by"), max_length=5, choices=Channel.choices)
    contact = EncryptedTextField(_("mobile number or email"))
    contact_index = models.CharField(max_length=40, db_index=True)
    lang = models.CharField(_("language of messages"), max_length=5, default="en")
    languages = models.CharField(_("languages"), max_length=100)  # space-padded codes
    pathways = models.CharField(_("pathways"), max_length=200)
    identities = models.CharField(_("identities they share"), max_length=200, blank=True)
    areas = models.CharField(_("postal areas they meet in"), max_length=400, blank=True)
    online = models.BooleanField(_("meets online or by phone"), default=True)
    in_person = models.BooleanField(_("meets in person"), default=True)
    capacity = models.PositiveSmallIntegerField(_("how many people at once"), default=2)
    trained_on = models.DateField(_("peer mentor training completed on"), null=True, blank=True)
    lived_experience = models.BooleanField(_("has lived or living experience"), default=True)
    active = models.BooleanField(_("taking new people"), default=True)
    last_matched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["alias"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1, capacity__lte=20), name="mentor_capacity_range"
            ),
        ]
        verbose_name = _("peer mentor")
        verbose_name_plural = _("peer mentors")

    def __str__(self) -> str:
        return self.alias


class RequestStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for a mentor")
    PROPOSED = "proposed", _("A match is proposed")
    MATCHED = "matched", _("Matched")
    CLOSED = "closed", _("Closed")


class MentorRequest(BaseModel):
    """Someone asking for a mentor, with their preferences (first choice first)."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="mentor_requests"
    )
    alias = models.CharField(_("what should we call you?"), max_length=60)
    channel = models.CharField(_("reach me by"), max_length=5, choices=Channel.choices)
    contact = EncryptedTextField(_("mobile number or email"), blank=True)
    lang = models.CharField(max_length=5, default="en")
    languages = models.CharField(max_length=100)  # space-padded, preferred first
    pathways = models.CharField(max_length=200, blank=True)  # preferred first; empty: any
    identities = models.CharField(max_length=200, blank=True)
    fsa = models.CharField(_("postal area"), max_length=3, blank=True)
    online = models.BooleanField(_("online or by phone is fine"), default=True)
    in_person = models.BooleanField(_("in person is fine"), default=True)
    notes = EncryptedTextField(_("anything else"), blank=True)
    status = models.CharField(
        max_length=10, choices=RequestStatus.choices, default=RequestStatus.WAITING, db_index=True
    )
    source = models.CharField(max_length=10, default="web")  # web or staff
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("request for a mentor")
        verbose_name_plural = _("requests for a mentor")

    def __str__(self) -> str:
        return f"{self.alias} ({self.status})"


class MatchStatus(models.TextChoices):
    PROPOSED = "proposed", _("Waiting for both to accept")
    ACTIVE = "active", _("Active")
    DECLINED = "declined", _("One of them said no")
    EXPIRED = "expired", _("Not answered in time")
    ENDED = "ended", _("Ended")


class EndReason(models.TextChoices):
    REMATCH = "rematch", _("A new match was asked for (no fault)")
    COMPLETED = "completed", _("Completed")
    DECLINED = "declined", _("One of them said no")
    EXPIRED = "expired", _("Not answered in time")
    CLOSED = "closed", _("Request closed")


class Match(BaseModel):
    """A mentor proposed to a person. Contact details are shared only once both accept."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="mentor_matches"
    )
    request = models.ForeignKey(MentorRequest, on_delete=models.CASCADE, related_name="matches")
    mentor = models.ForeignKey(Mentor, on_delete=models.CASCADE, related_name="matches")
    status = models.CharField(
        max_length=10, choices=MatchStatus.choices, default=MatchStatus.PROPOSED, db_index=True
    )
    score = models.FloatField()
    breakdown = models.JSONField(default=dict)
    mentor_consent_at = models.DateTimeField(null=True, blank=True)
    mentee_consent_at = models.DateTimeField(null=True, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=10, choices=EndReason.choices, blank=True)
    ended_by = models.CharField(max_length=12, blank=True)  # mentor, mentee, coordinator, clock
    missed_in_row = models.PositiveSmallIntegerField(default=0)
    quiet_since = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["request"],
                condition=models.Q(status__in=["proposed", "active"]),
                name="one_open_match_per_request",
            )
        ]
        verbose_name = _("mentoring match")
        verbose_name_plural = _("mentoring matches")

    def __str__(self) -> str:
        return f"match {self.status}"


class CheckInState(models.TextChoices):
    SCHEDULED = "scheduled", _("Coming up")
    REMINDED = "reminded", _("Reminder sent")
    DONE = "done", _("They connected")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Not needed: the match ended")


class CheckIn(BaseModel):
    """One scheduled check-in of an active match. ``due_at`` is when its next step happens:
    the reminder (scheduled), then the end of the time to answer (reminded)."""

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="checkins")
    number = models.PositiveSmallIntegerField()
    scheduled_for = models.DateTimeField()
    state = models.CharField(
        max_length=10, choices=CheckInState.choices, default=CheckInState.SCHEDULED
    )
    due_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0)
    reminded_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.CharField(max_length=12, blank=True)

    class Meta:
        ordering = ["match", "number"]
        indexes = [models.Index(fields=["state", "due_at"])]
        constraints = [
            models.UniqueConstraint(fields=["match", "number"], name="checkin_number_once")
        ]
        verbose_name = _("mentoring check-in")
        verbose_name_plural = _("mentoring check-ins")

    def __str__(self) -> str:
        return f"check-in {self.number} ({self.state})"
