"""Releases benchmark: public figures are made once and served as stored.

Loads overdose events across 300 real postal areas over twelve weeks (anonymous reports that were
reviewed, and events of an organization that publishes its figures), then measures, each against
a baseline taken in the same run:

- making the ``trends`` releases due (three tiled blocks of 4 weeks: the builder reads the
  events, counts them by week, area and map hexagon and suppresses them jointly) against one SQL
  aggregate over the same events (``GROUP BY fsa``), the least a live page would have needed on
  every request;
- the public page ``/trends/`` (through Django's in-process client) served from the stored
  releases with the events loaded, against the same page when each area had a single event (both
  with their releases made, so both list the same areas): a page that reads what was released
  costs the same whatever the number of events behind it.

Goals (issue "Trust first"): the page with every event loaded at most 1.5x the page with one event
per area
(p95, so its cost does not grow with the data: nothing is computed live); making a release at
most 30x the one aggregate (it runs once an hour at most, never per request); every release holds
strings only and says when it was made.

    python bench/releases.py [--quick] [--events N] [--requests N]
    DATABASE_URL=postgres://... python bench/releases.py   # on PostgreSQL
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from _scratch import percentile, setup, teardown


def page_times(client: Any, n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get("/trends/")
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 events, 60 requests")
    parser.add_argument("--events", type=int, default=0)
    parser.add_argument("--requests", type=int, default=0)
    args = parser.parse_args()
    n_events = args.events or (20_000 if args.quick else 200_000)
    n_requests = args.requests or (60 if args.quick else 300)

    with tempfile.TemporaryDirectory() as var_dir:
        setup(var_dir, "releases")
        try:
            return run(n_events, n_requests)
        finally:
            teardown()


def run(n_events: int, n_requests: int) -> int:
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from harbour.accounts.models import Organization
    from harbour.core import releases
    from harbour.core.geo import _centroids
    from harbour.core.models import Release
    from harbour.surveillance.models import DetectionSettings, OverdoseEvent, Source
    from harbour.surveillance.selectors import TRENDS

    rng = random.Random(16)
    now = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    org = Organization.objects.create(
        name_en="Bench harm reduction", name_fr="Réduction des méfaits (banc)", slug="bench"
    )
    DetectionSettings.objects.create(organization=org, share_publicly=True)
    client = Client()

    # twelve weeks of events in 300 real postal areas (Ontario and Quebec), some areas busy
    areas = [fsa for fsa, row in _centroids().items() if row[3] in ("ON", "QC")][:300]
    weights = [rng.paretovariate(1.2) for _ in areas]
    start = now - timedelta(days=84)

    def event(i: int, fsa: str) -> Any:
        anonymous = i % 3 == 0
        return OverdoseEvent(
            organization=None if anonymous else org,
            occurred_at=start + timedelta(seconds=rng.uniform(0, 84 * 86400)),
            fsa=fsa,
            source=Source.ANONYMOUS_REPORT if anonymous else Source.OUTREACH,
            source_ref=f"bench:{i}",
            fatal=rng.random() < 0.05,
            naloxone_given=rng.random() < 0.6,
        )

    # the baseline: one event in each area, so the page lists the same areas; releases made
    OverdoseEvent.objects.bulk_create([event(i, fsa) for i, fsa in enumerate(areas)])
    releases.make(TRENDS, now=now)
    page_times(client, 10)  # warm the templates and the connection
    few = page_times(client, n_requests)
    Release.objects.all().delete()

    rows = [event(len(areas) + i, rng.choices(areas, weights)[0]) for i in range(n_events)]
    OverdoseEvent.objects.bulk_create(rows, batch_size=5000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    # one SQL aggregate over the same window, the least a live page needed per request
    first, _end = releases.bounds(TRENDS, now)
    since = datetime.combine(first - timedelta(weeks=8), datetime.min.time(), tzinfo=UTC)
    n_events += len(areas)
    aggregate = []
    for _ in range(5):
        started = time.perf_counter()
        list(
            OverdoseEvent.objects.filter(occurred_at__gte=since, excluded=False)
            .values("fsa")
            .annotate(n=Count("id"))
        )
        aggregate.append(time.perf_counter() - started)
    aggregate_s = statistics.median(aggregate)

    started = time.perf_counter()
    made = releases.make(TRENDS, now=now)
    make_s = time.perf_counter() - started
    stored = list(Release.objects.filter(kind=TRENDS).order_by("period_end"))
    strings_only = True
    for release in stored:
        try:
            releases.check_data(release.data)
        except TypeError:
            strings_only = False
    total_marks = [r.data["total"] for r in stored]

    page_times(client, 10)
    loaded = page_times(client, n_requests)
    body = client.get("/trends/").content.decode()
    says_when = "published" in body.lower() or "publié" in body.lower()

    few_p95, loaded_p95 = percentile(few, 0.95), percentile(loaded, 0.95)
    page_ratio = loaded_p95 / few_p95
    make_ratio = make_s / aggregate_s
    print(f"database: {connection.vendor}; events: {n_events} in {len(areas)} postal areas; "
          f"releases made: {len(stored)} (totals {', '.join(total_marks)})")  # fmt: skip
    print(f"making the trends releases: {make_s * 1e3:.0f} ms vs one GROUP BY over the events "
          f"{aggregate_s * 1e3:.1f} ms: {make_ratio:.1f}x")  # fmt: skip
    print(
        f"/trends/ from the stored releases: p50 {percentile(loaded, 0.5) * 1e3:.1f} ms, "
        f"p95 {loaded_p95 * 1e3:.1f} ms with {n_events} events vs p95 {few_p95 * 1e3:.1f} ms "
        f"with one event per area: {page_ratio:.2f}x; says when published: {says_when}"
    )

    goals = {
        "page with every event <= 1.5x the page with one per area (p95)": page_ratio <= 1.5,
        "making a release <= 30x one aggregate": make_ratio <= 30,
        "releases hold strings only": strings_only and made is not None,
        "the page says when its release was made": says_when,
    }
    for goal, met in goals.items():
        print(f"  {'met ' if met else 'MISSED'}  {goal}")
    print(
        f"releases: {n_events} events, make {make_s * 1e3:.0f} ms ({make_ratio:.1f}x aggregate), "
        f"page p95 {loaded_p95 * 1e3:.1f} ms ({page_ratio:.2f}x one per area), "
        f"{'all goals met' if all(goals.values()) else 'goal missed'}"
    )
    return 0 if all(goals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
