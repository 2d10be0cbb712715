"""Street addresses and intersections from an ODA-shaped file (made up for tests: see
tests/data/oda/README.md), loaded by ``harbour load-addresses``."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from harbour.core import geo
from harbour.directory import addresses
from harbour.directory.models import AddressPoint

pytestmark = pytest.mark.django_db

ODA = Path(__file__).resolve().parents[1] / "data" / "oda" / "kingston_k7l.csv"
DIVISION_CORNER = (44.2332, -76.4925)  # where the made-up Princess and Division streets cross


@pytest.fixture
def loaded(db: None) -> None:
    call_command("load-addresses", str(ODA), stdout=io.StringIO(), stderr=io.StringIO())


def test_load_addresses_reads_oda_in_batches_and_says_what_it_did(db, monkeypatch):
    monkeypatch.setattr(addresses, "BATCH", 10)  # several batches from a small file
    out, err = io.StringIO(), io.StringIO()
    call_command("load-addresses", str(ODA), stdout=out, stderr=err)
    assert out.getvalue().strip() == (
        "loaded 84 addresses; skipped 1 rows without a position or a street"
    )
    assert AddressPoint.objects.count() == 84
    point = AddressPoint.objects.get(street="princess", number=100)
    assert (point.street_type, point.city, point.city_name) == ("st", "kingston", "Kingston")
    assert (point.latitude, point.longitude, point.postal_code) == (44.2305, -76.483, "K7L 1A1")
    # loading again adds; --replace starts over
    call_command("load-addresses", str(ODA), "--replace", stdout=out, stderr=err)
    assert AddressPoint.objects.count() == 84


def test_progress_is_shown_for_a_large_file(db):
    rows = ["latitude,longitude,street_no,street,str_name,str_type,city"]
    rows += [f"44.23,-76.48,{n},Long St,Long,St,Kingston" for n in range(1200)]
    err = io.StringIO()
    result = addresses.load(io.StringIO("\n".join(rows)), progress_stream=err)
    assert result.loaded == 1200
    assert "addresses: 1,200" in err.getvalue()


def test_normalize_streets():
    assert addresses.normalize("Princess St W") == ("princess", "st")
    assert addresses.normalize("rue Sainte-Catherine Est") == ("sainte catherine", "rue")
    assert addresses.normalize("DIVISION STREET") == ("division", "street")


def test_an_address_is_its_point_or_the_nearest_number(loaded):
    found = addresses.geocode("120 Princess St")
    assert found is not None and found.kind == "address"
    assert (found.lat, found.lng) == pytest.approx((44.2308, -76.484067), abs=1e-5)
    assert found.label == "120 Princess St, Kingston"
    # 125 is not in the file: the nearest number on the street is 123A
    near = addresses.geocode("125 princess street, Kingston")
    assert near is not None and (near.lat, near.lng) == (44.23, -76.485)
    assert near.label == "125 princess street"
    # the same name in another town is told apart by its type or its town
    ottawa = addresses.geocode("123 Princess Ave")
    assert ottawa is not None and ottawa.label == "123 Princess Ave, Ottawa"
    assert addresses.geocode("12 Nowhere Rd") is None


def test_an_intersection_is_the_midpoint_of_the_nearest_points(loaded):
    for text in ("Princess & Division", "princess and division st, Kingston", "Princess/Division"):
        corner = addresses.geocode(text)
        assert corner is not None, text
        assert geo.haversine_km(corner.lat, corner.lng, *DIVISION_CORNER) < 0.1
    assert addresses.geocode("Princess & Nowhere") is None


def test_a_search_from_an_address_shows_real_distances(client, loaded, make_service):
    make_service("Street health clinic", lat=DIVISION_CORNER[0], lng=DIVISION_CORNER[1] + 0.01)
    body = client.get(reverse("directory:search"), {"near": "Princess & Division"}).content.decode()
    assert "1 place found near Princess &amp; Division, Kingston" in body
    assert "Test provider · 770 m" in body  # from a real point, real distances
    assert "are approximate" not in body


def test_without_addresses_the_search_says_so_or_uses_the_postal_code(client, make_service):
    make_service("Street health clinic")
    body = client.get(reverse("directory:search"), {"near": "123 Princess St"}).content.decode()
    assert "Street addresses cannot be looked up on this site yet." in body
    fallback = client.get(
        reverse("directory:search"), {"near": "123 Princess St, K7L 1A1"}
    ).content.decode()
    assert "could not be found here, so this search starts from its postal area, K7L" in fallback
    assert "1 place found around K7L" in fallback


def test_an_unknown_address_says_what_to_try(client, loaded, make_service):
    make_service("Street health clinic")
    body = client.get(reverse("directory:search"), {"near": "12 Nowhere Rd"}).content.decode()
    assert "We could not find “12 Nowhere Rd”." in body


def test_the_address_searched_is_not_logged(client, loaded, make_service, caplog):
    make_service("Street health clinic")
    with caplog.at_level(logging.DEBUG):
        client.get(reverse("directory:search"), {"near": "120 Princess St"})
        client.get("/api/v1/directory/search", {"near": "K7L"})
    assert "Princess" not in caplog.text
