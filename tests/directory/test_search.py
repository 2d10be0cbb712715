from __future__ import annotations

from datetime import datetime
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
