"""The HSDS 3.0 API at ``/api/hsds/`` (Open Referral's ``openapi.json``), read-only and public.

Objects carry the HSDS fields Harbour holds, empty ones left out. Harbour's extensions are extra
query parameters: ``lang`` (en/fr), ``open_now``, ``open_at``, ``lat``/``lng`` and ``attribute``
(codes).
Confidential locations are published without address or position.
"""

import math
from datetime import UTC, datetime
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponsePermanentRedirect
from django.utils import timezone, translation
from ninja import NinjaAPI, Query, Schema
from ninja.errors import HttpError

from harbour.core import api_errors, geo, ratelimit
from harbour.core.api_docs import HarbourSwagger
from harbour.directory import hsds, merge, selectors
from harbour.directory import models as m

api = NinjaAPI(
    title="Harbour HSDS API",
    version="3.0",
    description="Open Referral HSDS 3.0 API for Harbour's service directory (read-only, public).",
    urls_namespace="hsds",
    docs=HarbourSwagger(),
)

TABLE_OF = {model: table for table, model in hsds.TABLES}
COLUMNS = {
    name: [f["name"] for f in r["schema"]["fields"]] for name, r in hsds.resources_by_name().items()
}
REQUIRED = {
    name: {f["name"] for f in r["schema"]["fields"] if f.get("constraints", {}).get("required")}
    for name, r in hsds.resources_by_name().items()
}
NUMBER_TYPES = {"number", "integer"}
FIELD_TYPES = {
    name: {f["name"]: f["type"] for f in r["schema"]["fields"]}
    for name, r in hsds.resources_by_name().items()
}


api_errors.install(api)


def _lang(value: str) -> str:
    return "fr" if value.startswith("fr") else "en"


def flat(obj: Model, lang: str) -> dict[str, Any]:
    """One HSDS object's one-to-one fields, typed as the schema wants, empty ones left out."""
    table = TABLE_OF[type(obj)]
    row = hsds._export_row(obj, COLUMNS[table], lang, REQUIRED[table])
    types = FIELD_TYPES[table]
    result: dict[str, Any] = {}
    for key, value in row.items():
        if value == "":
            continue
        if types.get(key) in NUMBER_TYPES:
            number = float(value)
            result[key] = int(number) if number.is_integer() else number
        else:
            result[key] = value
    return result


def _location(location: m.Location, lang: str) -> dict[str, Any]:
    data = flat(location, lang)
    if location.confidential:
        data.pop("latitude", None)
        data.pop("longitude", None)
    else:
        data["addresses"] = [flat(a, lang) for a in location.addresses.all()]
    data["phones"] = [flat(p, lang) for p in location.phones.all()]
    data["schedules"] = [flat(s, lang) for s in location.schedules.all()]
    data["languages"] = [flat(x, lang) for x in location.languages.all()]
    data["accessibility"] = [flat(x, lang) for x in location.accessibility.all()]
    return data


def _attributes(obj: Model, entity: str, lang: str) -> list[dict[str, Any]]:
    rows = m.Attribute.objects.filter(link_entity=entity, link_id=obj.pk).select_related(
        "taxonomy_term"
    )
    result = []
    for attribute in rows:
        data = flat(attribute, lang)
        data["taxonomy_term"] = flat(attribute.taxonomy_term, lang)
        result.append(data)
    return result


def service_full(service: m.Service, lang: str) -> dict[str, Any]:
    data = flat(service, lang)
    data["organization"] = flat(service.organization, lang)
    if service.program is not None:
        data["program"] = flat(service.program, lang)
    data["phones"] = [flat(p, lang) for p in service.phones.all()]
    data["schedules"] = [flat(s, lang) for s in service.schedules.all()]
    data["languages"] = [flat(x, lang) for x in service.languages.all()]
    data["required_documents"] = [flat(x, lang) for x in service.required_documents.all()]
    data["cost_options"] = [flat(x, lang) for x in service.cost_options.all()]
    data["service_areas"] = [flat(x, lang) for x in service.service_areas.all()]
    data["contacts"] = [flat(x, lang) for x in service.contacts.all()]
    data["funding"] = [flat(x, lang) for x in service.fundings.all()]
    data["attributes"] = _attributes(service, "service", lang)
    data["service_at_locations"] = [
        {**flat(sal, lang), "location": _location(sal.location, lang)}
        for sal in service.service_at_locations.select_related("location")
    ]
    return data


def page_envelope(
    items: list[dict[str, Any]], total: int, page: int, per_page: int
) -> dict[str, Any]:
    pages = max(1, math.ceil(total / per_page))
    return {
        "total_items": total,
        "total_pages": pages,
        "page_number": page,
        "size": len(items),
        "first_page": page == 1,
        "last_page": page >= pages,
        "empty": total == 0,
        "contents": items,
    }


class PageParams(Schema):
    page: int = 1
    per_page: int = 50
    lang: str = "en"

    def check(self) -> None:
        if not 1 <= self.page <= 100_000 or not 1 <= self.per_page <= 200:
            raise HttpError(400, "page must be 1 to 100000 and per_page 1 to 200.")


class ServiceParams(PageParams):
    search: str = ""
    taxonomy_term_id: str = ""
    taxonomy_id: str = ""
    organization_id: str = ""
    modified_after: datetime | None = None
    open_now: bool = False
    open_at: datetime | None = None
    attribute: list[str] = []


def _limited(request: HttpRequest) -> None:
    if ratelimit.limited(request, "api-hsds", limit=300):
        raise HttpError(429, "Too many requests. Wait a minute and try again.")


def _slice(qs: QuerySet[Any], params: PageParams) -> tuple[list[Any], int]:
    total = qs.count()
    start = (params.page - 1) * params.per_page
    return list(qs[start : start + params.per_page]), total


def _one(queryset: QuerySet[Any], id: str) -> Any:
    found = queryset.filter(pk=_uuid_or_404(id)).first()
    if found is None:
        raise Http404
    return found


def _uuid_or_404(value: str) -> Any:
    try:
        return hsds.as_uuid(value)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc


def _having(q: Q) -> Q:
    """Services with at least one service-at-location matching ``q``."""
    return Q(pk__in=m.ServiceAtLocation.objects.filter(q).values("service_id"))


def _tagged(**lookup: Any) -> Q:
    return Q(pk__in=m.Attribute.objects.filter(link_entity="service", **lookup).values("link_id"))


def _open_at(open_now: bool, open_at: datetime | None) -> datetime | None:
    """Harbour's extension: ``open_at`` (with a time zone offset) wins over ``open_now``."""
    if open_at is not None:
        if timezone.is_naive(open_at):
            raise HttpError(
                400, "open_at needs a time zone offset, e.g. 2026-11-22T21:00:00-05:00."
            )
        return open_at
    return timezone.now() if open_now else None


def _services(params: ServiceParams) -> QuerySet[m.Service]:
    from harbour.directory import textsearch

    qs = m.Service.objects.exclude(status=m.ServiceStatus.DEFUNCT).select_related("organization")
    terms = textsearch.query_terms(params.search)
    if terms:
        qs = qs.filter(_having(selectors.text_filter(terms)))
    if params.taxonomy_term_id:
        qs = qs.filter(_tagged(taxonomy_term_id=_uuid_or_404(params.taxonomy_term_id)))
    if params.taxonomy_id:
        qs = qs.filter(_tagged(taxonomy_term__taxonomy_id=_uuid_or_404(params.taxonomy_id)))
    if params.organization_id:
        qs = qs.filter(organization_id=_uuid_or_404(params.organization_id))
    if params.modified_after is not None:
        if timezone.is_naive(params.modified_after):
            raise HttpError(400, "modified_after needs a time zone, e.g. 2026-01-01T00:00:00Z.")
        # in UTC: PostgreSQL refuses offsets beyond ±15:59 that Python's datetime accepts
        try:
            since = params.modified_after.astimezone(UTC)
        except OverflowError as exc:
            raise HttpError(400, "modified_after is out of range.") from exc
        qs = qs.filter(updated_at__gte=since)
    if params.attribute:
        qs = qs.filter(_having(selectors.term_filter(params.attribute[:10], "attribute")))
    open_at = _open_at(params.open_now, params.open_at)
    if open_at is not None:
        qs = qs.filter(_having(selectors.open_filter(open_at)))
    return qs.order_by("name_en", "pk")


@api.get("/", summary="About this API")
def root(request: HttpRequest) -> dict[str, Any]:
    return {
        "version": "3.0",
        "profile": "https://openreferral.org/imports/hsds-3.0/",
        "openapi_url": request.build_absolute_uri("openapi.json"),
    }


@api.get("/services", summary="Services (one-to-one fields), paged")
def services(request: HttpRequest, params: Query[ServiceParams]) -> dict[str, Any]:
    _limited(request)
    params.check()
    lang = _lang(params.lang)
    rows, total = _slice(_services(params), params)
    return page_envelope([flat(s, lang) for s in rows], total, params.page, params.per_page)


@api.get("/services/{id}", summary="One service with everything related")
def service(request: HttpRequest, id: str, lang: str = "en") -> Any:
    _limited(request)
    found = (
        m.Service.objects.exclude(status=m.ServiceStatus.DEFUNCT)
        .filter(pk=_uuid_or_404(id))
        .first()
    )
    if found is None:
        survivor = merge.survivor_of(_uuid_or_404(id))
        if survivor is None:
            raise Http404
        # merged into another listing: a permanent redirect to it (clients follow it)
        query = request.GET.urlencode()
        url = request.path.rsplit("/", 1)[0] + f"/{survivor}"
        return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)
    return service_full(found, _lang(lang))


@api.get("/organizations", summary="Organizations, paged")
def organizations(
    request: HttpRequest, params: Query[PageParams], search: str = ""
) -> dict[str, Any]:
    _limited(request)
    params.check()
    qs = m.DirectoryOrganization.objects.order_by("name_en", "pk")
    if search.strip():
        qs = qs.filter(Q(name_en__icontains=search.strip()) | Q(name_fr__icontains=search.strip()))
    rows, total = _slice(qs, params)
    lang = _lang(params.lang)
    return page_envelope([flat(o, lang) for o in rows], total, params.page, params.per_page)


@api.get("/organizations/{id}", summary="One organization with its services")
def organization(request: HttpRequest, id: str, lang: str = "en") -> dict[str, Any]:
    _limited(request)
    found = _one(m.DirectoryOrganization.objects.all(), id)
    lang = _lang(lang)
    data = flat(found, lang)
    data["services"] = [
        {"id": str(s.pk)} for s in found.services.exclude(status="defunct").order_by("pk")
    ]
    data["phones"] = [flat(p, lang) for p in found.phones.all()]
    data["contacts"] = [flat(c, lang) for c in found.contacts.all()]
    return data


@api.get("/taxonomies", summary="Taxonomies, paged")
def taxonomies(request: HttpRequest, params: Query[PageParams]) -> dict[str, Any]:
    _limited(request)
    params.check()
    rows, total = _slice(m.Taxonomy.objects.order_by("pk"), params)
    lang = _lang(params.lang)
    return page_envelope([flat(t, lang) for t in rows], total, params.page, params.per_page)


@api.get("/taxonomies/{id}", summary="One taxonomy")
def taxonomy(request: HttpRequest, id: str, lang: str = "en") -> dict[str, Any]:
    return flat(_one(m.Taxonomy.objects.all(), id), _lang(lang))


@api.get("/taxonomy_terms", summary="Taxonomy terms, paged")
def taxonomy_terms(
    request: HttpRequest,
    params: Query[PageParams],
    taxonomy_id: str = "",
    parent_id: str = "",
    top_only: bool = False,
) -> dict[str, Any]:
    _limited(request)
    params.check()
    qs = m.TaxonomyTerm.objects.order_by("code", "pk")
    if taxonomy_id:
        qs = qs.filter(taxonomy_id=_uuid_or_404(taxonomy_id))
    if parent_id:
        qs = qs.filter(parent_id=_uuid_or_404(parent_id))
    if top_only:
        qs = qs.filter(parent__isnull=True)
    rows, total = _slice(qs, params)
    lang = _lang(params.lang)
    return page_envelope([flat(t, lang) for t in rows], total, params.page, params.per_page)


@api.get("/taxonomy_terms/{id}", summary="One taxonomy term")
def taxonomy_term(request: HttpRequest, id: str, lang: str = "en") -> dict[str, Any]:
    return flat(_one(m.TaxonomyTerm.objects.all(), id), _lang(lang))


class SalParams(PageParams):
    search: str = ""
    postcode: str = ""
    proximity: float | None = None
    lat: float | None = None
    lng: float | None = None
    open_now: bool = False
    open_at: datetime | None = None
    taxonomy_term_id: str = ""
    attribute: list[str] = []


@api.get("/service_at_locations", summary="Services at locations, near a postcode, paged")
def service_at_locations(request: HttpRequest, params: Query[SalParams]) -> dict[str, Any]:
    """`postcode` (a Canadian postal code) with `proximity` in metres, or Harbour's `lat`/`lng`;
    results nearest first."""
    _limited(request)
    params.check()
    place = None
    try:
        if params.lat is not None or params.lng is not None:
            place = geo.parse_place(f"{params.lat},{params.lng}")
        elif params.postcode.strip():
            place = geo.parse_place(params.postcode)
    except geo.PlaceError as exc:
        raise HttpError(400, str(exc)) from exc
    radius_km = (params.proximity or 25_000) / 1000
    if not 0 < radius_km <= selectors.MAX_RADIUS_KM:
        raise HttpError(400, "proximity must be above 0 and at most 500000 metres.")
    categories = []
    if params.taxonomy_term_id:
        term = m.TaxonomyTerm.objects.filter(pk=_uuid_or_404(params.taxonomy_term_id)).first()
        if term is None:
            raise HttpError(400, "Unknown taxonomy_term_id.")
        categories = [term.code]
    query = selectors.SearchQuery(
        q=params.search[:200],
        place=place,
        radius_km=radius_km if place else selectors.DEFAULT_RADIUS_KM,
        open_at=_open_at(params.open_now, params.open_at),
        categories=categories,
        attributes=params.attribute[:10],
        page=params.page,
        per_page=params.per_page,
    )
    lang = _lang(params.lang)
    with translation.override(lang):
        result = selectors.search(query, now=timezone.now())
    items = [
        {**flat(hit.sal, lang), "location": _location(hit.sal.location, lang)}
        for hit in result.hits
    ]
    return page_envelope(items, result.total, result.page, params.per_page)


@api.get("/service_at_locations/{id}", summary="One service at a location, fully nested")
def service_at_location(request: HttpRequest, id: str, lang: str = "en") -> dict[str, Any]:
    _limited(request)
    found = (
        m.ServiceAtLocation.objects.select_related("service", "location")
        .filter(pk=_uuid_or_404(id))
        .first()
    )
    if found is None or found.service.status == m.ServiceStatus.DEFUNCT:
        raise Http404
    lang = _lang(lang)
    return {
        **flat(found, lang),
        "service": service_full(found.service, lang),
        "location": _location(found.location, lang),
    }
