"""Outreach on the street: encounters and overdose responses (offline-first: each record carries
the UUID its device gave it, so a retry never stores it twice), supplies given, stock held by
teams and sites as a ledger of movements, naloxone kits given and training sessions, and the
anonymous "I used a kit" reports that count toward reversals.

Nothing here names a person. A pseudonymous client code is kept only with consent, encrypted,
with a blind index to count returning people; notes are encrypted; a device position is
rounded to about 100 m and erased after ``POSITION_DAYS``."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from harbour.core.models import BaseModel
from harbour.notify.crypto import EncryptedTextField

MAX_PEOPLE = 50  # people engaged in one encounter (a group at a camp)
MAX_QUANTITY = 500  # of one supply in one record
MAX_DOSES = 20
POSITION_DAYS = 30  # rounded device positions are erased after this many days


class Supply(models.TextChoices):
    NALOXONE_NASAL = "naloxone-nasal", _("Naloxone kits, nasal")
    NALOXONE_INJECTABLE = "naloxone-injectable", _("Naloxone kits, injectable")
    STRIPS_FENTANYL = "strips-fentanyl", _("Fentanyl test strips")
    STRIPS_BENZO = "strips-benzo", _("Benzo test strips")
    STRIPS_XYLAZINE = "strips-xylazine", _("Xylazine test strips")
    SYRINGES = "syringes", _("Syringes")
    SMOKING_KIT = "smoking-kit", _("Safer-smoking kits")
    SHARPS = "sharps-container", _("Sharps containers")
    CONDOMS = "condoms", _("Condoms")
    WOUND_CARE = "wound-care", _("Wound-care supplies")
    FOOD_WATER = "food-water", _("Food or water")
    WARM_CLOTHING = "warm-clothing", _("Warm clothing")


# "1 nasal naloxone kit", "3 nasal naloxone kits": a count with its supply, in the right number
SUPPLY_COUNTS = {
    Supply.NALOXONE_NASAL: ngettext_lazy(
        "%(n)s nasal naloxone kit", "%(n)s nasal naloxone kits", "n"
    ),
    Supply.NALOXONE_INJECTABLE: ngettext_lazy(
        "%(n)s injectable naloxone kit", "%(n)s injectable naloxone kits", "n"
    ),
    Supply.STRIPS_FENTANYL: ngettext_lazy(
        "%(n)s fentanyl test strip", "%(n)s fentanyl test strips", "n"
    ),
    Supply.STRIPS_BENZO: ngettext_lazy("%(n)s benzo test strip", "%(n)s benzo test strips", "n"),
    Supply.STRIPS_XYLAZINE: ngettext_lazy(
        "%(n)s xylazine test strip", "%(n)s xylazine test strips", "n"
    ),
    Supply.SYRINGES: ngettext_lazy("%(n)s syringe", "%(n)s syringes", "n"),
    Supply.SMOKING_KIT: ngettext_lazy("%(n)s safer-smoking kit", "%(n)s safer-smoking kits", "n"),
    Supply.SHARPS: ngettext_lazy("%(n)s sharps container", "%(n)s sharps containers", "n"),
    Supply.CONDOMS: ngettext_lazy("%(n)s condom", "%(n)s condoms", "n"),
    Supply.WOUND_CARE: ngettext_lazy("%(n)s wound-care supply", "%(n)s wound-care supplies", "n"),
    Supply.FOOD_WATER: ngettext_lazy("%(n)s food or water item", "%(n)s food or water items", "n"),
    Supply.WARM_CLOTHING: ngettext_lazy(
        "%(n)s piece of warm clothing", "%(n)s pieces of warm clothing", "n"
    ),
}


def supply_count(supply: str, n: int) -> str:
    """A quantity of a supply in words, singular or plural as the number wants."""
    phrase = SUPPLY_COUNTS.get(supply)  # type: ignore[call-overload]
    if phrase is None:
        return f"{n} {supply}"
    return str(phrase % {"n": n})


NALOXONE = (Supply.NALOXONE_NASAL.value, Supply.NALOXONE_INJECTABLE.value)
# tracked in stock unless the organization says otherwise
DEFAULT_TRACKED = tuple(
    s.value for s in Supply if s not in (Supply.FOOD_WATER, Supply.WARM_CLOTHING)
)


class Help(models.TextChoices):
    """Services given during an encounter (not directory services)."""

    OVERDOSE_RESPONSE = "overdose-response", _("Overdose response")
    WOUND_CARE = "wound-care", _("Wound care")
    DRUG_CHECKING = "drug-checking-referral", _("Drug-checking referral")
    HOUSING = "housing-help", _("Housing help")
    ID = "id-help", _("ID help")


class Recipient(models.TextChoices):
    PWUD = "pwud", _("Person who uses drugs")
    FAMILY_FRIEND = "family-friend", _("Family member or friend")
    STAFF = "staff", _("Staff or volunteer")
    OTHER = "other", _("Other")


class UnitKind(models.TextChoices):
    TEAM = "team", _("Mobile team")
    SITE = "site", _("Site")


class Program(BaseModel):
    """One organization's outreach settings."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="outreach_program"
    )
    # space-padded supply codes whose stock is kept (" naloxone-nasal syringes ")
    tracked = models.CharField(_("supplies kept in stock"), max_length=400, blank=True)
    # space-padded postal areas served: refill requests from these areas come here
    areas = models.CharField(_("postal areas served"), max_length=400, blank=True)
    expiry_warning_days = models.PositiveSmallIntegerField(
        _("warn this many days before naloxone expires"), default=60
    )
    cover_weeks = models.PositiveSmallIntegerField(
        _("weeks of supplies an order should cover"), default=4
    )
    low_stock_weeks = models.PositiveSmallIntegerField(
        _("low stock: less than this many weeks of use left"), default=1
    )

    class Meta:
        verbose_name = _("outreach program")
        verbose_name_plural = _("outreach programs")

    def __str__(self) -> str:
        return f"outreach of {self.organization_id}"

    def tracked_list(self) -> list[str]:
        return self.tracked.split()

    def area_list(self) -> list[str]:
        return self.areas.split()


class Team(BaseModel):
    """A mobile team or a fixed site: logs encounters and holds stock."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="outreach_teams"
    )
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=10, choices=UnitKind.choices, default="team")
    fsa = models.CharField(_("usual postal area"), max_length=3, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="outreach_team_name")
        ]
        verbose_name = _("team or site")
        verbose_name_plural = _("teams and sites")

    def __str__(self) -> str:
        return self.name


class Spot(BaseModel):
    """A named place the organization's teams go to (a park, a bridge, a camp)."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="outreach_spots"
    )
    name = models.CharField(_("name"), max_length=80)
    fsa = models.CharField(_("postal area"), max_length=3)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="outreach_spot_name")
        ]
        verbose_name = _("named spot")
        verbose_name_plural = _("named spots")

    def __str__(self) -> str:
        return self.name


class ReferralChoice(BaseModel):
    """A directory service the organization's workers refer people to often (offered as one
    tap on the encounter form, also offline)."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="referrals")
    service = models.ForeignKey("directory.Service", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "service"], name="outreach_referral_once")
        ]

    def __str__(self) -> str:
        return f"referral choice {self.service_id}"


class Encounter(models.Model):
    """One contact on the street or at a site. ``id`` is the UUID the device generated."""

    id = models.UUIDField(primary_key=True, editable=False)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="outreach_encounters"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="encounters")
    occurred_at = models.DateTimeField(_("when"))
    fsa = models.CharField(_("postal area"), max_length=3)
    spot = models.ForeignKey(
        Spot, null=True, blank=True, on_delete=models.SET_NULL, related_name="encounters"
    )
    # the device's position rounded to 3 decimals (about 100 m); erased after POSITION_DAYS
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    people_new = models.PositiveSmallIntegerField(_("new people"), default=0)
    people_returning = models.PositiveSmallIntegerField(_("returning people"), default=0)
    services = models.CharField(max_length=200, blank=True)  # space-padded Help codes
    notes = EncryptedTextField(_("notes"), blank=True)
    client_code = EncryptedTextField(blank=True)
    client_code_index = models.CharField(max_length=40, blank=True, db_index=True)
    consent = models.BooleanField(default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["organization", "occurred_at"]),
            models.Index(fields=["team", "occurred_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(people_new__lte=MAX_PEOPLE) & Q(people_returning__lte=MAX_PEOPLE),
                name="outreach_encounter_people_range",
            ),
            models.CheckConstraint(
                condition=Q(people_new__gt=0) | Q(people_returning__gt=0),
                name="outreach_encounter_someone",
            ),
            # a client code only with the person's consent
            models.CheckConstraint(
                condition=Q(client_code_index="") | Q(consent=True),
                name="outreach_client_code_consent",
            ),
        ]
        verbose_name = _("encounter")
        verbose_name_plural = _("encounters")

    def __str__(self) -> str:
        return f"encounter {self.occurred_at:%Y-%m-%d %H:%M}"

    @property
    def people(self) -> int:
        return self.people_new + self.people_returning

    def service_list(self) -> list[str]:
        return self.services.split()


class EncounterReferral(models.Model):
    id = models.BigAutoField(primary_key=True)
    encounter = models.ForeignKey(Encounter, on_delete=models.CASCADE, related_name="referrals")
    service = models.ForeignKey(
        "directory.Service", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    service_name = models.CharField(max_length=300)  # kept if the listing goes

    def __str__(self) -> str:
        return self.service_name


class Route(models.TextChoices):
    NASAL = "nasal", _("Nasal")
    INJECTION = "injection", _("Injection")
    BOTH = "both", _("Both")
    NONE = "none", _("No naloxone")


class Breathing(models.TextChoices):
    NORMAL = "normal", _("Breathing normally")
    SLOW = "slow", _("Slow or shallow breathing")
    NOT_BREATHING = "none", _("Not breathing")
    UNKNOWN = "unknown", _("Not known")


class Outcome(models.TextChoices):
    RECOVERED = "recovered", _("Recovered on scene")
    EMS_ATTENDED = "ems", _("EMS attended")
    TRANSPORTED = "transported", _("Taken to hospital")
    DECEASED = "deceased", _("Died")
    UNKNOWN = "unknown", _("Not known")


SURVIVED = (Outcome.RECOVERED.value, Outcome.EMS_ATTENDED.value, Outcome.TRANSPORTED.value)


class Substance(models.TextChoices):
    """Suspected substances, as workers name them; the codes go to spike detection."""

    FENTANYL = "fentanyl", _("Fentanyl or another opioid")
    CARFENTANIL = "carfentanil", _("Carfentanil")
    NITAZENES = "nitazenes", _("Nitazenes")
    BENZODIAZEPINES = "benzodiazepines", _("Benzos (benzo dope)")
    XYLAZINE = "xylazine", _("Xylazine (tranq)")
    STIMULANTS = "stimulants", _("Stimulants (crystal meth, cocaine)")
    ALCOHOL = "alcohol", _("Alcohol")
    UNKNOWN = "unknown", _("Not known")


class OverdoseResponse(models.Model):
    """An overdose a worker responded to. Becomes an overdose event for spike detection (the
    surveillance store keeps the postal area and an H3 cell, never the position)."""

    id = models.UUIDField(primary_key=True, editable=False)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="outreach_responses"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="responses")
    occurred_at = models.DateTimeField(_("when"))
    fsa = models.CharField(_("postal area"), max_length=3)
    spot = models.ForeignKey(
        Spot, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    naloxone_doses = models.PositiveSmallIntegerField(_("naloxone doses"), default=0)
    route = models.CharField(_("route"), max_length=10, choices=Route.choices, default="nasal")
    kits_nasal = models.PositiveSmallIntegerField(_("nasal kits used from stock"), default=0)
    kits_injectable = models.PositiveSmallIntegerField(
        _("injectable kits used from stock"), default=0
    )
    breathing = models.CharField(
        _("breathing"), max_length=10, choices=Breathing.choices, default="unknown"
    )
    oxygen = models.BooleanField(_("oxygen given"), default=False)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    substances = models.CharField(max_length=200, blank=True)  # space-padded Substance codes
    notes = EncryptedTextField(_("notes"), blank=True)
    surveillance_event = models.UUIDField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["organization", "occurred_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(naloxone_doses__lte=MAX_DOSES), name="outreach_response_doses_range"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=Outcome.values), name="outreach_response_outcome_valid"
            ),
        ]
        verbose_name = _("overdose response")
        verbose_name_plural = _("overdose responses")

    def __str__(self) -> str:
        return f"overdose response {self.occurred_at:%Y-%m-%d %H:%M}"

    def substance_list(self) -> list[str]:
        return self.substances.split()


class TrainingSession(BaseModel):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="naloxone_trainings"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="trainings")
    held_on = models.DateField(_("date"))
    people_trained = models.PositiveSmallIntegerField(_("people trained"))
    audience = models.CharField(
        _("mostly"), max_length=20, choices=Recipient.choices, default="pwud"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-held_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(people_trained__gte=1) & Q(people_trained__lte=MAX_QUANTITY),
                name="outreach_training_people_range",
            )
        ]
        verbose_name = _("naloxone training session")
        verbose_name_plural = _("naloxone training sessions")

    def __str__(self) -> str:
        return f"training {self.held_on}"


class Distribution(models.Model):
    """Supplies given: from an encounter, at a site's counter, or at a training session."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="+"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="distributions")
    given_at = models.DateTimeField()
    supply = models.CharField(max_length=30, choices=Supply.choices)
    quantity = models.PositiveIntegerField()
    # naloxone only: who received it and whether they were shown how to use it
    recipient = models.CharField(max_length=20, choices=Recipient.choices, blank=True)
    trained = models.BooleanField(null=True)
    encounter = models.ForeignKey(
        Encounter, null=True, blank=True, on_delete=models.CASCADE, related_name="supplies"
    )
    training = models.ForeignKey(
        TrainingSession, null=True, blank=True, on_delete=models.CASCADE, related_name="kits"
    )

    class Meta:
        indexes = [
            models.Index(fields=["organization", "given_at"]),
            models.Index(fields=["team", "supply", "given_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1) & Q(quantity__lte=MAX_QUANTITY),
                name="outreach_distribution_quantity_range",
            ),
            models.CheckConstraint(
                condition=Q(supply__in=Supply.values), name="outreach_distribution_supply_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} {self.supply}"

    @property
    def text(self) -> str:
        return supply_count(self.supply, self.quantity)


class Movement(models.TextChoices):
    RECEIPT = "receipt", _("Received")
    TRANSFER_IN = "transfer-in", _("Transfer in")
    TRANSFER_OUT = "transfer-out", _("Transfer out")
    DISTRIBUTION = "distribution", _("Given out")
    RESPONSE = "response", _("Used in an overdose response")
    ADJUSTMENT = "adjustment", _("Count correction")
    DISPOSAL = "disposal", _("Expired or damaged, thrown away")


class StockLevel(models.Model):
    """What a team or site holds of one supply (and lot): the running sum of its movements,
    kept in the same transaction as each movement; never below zero."""

    id = models.BigAutoField(primary_key=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="stock")
    supply = models.CharField(max_length=30, choices=Supply.choices)
    lot = models.CharField(_("lot number"), max_length=40, blank=True)
    expires_on = models.DateField(_("expiry date"), null=True, blank=True)
    quantity = models.IntegerField(default=0)

    class Meta:
        ordering = ["supply", "expires_on", "lot"]
        constraints = [
            models.UniqueConstraint(fields=["team", "supply", "lot"], name="outreach_stock_lot"),
            models.CheckConstraint(
                condition=Q(quantity__gte=0), name="outreach_stock_never_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} {self.supply} {self.lot}".strip()


class StockMovement(models.Model):
    """One row of the ledger: a receipt, a transfer leg, a distribution, a correction."""

    id = models.BigAutoField(primary_key=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="movements")
    supply = models.CharField(max_length=30, choices=Supply.choices)
    lot = models.CharField(max_length=40, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    change = models.IntegerField()
    kind = models.CharField(max_length=20, choices=Movement.choices)
    at = models.DateTimeField()
    other_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    distribution = models.ForeignKey(
        Distribution, null=True, blank=True, on_delete=models.SET_NULL, related_name="movements"
    )
    response = models.ForeignKey(
        OverdoseResponse, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["team", "supply", "at"])]
        constraints = [
            models.CheckConstraint(condition=~Q(change=0), name="outreach_movement_not_zero")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.change:+d} {self.supply}"


class StockNotice(models.Model):
    """A low-stock or expiry notice already sent today for one item (one notice per item per
    day, whatever the number of runs)."""

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE)
    item = models.CharField(max_length=200)  # "low:<team>:<supply>" or "expiry:<team>:<lot>"
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "day"], name="outreach_notice_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.day}"


class RemovedRecord(models.Model):
    """An encounter or overdose response a coordinator removed as entered in error: its id is
    kept so that a phone sending it again is told "already received" instead of storing it
    anew, with who removed it, when and why (the record itself is gone, its stock returned)."""

    id = models.UUIDField(primary_key=True, editable=False)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=10)  # "encounter" or "response"
    removed_at = models.DateTimeField(auto_now_add=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=200)

    def __str__(self) -> str:
        return f"removed {self.kind} {self.id}"


# what a coordinator can remove as entered in error, by the name used in URLs
REMOVABLE_RECORDS: dict[str, Any] = {"encounter": Encounter, "response": OverdoseResponse}


class EmsCame(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNKNOWN = "unknown", _("Not sure")


class KitKind(models.TextChoices):
    NASAL = "nasal", _("Nasal spray")
    INJECTABLE = "injectable", _("Injection")
    UNKNOWN = "unknown", _("Not sure")


class RefillStatus(models.TextChoices):
    NONE = "", _("No refill asked")
    OPEN = "open", _("Refill asked")
    DONE = "done", _("Refill given or offered")


class KitUseReport(BaseModel):
    """Anonymous: someone used a naloxone kit. No account, no IP address; a way to reach them
    only if they give one (encrypted, erased when the refill is done or after 30 days)."""

    used_on = models.DateField(_("when"))
    fsa = models.CharField(_("postal area"), max_length=3, blank=True)
    kit_kind = models.CharField(max_length=12, choices=KitKind.choices, default="unknown")
    doses = models.PositiveSmallIntegerField(_("doses"))
    outcome = models.CharField(_("what happened"), max_length=12, choices=Outcome.choices)
    ems_came = models.CharField(max_length=8, choices=EmsCame.choices, default="unknown")
    want_refill = models.BooleanField(default=False)
    contact = EncryptedTextField(blank=True)
    contact_purge_at = models.DateTimeField(null=True, blank=True)
    # who follows up: the organization serving the postal area (see services.route_refill)
    organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="kit_use_reports",
    )
    refill_status = models.CharField(
        max_length=8, choices=RefillStatus.choices, default="", blank=True
    )
    refilled_at = models.DateTimeField(null=True, blank=True)
    excluded = models.BooleanField(default=False)  # a coordinator found it to be spam

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "used_on"]),
            models.Index(fields=["refill_status", "organization"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(doses__gte=1) & Q(doses__lte=MAX_DOSES),
                name="outreach_kit_use_doses_range",
            )
        ]
        verbose_name = _("kit-use report")
        verbose_name_plural = _("kit-use reports")

    def __str__(self) -> str:
        return f"kit used {self.used_on}"

    @property
    def reversal(self) -> bool:
        return self.outcome in SURVIVED
