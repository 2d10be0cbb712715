"""Distances are as true as the place searched from: from a postal area's centre they are
coarse and never metres, and answers are ranked by relevance within distance bands; hours that
are not listed are unknown, never "Closed"."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from harbour.core import geo
from harbour.directory import selectors

pytestmark = pytest.mark.django_db

TORONTO = ZoneInfo("America/Toronto")
NIGHT = datetime(2026, 11, 25, 23, 0, tzinfo=TORONTO)  # a Wednesday, 11 p.m.
K7L = geo.fsa_centroid("K7L")
assert K7L is not None
DOWNTOWN = (44.2334, -76.4918)  # Princess & Division: about 8.5 km from K7L's centre
ALL_WEEK = (("MO,TU,WE,TH,FR,SA,SU", "00:00", "00:00"),)


@pytest.fixture
def kingston(make_service):  # type: ignore[no-untyped-def]
    # the case: a listing placed at the area centre (a highway), a real downtown clinic
    make_service(
        "Newcomer employment services",
        lat=K7L.lat + 0.002,
        lng=K7L.lng,
        hours=(("MO,TU,WE,TH,FR", "09:00", "17:00"),),
    )
    make_service(
        "Street health harm reduction clinic",
        lat=DOWNTOWN[0],
        lng=DOWNTOWN[1],
        hours=ALL_WEEK,
        codes=("harm-reduction.naloxone",),
    )
    make_service("Peer support line", lat=DOWNTOWN[0] + 0.001, lng=DOWNTOWN[1], hours=())


def _names(page: selectors.SearchPage) -> list[str]:
    return [hit.sal.service.name_en for hit in page.hits]


def test_coarse_km_never_goes_under_the_area():
    assert geo.coarse_km(0.4) == 5
    assert geo.coarse_km(8.5) == 10
    assert geo.coarse_km(12.4) == 10
    assert geo.coarse_km(13.0) == 15


def test_from_a_postal_area_answers_are_ranked_by_relevance_within_a_band(kingston):
    place = geo.parse_place("K7L 1A1")
    page = selectors.search(selectors.SearchQuery(place=place), now=NIGHT)
    # both within 10 km of the centre: the one open at 11 p.m. comes first, not the nearest
    assert _names(page) == [
        "Street health harm reduction clinic",
        "Newcomer employment services",
        "Peer support line",
    ]
    assert page.distance_approximate
    assert all(hit.distance_approximate for hit in page.hits)
    # words in the name outrank being open
    worded = selectors.search(selectors.SearchQuery(q="support", place=place), now=NIGHT)
    assert _names(worded) == ["Peer support line"]


def test_within_a_band_an_equal_match_is_listed_by_the_distance_shown():
    # what the page shows: "in or near" (0), "about 5 km", "about 10 km": never 10 before 5
    assert [selectors._shown_km(km) for km in (0.4, 4.9, 6.2, 9.4, None)] == [
        0.0, 0.0, 5.0, 10.0, float("inf"),
    ]  # fmt: skip


def test_from_a_position_distances_are_real_and_sorted(kingston):
    place = geo.parse_place(f"{DOWNTOWN[0]},{DOWNTOWN[1]}")
    page = selectors.search(selectors.SearchQuery(place=place), now=NIGHT)
    assert _names(page)[:2] == ["Street health harm reduction clinic", "Peer support line"]
    assert not page.distance_approximate
    assert page.hits[0].distance_km == pytest.approx(0.0, abs=0.01)


def _result_lines(body: str) -> dict[str, str]:
    found = re.findall(r'<h3><a href="[^"]+">([^<]+)</a></h3>\s*<p class="muted">(.*?)</p>', body)
    return {name: re.sub(r"[ \t\n]+", " ", line) for name, line in found}


def test_the_page_says_where_it_measures_from_and_never_metres_from_a_centre(client, kingston):
    body = client.get(reverse("directory:search"), {"near": "K7L 1A1"}).content.decode()
    assert "3 places found around K7L · Kingston (Downtown), ON" in body
    lines = _result_lines(body)
    assert lines["Newcomer employment services"].endswith("in or near K7L")
    assert lines["Street health harm reduction clinic"].endswith("about 10\u00a0km")
    assert not re.search(r"\d+ m<|less than 1 km|0[.,]\d\u00a0km", body)
    assert (
        "Distances from the centre of K7L are approximate; places are listed by best match." in body
    )


def test_the_page_in_french_says_where_it_measures_from(client, kingston):
    client.cookies["django_language"] = "fr"
    body = client.get(reverse("directory:search"), {"near": "K7L"}).content.decode()
    assert "3 lieux trouvés autour de K7L · Kingston (Downtown), ON" in body
    lines = _result_lines(body)
    assert lines["Newcomer employment services"].endswith("dans K7L ou tout près")
    assert lines["Street health harm reduction clinic"].endswith("environ 10\u00a0km")


def test_from_a_position_the_page_shows_real_distances(client, kingston):
    near = f"{DOWNTOWN[0] + 0.01:.3f},{DOWNTOWN[1]:.3f}"
    body = client.get(reverse("directory:search"), {"near": near}).content.decode()
    lines = _result_lines(body)
    assert lines["Street health harm reduction clinic"].endswith("1.1\u00a0km")
    assert "are approximate" not in body


def test_the_api_says_when_distances_are_approximate(client, kingston):
    data = client.get("/api/v1/directory/search", {"near": "K7L 1A1"}).json()
    assert data["distance_approximate"] is True
    by_name = {item["name"]: item for item in data["items"]}
    assert by_name["Newcomer employment services"]["distance_km"] == 5.0
    assert by_name["Street health harm reduction clinic"]["distance_km"] == 10.0
    assert all(item["distance_approximate"] for item in data["items"])
    assert by_name["Peer support line"]["hours_listed"] is False
    precise = client.get(
        "/api/v1/directory/search", {"lat": DOWNTOWN[0] + 0.01, "lng": DOWNTOWN[1]}
    ).json()
    assert precise["distance_approximate"] is False
    clinic = next(i for i in precise["items"] if i["name"].startswith("Street health"))
    assert clinic["distance_km"] == pytest.approx(1.11, abs=0.01)
    assert clinic["distance_approximate"] is False


def test_unknown_hours_are_never_closed_on_the_service_page(client, kingston):
    from harbour.directory.models import Service

    service = Service.objects.get(name_en="Peer support line")
    body = client.get(reverse("directory:service", args=[service.id])).content.decode()
    assert "Hours not listed — call to check" in body
    assert "Closed" not in body
    assert '<table class="hours">' not in body
    # the number is the same big call button as in the results
    assert '<a class="button big" href="tel:6135550100">Call 613-555-0100</a>' in body


def test_open_at_night_counts_places_without_hours_and_offers_them(client, kingston):
    params = {"near": "K7L", "open_at": "2026-11-25T23:00"}
    body = client.get(reverse("directory:search"), params).content.decode()
    assert "1 place found around K7L" in body
    assert "1 place has no hours listed, so it is not shown." in body
    assert "include_unknown_hours=on" in body
    assert "Peer support line" not in body
    more = client.get(
        reverse("directory:search"), {**params, "include_unknown_hours": "on"}
    ).content.decode()
    assert "2 places found around K7L" in more
    assert "Peer support line" in more and "Hours not listed — call to check" in more
    assert "has no hours listed" not in more


def test_results_come_first_and_the_map_library_is_not_loaded(client, kingston, settings):
    settings.HARBOUR_MAP_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    body = client.get(reverse("directory:search"), {"near": "K7L"}).content.decode()
    # the form is folded away under "Change search", after the summary line
    assert body.index("results-heading") < body.index('<details class="change-search">')
    assert body.index('<details class="change-search">') < body.index('role="search"')
    assert "leaflet.js" in body  # named for the "Show map" button to load ...
    assert '<script src="/static/harbour/vendor/leaflet/leaflet.js' not in body  # ... not loaded
    assert 'rel="stylesheet" href="/static/harbour/vendor/leaflet' not in body
