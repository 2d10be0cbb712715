"""Reads of drug-checking results: one sample by its code (public) and a site's own samples
(staff, scoped). The public results board is a release: see ``board.py``."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Prefetch, QuerySet

from harbour.core.permissions import get_scoped_or_404, scope
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


def own_samples(actor: Any, *, organization: Any) -> QuerySet[Sample]:
    return (
        scope(Sample.objects.all(), actor, minimum=Role.PEER_WORKER)
        .filter(organization=organization)
        .prefetch_related("components__substance", "tests")
    )


def own_sample_or_404(actor: Any, *, organization: Any, sample_id: Any) -> Sample:
    """One sample of the actor's organization; 404 for any other, and for a malformed id."""
    return get_scoped_or_404(
        Sample.objects.filter(organization=organization).prefetch_related(
            "tests",
            Prefetch("components", queryset=Component.objects.select_related("substance", "test")),
        ),
        actor,
        pk=sample_id,
        minimum=Role.PEER_WORKER,
    )
