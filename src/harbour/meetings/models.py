"""Peer-support meetings in the Meeting Guide format: fellowships (programs) with their own
type vocabularies, weekly meetings owned by an organization, and changes the public suggests.

A meeting holds its own place (the spec's address fields and an optional position) rather than
linking to a directory ``Location``: meetings move between rooms and online often, many groups
are not organizations in the directory, and the feed must round-trip exactly. "Near me" uses the
position given, else the centroid of the postal area (flagged as approximate).

Meeting content (names, notes) is written in the meeting's own language, so it is not
translated; a fellowship's name is (``name_en``/``name_fr``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from harbour.core.models import BaseModel
from harbour.meetings import types as meeting_types
from harbour.meetings import weekly
from harbour.notify.crypto import EncryptedTextField


class FellowshipKind(models.TextChoices):
    TWELVE_STEP = "twelve_step", _("12-step")
    SMART = "smart", _("SMART Recovery")
    DHARMA = "dharma", _("Buddhist-inspired")
    FAMILY = "family", _("Family and friends")
    CULTURAL = "cultural", _("Cultural or Indigenous")
    HARM_REDUCTION = "harm_reduction", _("Harm reduction")
    FAITH = "faith", _("Faith-based")
    OTHER = "other", _("Other")


class Fellowship(BaseModel):
    """A program such as AA, NA or SMART Recovery, with its own meeting-type terms."""

    slug = models.SlugField(_("short name"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=FellowshipKind.choices)
    # [{"code": "NA-BT", "en": "...", "fr": "...", "spec": "LIT" or null}]
    terms = models.JSONField(_("meeting types of its own"), default=list, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("fellowship")
        verbose_name_plural = _("fellowships")

    def __str__(self) -> str:
        return str(self.name)

    def vocabulary(self) -> dict[str, meeting_types.Term]:
        return meeting_types.vocabulary(self.terms or [])


class Attendance(models.TextChoices):
    IN_PERSON = weekly.IN_PERSON, _("In person")
    ONLINE = weekly.ONLINE, _("Online")
    HYBRID = weekly.HYBRID, _("In person and online")
    INACTIVE = weekly.INACTIVE, _("Not meeting for now")


# the fields of the Meeting Guide listing, as feedspec.normalize returns them
LISTING_FIELDS = (
    "name", "slug", "days", "start_minute", "end_minute", "timezone", "notes", "location",
    "location_notes", "formatted_address", "address", "city", "state", "postal_code", "country",
    "latitude", "longitude", "approximate", "regions", "group", "group_notes", "conference_url",
    "conference_url_notes", "conference_phone", "conference_phone_notes", "venmo", "square",
    "paypal", "homegroup_online", "url", "feedback_emails",
)  # fmt: skip


class Meeting(BaseModel):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="meetings"
    )
    fellowship = models.ForeignKey(
        Fellowship, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("fellowship")
    )
    # the spec's primary key: unique in Harbour's feed
    slug = models.CharField(_("short id"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255)
    days = models.CharField(_("days"), max_length=7, blank=True)  # "135": Mon, Wed, Fri
    start_minute = models.PositiveSmallIntegerField(null=True, blank=True)
    end_minute = models.PositiveSmallIntegerField(null=True, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64)
    types = models.CharField(max_length=600, blank=True)  # space-padded codes: " O D FR "
    notes = models.TextField(_("notes"), blank=True)
    location = models.CharField(_("place name"), max_length=255, blank=True)
    location_notes = models.TextField(_("notes about the place"), blank=True)
    formatted_address = models.CharField(_("full address"), max_length=500, blank=True)
    address = models.CharField(_("street address"), max_length=255, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    state = models.CharField(_("province or state"), max_length=60, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=60, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    approximate = models.CharField(max_length=3, blank=True)  # "yes", "no" or unknown
    regions = models.JSONField(default=list, blank=True)
    group = models.CharField(_("group"), max_length=255, blank=True)
    group_notes = models.TextField(_("notes about the group"), blank=True)
    conference_url = models.CharField(_("online meeting link"), max_length=500, blank=True)
    conference_url_notes = models.CharField(_("notes about the link"), max_length=500, blank=True)
    conference_phone = models.CharField(_("phone to join"), max_length=60, blank=True)
    conference_phone_notes = models.CharField(
        _("notes about the phone"), max_length=500, blank=True
    )
    venmo = models.CharField(max_length=100, blank=True)
    square = models.CharField(max_length=100, blank=True)
    paypal = models.CharField(max_length=100, blank=True)
    homegroup_online = models.CharField(max_length=100, blank=True)
    url = models.CharField(_("listing's own page"), max_length=500, blank=True)
    feedback_emails = models.JSONField(default=list, blank=True)

    # derived from the fields above by ``derive()``
    attendance = models.CharField(max_length=10, choices=Attendance.choices)
    geo_lat = models.FloatField(null=True, blank=True)
    geo_lng = models.FloatField(null=True, blank=True)
    geo_approximate = models.BooleanField(default=False)  # only the postal area's centre
    grid_cell = models.IntegerField(null=True, blank=True)
    fingerprint = models.CharField(max_length=32, blank=True)  # of the normalized fields
    source_hash = models.CharField(max_length=32, blank=True)  # of the feed item as imported
    source = models.CharField(max_length=300, blank=True)  # the feed it was imported from
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        # "near" searches start from the grid cells and the start-time window; "soon" anywhere
        # from the window alone (archived_at is null for nearly every row: no use as an index)
        indexes = [
            models.Index(fields=["grid_cell", "start_minute"]),
            models.Index(fields=["start_minute"]),
            models.Index(fields=["organization", "archived_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_minute__isnull=True) | models.Q(start_minute__lt=1440),
                name="meeting_start_minute_range",
            ),
            models.CheckConstraint(
                condition=models.Q(end_minute__isnull=True) | models.Q(end_minute__lt=1440),
                name="meeting_end_minute_range",
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True)
                | models.Q(latitude__gte=-90, latitude__lte=90),
                name="meeting_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True)
                | models.Q(longitude__gte=-180, longitude__lte=180),
                name="meeting_longitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(approximate__in=["", "yes", "no"]),
                name="meeting_approximate_values",
            ),
        ]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")

    def __str__(self) -> str:
        return self.name

    @property
    def type_codes(self) -> list[str]:
        return self.types.split()

    @property
    def day_list(self) -> list[int]:
        return weekly.days_of(self.days)

    @property
    def time_text(self) -> str:
        return weekly.hhmm(self.start_minute) if self.start_minute is not None else ""

    @property
    def end_time_text(self) -> str:
        return weekly.hhmm(self.end_minute) if self.end_minute is not None else ""

    @property
    def is_online(self) -> bool:
        return self.attendance in (Attendance.ONLINE, Attendance.HYBRID)

    @property
    def has_place(self) -> bool:
        return self.attendance in (Attendance.IN_PERSON, Attendance.HYBRID)

    @property
    def place_text(self) -> str:
        if self.address:
            parts = [self.address, self.city, self.state]
            return ", ".join(p for p in parts if p)
        return self.formatted_address or ", ".join(p for p in (self.city, self.state) if p)

    def listing(self) -> dict[str, Any]:
        """The normalized listing (``feedspec.normalize``'s shape) this row holds."""
        data = {name: getattr(self, name) for name in LISTING_FIELDS}
        data["types"] = self.type_codes
        data["fellowship"] = self.fellowship.slug
        return data


class SuggestionField(models.TextChoices):
    TIME = "time", _("Day or time")
    PLACE = "place", _("Place or address")
    ONLINE = "online", _("Online link or phone")
    TYPES = "types", _("Meeting type or language")
    CLOSED = "closed", _("It no longer meets")
    OTHER = "other", _("Something else")


class SuggestionStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class MeetingSuggestion(BaseModel):
    """A change suggested by anyone, moderated by the owning organization's coordinators. No
    account, no IP address; a way to reach them only if they chose to give one (encrypted)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="suggestions")
    field = models.CharField(
        _("what should change"), max_length=20, choices=SuggestionField.choices
    )
    message = models.TextField(_("details"))
    suggested_value = models.CharField(_("the right value"), max_length=500, blank=True)
    contact = EncryptedTextField(_("how to reach you (optional)"), blank=True)
    language = models.CharField(max_length=5, default="en")
    status = models.CharField(
        max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.PENDING
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]
        verbose_name = _("suggested meeting change")
        verbose_name_plural = _("suggested meeting changes")

    def __str__(self) -> str:
        return f"{self.meeting_id} · {self.field}"
