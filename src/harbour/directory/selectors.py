"""Reads of the public directory: search near me / open now, and one service's details.

The directory is public: these selectors take no actor. Staff-only reads (suggested edits,
owned listings) are scoped through ``core.permissions``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from uuid import UUID

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL

from harbour.core import geo
from harbour.core.permissions import get_scoped_or_404, scope
from harbour.core.roles import Role
from harbour.directory import hours, textsearch
from harbour.directory.models import (
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


@dataclass
class Hit:
    sal: ServiceAtLocation
    distance_km: float | None
    status: hours.OpenStatus
    intervals: list[hours.Interval]


@dataclass
class SearchPage:
    hits: list[Hit]
    total: int
    page: int
    pages: int
    truncated: bool = False


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


def near_filter(place: geo.Place, radius_km: float) -> Q:
    """Locations in the bounding box; the grid-cell index lets the query start from them."""
    min_lat, max_lat, min_lng, max_lng = geo.bounding_box(place.lat, place.lng, radius_km)
    box = Q(
        location__latitude__gte=min_lat,
        location__latitude__lte=max_lat,
        location__longitude__gte=min_lng,
        location__longitude__lte=max_lng,
    )
    cells = geo.grid_cells(min_lat, max_lat, min_lng, max_lng)
    return box if cells is None else box & Q(location__grid_cell__in=cells)


# --- search ---------------------------------------------------------------------------------


def intervals_from_rows(rows: list[tuple[int, int, int]]) -> list[hours.Interval]:
    intervals = []
    for weekday, start, end in rows:
        opens = time(start // 60, start % 60)
        closes = time(0, 0) if end >= 1440 else time(end // 60, end % 60)
        intervals.append(hours.Interval(weekday=weekday, opens=opens, closes=closes))
    return intervals


def _relevance(name: str, terms: list[str]) -> int:
    tokens = textsearch.tokens(name)
    return sum(1 for term in terms if any(token.startswith(term) for token in tokens))


def candidates(query: SearchQuery) -> QuerySet[ServiceAtLocation, tuple[Any, ...]]:
    """The SQL part of a search, as (id, lat, lng, name_en, name_fr, search_document) rows.

    Near a place, the query starts from the nearby locations and checks every other condition
    per row; the words are then matched in Python on those few rows' search documents
    (``text_matches``). Without a place, the full-text index leads."""
    terms = textsearch.query_terms(query.q)
    radius = min(max(query.radius_km, 0.1), MAX_RADIUS_KM)
    sals = ServiceAtLocation.objects.filter(service__status=ServiceStatus.ACTIVE)
    if query.place is not None:
        sals = sals.filter(near_filter(query.place, radius))
    else:
        sals = sals.filter(text_filter(terms))
    sals = sals.filter(term_filter(query.categories, "category"))
    sals = sals.filter(term_filter(query.attributes, "attribute"))
    if query.open_at is not None:
        sals = sals.filter(open_filter(query.open_at))
    return sals.values_list(
        "id",
        "location__latitude",
        "location__longitude",
        "service__name_en",
        "service__name_fr",
        "service__search_document",
    )[: MAX_CANDIDATES * (4 if query.place is not None and terms else 1) + 1]


def search(query: SearchQuery, *, now: datetime) -> SearchPage:
    terms = textsearch.query_terms(query.q)
    radius = min(max(query.radius_km, 0.1), MAX_RADIUS_KM)
    rows = list(candidates(query))
    if query.place is not None and terms:
        rows = [row for row in rows if textsearch.matches(row[5] or "", terms)]
    truncated = len(rows) > MAX_CANDIDATES
    rows = rows[:MAX_CANDIDATES]
    scored = []
    for sal_id, lat, lng, name_en, name_fr, _document in rows:
        distance = None
        if query.place is not None:
            if lat is None or lng is None:
                continue
            distance = geo.haversine_km(query.place.lat, query.place.lng, lat, lng)
            if distance > radius:
                continue
        relevance = _relevance(f"{name_en or ''} {name_fr or ''}", terms) if terms else 0
        scored.append((sal_id, distance, relevance, (name_en or name_fr or "").lower()))
    if query.sort == "relevance" and terms:
        scored.sort(key=lambda r: (-r[2], r[1] if r[1] is not None else math.inf, r[3]))
    else:
        scored.sort(key=lambda r: (r[1] if r[1] is not None else math.inf, -r[2], r[3]))
    total = len(scored)
    pages = max(1, math.ceil(total / query.per_page))
    page = min(max(query.page, 1), pages)
    chosen = scored[(page - 1) * query.per_page : page * query.per_page]
    return SearchPage(
        hits=_hits(chosen, now), total=total, page=page, pages=pages, truncated=truncated
    )


def _hits(chosen: list[tuple], now: datetime) -> list[Hit]:
    ids = [row[0] for row in chosen]
    sals = {
        sal.id: sal
        for sal in ServiceAtLocation.objects.filter(id__in=ids)
        .select_related("service", "service__organization", "location")
        .prefetch_related(
            "location__addresses",
            Prefetch("service__phones", queryset=Phone.objects.order_by("created_at")),
            Prefetch("location__phones", queryset=Phone.objects.order_by("created_at")),
            Prefetch(
                "opening_rows", queryset=OpeningRow.objects.order_by("weekday", "start_minute")
            ),
        )
    }
    hits = []
    for sal_id, distance, _relevance_score, _name in chosen:
        sal = sals[sal_id]
        rows = [(r.weekday, r.start_minute, r.end_minute) for r in sal.opening_rows.all()]
        intervals = intervals_from_rows(rows)
        status = hours.status(intervals, now, sal.location.timezone)
        hits.append(Hit(sal=sal, distance_km=distance, status=status, intervals=intervals))
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
