from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harbour.core import geo


def test_postal_codes_resolve_to_their_fsa_centroid():
    kingston = geo.fsa_centroid("K7L")
    assert kingston == geo.Place(
        lat=44.2955, lng=-76.428, label="K7L · Kingston (Downtown), ON", kind="postal"
    )
    for written in ("k7l", "K7L 1A1", "k7l1a1", " K7L-1A1 "):
        assert geo.parse_place(written) == kingston
    vancouver = geo.parse_place("V6A")
    assert vancouver.label.startswith("V6A · ")
    assert vancouver.lat == pytest.approx(49.28, abs=0.05)
    assert geo.fsa_count() == 1651  # 1,655 rows; L9X and C0A have several places


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Z9Z", "unknown_postal_code"),
        ("12345", "unknown_postal_code"),
        ("abc", "unknown_postal_code"),
        ("", "empty"),
        ("   ", "empty"),
        ("95,200", "bad_coordinates"),
        ("44.2,-200", "bad_coordinates"),
        ("44.2,", "bad_coordinates"),
    ],
)
def test_bad_places_say_why(text, code):
    with pytest.raises(geo.PlaceError) as exc:
        geo.parse_place(text)
    assert exc.value.code == code


def test_coordinates_in_several_spellings():
    for text in ("44.23,-76.49", "44.23, -76.49", "44.23 -76.49"):
        place = geo.parse_place(text)
        assert (place.lat, place.lng, place.kind) == (44.23, -76.49, "coordinates")


def test_distances():
    kingston_to_toronto = geo.haversine_km(44.2312, -76.4860, 43.6532, -79.3832)
    assert kingston_to_toronto == pytest.approx(240, abs=10)
    assert geo.haversine_km(10, 10, 10, 10) == 0
    assert geo.distance_label(0.349, "en") == "350 m"
    assert geo.distance_label(1.234, "en") == "1.2\u00a0km"
    assert geo.distance_label(1.234, "fr") == "1,2\u00a0km"
    assert geo.distance_label(23.6, "fr") == "24\u00a0km"


@settings(max_examples=200, deadline=None)
@given(
    lat=st.floats(-85, 85),
    lng=st.floats(-179.9, 179.9),
    radius=st.floats(0.1, 500),
    bearing=st.floats(0, 2 * math.pi),
)
def test_bounding_box_contains_the_circle(lat, lng, radius, bearing):
    min_lat, max_lat, min_lng, max_lng = geo.bounding_box(lat, lng, radius)
    # a point on the circle, by the direct geodesic formula on the sphere
    d = radius / geo.EARTH_RADIUS_KM
    p1, l1 = math.radians(lat), math.radians(lng)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(bearing))
    l2 = l1 + math.atan2(
        math.sin(bearing) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    plat, plng = math.degrees(p2), (math.degrees(l2) + 540) % 360 - 180
    assert min_lat - 1e-9 <= plat <= max_lat + 1e-9
    assert min_lng - 1e-9 <= plng <= max_lng + 1e-9


@settings(max_examples=200, deadline=None)
@given(lat=st.floats(-80, 80), lng=st.floats(-179, 179))
def test_rounding_moves_a_point_less_than_the_grid(lat, lng):
    rlat, rlng = geo.round_coordinates(lat, lng, metres=100)
    assert geo.haversine_km(lat, lng, rlat, rlng) * 1000 < 100
