"""Meetings benchmark: the Meeting Guide feed, its import, and "starting within the hour near a
postal code" at national scale.

Generates a Meeting Guide feed of meetings across Canada (each at a real postal-area centroid,
jittered, in its province's time zone; a fifth online, a tenth hybrid; several fellowships and
types), then measures, each against a baseline taken in the same run:

- the first import of the feed (``harbour import-meetings``' service: validate every item, then
  write) against a re-import of the same, unchanged feed, which must write nothing;
- building the feed (``/meetings/feed.json``'s body) against a plain ``json.dumps`` of the same
  rows fetched with ``.values()`` (the two interleaved, median of several rounds);
- the search "starting within the hour near a postal code" (``selectors.search``: the SQL, the
  exact check of each candidate in its own time zone, the page of rows), at random instants of
  the week, against its candidate SQL alone; and the whole page (``/meetings/?near=..&soon=on``,
  form, search and HTML) through Django's in-process client.

Goals (issue "Walking the path together"): feed at most 3x the baseline; an unchanged re-import
at least 5x faster than the first import, writing nothing; search p95 under 50 ms; the whole
page p95 under 100 ms (this 2-core machine, shared).

    python bench/meetings_feed.py [--quick] [--meetings N] [--queries N]
    DATABASE_URL=postgres://... python bench/meetings_feed.py   # on PostgreSQL
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _scratch import percentile, setup, teardown

TIMEZONES = {
    "BC": "America/Vancouver", "AB": "America/Edmonton", "SK": "America/Regina",
    "MB": "America/Winnipeg", "NS": "America/Halifax", "NB": "America/Moncton",
    "NL": "America/St_Johns", "PE": "America/Halifax", "YT": "America/Whitehorse",
    "NT": "America/Yellowknife", "NU": "America/Iqaluit", "QC": "America/Toronto",
}  # fmt: skip
FELLOWSHIPS = ["aa"] * 6 + ["na"] * 2 + ["smart", "dharma", "alanon", "peer"]
TYPES = ["O", "C", "D", "SP", "BE", "W", "M", "X", "LGBTQ", "Y", "ST", "B", "MED"]
TERMS = {"na": ["NA-BT", "NA-JFT"], "smart": ["SMART-4PT"], "dharma": ["RD-MED"]}


def feed_items(n: int, rng: random.Random) -> tuple[list[dict[str, Any]], list[str]]:
    """A Meeting Guide feed of ``n`` meetings, and the postal areas they are in."""
    from harbour.core.geo import _centroids

    places = [(fsa, row) for fsa, row in _centroids().items() if row[0] < 84]
    items, fsas = [], []
    for i in range(n):
        fsa, (lat, lng, place, province) = rng.choice(places)
        place = place.split("(")[0].strip()[:60]  # GeoNames' longest names say more than a city
        fellowship = rng.choice(FELLOWSHIPS)
        kind = rng.random()
        types = [*rng.sample(TYPES, rng.randint(1, 4)), rng.choice(["EN"] * 3 + ["FR"])]
        types += rng.sample(TERMS.get(fellowship, []), min(1, len(TERMS.get(fellowship, []))))
        item: dict[str, Any] = {
            "name": f"{rng.choice(['Serenity', 'Hope', 'New Day', 'Sobriété', 'Espoir'])} {i}",
            "slug": f"bench-{i}",
            "day": rng.randrange(7) if rng.random() < 0.8 else sorted(rng.sample(range(7), 3)),
            "time": f"{rng.randrange(6, 23):02d}:{rng.choice(['00', '15', '30', '45'])}",
            "end_time": f"{rng.randrange(0, 24):02d}:00",
            "timezone": TIMEZONES.get(province, "America/Toronto"),
            "types": types,
            "notes": "Coffee at the door. Ring the bell for the side entrance.",
            "fellowship": fellowship,
            "regions": [place],
        }
        if kind < 0.2:  # online only, from an approximate place
            item |= {"formatted_address": f"{place}, {province}, Canada", "approximate": "yes",
                     "conference_url": f"https://meet.example.org/m{i}"}  # fmt: skip
        else:
            item |= {
                "location": f"Community hall {i % 500}",
                "address": f"{rng.randrange(1, 999)} Main Street",
                "city": place, "state": province, "postal_code": f"{fsa} 1A1", "country": "CA",
                "latitude": round(lat + rng.uniform(-0.04, 0.04), 5),
                "longitude": round(lng + rng.uniform(-0.04, 0.04), 5),
            }  # fmt: skip
            if kind < 0.3:  # hybrid
                item["conference_url"] = f"https://meet.example.org/h{i}"
            fsas.append(fsa)
        items.append(item)
    return items, fsas


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3,000 meetings, 100 queries")
    parser.add_argument("--meetings", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=400)
    args = parser.parse_args()
    n = 3000 if args.quick else args.meetings
    n_queries = 100 if args.quick else args.queries
    rounds = 3 if args.quick else 5
    with tempfile.TemporaryDirectory() as var_dir:
        setup(var_dir, "meetings")
        try:
            return run(n, n_queries, rounds, random.Random(20261128))
        finally:
            teardown()


def timed(action: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = action()
    return time.perf_counter() - t0, result


def run(n: int, n_queries: int, rounds: int, rng: random.Random) -> int:
    import time_machine
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from harbour.accounts.models import Organization
    from harbour.core import geo
    from harbour.meetings import feed, selectors, services
    from harbour.meetings.models import Meeting

    settings.ALLOWED_HOSTS = ["*"]
    items, fsas = feed_items(n, rng)
    text = json.dumps(items)
    org = Organization.objects.create(
        name_en="Bench meetings", name_fr="Banc", slug="bench-meetings", type="peer_group"
    )
    print(
        f"meetings_feed: {n:,} meetings ({len(text) / 1e6:.1f} MB of JSON) on {connection.vendor}"
    )

    # import: first, then the same feed again (nothing may be written)
    try:
        first, report = timed(
            lambda: services.import_meetings(organization=org, items=services.parse_feed(text))
        )
    except services.ImportFailed as exc:
        print("\n".join(exc.report.errors[:20]))
        raise
    assert report.created == n, report.summary()
    stamp = Meeting.objects.order_by("-updated_at").values_list("updated_at", flat=True)[0]
    again, report = timed(
        lambda: services.import_meetings(organization=org, items=services.parse_feed(text))
    )
    written = Meeting.objects.filter(updated_at__gt=stamp).count()
    unchanged_ok = report.unchanged == n and report.created == report.updated == 0
    print(f"import: first {first:.2f} s, unchanged again {again:.2f} s "
          f"({first / again:.1f}x faster, {report.summary()}, rows written {written})")  # fmt: skip

    # the feed against json.dumps of the same rows (interleaved rounds, medians)
    feed_s, base_s = [], []
    for _ in range(rounds):
        seconds, body = timed(lambda: feed.render(feed.build()))
        feed_s.append(seconds)
        seconds, _plain = timed(lambda: json.dumps(
            list(selectors.public().order_by("slug").values(*selectors.FEED_VALUES)),
            default=str,
        ).encode())  # fmt: skip
        base_s.append(seconds)
    feed_med, base_med = statistics.median(feed_s), statistics.median(base_s)
    feed_items_out = json.loads(body)
    from harbour.meetings.feedspec import validate_feed

    valid = validate_feed(feed_items_out) == [] and len(feed_items_out) == n
    print(f"feed: {feed_med * 1000:.0f} ms for {len(body) / 1e6:.1f} MB; plain json.dumps of "
          f".values() {base_med * 1000:.0f} ms ({feed_med / base_med:.2f}x); "
          f"valid={valid}")  # fmt: skip

    # search: starting within the hour near a postal code, at random instants of a week
    client = Client()
    page_ms, search_ms, sql_ms, totals = [], [], [], []
    week = datetime(2026, 11, 23, tzinfo=UTC)
    for number in range(n_queries):
        near = rng.choice(fsas)
        at = week + timedelta(minutes=rng.randrange(7 * 1440))
        address = f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"
        with time_machine.travel(at, tick=False):
            t0 = time.perf_counter()
            response = client.get("/meetings/", {"near": near, "soon": "on", "radius": "25"},
                                  REMOTE_ADDR=address)  # fmt: skip
            page_ms.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200
            query = selectors.SearchQuery(place=geo.parse_place(near), soon=True)
            t1 = time.perf_counter()
            result = selectors.search(query, now=at)
            search_ms.append((time.perf_counter() - t1) * 1000)
            totals.append(result.total)
            # the baseline: the candidate query alone, as the selector builds it
            rows = selectors.public().exclude(attendance="inactive").filter(
                selectors._soon(at, 60), selectors._near(query.place, 25.0),  # type: ignore[arg-type]
                attendance__in=["in_person", "hybrid"],
            )  # fmt: skip
            t1 = time.perf_counter()
            list(rows.order_by().values_list("pk", "days", "start_minute", "timezone",
                                             "geo_lat", "geo_lng", "name"))  # fmt: skip
            sql_ms.append((time.perf_counter() - t1) * 1000)
    p50, p95 = statistics.median(page_ms), percentile(page_ms, 0.95)
    q50, q95 = statistics.median(search_ms), percentile(search_ms, 0.95)
    s95 = percentile(sql_ms, 0.95)
    print(f"search (soon, near, 25 km): p50 {q50:.1f} ms, p95 {q95:.1f} ms; candidate SQL p95 "
          f"{s95:.1f} ms ({q95 / s95:.1f}x); results per query: median "
          f"{statistics.median(totals):.0f}, max {max(totals)}")  # fmt: skip
    print(f"whole page: p50 {p50:.1f} ms, p95 {p95:.1f} ms")

    failures = []
    if feed_med > 3 * base_med:
        failures.append(f"feed {feed_med / base_med:.1f}x > 3x")
    if first < 5 * again:
        failures.append(f"unchanged re-import only {first / again:.1f}x faster < 5x")
    if not unchanged_ok or written:
        failures.append("unchanged re-import wrote rows")
    if q95 > 50:
        failures.append(f"search p95 {q95:.1f} ms > 50 ms")
    if p95 > 100:
        failures.append(f"page p95 {p95:.1f} ms > 100 ms")
    if not valid:
        failures.append("feed invalid")
    print(
        f"meetings_feed[{connection.vendor}]: meetings={n} feed={feed_med * 1000:.0f}ms "
        f"({feed_med / base_med:.2f}x json.dumps) import={first:.1f}s "
        f"unchanged={again:.2f}s ({first / again:.1f}x faster, 0 written) "
        f"search_p95={q95:.1f}ms (sql_p95={s95:.1f}ms) page_p95={p95:.1f}ms "
        + ("ok" if not failures else "FAIL " + "; ".join(failures))
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    sys.exit(main())
