from __future__ import annotations

import math
import time
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harbour.core import geo

KINGSTON = geo.Place(lat=44.2955, lng=-76.428, label="K7L · Kingston (Downtown), ON", kind="postal")


def test_postal_codes_resolve_to_their_fsa_centroid():
    # the K7L row of ca_fsa_centroids.txt: "Kingston (Downtown) ... ON ... 44.2955 -76.428"
    assert geo.fsa_centroid("K7L") == KINGSTON
    for written in ("k7l", "K7L 1A1", "k7l1a1", " K7L-1A1 ", "K7L - 1A1", "K7L\u00a01A1"):
        assert geo.fsa_centroid(written) == KINGSTON
        assert geo.parse_place(written) == KINGSTON
    assert geo.parse_place(" V6A-3X8 ") == geo.Place(
        lat=49.2779,
        lng=-123.0908,
        label="V6A · Vancouver (Strathcona / Chinatown / Downtown Eastside), BC",
        kind="postal",
    )


def test_fsa_centroid_returns_none_for_anything_else():
    for text in ("Z9Z", "W1A", "D1A", "K7", "K7L 1A", "K7L1A1X", "12345", "", "abc", "K7L1A1 K7L"):
        assert geo.fsa_centroid(text) is None


def test_every_row_of_the_data_file_is_loaded():
    text = resources.files("harbour.core").joinpath("data", "ca_fsa_centroids.txt").read_text()
    rows = text.splitlines()
    assert len(rows) == 1655
    # L9X (4 places) and C0A (2 places) have several rows: the first place is kept
    assert len({row.split("\t")[1] for row in rows}) == geo.fsa_count() == 1651
    assert geo.fsa_centroid("L9X") == geo.Place(44.4001, -79.6663, "L9X · Barrie, ON", "postal")
    assert geo.fsa_centroid("C0A") == geo.Place(
        46.1668, -62.6487, "C0A · Kings and Queens counties (Elmira), PE", "postal"
    )
    for row in rows:
        assert geo.fsa_of(row.split("\t")[1]) == row.split("\t")[1]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Z9Z", "unknown_postal_code"),
        ("12345", "unknown_postal_code"),
        ("abc", "unknown_postal_code"),
        ("K7", "unknown_postal_code"),
        ("", "empty"),
        ("   ", "empty"),
        ("95,200", "bad_coordinates"),
        ("90.0001,0", "bad_coordinates"),
        ("44.2,-200", "bad_coordinates"),
        ("44.2 180.5", "bad_coordinates"),
        ("44.2,", "bad_coordinates"),
        ("44.2", "bad_coordinates"),
        ("44.2,-76.4,3", "bad_coordinates"),
        ("nan,-76", "bad_coordinates"),
        ("44,inf", "bad_coordinates"),
        ("1e400,0", "bad_coordinates"),
    ],
)
def test_bad_places_say_why(text, code):
    with pytest.raises(geo.PlaceError) as exc:
        geo.parse_place(text)
    assert exc.value.code == code
    assert isinstance(exc.value, ValueError)
    assert str(exc.value)


def test_error_messages():
    with pytest.raises(geo.PlaceError, match=r"^Unknown Canadian postal code: 'Z9Z'\.$"):
        geo.parse_place("Z9Z")
    with pytest.raises(geo.PlaceError, match=r"^Enter a postal code or a position\.$"):
        geo.parse_place("")
    with pytest.raises(geo.PlaceError, match=r"^Latitude must be -90 to 90 and longitude"):
        geo.parse_place("95,200")


@pytest.mark.parametrize(
    "text",
    [
        "44.23,-76.49",
        "44.23, -76.49",
        "44.23 -76.49",
        "44.23;-76.49",
        "  44.23 ,  -76.49 ",
        "+44.23,-76.49",
        "44.23,\u221276.49",  # a minus sign copied from a web page
        "44,23 -76,49",  # French decimal commas
        "44,23; -76,49",
    ],
)
def test_coordinates_in_several_spellings(text):
    assert geo.parse_place(text) == geo.Place(44.23, -76.49, "44.2300, -76.4900", "coordinates")


def test_coordinates_edges_and_float_spellings():
    assert geo.parse_place("90,180") == geo.Place(90.0, 180.0, "90.0000, 180.0000", "coordinates")
    assert geo.parse_place("-90 -180") == geo.Place(-90, -180, "-90.0000, -180.0000", "coordinates")
    assert (geo.parse_place("1e-05,.5").lat, geo.parse_place("1e-05,.5").lng) == (1e-05, 0.5)
    # "44, 23" is two whole numbers, not a French decimal
    assert (geo.parse_place("44, 23").lat, geo.parse_place("44, 23").lng) == (44.0, 23.0)


def test_long_inputs_fail_fast():
    # the separators cannot be matched two ways, so a long run of spaces is not quadratic
    started = time.perf_counter()
    for text in ("K7L" + " " * 50_000 + "x", "1" + " " * 50_000 + "x", "1," + " " * 50_000 + "x"):
        with pytest.raises(geo.PlaceError):
            geo.parse_place(text)
    assert time.perf_counter() - started < 1


def test_distances():
    # city halls of Kingston and Toronto
    assert geo.haversine_km(44.2312, -76.4860, 43.6532, -79.3832) == pytest.approx(240.69, abs=0.01)
    # the K7L and V6A centroids
    assert geo.haversine_km(44.2955, -76.428, 49.2779, -123.0908) == pytest.approx(3537.9, abs=0.1)
    assert geo.haversine_km(10, 10, 10, 10) == 0
    assert geo.haversine_km(0, 0, 0, 180) == pytest.approx(math.pi * geo.EARTH_RADIUS_KM)
    assert geo.haversine_km(0, 0, 1, 0) == pytest.approx(111.195, abs=0.001)


@pytest.mark.parametrize(
    ("km", "en", "fr"),
    [
        (0, "0 m", "0 m"),
        (0.349, "350 m", "350 m"),
        (0.994, "990 m", "990 m"),
        (0.996, "1.0\u00a0km", "1,0\u00a0km"),
        (1.234, "1.2\u00a0km", "1,2\u00a0km"),
        (9.96, "10\u00a0km", "10\u00a0km"),
        (23.6, "24\u00a0km", "24\u00a0km"),
    ],
)
def test_distance_label(km, en, fr):
    assert geo.distance_label(km, "en") == en
    assert geo.distance_label(km, "fr") == fr
    assert geo.distance_label(km, "fr-ca") == fr


def _on_circle(lat: float, lng: float, radius_km: float, bearing: float) -> tuple[float, float]:
    """The point ``radius_km`` from (lat, lng) in direction ``bearing`` (direct problem, sphere)."""
    d = radius_km / geo.EARTH_RADIUS_KM
    p1, l1 = math.radians(lat), math.radians(lng)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(bearing))
    l2 = l1 + math.atan2(
        math.sin(bearing) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    return math.degrees(p2), (math.degrees(l2) + 540) % 360 - 180


@settings(max_examples=300, deadline=None)
@given(lat=st.floats(-90, 90), lng=st.floats(-180, 180), radius=st.floats(0.001, 3000))
def test_bounding_box_contains_the_circle(lat, lng, radius):
    min_lat, max_lat, min_lng, max_lng = geo.bounding_box(lat, lng, radius)
    assert -90 <= min_lat <= lat <= max_lat <= 90
    assert -180 <= min_lng <= max_lng <= 180
    # 1e-7 degrees (1 cm) of slack: _on_circle loses digits near the poles (asin close to 1)
    for step in range(720):
        plat, plng = _on_circle(lat, lng, radius, step * math.pi / 360)
        assert min_lat - 1e-7 <= plat <= max_lat + 1e-7
        assert min_lng - 1e-7 <= plng <= max_lng + 1e-7


def test_bounding_box_is_tight_away_from_poles_and_antimeridian():
    min_lat, max_lat, min_lng, max_lng = geo.bounding_box(44.2955, -76.428, 25)
    assert (min_lat, max_lat) == pytest.approx((44.07067, 44.52033), abs=1e-5)
    assert (min_lng, max_lng) == pytest.approx((-76.74212, -76.11388), abs=1e-5)
    for lat in (0.0, 44.2955, 70.0, -60.0):
        box = geo.bounding_box(lat, 10.0, 100)
        points = [_on_circle(lat, 10.0, 100, n * math.pi / 18000) for n in range(36000)]
        west, east = min(p[1] for p in points), max(p[1] for p in points)
        assert box[2] <= west == pytest.approx(box[2], abs=1e-6)
        assert box[3] >= east == pytest.approx(box[3], abs=1e-6)
        assert min(p[0] for p in points) == pytest.approx(box[0], abs=1e-6)


def test_bounding_box_at_the_poles_and_antimeridian():
    assert geo.bounding_box(89.9, 0, 50) == pytest.approx((89.45033, 90, -180, 180), abs=1e-5)
    assert geo.bounding_box(-90, 0, 1) == pytest.approx((-90, -89.99101, -180, 180), abs=1e-5)
    assert geo.bounding_box(50, 179.99, 10)[2:] == (-180, 180)
    assert geo.bounding_box(50, -179.99, 10)[2:] == (-180, 180)
    assert geo.bounding_box(0, 0, 30_000) == (-90, 90, -180, 180)
    assert geo.bounding_box(44, -76, 0) == pytest.approx((44, 44, -76, -76), abs=1e-8)


@settings(max_examples=500, deadline=None)
@given(lat=st.floats(-90, 90), lng=st.floats(-180, 180))
def test_rounding_moves_a_point_less_than_71_m(lat, lng):
    rlat, rlng = geo.round_coordinates(lat, lng, metres=100)
    assert -90 <= rlat <= 90 and -180 <= rlng <= 180
    # half the diagonal of a 100 m cell is 70.7 m
    assert geo.haversine_km(lat, lng, rlat, rlng) * 1000 < 71
    assert geo.round_coordinates(rlat, rlng) == (rlat, rlng)


def test_rounding_gives_one_answer_per_cell():
    # the exact latitude inside the cell must not show through the rounded longitude
    answers = {geo.round_coordinates(44.2312 + n * 0.00001, -76.4860) for n in range(-20, 21)}
    assert answers == {(44.231273, -76.4861)}
    assert geo.round_coordinates(44.2312, -76.486, metres=1000) == (44.228575, -76.482594)


def test_grid_cells_cover_the_box():
    box = geo.bounding_box(44.2955, -76.428, 25)
    cells = geo.grid_cells(*box)
    assert cells is not None
    assert geo.grid_cell(44.2955, -76.428) in cells
    assert geo.grid_cell(box[0], box[2]) in cells and geo.grid_cell(box[1], box[3]) in cells
    assert geo.grid_cell(None, 1.0) is None
    assert geo.grid_cells(*geo.bounding_box(44, -76, 500)) is None
