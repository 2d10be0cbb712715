"""Public search API: ``GET /api/v1/directory/search`` (no key needed, rate-limited)."""

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils import timezone, translation
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from harbour.core import geo, ratelimit
from harbour.directory import hours, selectors

router = Router(tags=["directory"])


class SearchParams(Schema):
    q: str = ""
    near: str = ""
    lat: float | None = None
    lng: float | None = None
    radius_km: float = selectors.DEFAULT_RADIUS_KM
    open_now: bool = False
    include_unknown_hours: bool = False
    open_at: datetime | None = None
    category: list[str] = []
    attribute: list[str] = []
    sort: str = "distance"
    page: int = 1
    per_page: int = 20
    lang: str = "en"


class HitOut(Schema):
    service_id: UUID
    service_at_location_id: UUID
    name: str
    organization: str
    distance_km: float | None
    distance_approximate: bool
    open_now: bool
    hours_listed: bool
    status_text: str
    address: str | None
    latitude: float | None
    longitude: float | None
    phone: str | None
    url: str


class SearchOut(Schema):
    total: int
    page: int
    pages: int
    place: str | None
    distance_approximate: bool
    items: list[HitOut]


def _place(params: SearchParams) -> geo.Place | None:
    if params.lat is not None or params.lng is not None:
        if params.lat is None or params.lng is None:
            raise HttpError(400, "Give both lat and lng.")
        return geo.parse_place(f"{params.lat},{params.lng}")
    if params.near.strip():
        return geo.parse_place(params.near)
    return None


@router.get(
    "/directory/search", auth=None, response=SearchOut, summary="Find services near a place"
)
def search(request: HttpRequest, params: Query[SearchParams]) -> dict[str, Any]:
    """Keywords (English or French, accents and plurals ignored), near a postal code or
    `lat`,`lng`, open now or at `open_at`, by category and attribute codes.

    Near a postal code, distances are measured from the centre of its area: they are
    `distance_approximate`, given to the nearest 5 km and never under 5 km, and answers are
    ranked by distance band then relevance. From `lat`,`lng` they are real, to 10 m.
    Places whose hours are not listed have `hours_listed` false; an open-now search leaves
    them out unless `include_unknown_hours` is true."""
    if ratelimit.limited(request, "api-directory-search", limit=120):
        raise HttpError(429, "Too many requests. Wait a minute and try again.")
    if params.sort not in {"distance", "relevance"}:
        raise HttpError(400, "sort must be distance or relevance.")
    if not 1 <= params.per_page <= 100 or not 1 <= params.page <= 10_000:
        raise HttpError(400, "page must be 1 to 10000 and per_page 1 to 100.")
    if not 0 < params.radius_km <= selectors.MAX_RADIUS_KM:
        raise HttpError(400, f"radius_km must be above 0 and at most {selectors.MAX_RADIUS_KM:g}.")
    try:
        place = _place(params)
    except geo.PlaceError as exc:
        raise HttpError(400, str(exc)) from exc
    now = timezone.now()
    open_at = params.open_at if params.open_at else (now if params.open_now else None)
    if open_at is not None and timezone.is_naive(open_at):
        raise HttpError(400, "open_at needs a time zone offset, e.g. 2026-11-22T21:00:00-05:00.")
    query = selectors.SearchQuery(
        q=params.q[:200],
        place=place,
        radius_km=params.radius_km,
        open_at=open_at,
        categories=params.category[:10],
        attributes=params.attribute[:10],
        sort=params.sort,
        page=params.page,
        per_page=params.per_page,
        include_unknown_hours=params.include_unknown_hours,
    )
    lang = "fr" if params.lang.startswith("fr") else "en"
    with translation.override(lang):
        result = selectors.search(query, now=now)
        items = [_hit(hit, now, lang) for hit in result.hits]
    return {
        "total": result.total,
        "page": result.page,
        "pages": result.pages,
        "place": place.label if place else None,
        "distance_approximate": result.distance_approximate,
        "items": items,
    }


def _distance_km(hit: selectors.Hit) -> float | None:
    if hit.distance_km is None:
        return None
    if hit.distance_approximate:
        return geo.coarse_km(hit.distance_km)
    return round(hit.distance_km, 2)


def _hit(hit: selectors.Hit, now: datetime, lang: str) -> dict[str, Any]:
    sal = hit.sal
    location = sal.location
    address, phone = hit.address, hit.phone
    hidden = location.confidential
    return {
        "service_id": sal.service_id,
        "service_at_location_id": sal.id,
        "name": str(sal.service.name),
        "organization": str(sal.service.organization.name),
        "distance_km": _distance_km(hit),
        "distance_approximate": hit.distance_approximate,
        "open_now": hit.status.is_open,
        "hours_listed": bool(hit.intervals),
        "status_text": hours.describe(hit.status, now, lang, bool(hit.intervals)),
        "address": None if hidden or address is None else f"{address.address_1}, {address.city}",
        "latitude": None if hidden else location.latitude,
        "longitude": None if hidden else location.longitude,
        "phone": phone.number if phone else None,
        "url": f"/find/service/{sal.service_id}/",
    }
