"""Every write to drug checking: the substance vocabulary, samples with their tests and
components, lab confirmations. Keyword-only, atomic, audited."""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.permissions import require_role
from harbour.core.roles import Role
from harbour.drugcheck.models import (
    Component,
    ExpectedClass,
    Match,
    Method,
    Sample,
    SampleTest,
    Substance,
    SubstanceClass,
)

# Crockford's base32: no I, L, O, U, so a code read aloud or copied by hand survives
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10  # 50 random bits
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})

# UNC dictionary flag -> class, first match wins (the overlay file corrects the rest)
UNC_FLAGS = [
    ("nitazenes", SubstanceClass.NITAZENE),
    ("designer_benzos", SubstanceClass.DESIGNER_BENZODIAZEPINE),
    ("benzos", SubstanceClass.BENZODIAZEPINE),
    ("substituted_cathinones", SubstanceClass.STIMULANT),
    ("synthetic_cannabinoids", SubstanceClass.SYNTHETIC_CANNABINOID),
    ("cannabinoids", SubstanceClass.CANNABINOID),
    ("opiates_opioids", SubstanceClass.OPIOID),
    ("fentanyl_impurities", SubstanceClass.IMPURITY),
    ("p-fluorofentanyl_impurities", SubstanceClass.IMPURITY),
    ("heroin_impurities", SubstanceClass.IMPURITY),
    ("meth_impurities", SubstanceClass.IMPURITY),
    ("mdma_impurities", SubstanceClass.IMPURITY),
    ("cocaine_impurities", SubstanceClass.IMPURITY),
    ("common_cuts", SubstanceClass.CUT),
]
ROLE_CLASSES = {
    "cut": SubstanceClass.CUT,
    "precursor": SubstanceClass.IMPURITY,
    "metabolite": SubstanceClass.IMPURITY,
    "synthesis by-product": SubstanceClass.IMPURITY,
}
# words people use for what they bought -> the kind of drug expected
EXPECTED_WORDS = {
    ExpectedClass.OPIOID: (
        "down", "fentanyl", "fent", "heroin", "opioid", "dope", "oxy", "morphine", "dilaudid",
        "hydromorphone", "carfentanil", "methadone", "side", "jib down",
    ),
    ExpectedClass.STIMULANT: (
        "meth", "crystal", "speed", "cocaine", "coke", "crack", "amphetamine", "mdma", "molly",
        "ecstasy", "stimulant", "up",
    ),
    ExpectedClass.BENZODIAZEPINE: ("benzo", "xanax", "alprazolam", "etizolam", "valium"),
}  # fmt: skip


def normalize_code(raw: str) -> str:
    """What a person typed, as stored: upper case, no spaces or dashes, O read as 0, I/L as 1."""
    cleaned = "".join(ch for ch in raw.upper() if ch.isalnum())
    return cleaned.translate(_CONFUSABLE)[:16]


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def expected_class_of(text: str) -> str:
    words = f" {' '.join(text.lower().replace(';', ' ').replace(',', ' ').split())} "
    for kind, names in EXPECTED_WORDS.items():
        if any(f" {name} " in words for name in names):
            return str(kind)
    return ExpectedClass.OTHER if text.strip() else ExpectedClass.UNKNOWN


# --- vocabulary -----------------------------------------------------------------------------


def _data(name: str) -> str:
    return resources.files("harbour.drugcheck").joinpath("data", name).read_text("utf-8")


@transaction.atomic
def substances_load(*, model: Any = None) -> int:
    """Load (or refresh) the vocabulary: UNC's dictionary, then Harbour's overlay. Returns the
    number of substances. Names already in the database keep their id. ``model`` lets a data
    migration pass its historical model."""
    model = model or Substance
    entries: dict[str, dict[str, Any]] = {}
    for row in csv.DictReader(io.StringIO(_data("unc_chemdictionary.csv"), newline="")):
        name = (row.get("substance") or "").strip()
        code = slugify(name)[:120]
        if not code:
            continue
        kind = next(
            (cls for flag, cls in UNC_FLAGS if (row.get(flag) or "").strip() == "1"),
            ROLE_CLASSES.get((row.get("commonrole") or "").strip(), SubstanceClass.UNKNOWN),
        )
        entries.setdefault(
            code,
            {"name": name, "name_fr": name, "class": kind, "role": row.get("commonrole", "")},
        )
    overlay = json.loads(_data("harbour_substances.json"))
    for code, extra in overlay.items():
        if code.startswith("_"):
            continue
        entry = entries.setdefault(code, {"name": extra.get("name", code), "role": ""})
        entry["name_fr"] = extra.get("name_fr", entry.get("name_fr", entry["name"]))
        entry["class"] = extra.get("class", entry.get("class", SubstanceClass.UNKNOWN))
        entry["aliases"] = extra.get("aliases", [])
    for code, entry in entries.items():
        model.objects.update_or_create(
            code=code,
            defaults={
                "name_en": entry["name"],
                "name_fr": entry.get("name_fr") or entry["name"],
                "substance_class": entry["class"],
                "role": (entry.get("role") or "").strip(),
                "aliases": "\n".join(a.lower() for a in entry.get("aliases", [])),
            },
        )
    return len(entries)


class Vocabulary:
    """Names (any case, aliases, either language) -> substance; built once per import."""

    def __init__(self) -> None:
        self.by_name: dict[str, Substance] = {}
        substances = {s.pk: s for s in Substance.objects.all()}
        for pk, code, name_en, name_fr, aliases in Substance.objects.values_list(
            "pk", "code", "name_en", "name_fr", "aliases"
        ):
            for name in (code, name_en, name_fr, *aliases.splitlines()):
                if name:
                    self.by_name.setdefault(self._key(name), substances[pk])

    @staticmethod
    def _key(name: str) -> str:
        return " ".join(name.lower().replace("-", " ").split())

    def find(self, name: str) -> Substance | None:
        key = self._key(name)
        return self.by_name.get(key) or self.by_name.get(self._key(slugify(name)))

    def find_or_add(self, name: str) -> tuple[Substance, bool]:
        """The substance named so, or a new "not classified" one (True when added)."""
        found = self.find(name)
        if found is not None:
            return found, False
        code = slugify(name)[:120] or f"substance-{len(self.by_name)}"
        substance, created = Substance.objects.get_or_create(
            code=code, defaults={"name_en": name.strip(), "name_fr": name.strip()}
        )
        self.by_name[self._key(name)] = substance
        return substance, created


# --- samples --------------------------------------------------------------------------------


@dataclass
class ComponentIn:
    name: str = ""  # as the test reported it
    substance: Substance | None = None
    role: str = "unknown"
    percent: Decimal | None = None
    match: str = Match.MATCH
    method: str = Method.FTIR


@dataclass
class SampleIn:
    collected_on: date
    site: str
    city: str = ""
    fsa: str = ""
    health_region: str = ""
    expected: str = ""
    expected_class: str = ""
    form: str = "powder"
    colour: str = ""
    already_used: bool | None = None
    overdose: bool | None = None
    notes: str = ""
    strips: dict[str, str] = field(
        default_factory=dict
    )  # method -> positive/negative/invalid/mixed
    # method -> each strip's result, when more than one strip of that kind was read
    strip_readings: dict[str, list[str]] = field(default_factory=dict)
    components: list[ComponentIn] = field(default_factory=list)
    source: str = "entered"
    external_id: str = ""
    where: str = ""  # file and line, for import errors


def sample_create(
    *, organization: Any, data: SampleIn, actor: Any, vocabulary: Vocabulary
) -> Sample:
    """Write one sample with its tests and components (no permission check, no audit, no
    hooks): the shared core of ``sample_record`` (staff), imports and the demo."""
    expected_substance = vocabulary.find(data.expected) if data.expected else None
    sample = Sample(
        organization=organization,
        code=new_code(),
        collected_on=data.collected_on,
        site=data.site.strip(),
        city=data.city.strip(),
        fsa=data.fsa.strip().upper()[:3],
        health_region=data.health_region.strip(),
        expected=data.expected.strip(),
        expected_class=data.expected_class or expected_class_of(data.expected),
        expected_substance=expected_substance,
        form=data.form,
        colour=data.colour.strip(),
        already_used=data.already_used,
        overdose=data.overdose,
        notes=data.notes.strip(),
        source=data.source,
        external_id=data.external_id,
        created_by=actor if getattr(actor, "is_user", False) else None,
    )
    sample.full_clean(exclude=["organization", "created_by", "expected_substance"])
    for _attempt in range(5):  # a code collision is astronomically rare; try again if it happens
        try:
            with transaction.atomic():
                sample.save()
            break
        except IntegrityError:
            if (
                Sample.objects.filter(
                    organization=organization, source=data.source, external_id=data.external_id
                )
                .exclude(external_id="")
                .exists()
            ):
                raise
            sample.code = new_code()
    tests: dict[str, SampleTest] = {}
    for method, result in data.strips.items():
        tests[method] = SampleTest.objects.create(
            sample=sample,
            method=method,
            result=result,
            readings=list(data.strip_readings.get(method, [])),
        )
    for item in data.components:
        test = tests.get(item.method)
        if test is None:
            test = tests[item.method] = SampleTest.objects.create(sample=sample, method=item.method)
        _add_component(sample=sample, test=test, item=item, vocabulary=vocabulary)
    return sample


def _add_component(
    *, sample: Sample, test: SampleTest, item: ComponentIn, vocabulary: Vocabulary
) -> Component:
    """An identified name is looked up (or added, unclassified); "no library match" keeps no
    substance; "uncertain match" keeps one only when it was given."""
    substance = item.substance
    if substance is None and item.match == Match.MATCH and item.name.strip():
        substance, _added = vocabulary.find_or_add(item.name)
    return Component.objects.create(
        sample=sample,
        test=test,
        substance=substance if item.match != Match.NO_LIBRARY_MATCH else None,
        reported_name=item.name.strip(),
        role=item.role,
        percent=item.percent,
        match=item.match,
    )


SAMPLE_HOOKS: list[Callable[[Sample], Any]] = []


def on_sample_recorded(hook: Callable[[Sample], Any]) -> None:
    """Other apps react to a new result (alerts drafts one for a dangerous sample). Runs in
    the same transaction; not for imported history."""
    SAMPLE_HOOKS.append(hook)


@transaction.atomic
def sample_record(*, actor: Any, organization: Any, data: SampleIn) -> Sample:
    """A site's staff record a sample and what their tests found."""
    require_role(actor, organization.pk, Role.PEER_WORKER)
    sample = sample_create(
        organization=organization, data=data, actor=actor, vocabulary=Vocabulary()
    )
    audit.record(
        action=AuditAction.DRUGCHECK_SAMPLE_RECORD,
        actor=actor,
        organization=organization,
        obj=sample,
        metadata={"tests": sorted(t.method for t in sample.tests.all())},
    )
    for hook in SAMPLE_HOOKS:
        hook(sample)
    return sample


@transaction.atomic
def lab_confirm(
    *,
    actor: Any,
    sample: Sample,
    method: str,
    components: Iterable[ComponentIn],
    completed_on: date,
) -> SampleTest:
    """A lab's confirmation (GC-MS or LC-MS) replaces that method's earlier result, if any."""
    require_role(actor, sample.organization_id, Role.OUTREACH_WORKER)
    if method not in {Method.GCMS, Method.LCMS}:
        raise ValidationError({"method": "Lab confirmation is gcms or lcms."})
    vocabulary = Vocabulary()
    SampleTest.objects.filter(sample=sample, method=method).delete()
    test = SampleTest.objects.create(sample=sample, method=method, completed_on=completed_on)
    for item in components:
        _add_component(sample=sample, test=test, item=item, vocabulary=vocabulary)
    audit.record(
        action=AuditAction.DRUGCHECK_LAB_CONFIRM,
        actor=actor,
        organization_id=sample.organization_id,
        obj=sample,
        metadata={"method": method, "components": test.components.count()},
    )
    for hook in SAMPLE_HOOKS:
        hook(sample)
    return test


# --- corrections ----------------------------------------------------------------------------

CORRECTABLE = (
    "collected_on", "site", "city", "fsa", "expected", "expected_class", "form", "colour",
    "already_used", "overdose", "notes",
)  # fmt: skip
REASON_MAX = 300


def released_month(day: date) -> Any:
    """The drug-checking release that covers ``day``, if its month was already published."""
    from harbour.core.models import Release
    from harbour.drugcheck.board import KIND

    return Release.objects.filter(kind=KIND, period_start__lte=day, period_end__gt=day).first()


@transaction.atomic
def sample_correct(*, actor: Any, sample: Sample, data: SampleIn, reason: str) -> list[str]:
    """Staff of the sample's organization correct what was recorded: its fields, its strips
    and its FTIR components (lab confirmations stay as the lab reported them). A reason is
    required and audited with the names of the fields changed (never their values).

    A release is never changed: a result already published on the board stays as published,
    and the sample may not move into or out of a released month (it would then be in two
    releases, or in none). Returns the fields changed."""
    require_role(actor, sample.organization_id, Role.PEER_WORKER)
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": _("Say why you are correcting this sample.")})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": _("At most %(n)s characters.") % {"n": REASON_MAX}})
    if audit.personal_values(reason):
        raise ValidationError(
            {"reason": _("Leave out phone numbers and email addresses: the reason is kept.")}
        )
    sample = Sample.objects.select_for_update().get(pk=sample.pk)
    moves_month = f"{data.collected_on:%Y-%m}" != f"{sample.collected_on:%Y-%m}"
    if moves_month and (released_month(sample.collected_on) or released_month(data.collected_on)):
        raise ValidationError(
            {
                "collected_on": _(
                    "This would move the sample into or out of a month already published "
                    "on the board, and published figures never change. Choose a date in "
                    "the same month."
                )
            }
        )
    new = {
        "collected_on": data.collected_on,
        "site": data.site.strip(),
        "city": data.city.strip(),
        "fsa": data.fsa.strip().upper()[:3],
        "expected": data.expected.strip(),
        "expected_class": data.expected_class or expected_class_of(data.expected),
        "form": data.form,
        "colour": data.colour.strip(),
        "already_used": data.already_used,
        "overdose": data.overdose,
        "notes": data.notes.strip(),
    }
    changed = [name for name in CORRECTABLE if getattr(sample, name) != new[name]]
    vocabulary = Vocabulary()
    for name in changed:
        setattr(sample, name, new[name])
    if "expected" in changed:
        sample.expected_substance = vocabulary.find(sample.expected) if sample.expected else None
    sample.full_clean(exclude=["organization", "created_by", "expected_substance"])
    sample.save()
    strips_before = {t.method: t.result for t in sample.tests.all() if t.method in _STRIP_METHODS}
    if strips_before != data.strips:
        changed.append("strips")
        SampleTest.objects.filter(sample=sample, method__in=_STRIP_METHODS).exclude(
            method__in=list(data.strips)
        ).delete()
        for method, result in data.strips.items():
            SampleTest.objects.update_or_create(
                sample=sample, method=method, defaults={"result": result}
            )
    ftir_before = [
        (c.reported_name or (c.substance.name if c.substance else ""), c.percent, c.match)
        for c in Component.objects.filter(sample=sample, test__method=Method.FTIR).select_related(
            "substance"
        )
    ]
    ftir_after = [(c.name.strip(), c.percent, c.match) for c in data.components]
    if ftir_before != ftir_after:
        changed.append("ftir")
        SampleTest.objects.filter(sample=sample, method=Method.FTIR).delete()
        if data.components:
            test = SampleTest.objects.create(sample=sample, method=Method.FTIR)
            for item in data.components:
                _add_component(sample=sample, test=test, item=item, vocabulary=vocabulary)
    if not changed:
        return []
    audit.record(
        action=AuditAction.DRUGCHECK_SAMPLE_CORRECT,
        actor=actor,
        organization_id=sample.organization_id,
        obj=sample,
        metadata={
            "fields": changed,
            "reason": reason,
            "published": bool(released_month(sample.collected_on)),
        },
    )
    return changed


_STRIP_METHODS = [str(m) for m in (
    Method.FENTANYL_STRIP, Method.BENZO_STRIP, Method.XYLAZINE_STRIP, Method.NITAZENE_STRIP,
)]  # fmt: skip
