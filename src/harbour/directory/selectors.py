"""Reads of the public directory: search near me / open now, and one service's details.

The directory is public: these selectors take no actor. Staff-only reads (suggested edits,
owned listings) are scoped through ``core.permissions``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any
from uuid import UUID

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL

from harbour.core import geo
from harbour.core.permissions import get_scoped_or_404, scope
from harbour.core.roles import Role
from harbour.directory import duplicates, hours, services, textsearch
from harbour.directory.models import (
    Address,
    Attribute,
    Location,
    OpeningRow,
    Phone,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    SuggestedEdit,
    SuggestionStatus,
    TaxonomyTerm,
)
from harbour.directory.services import TIMEZONES_CACHE_KEY

MAX_CANDIDATES = 5000
DEFAULT_RADIUS_KM = 25.0
MAX_RADIUS_KM = 500.0
# Measured from a postal area's centre, a distance is only known to within the area's size (a
# few km in town, tens in the country): such searches rank by relevance within these bands.
DISTANCE_BANDS_KM = (10.0, 25.0, 50.0, 100.0, 250.0)
NO_HOURS_SQL = (
    "NOT EXISTS (SELECT 1 FROM directory_openingrow r "
    "WHERE r.service_at_location_id = e.service_at_location_id)"
)


def distance_approximate(place: geo.Place | None) -> bool:
    """Whether distances from ``place`` are approximate: it is a postal area's centre, not a
    position or an address."""
    return place is not None and place.kind == "postal"


def distance_band(km: float | None) -> int:
    """The coarse band a distance from an area centre falls in (0 nearest)."""
    if km is None:
        return len(DISTANCE_BANDS_KM) + 1
    return next(
        (n for n, limit in enumerate(DISTANCE_BANDS_KM) if km <= limit), len(DISTANCE_BANDS_KM)
    )


def _shown_km(km: float | None) -> float:
    """A distance from an area centre as the page shows it: 0 for "in or near", else to 5 km."""
    if km is None:
        return math.inf
    return 0.0 if km < geo.AREA_UNCERTAINTY_KM else geo.coarse_km(km)


def _open_in_week(week: str | None, tz: str, now: datetime) -> float:
    """1 open at ``now`` by the entry's hour map, 0.5 open part of the hour or not known from
    the map, 0 closed or hours not listed (for ranking only; the status shown is exact)."""
    if week is None:
        return 0.5
    weekday, minute, _day = hours.local_key(now, tz)
    mark = week[weekday * 24 + minute // 60]
    return {"1": 1.0, "~": 0.5}.get(mark, 0.0)


@dataclass
class SearchQuery:
    q: str = ""
    place: geo.Place | None = None
    radius_km: float = DEFAULT_RADIUS_KM
    open_at: datetime | None = None
    categories: list[str] = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)
    sort: str = "distance"  # "distance" or "relevance"
    page: int = 1
    per_page: int = 20
    # with ``open_at``: also the places whose hours are not listed (unknown is not closed)
    include_unknown_hours: bool = False
    # only the places whose hours are not listed (to say how many an open-now search left out)
    without_hours: bool = False


@dataclass
class Hit:
    sal: ServiceAtLocation
    distance_km: float | None
    status: hours.OpenStatus
    intervals: list[hours.Interval]
    phone: Phone | None = None
    address: Address | None = None
    # measured from the centre of a postal area, not from where the person is: shown coarsely
    distance_approximate: bool = False


@dataclass
class SearchPage:
    hits: list[Hit]
    total: int
    page: int
    pages: int
    truncated: bool = False
    # the search started from a postal area's centre: distances are approximate, ranked in bands
    distance_approximate: bool = False


# --- filters --------------------------------------------------------------------------------


def text_filter(terms: list[str]) -> Q:
    if not terms:
        return Q()
    if connection.vendor == "sqlite":
        sql = "SELECT service_id FROM directory_service_fts WHERE directory_service_fts MATCH %s"
        return Q(service_id__in=RawSQL(sql, [textsearch.fts5_query(terms)]))  # noqa: S611 -- parameters bound
    sql = (
        "SELECT id FROM directory_service WHERE to_tsvector('simple'::regconfig, "
        "COALESCE(search_document, ''::text)) @@ to_tsquery('simple', %s)"
    )
    return Q(service_id__in=RawSQL(sql, [textsearch.tsquery(terms)]))  # noqa: S611 -- parameters bound


def _term_ids(codes: list[str], kind: str) -> list[Any]:
    """Ids of the terms with these codes or below them (the taxonomy is small: resolved here)."""
    q = Q()
    for code in codes:
        q |= Q(code=code) | Q(code__startswith=f"{code}.")
    return list(TaxonomyTerm.objects.filter(q, kind=kind).values_list("id", flat=True))


def _tagged(term_ids: list[Any]) -> Exists:
    # correlated: one probe of the (link_entity, link_id, taxonomy_term) index per candidate
    return Exists(
        Attribute.objects.filter(
            link_entity="service", link_id=OuterRef("service_id"), taxonomy_term_id__in=term_ids
        )
    )


def term_filter(codes: list[str], kind: str) -> Q:
    """Categories: any of the codes (or their children). Attributes: every code."""
    if not codes:
        return Q()
    if kind == "category":
        return Q(_tagged(_term_ids(codes, kind)))
    result = Q()
    for code in codes:
        result &= Q(_tagged(_term_ids([code], kind)))
    return result


def timezones_in_use() -> list[str]:
    """The time zones of all locations (cached for a few minutes; a new zone is rare)."""
    zones = cache.get(TIMEZONES_CACHE_KEY)
    if zones is None:
        zones = sorted(set(Location.objects.values_list("timezone", flat=True).distinct()))
        cache.set(TIMEZONES_CACHE_KEY, zones, 300)
    return list(zones)


def open_filter(at: datetime) -> Q:
    """Open at instant ``at``, computed in each location's own time zone.

    Zones that share the same local time at ``at`` (most of Canada's) form one branch."""
    branches: dict[tuple[int, int, date], list[str]] = {}
    for tz in timezones_in_use():
        branches.setdefault(hours.local_key(at, tz), []).append(tz)
    rows = Q(pk__in=[])
    for (weekday, minute, day), zones in branches.items():
        rows |= Q(
            Q(valid_from__isnull=True) | Q(valid_from__lte=day),
            Q(valid_to__isnull=True) | Q(valid_to__gte=day),
            weekday=weekday,
            timezone__in=zones,
            start_minute__lte=minute,
            end_minute__gt=minute,
        )
    # correlated, so it is checked per candidate (found through the place) rather than listed
    return Q(Exists(OpeningRow.objects.filter(rows, service_at_location=OuterRef("pk"))))


# --- search ---------------------------------------------------------------------------------


def intervals_from_rows(rows: list[tuple[Any, ...]]) -> list[hours.Interval]:
    """Intervals from ``OpeningRow`` values: (weekday, start, end[, valid_from, valid_to])."""
    intervals = []
    for weekday, start, end, *valid in rows:
        opens = time(start // 60, start % 60)
        closes = time(0, 0) if end >= 1440 else time(end // 60, end % 60)
        valid_from, valid_to = valid if valid else (None, None)
        intervals.append(
            hours.Interval(
                weekday=weekday,
                opens=opens,
                closes=closes,
                valid_from=valid_from,
                valid_to=valid_to,
            )
        )
    return intervals


def _relevance(name: str, terms: list[str]) -> int:
    tokens = textsearch.tokens(name)
    return sum(1 for term in terms if any(token.startswith(term) for token in tokens))


# The search itself is one hand-written statement over ``SearchEntry``: it runs on every
# keystroke-sized request, and building it through the ORM cost more than running it.


def _contains(column: str) -> str:
    """``column`` holds the bound string (SQLite ``instr``, PostgreSQL ``strpos``)."""
    function = "instr" if connection.vendor == "sqlite" else "strpos"
    return f"{function}(e.{column}, %s) > 0"


def _codes_sql(codes: list[str], column: str, params: list[Any]) -> str:
    """Any of ``codes`` or a code below one of them, on a space-padded codes column."""
    parts = []
    for code in codes:
        parts += [_contains(column), _contains(column)]
        params += [f" {code} ", f" {code}."]
    return "(" + " OR ".join(parts) + ")"


def _open_sql(at: datetime, params: list[Any]) -> str:
    """Open at instant ``at`` in each entry's time zone: the entry's hour map answers for whole
    hours; a part-open hour, or hours with validity dates, are checked on ``OpeningRow``.
    Zones that share the same local time at ``at`` (most of Canada's) form one branch."""
    branches: dict[tuple[int, int, date], list[str]] = {}
    for tz in timezones_in_use():
        branches.setdefault(hours.local_key(at, tz), []).append(tz)
    adapt = connection.ops.adapt_datefield_value
    parts = []
    for (weekday, minute, day), zones in branches.items():
        slot = weekday * 24 + minute // 60 + 1
        parts.append(
            f"(e.timezone IN ({', '.join(['%s'] * len(zones))}) AND ("  # noqa: S608 -- placeholders only
            "(e.week IS NOT NULL AND substr(e.week, %s, 1) = '1') OR "
            "((e.week IS NULL OR substr(e.week, %s, 1) = '~') AND EXISTS ("
            "SELECT 1 FROM directory_openingrow r "
            "WHERE r.service_at_location_id = e.service_at_location_id "
            "AND r.weekday = %s AND r.start_minute <= %s AND r.end_minute > %s "
            "AND (r.valid_from IS NULL OR r.valid_from <= %s) "
            "AND (r.valid_to IS NULL OR r.valid_to >= %s)))))"
        )
        params += [*zones, slot, slot, weekday, minute, minute, adapt(day), adapt(day)]
    return "(" + (" OR ".join(parts) or "1 = 0") + ")"


def _text_sql(terms: list[str], params: list[Any]) -> str:
    if connection.vendor == "sqlite":
        params.append(textsearch.fts5_query(terms))
        return (
            "e.service_id IN (SELECT service_id FROM directory_service_fts "
            "WHERE directory_service_fts MATCH %s)"
        )
    params.append(textsearch.tsquery(terms))
    return (
        "e.service_id IN (SELECT id FROM directory_service WHERE to_tsvector('simple'::regconfig, "
        "COALESCE(search_document, ''::text)) @@ to_tsquery('simple', %s))"
    )


@dataclass(frozen=True)
class QueryArea:
    """Where a search near a place measures confidential entries from: the postal area the
    place is in (its FSA and centre), so that their answers are the same anywhere in it."""

    fsa: str
    lat: float
    lng: float


@lru_cache(maxsize=1024)
def query_area(place: geo.Place) -> QueryArea:
    """The postal area of the searched place: the postal code given, else the area whose
    centre is nearest; the place itself when no area is near (then ``fsa`` is "")."""
    fsa = place.label[:3] if place.kind == "postal" else None
    if fsa is None:
        fsa = geo.nearest_fsa(place.lat, place.lng, within_km=services.AREA_SEARCH_KM)
    centre = geo.fsa_centroid(fsa) if fsa else None
    if centre is None:
        return QueryArea(fsa="", lat=place.lat, lng=place.lng)
    return QueryArea(fsa=fsa or "", lat=centre.lat, lng=centre.lng)


def area_distance_km(area: QueryArea, entry_area: str, lat: float, lng: float) -> float:
    """How far a confidential entry counts as being: 0 in the searcher's own postal area,
    else from the centre of that area to the centre of the entry's. Never the exact place
    of either, so moving within an area changes nothing."""
    if area.fsa and area.fsa == entry_area:
        return 0.0
    return geo.haversine_km(area.lat, area.lng, lat, lng)


def _box_sql(
    lat: float, lng: float, radius: float, params: list[Any]
) -> tuple[str, list[int] | None]:
    """The bounding box around a point as SQL (its bounds added to ``params``) and the grid
    cells it covers (None when too many to list)."""
    min_lat, max_lat, min_lng, max_lng = geo.bounding_box(lat, lng, radius)
    params += [min_lat, max_lat, min_lng, max_lng]
    sql = "e.latitude BETWEEN %s AND %s AND e.longitude BETWEEN %s AND %s"
    return sql, geo.grid_cells(min_lat, max_lat, min_lng, max_lng)


def candidate_sql(query: SearchQuery, area: QueryArea | None = None) -> tuple[str, list[Any]]:
    """The SQL part of a search: (service_at_location id, lat, lng, name_en, name_fr, area,
    week, timezone) rows.

    Reads ``SearchEntry``. Near a place, the query starts from the entries in the grid cells
    around it and checks words, terms and hours on each (words as prefixes of the space-padded
    document); without a place, the full-text index leads. Confidential entries (``area``
    set) are looked for around the centre of the searcher's postal area, not the place."""
    terms = textsearch.query_terms(query.q)
    radius = min(max(query.radius_km, 0.1), MAX_RADIUS_KM)
    where: list[str] = []
    params: list[Any] = []
    if query.place is not None:
        area = area or query_area(query.place)
        box_params: list[Any] = []
        public_box, public_cells = _box_sql(query.place.lat, query.place.lng, radius, box_params)
        area_box, area_cells = _box_sql(area.lat, area.lng, radius, box_params)
        if public_cells is not None and area_cells is not None:
            cells = sorted({*public_cells, *area_cells})
            where.append(f"e.grid_cell IN ({', '.join(['%s'] * len(cells))})")
            params += cells
        where.append(f"((e.area = '' AND {public_box}) OR (e.area <> '' AND {area_box}))")
        params += box_params
        for term in terms:
            where.append(_contains("document"))
            params.append(f" {term}")
    elif terms:
        where.append(_text_sql(terms, params))
    if query.categories:
        where.append(_codes_sql(query.categories, "category_codes", params))
    for code in query.attributes:
        where.append(_codes_sql([code], "attribute_codes", params))
    if query.without_hours:
        where.append(NO_HOURS_SQL)
    elif query.open_at is not None:
        open_sql = _open_sql(query.open_at, params)
        where.append(f"({open_sql} OR {NO_HOURS_SQL})" if query.include_unknown_hours else open_sql)
    sql = (
        "SELECT e.service_at_location_id, e.latitude, e.longitude, e.name_en, e.name_fr, e.area, "
        "e.week, e.timezone "
        "FROM directory_searchentry e"
        + (" WHERE " + " AND ".join(where) if where else "")
        + f" LIMIT {MAX_CANDIDATES + 1}"
    )
    return sql, params


def candidates(query: SearchQuery, area: QueryArea | None = None) -> list[tuple[Any, ...]]:
    sql, params = candidate_sql(query, area)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return rows  # ids as the database gives them (hex text on SQLite): see search()


def search(query: SearchQuery, *, now: datetime) -> SearchPage:
    """One page of answers. Confidential entries are matched, filtered by radius and ordered
    by postal area only (``area_distance_km``) and carry no distance.

    From a postal area's centre (``distance_approximate``), distances are only known to within
    the area: answers are ranked by distance band, then relevance (words in the name, open
    now), then name, and every distance is marked approximate."""
    terms = textsearch.query_terms(query.q)
    radius = min(max(query.radius_km, 0.1), MAX_RADIUS_KM)
    area = query_area(query.place) if query.place is not None else None
    approximate = distance_approximate(query.place)
    rows = list(candidates(query, area))
    truncated = len(rows) > MAX_CANDIDATES
    rows = rows[:MAX_CANDIDATES]
    rows = duplicates.one_per_place(rows)  # the same place entered twice is one answer
    # relevance (names tokenized) only where it decides the order: it costs more than the rest
    ranked = bool(terms) and (query.sort == "relevance" or query.place is None or approximate)
    scored = []
    for sal_id, lat, lng, name_en, name_fr, entry_area, week, tz in rows:
        distance = shown = None
        if query.place is not None and area is not None:
            if lat is None or lng is None:
                continue
            if entry_area:
                distance = area_distance_km(area, entry_area, lat, lng)
            else:
                distance = shown = geo.haversine_km(query.place.lat, query.place.lng, lat, lng)
            if distance > radius:
                continue
        relevance: float = _relevance(f"{name_en or ''} {name_fr or ''}", terms) if ranked else 0
        if approximate:
            relevance += _open_in_week(week, tz, now) / 2  # open now breaks ties between words
        scored.append((sal_id, distance, relevance, (name_en or name_fr or "").lower(), shown))
    if approximate and query.sort != "relevance":
        # within a band, as good a match: the nearer as far as it is known ("in or near",
        # "about 5 km", "about 10 km"), so the list never reads 10 km before 5 km
        scored.sort(key=lambda r: (distance_band(r[1]), -r[2], _shown_km(r[1]), r[3]))
    elif query.sort == "relevance" and terms:
        scored.sort(key=lambda r: (-r[2], r[1] if r[1] is not None else math.inf, r[3]))
    else:
        scored.sort(key=lambda r: (r[1] if r[1] is not None else math.inf, -r[2], r[3]))
    total = len(scored)
    pages = max(1, math.ceil(total / query.per_page))
    page = min(max(query.page, 1), pages)
    chosen = [
        (row[0] if isinstance(row[0], UUID) else UUID(row[0]), row[4])
        for row in scored[(page - 1) * query.per_page : page * query.per_page]
    ]
    hits = _hits(chosen, now)
    for hit in hits:
        hit.distance_approximate = approximate and hit.distance_km is not None
    return SearchPage(
        hits=hits,
        total=total,
        page=page,
        pages=pages,
        truncated=truncated,
        distance_approximate=approximate,
    )


def count_without_hours(query: SearchQuery, *, now: datetime) -> int:
    """How many places the search would find if it did not ask for open hours, among those
    whose hours are not listed (what an open-now search leaves out as unknown)."""
    bare = replace(query, open_at=None, without_hours=True, page=1, per_page=1)
    return search(bare, now=now).total


def _hits(chosen: list[tuple[UUID, float | None]], now: datetime) -> list[Hit]:
    """The page's rows (id, distance shown) with what a result shows: four queries whatever
    the page size."""
    ids = [row[0] for row in chosen]
    if not ids:
        return []
    sals = {
        sal.id: sal
        for sal in ServiceAtLocation.objects.filter(id__in=ids)
        .select_related("service", "service__organization", "location")
        .defer(
            "service__hsds_extra",
            "service__search_document",
            "service__organization__hsds_extra",
        )
    }
    location_ids = {sal.location_id for sal in sals.values()}
    service_ids = {sal.service_id for sal in sals.values()}
    addresses: dict[Any, Address] = {}
    for address in Address.objects.filter(location_id__in=location_ids).order_by("-created_at"):
        addresses[address.location_id] = address  # the first one wins
    service_phones: dict[Any, Phone] = {}
    location_phones: dict[Any, Phone] = {}
    for phone in Phone.objects.filter(
        Q(service_id__in=service_ids) | Q(location_id__in=location_ids)
    ).order_by("-created_at"):
        if phone.service_id in service_ids:
            service_phones[phone.service_id] = phone
        if phone.location_id in location_ids:
            location_phones[phone.location_id] = phone
    rows: dict[Any, list[tuple[Any, ...]]] = {sal_id: [] for sal_id in sals}
    # no ORDER BY: the planner would walk the (weekday, ...) index over every row to keep it
    for sal_id, *row in OpeningRow.objects.filter(service_at_location_id__in=ids).values_list(
        "service_at_location_id", "weekday", "start_minute", "end_minute", "valid_from", "valid_to"
    ):
        rows[sal_id].append(tuple(row))
    for found in rows.values():
        found.sort(key=lambda r: (r[0], r[1]))
    hits = []
    for sal_id, distance in chosen:
        sal = sals[sal_id]
        intervals = intervals_from_rows(rows[sal_id])
        hits.append(
            Hit(
                sal=sal,
                distance_km=distance,
                status=hours.status(intervals, now, sal.location.timezone),
                intervals=intervals,
                phone=service_phones.get(sal.service_id) or location_phones.get(sal.location_id),
                address=addresses.get(sal.location_id),
            )
        )
    return hits


def service_detail(service_id: UUID | str) -> Service:
    """One active or temporarily closed service with everything its page shows; 404-safe."""
    return (
        Service.objects.exclude(status=ServiceStatus.DEFUNCT)
        .select_related("organization")
        .prefetch_related(
            "phones",
            "languages",
            "required_documents",
            Prefetch(
                "service_at_locations",
                queryset=ServiceAtLocation.objects.select_related("location").prefetch_related(
                    "location__addresses",
                    "location__phones",
                    "location__accessibility",
                    Prefetch(
                        "opening_rows",
                        queryset=OpeningRow.objects.order_by("weekday", "start_minute"),
                    ),
                ),
            ),
        )
        .get(pk=service_id)
    )


def service_terms(service: Service) -> list[TaxonomyTerm]:
    ids = Attribute.objects.filter(link_entity="service", link_id=service.id).values(
        "taxonomy_term_id"
    )
    return list(TaxonomyTerm.objects.filter(id__in=ids).order_by("kind", "code"))


def categories() -> list[TaxonomyTerm]:
    return list(TaxonomyTerm.objects.filter(kind="category", parent__isnull=True).order_by("code"))


def attributes(groups: tuple[str, ...] = ("audience", "barrier", "access")) -> list[TaxonomyTerm]:
    q = Q()
    for group in groups:
        q |= Q(code__startswith=f"{group}.")
    return list(TaxonomyTerm.objects.filter(q, kind="attribute").order_by("code"))


# --- staff: an organization's own listings ----------------------------------------------------


def owned_organization(actor: Any, *, slug: str) -> Any:
    from harbour.accounts.selectors import organization_for

    return organization_for(actor, slug=slug, minimum=Role.VIEWER)


def owned_services(actor: Any, *, organization: Any) -> list[Service]:
    return list(
        scope(Service.objects.all(), actor, field="organization__owner")
        .filter(organization__owner=organization)
        .annotate(
            pending=Count("suggestions", filter=Q(suggestions__status=SuggestionStatus.PENDING))
        )
        .order_by("name_en")
    )


def owned_service(actor: Any, *, organization: Any, service_id: Any) -> Service:
    return get_scoped_or_404(
        Service.objects.filter(organization__owner=organization),
        actor,
        field="organization__owner",
        minimum=Role.COORDINATOR,
        pk=service_id,
    )


def pending_suggestions(actor: Any, *, organization: Any) -> QuerySet[SuggestedEdit]:
    return (
        scope(
            SuggestedEdit.objects.all(),
            actor,
            field="service__organization__owner",
            minimum=Role.COORDINATOR,
        )
        .filter(service__organization__owner=organization, status=SuggestionStatus.PENDING)
        .select_related("service")
        .order_by("created_at")
    )


def suggestion_for(actor: Any, *, organization: Any, suggestion_id: Any) -> SuggestedEdit:
    return get_scoped_or_404(
        SuggestedEdit.objects.filter(service__organization__owner=organization).select_related(
            "service"
        ),
        actor,
        field="service__organization__owner",
        minimum=Role.COORDINATOR,
        pk=suggestion_id,
    )
