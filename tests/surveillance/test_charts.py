"""The area map: areas in several towns are one map per town, each named; one town is one map."""

from __future__ import annotations

import h3

from harbour.core import geo, suppression
from harbour.surveillance import charts


def cell_at(code: str, north_km: float = 0.0) -> str:
    place = geo.parse_place(code)
    return h3.latlng_to_cell(place.lat + north_km / 111.2, place.lng, 7)


def test_areas_in_two_towns_are_two_maps_each_with_its_town():
    cells = {
        cell_at("K7L"): 10,
        cell_at("K7L", 4): suppression.Cell(3, "<5"),
        cell_at("H2V"): 24,
    }
    svg = str(charts.hex_map(cells, title="Events by area"))
    assert svg.count("<svg") == 2
    assert '<text class="axis-label" x="8" y="14">Kingston, ON</text>' in svg
    assert ", QC</text>" in svg  # Montréal's map, named after its own area
    assert 'id="map-1-title">Events by area · Kingston, ON</title>' in svg  # the bigger first
    assert 'id="map-2-title"' in svg


def test_areas_in_one_town_are_one_map_without_a_town_line():
    svg = str(charts.hex_map({cell_at("K7L"): 10, cell_at("K7L", 5): 7}, title="Events"))
    assert svg.count("<svg") == 1
    assert 'id="map-title">Events</title>' in svg
    assert 'y="14"' not in svg
