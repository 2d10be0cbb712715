"""Reads of drug-checking results: one sample by its code (public), the public results board,
and a site's own samples (staff, scoped)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Prefetch, QuerySet

from harbour.core import suppression
from harbour.core.permissions import scope
from harbour.core.roles import Role
from harbour.drugcheck.models import (
    ACTIVE_CLASSES,
    BENZODIAZEPINE_CLASSES,
    OPIOID_CLASSES,
    STRIPS,
    Component,
    ExpectedClass,
    Match,
    Sample,
    SampleTest,
    StripResult,
    SubstanceClass,
)
from harbour.drugcheck.services import normalize_code

EXPECTED_CLASSES = {
    ExpectedClass.OPIOID: OPIOID_CLASSES,
    ExpectedClass.STIMULANT: {SubstanceClass.STIMULANT},
    ExpectedClass.BENZODIAZEPINE: BENZODIAZEPINE_CLASSES,
}
# what the board counts in samples bought as opioids: label -> classes that mean "contains it"
WATCHED = {
    "fentanyl": {SubstanceClass.FENTANYL, SubstanceClass.CARFENTANIL},
    "benzodiazepines": BENZODIAZEPINE_CLASSES,
    "xylazine": {SubstanceClass.XYLAZINE},
    "nitazenes": {SubstanceClass.NITAZENE},
}


def sample_by_code(raw_code: str) -> Sample | None:
    """The sample with this code, or None; the same answer (None) for any wrong code."""
    code = normalize_code(raw_code)
    if len(code) < 8:
        return None
    return (
        Sample.objects.filter(code=code)
        .select_related("expected_substance")
        .prefetch_related(
            "tests",
            Prefetch("components", queryset=Component.objects.select_related("substance")),
        )
        .first()
    )


def matched_expectation(
    expected_class: str, expected_substance_class: str | None, found: set[str]
) -> bool | None:
    """Whether a sample held what it was bought as: something active was identified and every
    active class found is one that was expected. None when it cannot be said (nothing active
    identified, or "something else" / "not known" expected)."""
    if expected_substance_class:
        expected = {expected_substance_class}
        if expected_substance_class == SubstanceClass.FENTANYL:
            expected |= {SubstanceClass.CARFENTANIL}
    else:
        expected = set(EXPECTED_CLASSES.get(expected_class, set()))  # type: ignore[call-overload]
    active = found & ACTIVE_CLASSES
    if not expected or not active:
        return None
    return active <= expected


@dataclass
class BoardFilters:
    date_from: date | None = None
    date_to: date | None = None
    city: str = ""
    expected_class: str = ""


@dataclass
class Share:
    label: str
    count: int
    total: int

    @property
    def fraction(self) -> float | None:
        return suppression.share(self.count, self.total)


@dataclass
class Month:
    month: date
    samples: suppression.Cell
    fentanyl: Share
    benzodiazepines: Share


@dataclass
class Board:
    samples: suppression.Cell
    matched: Share
    opioid_samples: suppression.Cell
    watched: list[Share]
    months: list[Month] = field(default_factory=list)
    recent: list[Sample] = field(default_factory=list)


def board_samples(filters: BoardFilters) -> QuerySet[Sample]:
    qs = Sample.objects.all()
    if filters.date_from:
        qs = qs.filter(collected_on__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(collected_on__lte=filters.date_to)
    if filters.city:
        qs = qs.filter(city__iexact=filters.city.strip())
    if filters.expected_class:
        qs = qs.filter(expected_class=filters.expected_class)
    return qs


def _classes_by_sample(samples: QuerySet[Sample]) -> dict[Any, set[str]]:
    found: dict[Any, set[str]] = defaultdict(set)
    ids = samples.values("id")
    for sample_id, kind in Component.objects.filter(
        sample_id__in=ids, match=Match.MATCH
    ).values_list("sample_id", "substance__substance_class"):
        found[sample_id].add(kind)
    for sample_id, method in SampleTest.objects.filter(
        sample_id__in=ids, result=StripResult.POSITIVE
    ).values_list("sample_id", "method"):
        kind = STRIPS.get(method)  # type: ignore[call-overload]
        if kind:
            found[sample_id].add(str(kind))
    return found


def board(filters: BoardFilters, *, recent: int = 10) -> Board:
    """The public board's figures; every count through small-cell suppression."""
    samples = board_samples(filters)
    found = _classes_by_sample(samples)
    rows = list(
        samples.values_list(
            "id", "collected_on", "expected_class", "expected_substance__substance_class"
        )
    )
    matched = judged = 0
    opioid = 0
    watched_counts = dict.fromkeys(WATCHED, 0)
    by_month: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for sample_id, collected_on, expected_class, substance_class in rows:
        classes = found.get(sample_id, set())
        verdict = matched_expectation(expected_class, substance_class, classes)
        if verdict is not None:
            judged += 1
            matched += int(verdict)
        month = by_month[collected_on.replace(day=1)]
        month[0] += 1
        if expected_class == ExpectedClass.OPIOID:
            opioid += 1
            month[1] += 1
            for label, kinds in WATCHED.items():
                if classes & kinds:
                    watched_counts[label] += 1
            month[2] += int(bool(classes & WATCHED["fentanyl"]))
            month[3] += int(bool(classes & WATCHED["benzodiazepines"]))
    months = [
        Month(
            month=key,
            samples=suppression.cell(counts[0]),
            fentanyl=Share("fentanyl", counts[2], counts[1]),
            benzodiazepines=Share("benzodiazepines", counts[3], counts[1]),
        )
        for key, counts in sorted(by_month.items())
    ]
    latest = list(
        samples.select_related("expected_substance")
        .prefetch_related(
            Prefetch("components", queryset=Component.objects.select_related("substance")),
            "tests",
        )
        .order_by("-collected_on", "-created_at")[:recent]
    )
    return Board(
        samples=suppression.cell(len(rows)),
        matched=Share("matched", matched, judged),
        opioid_samples=suppression.cell(opioid),
        watched=[Share(label, watched_counts[label], opioid) for label in WATCHED],
        months=months,
        recent=latest,
    )


def cities() -> list[str]:
    return sorted(
        {c for c in Sample.objects.exclude(city="").values_list("city", flat=True).distinct()}
    )


def own_samples(actor: Any, *, organization: Any) -> QuerySet[Sample]:
    return (
        scope(Sample.objects.all(), actor, minimum=Role.PEER_WORKER)
        .filter(organization=organization)
        .prefetch_related("components__substance", "tests")
    )
