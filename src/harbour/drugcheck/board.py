"""The public results board as releases (``core.releases`` kind "drugcheck"): one per closed
month, built once by the scheduler a week after the month closes, stored, and served as stored.
Releases never overlap (one month each), so two releases cannot be subtracted from each other;
the board shows the figures of the newest release and the month-by-month series of the last 12
releases, each as it was published (there is no total over the months: it would tie the
months' suppressions together after they were published).

Two things are published, and they are different in kind:

- **Results**, one per sample, as drug-checking services publish them (Drug Checking BC, UNC):
  what it was bought as, its form, what the tests found, with its month and region only: no
  day, no site, no postal area, no free text, nothing about the person. Counting them tells
  how many samples a region had in a month, and that is said plainly on the board: the
  results of anonymous samples are published, not hidden behind a count.
- **Figures** of the month (samples, samples bought as opioids, the share of those that held
  fentanyl, benzodiazepines, xylazine or nitazenes, "held what it was bought as", samples by
  region and by what they were bought as) are counts of those published results, so they are
  exact: suppressing them would be a pretence (anyone can count the results below) and would
  hide what matters ("all 6 opioid samples held fentanyl"). A share is given only when at
  least 5 samples are behind it, for a steadier figure, not for secrecy. The release is still
  what protects people: nothing appears before its month has closed and the lag has passed, so
  watching the board never tells the day someone brought a sample.

A sample's region is its health region when it has one (imports from UNC), else its city.

A test strip counts as finding its class (fentanyl, benzodiazepines, ...) only when its result is
positive. When several strips of one kind were read and disagreed (Drug Checking BC publishes
``Positive;Negative``), the result is "mixed": it is published as such, with each strip's answer
("Mixed (positive; negative)"), and it does not count as finding the class, neither in the
shares nor in "held what it was bought as"; the FTIR or lab components of the same sample still
count as they are. A mixed result is inconclusive, not a positive and not a negative.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Prefetch

from harbour.core import suppression
from harbour.drugcheck.models import (
    STRIPS,
    Component,
    ExpectedClass,
    Match,
    Sample,
    StripResult,
    result_text,
)
from harbour.drugcheck.selectors import WATCHED, matched_expectation

KIND = "drugcheck"
PERIODS = 1  # one month per release: releases never overlap
SERIES = 12  # the board's month-by-month series: the last 12 releases
LAG_DAYS = 7  # a month is released a week after it closes: late entries and lab results
CLASSES = [str(c) for c in ExpectedClass]
ALL = "*"


def region_of(sample: Sample) -> str:
    return (sample.health_region or sample.city or "").strip()


def _month_key(day: date) -> str:
    return day.strftime("%Y-%m")


def _found(sample: Sample) -> set[str]:
    found = {
        str(c.substance.substance_class)
        for c in sample.components.all()
        if c.match == Match.MATCH and c.substance is not None
    }
    for test in sample.tests.all():
        kind = STRIPS.get(test.method)  # type: ignore[call-overload]
        if kind and test.result == StripResult.POSITIVE:
            found.add(str(kind))
    return found


def _result(sample: Sample) -> dict[str, Any]:
    """One published result: codes only (labels are looked up in the reader's language)."""
    return {
        "month": _month_key(sample.collected_on),
        "region": region_of(sample),
        "expected_class": sample.expected_class,
        "expected_substance": sample.expected_substance.code if sample.expected_substance else "",
        "form": sample.form,
        "components": [
            {
                "substance": c.substance.code if c.substance else "",
                "match": c.match,
                "role": c.role,
                "percent": "" if c.percent is None else f"{c.percent.normalize():f}",
                "method": c.test.method if c.test else "",
            }
            for c in sample.components.all()
        ],
        "tests": [
            {
                "method": t.method,
                "result": t.result,
                **({"readings": t.readings} if t.readings else {}),
            }
            for t in sample.tests.all()
            if t.result
        ],
    }


def tally(samples: Iterable[Sample]) -> tuple[dict[str, int], list[str]]:
    """The counts behind a month's figures, by key; and the regions met."""
    counts: dict[str, int] = defaultdict(int)
    regions: set[str] = set()
    for sample in samples:
        region = region_of(sample)
        regions.add(region)
        found = _found(sample)
        counts[ALL] += 1
        counts[f"region:{region}|{sample.expected_class}"] += 1
        counts[f"region:{region}|{ALL}"] += 1
        counts[f"class:{sample.expected_class}"] += 1
        substance_class = (
            sample.expected_substance.substance_class if sample.expected_substance else None
        )
        verdict = matched_expectation(sample.expected_class, substance_class, found)
        if verdict is not None:
            counts["judged"] += 1
            counts["matched" if verdict else "not-matched"] += 1
        else:
            counts["not-judged"] += 1
        if sample.expected_class == ExpectedClass.OPIOID:
            for label, kinds in WATCHED.items():
                counts[label if found & kinds else f"no-{label}"] += 1
        else:
            counts["not-opioid"] += 1
    return dict(counts), sorted(regions, key=lambda r: (r == "", r.casefold()))


def groups(regions: list[str]) -> list[tuple[str, list[str]]]:
    """Every count a month's figures use, as (total, parts) ties: the keys of the release."""
    opioid = "class:opioid"
    ties: list[tuple[str, list[str]]] = [
        (ALL, [f"class:{c}" for c in CLASSES]),
        (ALL, [opioid, "not-opioid"]),
        ("not-opioid", [f"class:{c}" for c in CLASSES if c != ExpectedClass.OPIOID]),
        (ALL, ["judged", "not-judged"]),
        ("judged", ["matched", "not-matched"]),
    ]
    if regions:
        ties.append((ALL, [f"region:{r}|{ALL}" for r in regions]))
        for c in CLASSES:
            ties.append((f"class:{c}", [f"region:{r}|{c}" for r in regions]))
        for r in regions:
            ties.append((f"region:{r}|{ALL}", [f"region:{r}|{c}" for c in CLASSES]))
    for label in WATCHED:
        ties.append((opioid, [label, f"no-{label}"]))
    return ties


SHARE_MINIMUM = 5  # a share of fewer samples says too little to publish as a percent


def _share(cells: dict[str, suppression.Cell], part: str, whole: str) -> str:
    """A whole percent of published results, or "" when fewer than 5 samples are behind it."""
    if cells[whole].value < SHARE_MINIMUM:
        return ""
    return str(round(cells[part].value / cells[whole].value * 100))


def build(start: date, end: date) -> dict[str, Any]:
    """The release's data for the month [start, end): strings and codes only."""
    samples = list(
        Sample.objects.filter(collected_on__gte=start, collected_on__lt=end)
        .select_related("expected_substance")
        .prefetch_related(
            Prefetch(
                "components",
                queryset=Component.objects.select_related("substance", "test"),
            ),
            "tests",
        )
        .order_by("collected_on", "id")
    )
    counts, regions = tally(samples)
    ties = groups(regions)
    keys = {k for total, parts in ties for k in (total, *parts)}
    # counts of the results published below: exact (see the module's docstring)
    cells = {k: suppression.Cell(counts.get(k, 0)) for k in keys}

    def shown(key: str) -> str:
        return str(cells[key])

    # by region and kind, then in an order that tells nothing (never by day or by entry)
    samples.sort(key=lambda s: hashlib.sha256(str(s.pk).encode()).hexdigest())
    results = [_result(s) for s in samples]
    results.sort(key=lambda r: (r["region"].casefold(), r["expected_class"]))
    return {
        "month": _month_key(start),
        "samples": shown(ALL),
        "opioid": shown("class:opioid"),
        "matched": _share(cells, "matched", "judged"),
        "watched": {label: _share(cells, label, "class:opioid") for label in WATCHED},
        "classes": CLASSES,
        "class_totals": [shown(f"class:{c}") for c in CLASSES],
        "regions": [
            {
                "region": r,
                "samples": shown(f"region:{r}|{ALL}"),
                "cells": [shown(f"region:{r}|{c}") for c in CLASSES],
            }
            for r in regions
        ],
        "results": results,
    }


def register() -> None:
    from harbour.core import releases

    releases.register(KIND, build=build, period="month", periods=PERIODS, lag_days=LAG_DAYS)


# --- reading a release back, for the page --------------------------------------------------


@dataclass(frozen=True)
class Percent:
    """A published share: a whole percent, or withheld ("")."""

    text: str

    @property
    def fraction(self) -> float | None:
        return int(self.text) / 100 if self.text else None

    @property
    def percent(self) -> int | None:
        return int(self.text) if self.text else None


@dataclass(frozen=True)
class MonthFigures:
    month: date
    samples: str
    opioid: str
    fentanyl: Percent
    benzodiazepines: Percent


@dataclass(frozen=True)
class RegionFigures:
    region: str
    samples: str
    cells: list[str]


@dataclass(frozen=True)
class Figures:
    month: date
    samples: str
    opioid: str
    matched: Percent
    watched: list[tuple[str, Percent]]
    classes: list[tuple[str, str]]  # (label, total)
    regions: list[RegionFigures]


def _first_of(key: str) -> date:
    year, month = key.split("-")
    return date(int(year), int(month), 1)


def figures(data: dict[str, Any]) -> Figures:
    """A month's figures, as its release stored them."""
    labels = dict(ExpectedClass.choices)
    return Figures(
        month=_first_of(data["month"]),
        samples=data["samples"],
        opioid=data["opioid"],
        matched=Percent(data["matched"]),
        watched=[(label, Percent(data["watched"][label])) for label in WATCHED],
        classes=[
            (str(labels.get(c, c)), total)
            for c, total in zip(data["classes"], data["class_totals"], strict=True)
        ],
        regions=[RegionFigures(r["region"], r["samples"], r["cells"]) for r in data["regions"]],
    )


def series(releases: Iterable[Any]) -> list[MonthFigures]:
    """One row per release, oldest first: each month as it was published."""
    rows = []
    for release in releases:
        data = release.data
        rows.append(
            MonthFigures(
                month=_first_of(data["month"]),
                samples=data["samples"],
                opioid=data["opioid"],
                fentanyl=Percent(data["watched"]["fentanyl"]),
                benzodiazepines=Percent(data["watched"]["benzodiazepines"]),
            )
        )
    return sorted(rows, key=lambda r: r.month)


def results(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Published results with labels in the reader's language (the vocabulary's names)."""
    from harbour.drugcheck.models import Method, Role, SampleForm, Substance

    codes = {c["substance"] for r in items for c in r["components"] if c["substance"]}
    codes |= {r["expected_substance"] for r in items if r["expected_substance"]}
    names = {s.code: s for s in Substance.objects.filter(code__in=codes)}
    expected = dict(ExpectedClass.choices)
    forms = dict(SampleForm.choices)
    methods = dict(Method.choices)
    matches = dict(Match.choices)
    roles = dict(Role.choices)
    strip_results = dict(StripResult.choices)
    out = []
    for r in items:
        substance = names.get(r["expected_substance"])
        out.append(
            {
                "month": _first_of(r["month"]),
                "region": r["region"],
                "bought_as": str(substance) if substance else expected.get(r["expected_class"]),
                "form": forms.get(r["form"], ""),
                "components": [
                    {
                        "substance": names.get(c["substance"]),
                        "match": matches.get(c["match"], ""),
                        "trace": c["role"] == Role.TRACE,
                        "role": roles.get(c["role"], ""),
                        "percent": c["percent"],
                        "method": methods.get(c["method"], ""),
                    }
                    for c in r["components"]
                ],
                "tests": [
                    {
                        "method": methods.get(t["method"], ""),
                        "result": result_text(t["result"], t.get("readings"))
                        if t["result"] in strip_results
                        else "",
                    }
                    for t in r["tests"]
                ],
            }
        )
    return out


def published() -> list[Any]:
    """The releases the board offers, newest first: the last ``SERIES`` months."""
    from harbour.core.models import Release

    return list(Release.objects.filter(kind=KIND).order_by("-period_end")[:SERIES])
