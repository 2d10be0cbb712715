"""Attack: find a confidential shelter from what the public directory answers.

The shelter is stored at its exact position (a staff member's precise pin), with a postal code
whose area centre (H2X, Montreal) is 660 m away. An anonymous visitor may search
the web page and both JSON APIs as often as they like. They try to trilaterate the shelter
from the distances shown, then from the radius at which it starts to be found, then from the
order of results; and finally they search every public answer for its stored coordinates.
"""

from __future__ import annotations

import html
import math
import re
from datetime import time
from pathlib import Path
from typing import Any

import pytest

from harbour.core import geo
from harbour.directory import hsds
from harbour.directory import services as ds
from harbour.directory.models import (
    Address,
    DirectoryOrganization,
    Location,
    Phone,
    Schedule,
    SearchEntry,
    Service,
    ServiceAtLocation,
)

# The shelter's stored position: in postal area H2X, 660 m from the area's centre.
SHELTER = (45.5135, -73.5603)
SHELTER_POSTAL = "H2X 2B3"
H2X = geo.fsa_centroid("H2X")
# Three points the attacker searches from, a few km around the shelter, in other areas.
STATIONS = [(45.5300, -73.5600), (45.5000, -73.5900), (45.4950, -73.5400)]


def _service(provider: DirectoryOrganization, name: str, lat: float, lng: float, *,
             confidential: bool = False, postal: str = "H2L 1A1",
             street: str = "1 Rue Publique") -> Service:  # fmt: skip
    service = Service.objects.create(organization=provider, name_en=name, name_fr=name)
    location = Location.objects.create(
        organization=provider, latitude=lat, longitude=lng, confidential=confidential
    )
    Address.objects.create(
        location=location, address_1=street, city="Montréal",
        state_province="QC", postal_code=postal,
    )  # fmt: skip
    Phone.objects.create(service=service, number="514-555-0199")
    Schedule.objects.create(
        location=location, byday="MO,TU,WE,TH,FR,SA,SU", opens_at=time(0), closes_at=time(23, 59)
    )
    sal = ServiceAtLocation.objects.create(service=service, location=location)
    ds.service_set_terms(service=service, codes=["basic-needs.shelter"])
    ds.opening_rows_rebuild(service_at_locations=[sal])
    ds.service_reindex(services=[service])
    return service


@pytest.fixture
def shelter(db: None) -> Service:
    ds.taxonomy_load_harbour()
    provider = DirectoryOrganization.objects.create(name_en="Night shelters", name_fr="Refuges")
    found = _service(
        provider,
        "Night shelter",
        *SHELTER,
        confidential=True,
        postal=SHELTER_POSTAL,
        street="10 Rue Secrète",
    )
    # public services around it, so that the order of answers carries information
    for n, (lat, lng) in enumerate([(45.5150, -73.5700), (45.5000, -73.5650), (45.4900, -73.5500)]):
        _service(provider, f"Drop-in {n}", lat, lng)
    return found


def _api(client: Any, lat: float, lng: float, radius_km: float = 50.0) -> dict[str, Any]:
    response = client.get(
        "/api/v1/directory/search",
        {"lat": lat, "lng": lng, "radius_km": radius_km, "q": "shelter", "per_page": 100},
    )
    assert response.status_code == 200, response.content
    return response.json()


def _shelter_hit(data: dict[str, Any], shelter: Service) -> dict[str, Any] | None:
    return next((i for i in data["items"] if i["service_id"] == str(shelter.id)), None)


def _trilaterate(points: list[tuple[float, float]], km: list[float]) -> tuple[float, float]:
    """Least-squares position from distances to known points (local flat projection)."""
    lat0, lng0 = points[0]
    kx = 111.32 * math.cos(math.radians(lat0))
    xy = [((lng - lng0) * kx, (lat - lat0) * 110.57) for lat, lng in points]
    (x1, y1), d1 = xy[0], km[0]
    rows, rhs = [], []
    for (x, y), d in zip(xy[1:], km[1:], strict=True):
        rows.append((2 * (x - x1), 2 * (y - y1)))
        rhs.append(d1**2 - d**2 + x**2 - x1**2 + y**2 - y1**2)
    (a, b), (c, d) = rows[0], rows[1]
    det = a * d - b * c
    x = (rhs[0] * d - b * rhs[1]) / det
    y = (a * rhs[1] - c * rhs[0]) / det
    return lat0 + y / 110.57, lng0 + x / kx


def _km_from_shelter(position: tuple[float, float]) -> float:
    return geo.haversine_km(*SHELTER, *position)


def test_distances_in_the_api_do_not_trilaterate_the_shelter(client: Any, shelter: Service) -> None:
    # given three anonymous searches from three places
    distances = []
    for lat, lng in STATIONS:
        hit = _shelter_hit(_api(client, lat, lng), shelter)
        # then the shelter is found, but with no distance and no position
        assert hit is not None
        assert hit["distance_km"] is None
        assert hit["latitude"] is None and hit["longitude"] is None and hit["address"] is None
        distances.append(hit["distance_km"])
    assert distances == [None, None, None]


def test_the_radius_at_which_the_shelter_appears_does_not_trilaterate_it(
    client: Any, shelter: Service
) -> None:
    # given: from each station, the attacker bisects the radius until the shelter just appears
    thresholds = []
    assert "H2X" not in {geo.nearest_fsa(lat, lng) for lat, lng in STATIONS}
    for lat, lng in STATIONS:
        low, high = 0.1, 50.0
        assert _shelter_hit(_api(client, lat, lng, high), shelter) is not None
        for _ in range(14):  # to about 3 m
            middle = (low + high) / 2
            if _shelter_hit(_api(client, lat, lng, middle), shelter) is None:
                low = middle
            else:
                high = middle
        thresholds.append(high)
    # when they trilaterate from the three thresholds
    guess = _trilaterate(STATIONS, thresholds)
    # then each threshold is the distance between postal-area centres, not to the shelter ...
    for (lat, lng), threshold in zip(STATIONS, thresholds, strict=True):
        station_area = geo.fsa_centroid(geo.nearest_fsa(lat, lng) or "")
        assert station_area is not None and H2X is not None
        expected = geo.haversine_km(station_area.lat, station_area.lng, H2X.lat, H2X.lng)
        assert threshold == pytest.approx(expected, abs=0.01)
        assert abs(threshold - geo.haversine_km(lat, lng, *SHELTER)) > 0.05
    # ... and the guess is nowhere near the shelter (it was within metres before)
    assert _km_from_shelter(guess) > 0.5


def test_answers_are_the_same_anywhere_in_the_shelters_postal_area(
    client: Any, shelter: Service
) -> None:
    # given search points spread over the shelter's own postal area (H2X), one of them on it
    assert H2X is not None
    points = [SHELTER, (H2X.lat, H2X.lng), (45.5095, -73.5713), (45.5155, -73.5653)]
    assert all(geo.nearest_fsa(lat, lng) == "H2X" for lat, lng in points)
    answers = []
    for lat, lng in points:
        data = _api(client, lat, lng, radius_km=2)
        hit = _shelter_hit(data, shelter)
        assert hit is not None
        # then it is always the first answer (its area is the searcher's), with no distance
        assert data["items"][0]["service_id"] == str(shelter.id)
        answers.append({k: hit[k] for k in ("distance_km", "latitude", "longitude", "address")})
    assert answers == [answers[0]] * len(points)
    assert answers[0] == {"distance_km": None, "latitude": None, "longitude": None, "address": None}


def _page_rows(client: Any, near: str, radius: str = "2") -> list[tuple[str, str]]:
    """(name, the line under it) of each result on the public search page."""
    response = client.get("/find/", {"q": "shelter", "near": near, "radius": radius})
    assert response.status_code == 200
    text = response.content.decode()
    found = re.findall(
        r'<h3><a href="[^"]+">([^<]+)</a></h3>\s*<p class="muted">(.*?)</p>', text, re.S
    )
    return [
        (html.unescape(name), re.sub(r"<[^>]+>|\s+", " ", line).strip()) for name, line in found
    ]


def test_the_search_page_shows_no_distance_and_the_same_order_within_the_area(
    client: Any, shelter: Service
) -> None:
    # given the web page searched from the shelter's own position and from its area's centre
    assert H2X is not None
    at_shelter = _page_rows(client, f"{SHELTER[0]},{SHELTER[1]}")
    at_centre = _page_rows(client, f"{H2X.lat},{H2X.lng}")
    # then the shelter's line is the organization alone (no "120 m", no "1.2 km") ...
    shelter_lines = {line for name, line in at_shelter + at_centre if name == "Night shelter"}
    assert shelter_lines == {"Night shelters"}
    # ... and it comes first from both, whatever the exact point
    assert at_shelter[0][0] == at_centre[0][0] == "Night shelter"
    # and from the stations, the web page says nothing the API did not
    for lat, lng in STATIONS:
        rows = dict(_page_rows(client, f"{lat},{lng}", radius="25"))
        assert rows["Night shelter"] == "Night shelters"


def test_the_nearest_further_away_fallback_orders_by_area(client: Any, shelter: Service) -> None:
    # given a search with nothing within 2 km: the page lists the nearest further away
    far = (45.5900, -73.6500)  # about 10 km north-west
    rows = _page_rows(client, f"{far[0]},{far[1]}")
    names = [name for name, _line in rows]
    # then the shelter is among them, ranked by its area's centre and with no distance
    assert "Night shelter" in names
    assert dict(rows)["Night shelter"] == "Night shelters"


def _coordinate_texts(lat: float, lng: float) -> list[str]:
    texts = []
    for value in (lat, lng):
        texts += [repr(value), f"{value:.5f}", f"{value:.4f}", f"{value:.3f}", f"{value:.5f}"[:-1]]
    return texts


def test_no_public_answer_and_no_search_row_holds_the_stored_position(
    client: Any, shelter: Service, tmp_path: Path
) -> None:
    # given every public way out of the directory (searched from elsewhere: a page echoes
    # the place searched from)
    sal = ServiceAtLocation.objects.get(service=shelter)
    urls = [
        "/find/?q=shelter&near=H2X",
        f"/find/?q=shelter&near={STATIONS[0][0]},{STATIONS[0][1]}&radius=5",
        f"/find/service/{shelter.id}/",
        f"/find/service/{shelter.id}/?print=1",
        "/api/v1/directory/search?q=shelter&near=H2X",
        f"/api/v1/directory/search?lat={STATIONS[1][0]}&lng={STATIONS[1][1]}",
        f"/api/hsds/services/{shelter.id}",
        "/api/hsds/services?search=shelter",
        "/api/hsds/service_at_locations?postcode=H2X&proximity=5000",
        f"/api/hsds/service_at_locations?lat={STATIONS[2][0]}&lng={STATIONS[2][1]}",
        f"/api/hsds/service_at_locations/{sal.id}",
        f"/api/hsds/organizations/{shelter.organization_id}",
    ]
    bodies = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        bodies[url] = response.content.decode()
    # and the HSDS export (what `harbour export-hsds` publishes)
    hsds.export_tabular(tmp_path / "export")
    for path in sorted((tmp_path / "export").iterdir()):
        bodies[path.name] = path.read_text("utf-8")
    # then none of them holds the stored position at any precision, nor the street address
    secrets = [*_coordinate_texts(*SHELTER), "Rue Secr", "H2X 2B3", "H2X%202B3"]
    leaks = [(where, s) for where, body in bodies.items() for s in secrets if s in body]
    assert leaks == []
    # and the search index itself holds only the postal area's centre
    entry = SearchEntry.objects.get(service_at_location=sal)
    assert H2X is not None
    assert (entry.latitude, entry.longitude) == (H2X.lat, H2X.lng)
    assert entry.area == "H2X"
    assert entry.grid_cell == geo.grid_cell(H2X.lat, H2X.lng)


def test_a_location_made_confidential_later_leaves_the_index_on_reindex(shelter: Service) -> None:
    # given a public listing with a precise position
    provider = shelter.organization
    service = _service(provider, "Women's shelter", 45.5040, -73.5610, postal="H2L 2C4")
    location = Location.objects.get(service_at_locations__service=service)
    assert SearchEntry.objects.get(service=service).latitude == 45.5040
    # when it becomes confidential and is reindexed
    location.confidential = True
    location.save()
    ds.service_reindex(services=[service])
    # then the index holds its postal area's centre only
    h2l = geo.fsa_centroid("H2L")
    assert h2l is not None
    entry = SearchEntry.objects.get(service=service)
    assert (entry.latitude, entry.longitude) == (h2l.lat, h2l.lng)
    assert entry.area == "H2L"
