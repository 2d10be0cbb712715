"""See spikes before the coroner does: the overdose event store, detection settings, signals,
and published series (PHAC harms) for context.

An event holds no person: when, a coarse area (postal FSA, the H3 cell of resolution 7 that
holds it, city, province, health region), fatal or not, naloxone or not, suspected substances
and where it came from. Exact coordinates are never stored: an importer or an app that knows
a position passes it to the service, which keeps only the cell.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from harbour.core.models import BaseModel

H3_RESOLUTION = 7  # about 5 km² a cell: DESIGN.md's coarsest-allowed level for shared views


class Source(models.TextChoices):
    OUTREACH = "outreach", _("Outreach team")
    SUPERVISED_SITE = "site", _("Supervised consumption / overdose prevention site")
    ANONYMOUS_REPORT = "report", _("Anonymous report")
    CHECKIN = "checkin", _("Never-use-alone check-in")
    EMS = "ems", _("Paramedics (EMS)")
    EMERGENCY_DEPARTMENT = "ed", _("Emergency department")
    CORONER = "coroner", _("Coroner")
    OTHER = "other", _("Other")


class OverdoseEvent(BaseModel):
    # the organization that recorded or imported it; none for anonymous community reports
    organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="overdose_events",
    )
    occurred_at = models.DateTimeField(_("when"), db_index=True)
    fsa = models.CharField(_("postal area"), max_length=3, blank=True, db_index=True)
    h3_cell = models.CharField(_("map cell"), max_length=16, blank=True)
    city = models.CharField(_("city or town"), max_length=120, blank=True)
    province = models.CharField(_("province or territory"), max_length=2, blank=True)
    health_region = models.CharField(_("health region"), max_length=120, blank=True)
    fatal = models.BooleanField(_("fatal"), null=True, blank=True)
    naloxone_given = models.BooleanField(_("naloxone given"), null=True, blank=True)
    substances = models.JSONField(_("suspected substances"), default=list, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    # what the source calls it (an encounter id, a report id, an import row's hash): the same
    # event sent twice is stored once
    source_ref = models.CharField(max_length=80)
    # an anonymous report a coordinator dismissed as spam no longer counts
    excluded = models.BooleanField(default=False)

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_ref"], name="event_source_once")
        ]
        indexes = [models.Index(fields=["organization", "occurred_at"])]
        verbose_name = _("overdose event")
        verbose_name_plural = _("overdose events")

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.occurred_at:%Y-%m-%d} {self.fsa}"


class Method(models.TextChoices):
    EARS_C1 = "ears_c1", _("EARS C1")
    EARS_C2 = "ears_c2", _("EARS C2")
    EARS_C3 = "ears_c3", _("EARS C3")
    FARRINGTON = "farrington", _("Farrington (flexible), weekly")
    POISSON_GAMMA = "poisson_gamma", _("Bayesian Poisson-gamma (small counts)")
    COUNT_24H = "count_24h", _("Events in 24 hours (fixed threshold)")
    SCAN = "scan", _("Space-time cluster scan")


DEFAULT_METHODS = [Method.EARS_C2, Method.POISSON_GAMMA, Method.COUNT_24H, Method.SCAN]


class Level(models.TextChoices):
    FSA = "fsa", _("Postal area")
    CITY = "city", _("City or town")
    REGION = "region", _("Health region")
    COMMUNITY = "community", _("Whole community")
    CLUSTER = "cluster", _("Cluster of postal areas")


class DetectionSettings(BaseModel):
    """What an organization watches and how: its postal areas, the methods and thresholds."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="detection_settings"
    )
    enabled = models.BooleanField(_("look for spikes"), default=True)
    areas = models.CharField(
        _("postal areas watched"),
        max_length=1000,
        blank=True,
        help_text=_("Postal areas (first three characters), separated by spaces or commas."),
    )
    methods = models.JSONField(_("methods"), default=list)
    # EARS: alpha of the upper bound (None: the CDC defaults, 0.001 for C1/C2, 0.025 for C3)
    ears_alpha = models.FloatField(_("EARS false-alarm rate"), null=True, blank=True)
    # Poisson-gamma and Farrington: the upper bound is this quantile
    alpha = models.FloatField(_("false-alarm rate of the other methods"), default=0.01)
    count_threshold = models.PositiveSmallIntegerField(
        _("events in 24 hours that raise a signal"), default=3
    )
    min_events = models.PositiveSmallIntegerField(
        _("smallest count that can raise a signal"), default=2
    )
    scan_days = models.PositiveSmallIntegerField(_("days a cluster may last"), default=3)
    notify_email = models.BooleanField(_("email coordinators about new signals"), default=True)
    share_publicly = models.BooleanField(
        _("include our counts in the public summary (small counts are always hidden)"),
        default=False,
    )

    class Meta:
        verbose_name = _("detection settings")
        verbose_name_plural = _("detection settings")

    def __str__(self) -> str:
        return f"detection for {self.organization_id}"

    def method_list(self) -> list[str]:
        return [m for m in (self.methods or DEFAULT_METHODS) if m in Method.values]

    def area_list(self) -> list[str]:
        return [a for a in self.areas.replace(",", " ").upper().split() if len(a) == 3]


class SignalStatus(models.TextChoices):
    NEW = "new", _("New")
    DISMISSED = "dismissed", _("Dismissed")
    ALERTED = "alerted", _("Turned into an alert draft")


class Signal(BaseModel):
    """A count higher than its history makes plausible, found by one method for one area."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="signals"
    )
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    area = models.CharField(_("area"), max_length=200)
    period_start = models.DateTimeField(_("from"))
    period_end = models.DateTimeField(_("to"))
    observed = models.PositiveIntegerField(_("observed"))
    expected = models.FloatField(_("expected"), null=True, blank=True)
    upperbound = models.FloatField(_("threshold"), null=True, blank=True)
    pvalue = models.FloatField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=SignalStatus.choices, default=SignalStatus.NEW, db_index=True
    )
    dismissed_reason = models.CharField(_("reason"), max_length=300, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    alert = models.ForeignKey(
        "alerts.Alert", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-period_end", "area"]
        constraints = [
            # a rerun of the same detection finds the same signal, not a second one
            models.UniqueConstraint(
                fields=["organization", "method", "level", "area", "period_end"],
                name="signal_once",
            )
        ]
        verbose_name = _("signal")
        verbose_name_plural = _("signals")

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.area} {self.period_end:%Y-%m-%d}"


class PublishedSeries(models.Model):
    """A published count for context (PHAC's opioid and stimulant harms by region and quarter).
    ``value`` is None where the publisher suppressed it."""

    id = models.BigAutoField(primary_key=True)
    publisher = models.CharField(max_length=20, default="phac")
    substance = models.CharField(max_length=80)  # Opioids, Stimulants; CDC indicators
    harm = models.CharField(max_length=60)  # Deaths, Hospitalizations, ED visits, EMS
    region = models.CharField(max_length=60)
    period = models.CharField(max_length=10)  # "2024 Q3"
    period_start = models.DateField()
    unit = models.CharField(max_length=20)  # Number, Crude rate
    value = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["publisher", "substance", "harm", "region", "period", "unit"],
                name="published_once",
            )
        ]
        indexes = [models.Index(fields=["substance", "harm", "region", "unit", "period_start"])]

    def __str__(self) -> str:
        return f"{self.substance} {self.harm} {self.region} {self.period}"
