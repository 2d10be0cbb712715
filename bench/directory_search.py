"""Directory search benchmark: mixed "find help near me, open now" queries at national scale.

Generates services at locations across Canada (each location at a real postal-area centroid,
jittered), with weekly hours, categories and attributes, then runs mixed queries (keywords +
near a postal code + radius + open now + a category or attribute) through the public API with
Django's in-process client. For each query the candidate SQL is also timed alone (the baseline
measured in the same run), and the ratio API/SQL is reported.

Goals (issue "Find help"): p95 through the API under 30 ms on this 2-core machine, and the
search results page under 60 KB of HTML.

    python bench/directory_search.py [--quick] [--services N] [--queries N]
    DATABASE_URL=postgres://... python bench/directory_search.py   # on PostgreSQL
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import time as dtime
from pathlib import Path

from _scratch import percentile, setup, teardown

WORDS = [
    ("naloxone", "harm-reduction.naloxone"),
    ("detox", "treatment.withdrawal-management"),
    ("shelter", "basic-needs.shelter"),
    ("methadone", "treatment.oat.methadone"),
    ("food", "basic-needs.food"),
    ("counselling", "mental-health.counselling"),
    ("drug checking", "harm-reduction.drug-checking"),
    ("housing", "basic-needs.housing"),
    ("peer support", "recovery.peer-support-groups"),
    ("legal", "legal.legal-aid"),
]
ATTRIBUTES = ["barrier.free", "barrier.walk-in", "barrier.no-id-needed", "audience.youth"]
TIMEZONES = {
    "BC": "America/Vancouver", "AB": "America/Edmonton", "SK": "America/Regina",
    "MB": "America/Winnipeg", "NS": "America/Halifax", "NB": "America/Moncton",
    "NL": "America/St_Johns", "PE": "America/Halifax", "YT": "America/Whitehorse",
    "NT": "America/Yellowknife", "NU": "America/Iqaluit",
}  # fmt: skip


def generate(n_services: int, rng: random.Random) -> None:
    from django.db import connection, transaction

    from harbour.core.geo import _centroids, grid_cell
    from harbour.directory import hours, textsearch
    from harbour.directory import services as ds
    from harbour.directory.models import (
        Attribute,
        DirectoryOrganization,
        Location,
        OpeningRow,
        Service,
        ServiceAtLocation,
        TaxonomyTerm,
    )

    ds.taxonomy_load_harbour()
    terms = {t.code: t.id for t in TaxonomyTerm.objects.all()}
    fsas = [row for row in _centroids().values() if row[0] < 84]  # H0H is the North Pole
    n_locations = n_services * 3 // 2
    with transaction.atomic():
        org = DirectoryOrganization.objects.create(name_en="Bench provider", name_fr="Bench")
        locations = []
        for _ in range(n_locations):
            lat, lng, _place, province = rng.choice(fsas)
            lat, lng = lat + rng.uniform(-0.05, 0.05), lng + rng.uniform(-0.05, 0.05)
            locations.append(
                Location(
                    id=uuid.uuid4(),
                    organization=org,
                    latitude=lat,
                    longitude=lng,
                    grid_cell=grid_cell(lat, lng),
                    timezone=TIMEZONES.get(province, "America/Toronto"),
                )
            )
        Location.objects.bulk_create(locations, batch_size=5000)
        services, sals, attrs, rows, fts = [], [], [], [], []
        for i in range(n_services):
            word, code = rng.choice(WORDS)
            name = f"{word.title()} service {i}"
            service = Service(
                id=uuid.uuid4(),
                organization=org,
                name_en=name,
                name_fr=f"Service {word} {i}",
                description_en=f"Community {word} program number {i}.",
            )
            codes = [code, *rng.sample(ATTRIBUTES, rng.randint(0, 2))]
            term_names = " ".join(codes).replace(".", " ").replace("-", " ")
            service.search_document = textsearch.document(name, service.description_en, term_names)
            services.append(service)
            for code_ in codes:
                attrs.append(
                    Attribute(
                        link_id=service.id, link_entity="service", taxonomy_term_id=terms[code_]
                    )
                )
            places = [locations[i]] + ([locations[n_services + i // 2]] if i % 2 == 0 else [])
            for location in places:
                sal = ServiceAtLocation(id=uuid.uuid4(), service=service, location=location)
                sals.append(sal)
                opens = rng.choice([7, 8, 9, 10, 18, 20])
                closes = (opens + rng.choice([4, 8, 10, 12])) % 24
                days = rng.choice([range(5), range(7), range(1, 6, 2)])
                intervals = [hours.Interval(d, dtime(opens), dtime(closes)) for d in days]
                for weekday, start, end, _f, _t in hours.weekly_rows(intervals):
                    rows.append(
                        OpeningRow(
                            service_at_location=sal,
                            weekday=weekday,
                            start_minute=start,
                            end_minute=end,
                        )
                    )
            fts.append((service.id.hex, service.search_document))
        Service.objects.bulk_create(services, batch_size=5000)
        ServiceAtLocation.objects.bulk_create(sals, batch_size=5000)
        Attribute.objects.bulk_create(attrs, batch_size=5000)
        OpeningRow.objects.bulk_create(rows, batch_size=5000)
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO directory_service_fts (service_id, document) VALUES (%s, %s)", fts
                )
        ds.search_entries_rebuild(service_ids=[service.id for service in services], chunk=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def queries(n: int, rng: random.Random) -> list[dict[str, object]]:
    from harbour.core.geo import _centroids

    fsas = [code for code in _centroids() if code[1] != "0"]  # urban FSAs
    result = []
    for _ in range(n):
        word, code = rng.choice(WORDS)
        query: dict[str, object] = {
            "q": word.split()[0],
            "near": rng.choice(fsas),
            "radius_km": rng.choice([5, 10, 25]),
        }
        if rng.random() < 0.6:
            query["open_now"] = "true"
        if rng.random() < 0.5:
            query["attribute"] = rng.choice(ATTRIBUTES)
        else:
            query["category"] = code.split(".")[0]
        result.append(query)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 services, 200 queries")
    parser.add_argument("--services", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args()
    n_services = 5000 if args.quick else args.services
    n_queries = 200 if args.quick else args.queries
    rng = random.Random(20261122)

    with tempfile.TemporaryDirectory() as var_dir:
        setup(var_dir, "directory")
        try:
            return run(n_services, n_queries, rng)
        finally:
            teardown()


def run(n_services: int, n_queries: int, rng: random.Random) -> int:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from harbour.core import geo
    from harbour.directory import selectors

    settings.ALLOWED_HOSTS = ["*"]
    started = time.perf_counter()
    generate(n_services, rng)
    print(
        f"generated {n_services:,} services at {n_services * 3 // 2:,} locations "
        f"in {time.perf_counter() - started:.0f} s ({connection.vendor})"
    )

    client = Client()
    api_ms, sql_ms, totals = [], [], []
    now = timezone.now()
    for number, params in enumerate(queries(n_queries, rng)):
        # as many people as queries: the anonymous rate limit is not what is measured
        address = f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"
        t0 = time.perf_counter()
        response = client.get("/api/v1/directory/search", params, REMOTE_ADDR=address)
        api_ms.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.content[:300]
        totals.append(response.json()["total"])
        # the baseline: the candidate query's SQL alone, as the selector builds it
        place = geo.parse_place(str(params["near"]))
        query = selectors.SearchQuery(
            q=str(params["q"]), place=place, radius_km=float(params["radius_km"]),  # type: ignore[arg-type]
            open_at=now if params.get("open_now") else None,
            categories=[str(params["category"])] if "category" in params else [],
            attributes=[str(params["attribute"])] if "attribute" in params else [],
        )  # fmt: skip
        sql, sql_params = selectors.candidate_sql(query)
        with connection.cursor() as cursor:
            t1 = time.perf_counter()
            cursor.execute(sql, sql_params)
            cursor.fetchall()
            sql_ms.append((time.perf_counter() - t1) * 1000)

    page_params = {"q": "naloxone", "near": "K7L", "radius": "100", "open_now": "on"}
    html = Client().get("/find/", page_params).content
    p50, p95 = statistics.median(api_ms), percentile(api_ms, 0.95)
    s50, s95 = statistics.median(sql_ms), percentile(sql_ms, 0.95)
    median_total = statistics.median(totals)
    print(f"queries: {n_queries}, results per query: median {median_total:.0f}, max {max(totals)}")
    print(f"API   p50 {p50:6.2f} ms  p95 {p95:6.2f} ms")
    print(f"SQL   p50 {s50:6.2f} ms  p95 {s95:6.2f} ms  (candidate query alone)")
    print(f"ratio API/SQL: p50 {p50 / s50:.1f}x  p95 {p95 / s95:.1f}x")
    print(f"search results page: {len(html) / 1024:.1f} KB of HTML")
    failures = []
    if p95 > 30:
        failures.append(f"p95 {p95:.1f} ms > 30 ms")
    if len(html) > 60 * 1024:
        failures.append(f"results page {len(html) / 1024:.1f} KB > 60 KB")
    print(
        f"directory_search[{connection.vendor}]: services={n_services} "
        f"p50={p50:.1f}ms p95={p95:.1f}ms "
        f"sql_p95={s95:.1f}ms ratio_p95={p95 / s95:.1f}x page={len(html) / 1024:.1f}KB "
        + ("ok" if not failures else "FAIL " + "; ".join(failures))
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    sys.exit(main())
