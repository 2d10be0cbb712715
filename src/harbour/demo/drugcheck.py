"""Fictional drug-checking results for the demo sites (deterministic; idempotent)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone

from harbour.accounts.models import Organization
from harbour.drugcheck import services
from harbour.drugcheck.models import Role, Sample

SITES = {
    "demo-lighthouse": ("Lighthouse drop-in (demo)", "Kingston", ["K7L", "K7K", "K7M"]),
    "demo-riverside": ("Riverside mobile unit (demo)", "Montréal", ["H2X", "H2L", "H3A"]),
}
# bought as -> weighted mixes of (substance, role, percent range)
MIXES: dict[str, list[tuple[int, list[tuple[str, str, Any]]]]] = {
    "down": [
        (6, [("fentanyl", Role.PRIMARY, (4, 20)), ("caffeine", Role.PRIMARY, None)]),
        (3, [("fentanyl", Role.PRIMARY, (3, 15)), ("bromazolam", Role.TRACE, None),
             ("mannitol", Role.PRIMARY, None)]),
        (2, [("fentanyl", Role.PRIMARY, (3, 12)), ("xylazine", Role.TRACE, None),
             ("erythritol", Role.PRIMARY, None)]),
        (1, [("fentanyl", Role.PRIMARY, (2, 10)), ("medetomidine", Role.TRACE, None)]),
        (1, [("carfentanil", Role.TRACE, None), ("fentanyl", Role.PRIMARY, (2, 8))]),
    ],
    "crystal meth": [
        (8, [("methamphetamine", Role.PRIMARY, (60, 98))]),
        (1, [("methamphetamine", Role.PRIMARY, (50, 90)), ("fentanyl", Role.TRACE, None)]),
        (1, [("methamphetamine", Role.PRIMARY, (50, 90)), ("msm", Role.PRIMARY, None)]),
    ],
    "cocaine": [
        (6, [("cocaine", Role.PRIMARY, (40, 90)), ("phenacetin", Role.PRIMARY, None)]),
        (3, [("cocaine", Role.PRIMARY, (40, 90)), ("levamisole", Role.TRACE, None)]),
        (1, [("cocaine", Role.PRIMARY, (40, 80)), ("fentanyl", Role.TRACE, None)]),
    ],
    "xanax": [
        (3, [("bromazolam", Role.PRIMARY, None)]),
        (1, [("alprazolam", Role.PRIMARY, None)]),
    ],
}  # fmt: skip
WANTS = [("down", 6), ("crystal meth", 3), ("cocaine", 2), ("xanax", 1)]
PER_SITE = 60


T = TypeVar("T")


def _pick(rng: random.Random, options: Sequence[tuple[int, T]]) -> T:
    total = sum(weight for weight, _ in options)
    point = rng.uniform(0, total)
    for weight, value in options:
        point -= weight
        if point <= 0:
            return value
    return options[-1][1]


@transaction.atomic
def load() -> int:
    """Samples over the last six months at the two demo sites; returns how many were added."""
    from harbour.drugcheck.models import Substance

    if not Substance.objects.exists():  # e.g. a test database flushed after its migrations
        services.substances_load()
    rng = random.Random(2026)  # noqa: S311 -- fictional demo data, not a secret
    today = timezone.localdate()
    vocabulary = services.Vocabulary()
    added = 0
    for slug, (site, city, fsas) in SITES.items():
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            continue
        known = set(
            Sample.objects.filter(organization=org, source="demo").values_list(
                "external_id", flat=True
            )
        )
        for number in range(PER_SITE):
            wanted = _pick(rng, [(w, name) for name, w in WANTS])
            mix = _pick(rng, MIXES[wanted])
            collected = today - timedelta(days=rng.randrange(180))
            components = [
                services.ComponentIn(
                    name=name,
                    substance=vocabulary.find(name),
                    role=role,
                    percent=Decimal(rng.randint(*span)) if span else None,
                    method="ftir",
                )
                for name, role, span in mix
            ]
            has_fentanyl = any(c.name == "fentanyl" for c in components)
            external_id = f"demo-{slug}-{number}"
            if external_id in known:
                continue
            services.sample_create(
                organization=org,
                data=services.SampleIn(
                    collected_on=collected,
                    site=site,
                    city=city,
                    fsa=rng.choice(fsas),
                    expected=wanted,
                    form="crystal"
                    if wanted == "crystal meth"
                    else "pill"
                    if wanted == "xanax"
                    else "powder",
                    strips={"fentanyl-strip": "positive" if has_fentanyl else "negative"},
                    components=components,
                    source="demo",
                    external_id=external_id,
                ),
                actor=None,
                vocabulary=vocabulary,
            )
            added += 1
    publish_past()
    return added


def publish_past(months: int = 6) -> int:
    """The board's releases of the past months, as if the scheduler had run on the 10th of
    each (the demo's samples go back six months); returns how many were made."""
    from datetime import datetime, time

    from harbour.core import releases
    from harbour.drugcheck import board

    first = timezone.localdate().replace(day=1)
    made = 0
    for back in range(months, 0, -1):
        index = first.year * 12 + first.month - 1 - back
        day = datetime.combine(first.replace(year=index // 12, month=index % 12 + 1, day=10),
                               time(12))  # fmt: skip
        made += releases.make(board.KIND, now=timezone.make_aware(day)) is not None
    return made
