"""Places without a network: Canadian postal codes (FSA centroids), coordinates, distances.

Pure Python. The FSA centroids ship in ``core/data/ca_fsa_centroids.txt`` (GeoNames, CC BY 4.0).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

EARTH_RADIUS_KM = 6371.0088
# The separators are written so that no run of spaces can be split two ways: a long input
# fails in linear time (``\s*-?\s*`` would backtrack quadratically).
FSA = re.compile(r"^([ABCEGHJKLMNPRSTVXY]\d[ABCEGHJKLMNPRSTVWXYZ])(?:\s*(?:-\s*)?\d[A-Z]\d)?$")
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?|[-+]?(?:inf(?:inity)?|nan)"
# "44.23,-76.49", "44.23, -76.49", "44.23 -76.49", "44.23;-76.49"
COORDINATES = re.compile(rf"^({_NUMBER})(?:\s*[,;]\s*|\s+)({_NUMBER})$", re.IGNORECASE)
# French decimal commas: "44,23 -76,49", "44,23; -76,49"
COORDINATES_FR = re.compile(r"^([-+]?\d+(?:,\d+)?)(?:\s*;\s*|\s+)([-+]?\d+(?:,\d+)?)$")
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-"})  # minus sign, en dash (copied text)


@dataclass(frozen=True)
class Place:
    lat: float
    lng: float
    label: str
    kind: str  # "postal" or "coordinates"


class PlaceError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@cache
def _centroids() -> dict[str, tuple[float, float, str, str]]:
    text = (
        resources.files("harbour.core").joinpath("data", "ca_fsa_centroids.txt").read_text("utf-8")
    )
    table: dict[str, tuple[float, float, str, str]] = {}
    for line in text.splitlines():
        cols = line.split("\t")
        if len(cols) < 11 or not cols[1]:
            continue
        # a few FSAs (L9X, C0A) have several rows, one per place: the first one is kept
        table.setdefault(cols[1].upper(), (float(cols[9]), float(cols[10]), cols[2], cols[4]))
    return table


def fsa_count() -> int:
    return len(_centroids())


def fsa_of(code: str) -> str | None:
    """The forward sortation area (first three characters) of a postal code, or None."""
    match = FSA.match(code.strip().upper())
    return match.group(1) if match else None


def fsa_centroid(code: str) -> Place | None:
    fsa = fsa_of(code)
    if fsa is None:
        return None
    found = _centroids().get(fsa)
    if found is None:
        return None
    lat, lng, place, province = found
    return Place(lat=lat, lng=lng, label=f"{fsa} · {place}, {province}", kind="postal")


def fsa_province(code: str) -> str:
    """Two-letter province or territory of a postal area ("" when unknown)."""
    found = _centroids().get((code or "").upper())
    return found[3] if found else ""


def nearest_fsa(lat: float, lng: float, *, within_km: float = 25.0) -> str | None:
    """The postal area whose centroid is nearest to a position, if one is within ``within_km``.
    An approximation (postal areas are polygons, not points), good enough to count events by
    area when only a position is known."""
    best, best_km = None, within_km
    box = bounding_box(lat, lng, within_km)
    for fsa, (c_lat, c_lng, _place, _province) in _centroids().items():
        if not (box[0] <= c_lat <= box[1] and box[2] <= c_lng <= box[3]):
            continue
        km = haversine_km(lat, lng, c_lat, c_lng)
        if km <= best_km:
            best, best_km = fsa, km
    return best


def parse_place(text: str) -> Place:
    """A postal code (or its first three characters) or "lat,lng"; PlaceError otherwise.

    Positions may be written "44.23,-76.49", "44.23, -76.49", "44.23 -76.49" or, with French
    decimal commas, "44,23 -76,49" / "44,23; -76,49"."""
    value = (text or "").strip().translate(_MINUS)
    if not value:
        raise PlaceError("empty", "Enter a postal code or a position.")
    if coords := COORDINATES.match(value):
        lat, lng = float(coords.group(1)), float(coords.group(2))
    elif coords := COORDINATES_FR.match(value):
        lat, lng = (float(coords.group(n).replace(",", ".")) for n in (1, 2))
    else:
        if any(ch.isdigit() for ch in value) and any(ch in ",;." for ch in value):
            raise PlaceError(
                "bad_coordinates", "Write a position as latitude,longitude, e.g. 44.23,-76.49."
            )
        place = fsa_centroid(value)
        if place is None:
            raise PlaceError("unknown_postal_code", f"Unknown Canadian postal code: {value!r}.")
        return place
    if not (math.isfinite(lat) and math.isfinite(lng)) or abs(lat) > 90 or abs(lng) > 180:
        raise PlaceError("bad_coordinates", "Latitude must be -90 to 90 and longitude -180 to 180.")
    return Place(lat=lat, lng=lng, label=f"{lat:.4f}, {lng:.4f}", kind="coordinates")


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in km on a sphere of the Earth's mean radius."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lng: float, radius_km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lng, max_lng) containing every point within ``radius_km``.

    Latitudes are clamped to -90..90. When the circle reaches a pole or crosses the
    antimeridian, the longitude range is the whole -180..180 (a wider box, never a wrong one)."""
    d = max(radius_km, 0.0) / EARTH_RADIUS_KM  # angular radius
    dlat = math.degrees(d)
    min_lat, max_lat = lat - dlat, lat + dlat
    if min_lat <= -90 or max_lat >= 90:
        return max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0
    # the circle's widest longitude span (at its tangent points): asin(sin d / cos lat);
    # the pole test above keeps the ratio below 1
    ratio = math.sin(d) / math.cos(math.radians(lat))
    if ratio >= 1:
        return min_lat, max_lat, -180.0, 180.0
    dlng = math.degrees(math.asin(ratio)) * (1 + 1e-9) + 1e-9  # margin for rounding
    min_lng, max_lng = lng - dlng, lng + dlng
    if min_lng < -180 or max_lng > 180:
        return min_lat, max_lat, -180.0, 180.0
    return min_lat, max_lat, min_lng, max_lng


def round_coordinates(lat: float, lng: float, metres: float = 100) -> tuple[float, float]:
    """Snap a position to a grid of about ``metres`` (privacy: never keep exact positions).

    Every position in a grid cell gives the same answer, at most about ``metres / sqrt(2)``
    away (71 m for 100 m). The longitude step is taken at the *snapped* latitude, so the
    answer tells nothing more about the exact latitude than the cell does."""
    step_lat = math.degrees(metres / 1000 / EARTH_RADIUS_KM)
    rlat = max(-90.0, min(90.0, round(lat / step_lat) * step_lat))
    step_lng = step_lat / max(math.cos(math.radians(rlat)), 0.01)
    # at the antimeridian the grid point may fall just beyond ±180: the edge itself is nearer
    rlng = max(-180.0, min(180.0, round(lng / step_lng) * step_lng))
    return round(rlat, 6), round(rlng, 6)


def distance_label(km: float, lang: str) -> str:
    """ "350 m", "1.2 km", "24 km"; in French "1,2 km" (no-break space before km)."""
    metres = round(km * 100) * 10  # to the nearest 10 m
    if metres < 1000:
        return f"{metres:.0f} m"
    text = f"{km:.1f}" if round(km, 1) < 10 else f"{km:.0f}"
    if lang.startswith("fr"):
        text = text.replace(".", ",")
    return f"{text}\u00a0km"


# A postal area's centre stands for every place in the area: a distance from it is not known
# better than this (town FSAs are a few km across; rural ones much more).
AREA_UNCERTAINTY_KM = 5.0


def coarse_km(km: float) -> float:
    """A distance measured from a postal area's centre, as much as it is known: to the nearest
    5 km, and never under ``AREA_UNCERTAINTY_KM`` (0.4 km from a centre says nothing)."""
    step = AREA_UNCERTAINTY_KM
    return max(step, round(km / step) * step)


GRID_DEGREES = 0.1  # about 11 km north-south


def grid_cell(lat: float | None, lng: float | None) -> int | None:
    """The index of the 0.1-degree cell holding a point (for a fast "near" pre-filter)."""
    if lat is None or lng is None:
        return None
    row = math.floor((lat + 90) / GRID_DEGREES)
    col = math.floor((lng + 180) / GRID_DEGREES)
    return row * 3600 + col


def grid_cells(min_lat: float, max_lat: float, min_lng: float, max_lng: float) -> list[int] | None:
    """Every cell overlapping the box, or None when there would be too many to list."""
    rows = range(
        math.floor((min_lat + 90) / GRID_DEGREES), math.floor((max_lat + 90) / GRID_DEGREES) + 1
    )
    cols = range(
        math.floor((min_lng + 180) / GRID_DEGREES), math.floor((max_lng + 180) / GRID_DEGREES) + 1
    )
    if len(rows) * len(cols) > 2500:
        return None
    return [r * 3600 + c for r in rows for c in cols]
