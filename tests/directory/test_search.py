from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from harbour.core import geo
from harbour.directory import selectors

pytestmark = pytest.mark.django_db

TORONTO = ZoneInfo("America/Toronto")
# A Wednesday.
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=TORONTO)
NIGHT = datetime(2026, 11, 25, 23, 0, tzinfo=TORONTO)


def names(page: selectors.SearchPage) -> list[str]:
    return [hit.sal.service.name_en for hit in page.hits]


def run(**kwargs) -> selectors.SearchPage:  # type: ignore[no-untyped-def]
    now = kwargs.pop("now", NOON)
    return selectors.search(selectors.SearchQuery(**kwargs), now=now)


def test_keywords_ignore_accents_plurals_and_language(make_service):
    make_service(
        "Withdrawal management",
        "Gestion du sevrage et désintoxication",
        codes=("treatment.withdrawal-management",),
    )
    make_service("Naloxone kit", "Trousse de naloxone", codes=("harm-reduction.naloxone",))
    make_service("Food bank", "Banque alimentaire")
    assert names(run(q="desintox")) == ["Withdrawal management"]
    assert names(run(q="naloxone kits")) == ["Naloxone kit"]
    assert names(run(q="TROUSSES")) == ["Naloxone kit"]
    assert names(run(q="banque")) == ["Food bank"]
    assert names(run(q="naloxone banque")) == []


def test_taxonomy_keywords_are_searchable(make_service):
    # the listing never says "narcan"; its taxonomy term's keywords do
    make_service("Harm reduction supplies", codes=("harm-reduction.naloxone",))
    assert names(run(q="narcan")) == ["Harm reduction supplies"]


def test_near_a_postal_code_sorts_by_distance_within_the_radius(make_service):
    kingston = geo.parse_place("K7L")
    make_service("Far", lat=kingston.lat + 0.2, lng=kingston.lng)  # ~22 km north
    make_service("Near", lat=kingston.lat + 0.01, lng=kingston.lng)  # ~1 km
    make_service("Vancouver", lat=49.28, lng=-123.10, tz="America/Vancouver")
    page = run(place=kingston, radius_km=25)
    assert names(page) == ["Near", "Far"]
    assert page.hits[0].distance_km == pytest.approx(1.11, abs=0.05)
    assert names(run(place=kingston, radius_km=5)) == ["Near"]


def test_open_now_uses_each_locations_time_zone(make_service):
    # 23:00 in Toronto is 20:00 in Vancouver
    make_service("Toronto day", hours=(("MO,TU,WE,TH,FR", "09:00", "17:00"),))
    make_service("Vancouver evening", tz="America/Vancouver", hours=(("WE", "19:00", "21:00"),))
    make_service("Overnight shelter", hours=(("TU,WE", "20:00", "08:00"),))
    assert sorted(names(run(open_at=NIGHT, now=NIGHT))) == [
        "Overnight shelter",
        "Vancouver evening",
    ]
    assert names(run(open_at=NOON)) == ["Toronto day"]
    # Thursday 02:00 in Toronto: Wednesday's overnight interval is still open
    early = datetime(2026, 11, 26, 2, 0, tzinfo=TORONTO)
    assert names(run(open_at=early, now=early)) == ["Overnight shelter"]


def test_status_says_when_it_closes_or_opens(make_service):
    make_service("Clinic", hours=(("MO,TU,WE,TH,FR", "09:00", "17:00"),))
    hit = run(q="clinic").hits[0]
    assert hit.status.is_open
    assert hit.status.closes_at == datetime(2026, 11, 25, 17, 0, tzinfo=TORONTO)
    later = run(q="clinic", now=NIGHT).hits[0]
    assert not later.status.is_open
    assert later.status.next_opens_at == datetime(2026, 11, 26, 9, 0, tzinfo=TORONTO)


def test_category_includes_children_and_attributes_must_all_match(make_service):
    make_service("Methadone clinic", codes=("treatment.oat", "barrier.walk-in"))
    make_service(
        "Detox", codes=("treatment.withdrawal-management", "barrier.walk-in", "barrier.free")
    )
    make_service("Shelter", codes=("basic-needs.shelter", "barrier.free"))
    assert sorted(names(run(categories=["treatment"]))) == ["Detox", "Methadone clinic"]
    assert names(run(attributes=["barrier.walk-in", "barrier.free"])) == ["Detox"]
    assert sorted(
        names(run(categories=["treatment", "basic-needs"], attributes=["barrier.free"]))
    ) == ["Detox", "Shelter"]


def test_inactive_services_are_not_found(make_service):
    make_service("Closed for good", status="defunct")
    make_service("Open one")
    assert names(run()) == ["Open one"]


def test_pagination(make_service):
    for n in range(25):
        make_service(f"Service {n:02d}", lat=44.2312 + n * 0.001)
    page2 = run(place=geo.parse_place("44.2312,-76.4860"), page=2, per_page=10)
    assert page2.total == 25 and page2.pages == 3 and page2.page == 2
    assert names(page2) == [f"Service {n:02d}" for n in range(10, 20)]


def test_open_at_half_hours_is_exact_to_the_minute(make_service):
    make_service("Half past", hours=(("MO,TU,WE,TH,FR", "09:30", "16:45"),))
    wednesday = datetime(2026, 11, 25, 0, 0, tzinfo=TORONTO)
    for hour, minute, expected in [
        (9, 15, []),
        (9, 30, ["Half past"]),
        (12, 0, ["Half past"]),
        (16, 44, ["Half past"]),
        (16, 45, []),
    ]:
        at = wednesday.replace(hour=hour, minute=minute)
        assert names(run(open_at=at, now=at)) == expected, (hour, minute)


def test_open_at_honours_validity_dates_in_search_and_status(make_service):
    from datetime import date, time

    from harbour.directory import services as ds
    from harbour.directory.models import Schedule

    sal = make_service("Winter shelter", hours=())
    Schedule.objects.create(
        location=sal.location,
        byday="MO,TU,WE,TH,FR,SA,SU",
        opens_at=time(8),
        closes_at=time(20),
        valid_from=date(2026, 12, 1),
        valid_to=date(2027, 3, 31),
    )
    ds.opening_rows_rebuild(service_at_locations=[sal])
    ds.service_reindex(services=[sal.service])
    assert names(run(open_at=NOON)) == []
    december = datetime(2026, 12, 2, 12, 0, tzinfo=TORONTO)
    assert names(run(open_at=december, now=december)) == ["Winter shelter"]
    # the status on the result says when it opens, not "open now", before the season
    hit = run(q="winter").hits[0]
    assert not hit.status.is_open
    assert hit.status.next_opens_at == datetime(2026, 12, 1, 8, 0, tzinfo=TORONTO)


def test_open_filter_agrees_with_the_hours_module(make_service):
    """The SQL answer (hour map + rows) against ``hours.is_open`` on random weekly hours."""
    import random

    from harbour.directory import hours

    rng = random.Random(7)
    days = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    expected_hours = {}
    for n in range(24):
        spec = []
        for _ in range(rng.randint(1, 2)):
            chosen = sorted(rng.sample(range(7), rng.randint(1, 7)))
            opens = f"{rng.randrange(24):02d}:{rng.choice([0, 10, 30, 45]):02d}"
            closes = f"{rng.randrange(24):02d}:{rng.choice([0, 15, 30, 59]):02d}"
            if opens != closes:
                spec.append((",".join(days[d] for d in chosen), opens, closes))
        tz = rng.choice(["America/Toronto", "America/Vancouver", "America/St_Johns"])
        sal = make_service(f"Random {n:02d}", tz=tz, hours=tuple(spec))
        rows = [
            (r.weekday, r.start_minute, r.end_minute, r.valid_from, r.valid_to)
            for r in sal.opening_rows.all()
        ]
        expected_hours[sal.service.name_en] = (selectors.intervals_from_rows(rows), tz)
    start = datetime(2026, 11, 23, 0, 0, tzinfo=TORONTO)
    for _ in range(40):
        at = start + timedelta(minutes=rng.randrange(7 * 24 * 60))
        found = set(names(run(open_at=at, now=at, per_page=100)))
        expected = {
            name for name, (ivs, tz) in expected_hours.items() if hours.is_open(ivs, at, tz)
        }
        assert found == expected, at


def test_search_entries_follow_status_terms_and_words(make_service, admin_a):
    from harbour.directory import services as ds

    sal = make_service("Outreach van", codes=("harm-reduction.naloxone",))
    kingston = geo.parse_place("K7L")
    assert names(run(q="naloxone", place=kingston, categories=["harm-reduction"])) == [
        "Outreach van"
    ]
    ds.service_set_terms(service=sal.service, codes=["basic-needs.food"])
    ds.service_reindex(services=[sal.service])
    assert names(run(place=kingston, categories=["harm-reduction"])) == []
    assert names(run(q="food", place=kingston, categories=["basic-needs"])) == ["Outreach van"]
    sal.service.status = "defunct"
    sal.service.save()
    ds.service_reindex(services=[sal.service])
    assert names(run(place=kingston)) == []


def test_near_search_reads_only_the_covering_index_on_sqlite(make_service):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the covering index is SQLite's (PostgreSQL plans differently)")
    make_service("Naloxone kit", codes=("harm-reduction.naloxone",))
    query = selectors.SearchQuery(
        q="naloxone",
        place=geo.parse_place("K7L"),
        categories=["harm-reduction"],
        attributes=["barrier.free"],
        open_at=NOON,
    )
    sql, params = selectors.candidate_sql(query)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "USING COVERING INDEX directory_searchentry_near" in plan, plan


@pytest.mark.django_db(transaction=True)
def test_upgrading_fills_search_entries_for_the_existing_directory(make_service):
    from django.core.management import call_command

    from harbour.directory.models import SearchEntry

    make_service("Kept across the upgrade", codes=("harm-reduction.naloxone", "barrier.free"))
    make_service("Closed for good", status="defunct")
    call_command("migrate", "directory", "0008", verbosity=0)
    # every app: going back to 0008 also unapplied the apps whose migrations depend on 0009
    call_command("migrate", verbosity=0)
    entry = SearchEntry.objects.get()
    assert entry.name_en == "Kept across the upgrade"
    assert entry.category_codes == " harm-reduction.naloxone "
    assert entry.attribute_codes == " barrier.free "
    assert entry.week == ("0" * 9 + "1" * 8 + "0" * 7) * 7
    assert entry.document.startswith(" kept ") and entry.document.endswith(" ")
    assert names(run(q="upgrade", place=geo.parse_place("K7L"), open_at=NOON)) == [
        "Kept across the upgrade"
    ]
