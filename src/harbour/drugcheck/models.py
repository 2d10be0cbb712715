"""Drug-checking samples and what was found in them. No personal information, ever: a sample has
an unguessable code, a date, a site, a coarse area and what it was bought as; nothing about the
person who brought it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from harbour.core.models import BaseModel


class SubstanceClass(models.TextChoices):
    FENTANYL = "fentanyl", _("Fentanyl and analogues")
    CARFENTANIL = "carfentanil", _("Carfentanil")
    NITAZENE = "nitazene", _("Nitazenes")
    OPIOID = "opioid", _("Other opioids")
    BENZODIAZEPINE = "benzodiazepine", _("Benzodiazepines")
    DESIGNER_BENZODIAZEPINE = "designer-benzodiazepine", _("Designer benzodiazepines")
    XYLAZINE = "xylazine", _("Xylazine")
    MEDETOMIDINE = "medetomidine", _("Medetomidine")
    STIMULANT = "stimulant", _("Stimulants")
    CANNABINOID = "cannabinoid", _("Cannabinoids")
    SYNTHETIC_CANNABINOID = "synthetic-cannabinoid", _("Synthetic cannabinoids")
    OTHER_ACTIVE = "other-active", _("Other active drugs")
    CUT = "cut", _("Cuts and fillers")
    IMPURITY = "impurity", _("Impurities, precursors and by-products")
    NONE = "none", _("Nothing of interest")
    UNKNOWN = "unknown", _("Not classified")


# Classes that make a sample dangerous when they were not expected: a new sample with one of
# these, not bought as such, drafts an alert for review.
HIGH_RISK = {
    SubstanceClass.FENTANYL,
    SubstanceClass.CARFENTANIL,
    SubstanceClass.NITAZENE,
    SubstanceClass.DESIGNER_BENZODIAZEPINE,
    SubstanceClass.XYLAZINE,
    SubstanceClass.MEDETOMIDINE,
}
OPIOID_CLASSES = {
    SubstanceClass.FENTANYL,
    SubstanceClass.CARFENTANIL,
    SubstanceClass.NITAZENE,
    SubstanceClass.OPIOID,
}
BENZODIAZEPINE_CLASSES = {SubstanceClass.BENZODIAZEPINE, SubstanceClass.DESIGNER_BENZODIAZEPINE}
# what a sample is "really": classes whose presence counts against "matched what was expected"
ACTIVE_CLASSES = set(SubstanceClass) - {
    SubstanceClass.CUT,
    SubstanceClass.IMPURITY,
    SubstanceClass.NONE,
    SubstanceClass.UNKNOWN,
}


class Substance(BaseModel):
    """The vocabulary: seeded from UNC's chemical dictionary plus Harbour's own entries
    (``data/harbour_substances.json``); imports add names they meet, as "not classified"."""

    code = models.SlugField(max_length=120, unique=True)
    name = models.CharField(_("name"), max_length=200)
    substance_class = models.CharField(
        _("class"), max_length=30, choices=SubstanceClass.choices, default=SubstanceClass.UNKNOWN
    )
    role = models.CharField(_("usual role"), max_length=60, blank=True)
    # lower-case names other sources use for it (FTIR libraries, test-strip names, street names)
    aliases = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("substance")
        verbose_name_plural = _("substances")

    def __str__(self) -> str:
        return str(self.name)

    @property
    def high_risk(self) -> bool:
        return self.substance_class in HIGH_RISK


class SampleForm(models.TextChoices):
    POWDER = "powder", _("Powder")
    CRYSTAL = "crystal", _("Crystal or rock")
    PILL = "pill", _("Pill or tablet")
    LIQUID = "liquid", _("Liquid")
    PAPER = "paper", _("Paper or blotter")
    PLANT = "plant", _("Plant material")
    TAR = "tar", _("Tar or paste")
    RESIDUE = "residue", _("Residue (cooker, cotton, paraphernalia)")
    OTHER = "other", _("Other")


class ExpectedClass(models.TextChoices):
    OPIOID = "opioid", _("Opioid (down, fentanyl, heroin)")
    STIMULANT = "stimulant", _("Stimulant (crystal meth, cocaine, crack)")
    BENZODIAZEPINE = "benzodiazepine", _("Benzodiazepine")
    OTHER = "other", _("Something else")
    UNKNOWN = "unknown", _("Not known")


class Sample(BaseModel):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="drug_samples"
    )
    # shown to the person as XXXX-XXXX-XX; 50 random bits, so it cannot be guessed
    code = models.CharField(_("sample code"), max_length=16, unique=True)
    collected_on = models.DateField(_("date"))
    site = models.CharField(_("site"), max_length=200)
    city = models.CharField(_("city or town"), max_length=120, blank=True)
    fsa = models.CharField(_("postal area (first 3 characters)"), max_length=3, blank=True)
    health_region = models.CharField(_("health region"), max_length=120, blank=True)
    expected = models.CharField(_("bought as"), max_length=200, blank=True)
    expected_class = models.CharField(
        _("kind of drug expected"),
        max_length=20,
        choices=ExpectedClass.choices,
        default=ExpectedClass.UNKNOWN,
    )
    expected_substance = models.ForeignKey(
        Substance, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    form = models.CharField(
        _("form"), max_length=20, choices=SampleForm.choices, default=SampleForm.POWDER
    )
    colour = models.CharField(_("colour"), max_length=80, blank=True)
    already_used = models.BooleanField(_("already used"), null=True, blank=True)
    overdose = models.BooleanField(_("linked to an overdose"), null=True, blank=True)
    notes = models.TextField(_("notes for staff"), blank=True)
    # where an imported sample came from, for idempotent re-imports: (source, external_id)
    source = models.CharField(max_length=40, default="entered")
    external_id = models.CharField(max_length=120, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-collected_on", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source", "external_id"],
                condition=~models.Q(external_id=""),
                name="one_sample_per_external_id",
            ),
            models.CheckConstraint(
                condition=models.Q(fsa="") | models.Q(fsa__regex=r"^[A-Z][0-9][A-Z]$"),
                name="sample_fsa_format",
            ),
        ]
        indexes = [models.Index(fields=["collected_on"])]
        verbose_name = _("sample")
        verbose_name_plural = _("samples")

    def __str__(self) -> str:
        return self.code

    @property
    def display_code(self) -> str:
        return "-".join(self.code[i : i + 4] for i in range(0, len(self.code), 4))


class Method(models.TextChoices):
    FTIR = "ftir", _("FTIR spectrometer")
    FENTANYL_STRIP = "fentanyl-strip", _("Fentanyl test strip")
    BENZO_STRIP = "benzo-strip", _("Benzodiazepine test strip")
    XYLAZINE_STRIP = "xylazine-strip", _("Xylazine test strip")
    NITAZENE_STRIP = "nitazene-strip", _("Nitazene test strip")
    GCMS = "gcms", _("Lab confirmation (GC-MS)")
    LCMS = "lcms", _("Lab confirmation (LC-MS)")
    OTHER = "other", _("Other test")


STRIPS = {
    Method.FENTANYL_STRIP: SubstanceClass.FENTANYL,
    Method.BENZO_STRIP: SubstanceClass.BENZODIAZEPINE,
    Method.XYLAZINE_STRIP: SubstanceClass.XYLAZINE,
    Method.NITAZENE_STRIP: SubstanceClass.NITAZENE,
}
LAB_METHODS = {Method.GCMS, Method.LCMS}


class StripResult(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEGATIVE = "negative", _("Negative")
    INVALID = "invalid", _("Invalid")
    # several strips of one kind disagreed (one positive, one negative): inconclusive, not a
    # positive; the board does not count it as finding the class (drugcheck/board.py)
    MIXED = "mixed", _("Mixed")


def combine_readings(readings: list[str]) -> str:
    """One result from several strips of one kind: the same valid answer is that answer, valid
    answers that disagree are mixed, invalid strips alone are invalid (an invalid strip next to
    a valid one does not change the valid answer)."""
    valid = {r for r in readings if r in (StripResult.POSITIVE, StripResult.NEGATIVE)}
    if len(valid) > 1:
        return StripResult.MIXED
    if valid:
        return valid.pop()
    return StripResult.INVALID if readings else ""


class SampleTest(BaseModel):
    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="tests")
    method = models.CharField(_("test"), max_length=20, choices=Method.choices)
    # strips only; spectrometry and lab results are the components they found
    result = models.CharField(_("result"), max_length=10, choices=StripResult.choices, blank=True)
    # each strip's own result when more than one strip of this kind was read (in the order
    # reported, e.g. ["positive", "negative"] behind a mixed result); empty for one strip
    readings = models.JSONField(_("strip readings"), default=list, blank=True)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "method"], name="one_test_per_method")
        ]
        verbose_name = _("test")
        verbose_name_plural = _("tests")

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.result}".strip()

    @property
    def result_text(self) -> str:
        """ "Mixed (positive; negative)" in the reader's language; the result alone for one."""
        return result_text(self.result, self.readings)


def result_text(result: str, readings: list[str] | None) -> str:
    labels = dict(StripResult.choices)
    text = str(labels.get(result, result))
    if readings and len(readings) > 1:
        text += " (" + "; ".join(str(labels.get(r, r)).lower() for r in readings) + ")"
    return text


class Role(models.TextChoices):
    PRIMARY = "primary", _("Main component")
    TRACE = "trace", _("Trace")
    UNKNOWN = "unknown", _("Amount not known")


class Match(models.TextChoices):
    MATCH = "match", _("Identified")
    UNCERTAIN = "uncertain", _("Uncertain match")
    NO_LIBRARY_MATCH = "no-library-match", _("No library match")


class Component(BaseModel):
    """One thing a test found. "No library match" and "uncertain match" stay as they were
    reported: an FTIR that cannot name a component is itself information."""

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="components")
    test = models.ForeignKey(
        SampleTest, null=True, blank=True, on_delete=models.CASCADE, related_name="components"
    )
    substance = models.ForeignKey(
        Substance, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reported_name = models.CharField(_("as reported"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.UNKNOWN)
    percent = models.DecimalField(
        _("estimated percent"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    match = models.CharField(
        _("identification"), max_length=20, choices=Match.choices, default=Match.MATCH
    )

    class Meta:
        ordering = ["role", "-percent", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(percent__isnull=True)
                | models.Q(percent__gte=0, percent__lte=100),
                name="component_percent_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(match="match") | models.Q(substance__isnull=False),
                name="identified_component_has_substance",
            ),
        ]
        verbose_name = _("component")
        verbose_name_plural = _("components")

    def __str__(self) -> str:
        return str(self.substance or self.reported_name or self.get_match_display())
