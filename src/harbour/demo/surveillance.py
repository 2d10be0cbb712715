"""Fictional overdose events for the demo: four months in Kingston and Montréal postal areas
from outreach, a site, paramedics and anonymous reports, with a burst in downtown Kingston in
the last hours (so the dashboard has a signal to look at), and PHAC's published figures."""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from harbour.accounts.models import Organization
from harbour.surveillance import services
from harbour.surveillance.models import (
    DetectionSettings,
    Method,
    OverdoseEvent,
    PublishedSeries,
    Source,
)

AREAS = {
    "demo-lighthouse": ("Kingston", ["K7L", "K7K", "K7M", "K7P"], 0.9),
    "demo-riverside": ("Montréal", ["H2X", "H2L", "H2K", "H3B", "H2J"], 1.4),
}
SOURCES = (
    [Source.OUTREACH] * 4
    + [Source.SUPERVISED_SITE] * 3
    + [Source.EMS] * 3
    + [Source.EMERGENCY_DEPARTMENT]
)
SUBSTANCES = [["fentanyl"], ["fentanyl", "xylazine"], ["fentanyl", "bromazolam"], [], ["unknown"]]


@transaction.atomic
def load() -> int:
    """Returns how many events were added (0 when the demo already has them)."""
    added = 0
    now = timezone.now()
    rng = random.Random(6)  # noqa: S311 -- fictional figures
    for slug, (city, areas, per_day) in AREAS.items():
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            continue
        DetectionSettings.objects.get_or_create(
            organization=org,
            defaults={"areas": " ".join(areas), "share_publicly": True,
                      "methods": [Method.POISSON_GAMMA, Method.EARS_C2, Method.COUNT_24H,
                                  Method.SCAN]},
        )  # fmt: skip
        if OverdoseEvent.objects.filter(organization=org, source_ref__startswith="demo:").exists():
            continue
        rows = []
        for day in range(1, 120):
            for n in range(_poisson(rng, per_day)):
                rows.append((day * 24 + rng.uniform(0, 23), rng.choice(areas), f"{day}:{n}"))
        if slug == "demo-lighthouse":  # the burst: six in downtown Kingston since this morning
            rows += [(0.4 + i * 1.3, "K7L", f"burst:{i}") for i in range(6)]
        for hours, fsa, ref in rows:
            source = Source.EMS if ref.startswith("burst") else rng.choice(SOURCES)
            services.event_record(
                organization=org,
                data=services.EventIn(
                    occurred_at=now - timedelta(hours=hours), source=source,
                    source_ref=f"demo:{slug}:{ref}", fsa=fsa, city=city,
                    fatal=rng.random() < 0.06, naloxone_given=rng.random() < 0.7,
                    substances=rng.choice(SUBSTANCES),
                ),
            )  # fmt: skip
            added += 1
        services.detect(organization=org, now=now)
    if not PublishedSeries.objects.exists():
        services.published_import(text=services.shipped_harms())
    return added


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw by counting exponential gaps (no numpy needed for the demo)."""
    count, total = 0, rng.expovariate(1.0)
    while total < mean:
        count += 1
        total += rng.expovariate(1.0)
    return count
