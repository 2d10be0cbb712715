"""Street addresses and intersections, found offline in Statistics Canada's Open Database of
Addresses (ODA) once ``harbour load-addresses`` has loaded it.

"123 Princess St" is the address point with that number on that street (the nearest number on
it when that one is missing); "Princess & Division" is the midpoint of the two streets' nearest
address points in the same city. Nothing searched is logged or kept.
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.db import transaction

from harbour.core import geo
from harbour.core.imports import progress
from harbour.directory.models import AddressPoint

BATCH = 5000
MAX_POINTS = 5000  # per street, for an intersection
NUMBER_SPAN = 100  # a missing civic number: look this far either side for the nearest one

# fmt: off
STREET_TYPES = frozenset({
    "st", "street", "rd", "road", "ave", "av", "avenue", "blvd", "boul", "boulevard", "dr",
    "drive", "cres", "crescent", "ct", "court", "pl", "place", "ln", "lane", "way", "hwy",
    "highway", "terr", "terrace", "tce", "pkwy", "parkway", "cir", "circle", "sq", "square",
    "rue", "ch", "chemin", "rte", "route", "row", "trail", "trl", "gate", "gdns", "gardens",
    "line", "sideroad", "conc", "concession",
})
DIRECTIONS = frozenset({
    "n", "s", "e", "w", "ne", "nw", "se", "sw", "north", "south", "east", "west", "nord", "sud",
    "est", "ouest", "o",
})
# fmt: on
INTERSECTION = re.compile(r"\s+(?:and|at|et)\s+|\s*[&/@]\s*", re.IGNORECASE)
NUMBERED = re.compile(r"^(\d{1,6})\s*([a-z]?)\s+(.+)$")
POSTAL_CODE = re.compile(r"\b([ABCEGHJKLMNPRSTVXY]\d[ABCEGHJKLMNPRSTVWXYZ])\s?\d[A-Z]\d\b", re.I)


def _plain(text: str) -> str:
    """Lower case, no accents, letters, digits and single spaces only."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def normalize(street: str) -> tuple[str, str]:
    """(name, type) of a street as written: "Princess St W" -> ("princess", "st");
    "rue Sainte-Catherine Est" -> ("sainte catherine", "rue")."""
    words = _plain(street).split()
    kind = ""
    while len(words) > 1 and words[-1] in DIRECTIONS:
        words.pop()
    if len(words) > 1 and words[-1] in STREET_TYPES:
        kind = words.pop()
    elif len(words) > 1 and words[0] in STREET_TYPES:
        kind = words.pop(0)
    return " ".join(words), kind


def available() -> bool:
    """Whether any addresses are loaded (else a search says precise addresses are not)."""
    return AddressPoint.objects.exists()


def postal_code_in(text: str) -> str | None:
    """A whole postal code written somewhere in ``text`` ("123 Princess St, K7L 1A1")."""
    match = POSTAL_CODE.search(text or "")
    return match.group(0).upper() if match else None


@dataclass(frozen=True)
class _Query:
    street: str
    kind: str
    city: str


def _parts(text: str) -> tuple[str, str]:
    """(the street part, the city) of "123 Princess St, Kingston[, ON K7L 1A1]"."""
    text = POSTAL_CODE.sub(" ", text)
    pieces = [p.strip() for p in text.split(",") if p.strip()]
    if not pieces:
        return "", ""
    return pieces[0], _plain(pieces[1]) if len(pieces) > 1 else ""


def geocode(text: str) -> geo.Place | None:
    """The position of a street address or an intersection, or None when not found."""
    head, city = _parts(text)
    if not head:
        return None
    sides = INTERSECTION.split(head)
    if len(sides) == 2 and all(s.strip() for s in sides):
        first, second = (_Query(*normalize(s), city) for s in sides)
        return _intersection(first, second, text)
    numbered = NUMBERED.match(_plain(head))
    if numbered:
        number, suffix, street = numbered.groups()
        return _address(int(number), suffix, _Query(*normalize(street), city), text)
    return None


def _points(query: _Query) -> list[AddressPoint]:
    points = AddressPoint.objects.filter(street=query.street)
    if query.city:
        points = points.filter(city=query.city)
    found = list(
        points.only("latitude", "longitude", "city", "city_name", "street_type")[:MAX_POINTS]
    )
    if query.kind and any(p.street_type == query.kind for p in found):
        found = [p for p in found if p.street_type == query.kind]
    return found


def _label(text: str, city_name: str, city_given: bool) -> str:
    head = " ".join(POSTAL_CODE.sub(" ", text).split(",")[0].split())
    return head if city_given or not city_name else f"{head}, {city_name}"


def _address(number: int, suffix: str, query: _Query, text: str) -> geo.Place | None:
    points = AddressPoint.objects.filter(
        street=query.street, number__gte=number - NUMBER_SPAN, number__lte=number + NUMBER_SPAN
    )
    if query.city:
        points = points.filter(city=query.city)
    found = list(points[:MAX_POINTS])
    if query.kind and any(p.street_type == query.kind for p in found):
        found = [p for p in found if p.street_type == query.kind]
    if not found:
        return None
    # the same number (and letter) first, then the nearest number on the same side of the street
    best = min(
        found,
        key=lambda p: (
            abs((p.number or 0) - number),
            (p.number or 0) % 2 != number % 2,
            p.number_text.lower() != f"{number}{suffix}",
            p.city,
        ),
    )
    return geo.Place(
        lat=best.latitude,
        lng=best.longitude,
        label=_label(text, best.city_name, bool(query.city)),
        kind="address",
    )


def _intersection(first: _Query, second: _Query, text: str) -> geo.Place | None:
    """The midpoint of the nearest pair of address points of the two streets, in one city."""
    a_points, b_points = _points(first), _points(second)
    if not a_points or not b_points:
        return None
    cell = 0.002  # about 200 m: compare each point with the other street's points around it
    grid: dict[tuple[str, int, int], list[AddressPoint]] = {}
    for p in b_points:
        key = (p.city, math.floor(p.latitude / cell), math.floor(p.longitude / cell))
        grid.setdefault(key, []).append(p)
    best: tuple[float, AddressPoint, AddressPoint] | None = None
    for a in a_points:
        row, col = math.floor(a.latitude / cell), math.floor(a.longitude / cell)
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                for b in grid.get((a.city, row + dr, col + dc), ()):
                    km = geo.haversine_km(a.latitude, a.longitude, b.latitude, b.longitude)
                    if best is None or km < best[0]:
                        best = (km, a, b)
    if best is None:
        return None
    _km, a, b = best
    return geo.Place(
        lat=(a.latitude + b.latitude) / 2,
        lng=(a.longitude + b.longitude) / 2,
        label=_label(text, a.city_name, bool(first.city)),
        kind="address",
    )


# --- loading ------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    loaded: int = 0
    skipped: int = 0


def _float(value: str | None) -> float | None:
    try:
        number = float(value or "")
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _point(row: dict[str, str]) -> AddressPoint | None:
    lat, lng = _float(row.get("latitude")), _float(row.get("longitude"))
    if lat is None or lng is None or not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    if row.get("str_name"):
        street = _plain(row["str_name"])
        kind = _plain(row.get("str_type") or "")
    else:
        street, kind = normalize(row.get("street") or "")
    if not street:
        return None
    number_text = (row.get("street_no") or "").strip()[:20]
    digits = re.match(r"\d{1,9}", number_text)
    city_name = (row.get("city") or row.get("csdname") or "").strip()[:100]
    postal = (row.get("postal_code") or "").strip().upper()
    return AddressPoint(
        street=street[:100],
        street_type=kind[:20],
        number=int(digits.group(0)) if digits else None,
        number_text=number_text,
        city=_plain(city_name)[:100],
        city_name=city_name,
        postal_code=postal[:7],
        latitude=lat,
        longitude=lng,
    )


def _batches(rows: Iterable[dict[str, str]], result: LoadResult) -> Iterator[list[AddressPoint]]:
    batch: list[AddressPoint] = []
    for row in rows:
        point = _point(row)
        if point is None:
            result.skipped += 1
            continue
        batch.append(point)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def load(stream: IO[str], *, replace: bool = False, progress_stream: Any = None) -> LoadResult:
    """Load an ODA CSV (its header names the columns), in batches: memory stays bounded
    whatever the file's size. ``replace`` empties the table first, in the same transaction."""
    result = LoadResult()
    reader = csv.DictReader(stream)
    rows = progress(reader, label="addresses", stream=progress_stream)
    with transaction.atomic():
        if replace:
            AddressPoint.objects.all().delete()
        for batch in _batches(rows, result):
            AddressPoint.objects.bulk_create(batch)
            result.loaded += len(batch)
    return result
