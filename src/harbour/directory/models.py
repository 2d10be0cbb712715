"""The service directory, aligned with Open Referral HSDS 3.0.

Table and field names follow HSDS (``schema/*.json``) so import and export map one to one.
Content that people read is bilingual (django-modeltranslation adds ``_en`` and ``_fr``
columns; see ``translation.py``). Harbour's extensions: ``Location.timezone`` (IANA),
``Location.confidential`` (address hidden, contact shown), ``TaxonomyTerm.keywords``,
``Service.owner`` (the Harbour organization whose staff maintain the listing), the search
document, and the derived ``OpeningRow`` and ``SearchEntry`` tables that answer "open at" and
"near me" in SQL.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from harbour.core.models import BaseModel
from harbour.notify.crypto import EncryptedTextField


class HsdsModel(BaseModel):
    """An HSDS table. ``hsds_extra`` keeps imported columns Harbour does not model (deprecated
    HSDS fields, a publisher's own columns), so that nothing imported is silently dropped and
    an export gives them back."""

    hsds_extra = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        abstract = True


class Taxonomy(HsdsModel):
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    uri = models.URLField(blank=True)
    version = models.CharField(max_length=50, blank=True)

    class Meta:
        verbose_name = _("taxonomy")
        verbose_name_plural = _("taxonomies")

    def __str__(self) -> str:
        return str(self.name)


class TaxonomyTerm(HsdsModel):
    taxonomy = models.ForeignKey(
        Taxonomy, null=True, blank=True, on_delete=models.CASCADE, related_name="terms"
    )
    code = models.CharField(_("code"), max_length=100, blank=True, db_index=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    keywords = models.TextField(_("keywords"), blank=True, help_text=_("Comma-separated."))
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    language = models.CharField(max_length=20, blank=True)
    term_uri = models.URLField(blank=True)
    # "category" terms classify services; "attribute" terms describe who is served and how.
    kind = models.CharField(max_length=20, default="category", db_index=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["taxonomy", "code"],
                condition=~models.Q(code=""),
                name="taxonomy_term_code_unique",
            )
        ]
        verbose_name = _("taxonomy term")
        verbose_name_plural = _("taxonomy terms")

    def __str__(self) -> str:
        return str(self.name)


class DirectoryOrganization(HsdsModel):
    """An HSDS organization: whoever provides services (not necessarily a Harbour user)."""

    owner = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="directory_organizations",
        help_text=_("The Harbour organization whose staff maintain these listings."),
    )
    name = models.CharField(_("name"), max_length=300)
    alternate_name = models.CharField(_("alternate name"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    email = models.EmailField(_("email"), blank=True)
    website = models.URLField(_("website"), max_length=500, blank=True)
    year_incorporated = models.PositiveSmallIntegerField(null=True, blank=True)
    legal_status = models.CharField(max_length=200, blank=True)
    logo = models.URLField(max_length=500, blank=True)
    uri = models.URLField(max_length=500, blank=True)
    parent_organization = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("service provider")
        verbose_name_plural = _("service providers")

    def __str__(self) -> str:
        return str(self.name)


class Program(HsdsModel):
    organization = models.ForeignKey(
        DirectoryOrganization, on_delete=models.CASCADE, related_name="programs"
    )
    name = models.CharField(_("name"), max_length=300)
    alternate_name = models.CharField(max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("program")
        verbose_name_plural = _("programs")

    def __str__(self) -> str:
        return str(self.name)


class ServiceStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")
    DEFUNCT = "defunct", _("Defunct")
    TEMPORARILY_CLOSED = "temporarily closed", _("Temporarily closed")


class Service(HsdsModel):
    organization = models.ForeignKey(
        DirectoryOrganization, on_delete=models.CASCADE, related_name="services"
    )
    program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.SET_NULL, related_name="services"
    )
    name = models.CharField(_("name"), max_length=300)
    alternate_name = models.CharField(_("alternate name"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    url = models.URLField(_("website"), max_length=500, blank=True)
    email = models.EmailField(_("email"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ServiceStatus.choices, default=ServiceStatus.ACTIVE
    )
    interpretation_services = models.TextField(_("interpretation services"), blank=True)
    application_process = models.TextField(_("how to get this service"), blank=True)
    fees_description = models.TextField(_("fees"), blank=True)
    accreditations = models.TextField(blank=True)
    eligibility_description = models.TextField(_("who can use it"), blank=True)
    minimum_age = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    maximum_age = models.PositiveSmallIntegerField(_("maximum age"), null=True, blank=True)
    assured_date = models.DateField(_("verified on"), null=True, blank=True)
    assurer_email = models.EmailField(blank=True)
    alert = models.TextField(_("alert"), blank=True)
    # Harbour: normalized, stemmed tokens of every searchable text (textsearch.document).
    search_document = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["assured_date"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minimum_age__isnull=True)
                | models.Q(maximum_age__isnull=True)
                | models.Q(minimum_age__lte=models.F("maximum_age")),
                name="service_age_range_valid",
            )
        ]
        verbose_name = _("service")
        verbose_name_plural = _("services")

    def __str__(self) -> str:
        return str(self.name)


class LocationType(models.TextChoices):
    PHYSICAL = "physical", _("Physical")
    POSTAL = "postal", _("Postal")
    VIRTUAL = "virtual", _("Virtual")


class Location(HsdsModel):
    organization = models.ForeignKey(
        DirectoryOrganization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="locations",
    )
    location_type = models.CharField(
        max_length=10, choices=LocationType.choices, default=LocationType.PHYSICAL
    )
    url = models.URLField(max_length=500, blank=True)
    name = models.CharField(_("name"), max_length=300, blank=True)
    alternate_name = models.CharField(max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    transportation = models.TextField(_("getting there"), blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    external_identifier = models.CharField(max_length=200, blank=True)
    external_identifier_type = models.CharField(max_length=200, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="America/Toronto")
    # True when the position is only a postal-area centroid (good for "near", not for directions).
    coordinates_approximate = models.BooleanField(default=False)
    # geo.grid_cell of the position, kept by save(): the index "near me" searches start from.
    grid_cell = models.IntegerField(null=True, blank=True, editable=False, db_index=True)
    confidential = models.BooleanField(
        _("confidential address"),
        default=False,
        help_text=_("Hide the address and map position; show only how to make contact."),
    )

    class Meta:
        # no index on latitude/longitude: "near" searches start from grid_cell, which is narrower
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True)
                | models.Q(latitude__gte=-90, latitude__lte=90),
                name="location_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True)
                | models.Q(longitude__gte=-180, longitude__lte=180),
                name="location_longitude_range",
            ),
        ]
        verbose_name = _("location")
        verbose_name_plural = _("locations")

    def __str__(self) -> str:
        return str(self.name) or str(self.id)

    def save(self, *args: Any, **kwargs: Any) -> None:
        from harbour.core.geo import grid_cell

        self.grid_cell = grid_cell(self.latitude, self.longitude)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "grid_cell"}
        super().save(*args, **kwargs)


class ServiceAtLocation(HsdsModel):
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="service_at_locations"
    )
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="service_at_locations"
    )
    description = models.TextField(_("description"), blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "location"], name="one_sal_per_pair")
        ]
        verbose_name = _("service at location")
        verbose_name_plural = _("services at locations")

    def __str__(self) -> str:
        return f"{self.service} @ {self.location}"


class Address(HsdsModel):
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="addresses")
    attention = models.CharField(max_length=200, blank=True)
    address_1 = models.CharField(_("address"), max_length=300)
    address_2 = models.CharField(max_length=300, blank=True)
    city = models.CharField(_("city"), max_length=200)
    region = models.CharField(max_length=200, blank=True)
    state_province = models.CharField(_("province or territory"), max_length=100)
    postal_code = models.CharField(_("postal code"), max_length=20)
    country = models.CharField(max_length=2, default="CA")
    address_type = models.CharField(max_length=10, choices=LocationType.choices, default="physical")

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")

    def __str__(self) -> str:
        return f"{self.address_1}, {self.city}"


class Contact(HsdsModel):
    organization = models.ForeignKey(
        DirectoryOrganization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="contacts",
    )
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="contacts"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation, null=True, blank=True, on_delete=models.CASCADE, related_name="contacts"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)
    department = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.name or self.email or str(self.id)


class Phone(HsdsModel):
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    organization = models.ForeignKey(
        DirectoryOrganization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="phones",
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    number = models.CharField(_("number"), max_length=50)
    extension = models.PositiveIntegerField(null=True, blank=True)
    type = models.CharField(max_length=20, blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("phone")
        verbose_name_plural = _("phones")

    def __str__(self) -> str:
        return self.number


class Schedule(HsdsModel):
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="schedules"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="schedules"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation, null=True, blank=True, on_delete=models.CASCADE, related_name="schedules"
    )
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    dtstart = models.DateField(null=True, blank=True)
    timezone = models.FloatField(null=True, blank=True)
    until = models.DateField(null=True, blank=True)
    count = models.PositiveIntegerField(null=True, blank=True)
    wkst = models.CharField(max_length=2, blank=True)
    freq = models.CharField(max_length=10, blank=True, default="WEEKLY")
    interval = models.PositiveIntegerField(null=True, blank=True)
    byday = models.CharField(max_length=40, blank=True)
    byweekno = models.CharField(max_length=100, blank=True)
    bymonthday = models.CharField(max_length=100, blank=True)
    byyearday = models.CharField(max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    opens_at = models.TimeField(null=True, blank=True)
    closes_at = models.TimeField(null=True, blank=True)
    schedule_link = models.URLField(max_length=500, blank=True)
    attending_type = models.CharField(max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")

    def __str__(self) -> str:
        return f"{self.byday} {self.opens_at}-{self.closes_at}"


class OpeningRow(models.Model):
    """Derived from schedules (``hours.weekly_rows``): one row per local weekday interval, so
    "open at local weekday W, minute M" is ``weekday=W AND start_minute<=M AND M<end_minute``."""

    service_at_location = models.ForeignKey(
        ServiceAtLocation, on_delete=models.CASCADE, related_name="opening_rows"
    )
    # the location's IANA time zone, copied here so "open at" needs no join
    timezone = models.CharField(max_length=64, default="America/Toronto")
    weekday = models.PositiveSmallIntegerField()
    start_minute = models.PositiveSmallIntegerField()
    end_minute = models.PositiveSmallIntegerField()
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["weekday", "timezone", "start_minute", "end_minute"])]

    def __str__(self) -> str:
        return f"{self.weekday} {self.start_minute}-{self.end_minute}"


class SearchEntry(models.Model):
    """One row per service at a location of an active service: what "find help near me, open
    now" reads, so that a search is one scan of nearby rows with cheap per-row checks.

    Derived (``services.search_entries_rebuild``, run by ``service_reindex``); never edited.
    ``document``, ``category_codes`` and ``attribute_codes`` are space-padded (" a b ") so
    that a word or code prefix is a ``LIKE '% prefix%'``. ``week`` is ``hours.hour_map``: 168
    characters, one per local hour of the week from Monday 00:00, "1" open the whole hour,
    "0" closed, "~" partly open (checked against ``OpeningRow``); NULL when some hours have
    validity dates, so that every check goes to ``OpeningRow``."""

    service_at_location = models.OneToOneField(
        ServiceAtLocation, primary_key=True, on_delete=models.CASCADE, related_name="search_entry"
    )
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    # Where the entry is found and measured from. For a confidential location this is never
    # its own position: it is the centre of its postal area (``area``), see
    # ``services.search_position``.
    latitude = models.FloatField(null=True)
    longitude = models.FloatField(null=True)
    grid_cell = models.IntegerField(null=True, db_index=True)
    # The postal area (FSA) of a confidential location, "" for every other: such an entry is
    # matched and ordered by area only and shows no distance.
    area = models.CharField(max_length=3, blank=True, default="")
    timezone = models.CharField(max_length=64)
    week = models.CharField(max_length=168, null=True)
    document = models.TextField()
    category_codes = models.TextField()
    attribute_codes = models.TextField()
    name_en = models.TextField(blank=True)  # for sorting and relevance without a join
    name_fr = models.TextField(blank=True)

    # On SQLite, migration 0009 also adds an index over (grid_cell, latitude, longitude, and
    # every other column): a search near a place then reads one contiguous run of index
    # entries per grid cell instead of one scattered table row per entry (3x faster at 100k).

    def __str__(self) -> str:
        return f"search entry {self.service_at_location_id}"


class Language(HsdsModel):
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="languages"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="languages"
    )
    phone = models.ForeignKey(
        Phone, null=True, blank=True, on_delete=models.CASCADE, related_name="languages"
    )
    name = models.CharField(max_length=100, blank=True)
    code = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("language")
        verbose_name_plural = _("languages")

    def __str__(self) -> str:
        return self.name or self.code


class Accessibility(HsdsModel):
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="accessibility")
    description = models.TextField(_("description"), blank=True)
    details = models.TextField(_("details"), blank=True)
    url = models.URLField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("accessibility")
        verbose_name_plural = _("accessibility")

    def __str__(self) -> str:
        return str(self.description)[:50]


class ServiceArea(HsdsModel):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="service_areas")
    name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    extent = models.TextField(blank=True)
    extent_type = models.CharField(max_length=20, blank=True)
    uri = models.URLField(max_length=500, blank=True)

    def __str__(self) -> str:
        return self.name


class CostOption(HsdsModel):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="cost_options")
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    option = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    amount_description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.option


class RequiredDocument(HsdsModel):
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="required_documents"
    )
    document = models.CharField(max_length=300)
    uri = models.URLField(max_length=500, blank=True)

    def __str__(self) -> str:
        return self.document


class Funding(HsdsModel):
    organization = models.ForeignKey(
        DirectoryOrganization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="fundings",
    )
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="fundings"
    )
    source = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.source[:50]


class OrganizationIdentifier(HsdsModel):
    organization = models.ForeignKey(
        DirectoryOrganization, on_delete=models.CASCADE, related_name="organization_identifiers"
    )
    identifier_scheme = models.CharField(max_length=100, blank=True)
    identifier_type = models.CharField(max_length=200)
    identifier = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.identifier


class Attribute(HsdsModel):
    """A taxonomy term attached to any HSDS object (``link_entity`` + ``link_id``)."""

    link_id = models.UUIDField(db_index=True)
    link_type = models.CharField(max_length=100, blank=True)
    link_entity = models.CharField(max_length=50)
    taxonomy_term = models.ForeignKey(
        TaxonomyTerm, on_delete=models.CASCADE, related_name="attributes"
    )
    value = models.TextField(blank=True)
    label = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["link_entity", "taxonomy_term"])]
        constraints = [
            models.UniqueConstraint(
                fields=["link_entity", "link_id", "taxonomy_term"], name="one_attribute_per_term"
            )
        ]

    def __str__(self) -> str:
        return f"{self.link_entity}:{self.link_id} {self.taxonomy_term_id}"


class SuggestionField(models.TextChoices):
    HOURS = "hours", _("Opening hours")
    ADDRESS = "address", _("Address or location")
    PHONE = "phone", _("Phone number")
    URL = "url", _("Website")
    EMAIL = "email", _("Email")
    FEES = "fees", _("Fees")
    ELIGIBILITY = "eligibility", _("Who can use it")
    CLOSED = "closed", _("It has closed")
    OTHER = "other", _("Something else")


class SuggestionStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class SuggestedEdit(BaseModel):
    """A correction sent by anyone, reviewed by the owning organization's staff.

    No account and no IP address are kept; contact details only if the person chose to give
    them, encrypted at rest, and erased when the suggestion is decided or, still pending,
    after ``services.SUGGESTION_CONTACT_DAYS`` days (``suggestion_contacts_purge``)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="suggestions")
    field = models.CharField(_("what is wrong"), max_length=40, choices=SuggestionField.choices)
    message = models.TextField(_("details"))
    suggested_value = models.TextField(_("suggested correction"), blank=True)
    contact = EncryptedTextField(_("how to reach you (optional)"), blank=True)
    language = models.CharField(max_length=8, default="en")
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
        verbose_name = _("suggested edit")
        verbose_name_plural = _("suggested edits")

    def __str__(self) -> str:
        return f"{self.service} · {self.field}"


class MergedId(models.Model):
    """An HSDS id that no longer has a row of its own because staff merged duplicate listings:
    ``new_id`` is the row it became (the surviving service, its service at the same place, its
    phone with the same number), or NULL when the row was a copy of something the survivor
    already had. The public page and the HSDS API send an old service id to its survivor, and
    a re-import of a source that still carries the old ids updates the survivor (or skips the
    copy) instead of creating the duplicate again."""

    old_id = models.UUIDField(primary_key=True)
    table = models.CharField(max_length=40)  # the HSDS table name, e.g. "service"
    new_id = models.UUIDField(null=True, blank=True, db_index=True)
    service_id = models.UUIDField(db_index=True)  # the surviving service of the merge
    merged_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.table} {self.old_id} -> {self.new_id}"


class NotDuplicate(BaseModel):
    """Two listings staff looked at and said are not the same (the finder leaves the pair
    out from then on). Ids only, ordered (``first_id`` < ``second_id``), so it outlives either
    row."""

    first_id = models.UUIDField()
    second_id = models.UUIDField(db_index=True)
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["first_id", "second_id"], name="one_not_duplicate")
        ]

    def __str__(self) -> str:
        return f"{self.first_id} != {self.second_id}"


class AddressPoint(models.Model):
    """One civic address from Statistics Canada's Open Database of Addresses (ODA), loaded by
    ``harbour load-addresses``: what lets a search start from "123 Princess St" or
    "Princess & Division" without asking any service on the network.

    Compact on purpose (a province has millions): the street's name without its type or
    direction, normalized (``addresses.normalize``), the civic number, the city, the position.
    Public open data: nothing here is about a person."""

    street = models.CharField(max_length=100)  # "princess" for "Princess St W"
    street_type = models.CharField(max_length=20, blank=True)  # "st"
    number = models.IntegerField(null=True)
    number_text = models.CharField(max_length=20, blank=True)  # "123A"
    city = models.CharField(max_length=100, blank=True)  # normalized: "kingston"
    city_name = models.CharField(max_length=100, blank=True)  # as written: "Kingston"
    postal_code = models.CharField(max_length=7, blank=True)
    latitude = models.FloatField()
    longitude = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["street", "city", "number"], name="addresspoint_street")]

    def __str__(self) -> str:
        return f"{self.number_text} {self.street} {self.city}"
