"""Public pages: search for help near me, open now; one service's page (also printable)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from harbour.core import geo
from harbour.core.ratelimit import FormBudget, form_wait, limited_response, ratelimit
from harbour.directory import addresses, hours, merge, selectors, services
from harbour.directory.forms import SearchForm, SuggestionForm

WEEKDAYS = range(7)


def _query_from_form(form: SearchForm) -> selectors.SearchQuery:
    data: dict[str, Any] = form.cleaned_data if form.is_bound else {}
    radius = data.get("radius") or "25"
    return selectors.SearchQuery(
        q=data.get("q", "") or "",
        place=form.place,
        radius_km=float(radius),
        open_at=data.get("open_at") or (timezone.now() if data.get("open_now") else None),
        categories=[data["category"]] if data.get("category") else [],
        attributes=list(data.get("attributes") or []),
        sort=data.get("sort") or "distance",
        page=data.get("page") or 1,
        include_unknown_hours=bool(data.get("include_unknown_hours")),
    )


def _distance(hit: selectors.Hit, lang: str, area: str) -> str:
    """How far, as much as it is known: from a postal area's centre (or to a place known only
    by its postal area) never closer than the area itself, never in metres."""
    if hit.distance_km is None:
        return ""
    if hit.distance_approximate or hit.sal.location.coordinates_approximate:
        if hit.distance_km < geo.AREA_UNCERTAINTY_KM:
            if hit.distance_approximate and area:
                return _("in or near %(area)s") % {"area": area}
            return _("nearby")
        coarse = f"{geo.coarse_km(hit.distance_km):.0f}\u00a0km"  # whole km: 5, 10, 15 ...
        return _("about %(distance)s") % {"distance": coarse}
    return geo.distance_label(hit.distance_km, lang)


def status_text(hit_status: hours.OpenStatus, now: Any, lang: str, has_hours: bool) -> str:
    """The open/closed line; hours that are not listed are unknown, never "Closed"."""
    if not has_hours:
        return _("Hours not listed — call to check")
    return hours.describe(hit_status, now, lang, True)


def _origin(place: geo.Place | None) -> str:
    """Where the search is measured from, for the summary line."""
    if place is None:
        return ""
    if place.kind == "postal":
        return _("around %(place)s") % {"place": place.label}
    if place.kind == "address":
        return _("near %(place)s") % {"place": place.label}
    return _("near the position you gave")


@require_safe
@ratelimit("directory-search", limit=120)
def search(request: HttpRequest) -> HttpResponse:
    data = request.GET.copy()
    if data and not data.get("radius"):
        data["radius"] = "25"
    form = SearchForm(
        data or None,
        categories=selectors.categories(),
        attributes=selectors.attributes(),
    )
    searched = bool(request.GET)
    if searched:
        form.is_valid()  # errors are shown beside the fields; valid parts still search
        for name in list(form.errors):
            form.cleaned_data.pop(name, None)
    now = timezone.now()
    query = _query_from_form(form)
    result = selectors.search(query, now=now) if searched else None
    widened = None
    if result is not None and result.total == 0 and query.place is not None:
        # nothing within the radius: show the nearest few further away rather than nothing
        wider = replace(query, radius_km=selectors.MAX_RADIUS_KM, page=1, per_page=5)
        widened = selectors.search(wider, now=now)
    lang = get_language() or "en"
    area = query.place.label[:3] if query.place and query.place.kind == "postal" else ""
    rows = []
    shown = widened.hits if widened and widened.total else (result.hits if result else [])
    for hit in shown:
        rows.append(
            {
                "hit": hit,
                "phone": hit.phone,
                "address": hit.address,
                "status_text": status_text(hit.status, now, lang, bool(hit.intervals)),
                "distance": _distance(hit, lang, area),
            }
        )
    params = request.GET.copy()
    params.pop("page", None)
    # an open-now search leaves out the places whose hours are unknown: say how many
    unknown_hours = 0
    include_unknown_url = ""
    if result is not None and query.open_at is not None and not query.include_unknown_hours:
        unknown_hours = selectors.count_without_hours(query, now=now)
        more = params.copy()
        more["include_unknown_hours"] = "on"
        include_unknown_url = more.urlencode()
    return render(
        request,
        "directory/search.html",
        {
            "form": form,
            "result": result,
            "widened": widened.total if widened else 0,
            "map_tiles": settings.HARBOUR_MAP_TILES,
            "map_attribution": settings.HARBOUR_MAP_ATTRIBUTION,
            "radius": query.radius_km,
            "rows": rows,
            "searched": searched,
            "query_string": params.urlencode(),
            "origin": _origin(query.place),
            "approximate": selectors.distance_approximate(query.place),
            "area": area,
            "address_fallback": form.address_fallback,
            "addresses_available": searched and addresses.available(),
            "open_filter": query.open_at is not None,
            "open_now": bool(form.is_bound and form.cleaned_data.get("open_now")),
            "unknown_hours": unknown_hours,
            "include_unknown_url": include_unknown_url,
        },
    )


@require_safe
def service_detail(request: HttpRequest, service_id: str) -> HttpResponse:
    try:
        service = selectors.service_detail(service_id)
    except ObjectDoesNotExist as exc:
        survivor = merge.survivor_of(service_id)
        if survivor is not None:  # merged into another listing: that one, for good
            url = reverse("directory:service", kwargs={"service_id": survivor})
            query = request.GET.urlencode()
            return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)
        raise Http404 from exc
    now = timezone.now()
    lang = get_language() or "en"
    locations = []
    for sal in service.service_at_locations.all():
        rows = [(r.weekday, r.start_minute, r.end_minute) for r in sal.opening_rows.all()]
        intervals = selectors.intervals_from_rows(
            [
                (r.weekday, r.start_minute, r.end_minute, r.valid_from, r.valid_to)
                for r in sal.opening_rows.all()
            ]
        )
        status = hours.status(intervals, now, sal.location.timezone)
        locations.append(
            {
                "sal": sal,
                "location": sal.location,
                "address": next(iter(sal.location.addresses.all()), None),
                "status_text": status_text(status, now, lang, bool(intervals)),
                "week": weekly_table(rows, lang) if intervals else [],
            }
        )
    terms = selectors.service_terms(service)
    return render(
        request,
        "directory/service.html",
        {
            "service": service,
            "locations": locations,
            "categories": [t for t in terms if t.kind == "category"],
            "attributes": [t for t in terms if t.kind == "attribute"],
            "print": request.GET.get("print") == "1",
            "phones": _phones(service),
        },
    )


def _phones(service: Any) -> list[Any]:
    """The numbers to call: the service's own, else its locations' (as a result shows)."""
    phones = list(service.phones.all())
    if not phones:
        for sal in service.service_at_locations.all():
            phones += [p for p in sal.location.phones.all() if p not in phones]
    return phones


DAY_NAMES = {
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "fr": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
}


def weekly_table(rows: list[tuple[int, int, int]], lang: str) -> list[tuple[str, list[str]]]:
    """One line per weekday with its opening spans, in the service's local time."""
    lang = "fr" if lang.startswith("fr") else "en"
    table = []
    for day in WEEKDAYS:
        spans = []
        for weekday, start, end in rows:
            if weekday != day:
                continue
            if start == 0 and end == 1440:
                spans.append("24 h" if lang == "fr" else "24 hours")
            else:
                spans.append(f"{hours.clock(start, lang)} – {hours.clock(end, lang)}")
        table.append((DAY_NAMES[lang][day], spans))
    return table


# a drop-in centre's Wi-Fi is one address for many people (core.ratelimit.FormBudget)
SUGGEST_BUDGET = FormBudget("directory-suggest", per_connection=30, per_content=3)


@require_http_methods(["GET", "POST"])
def suggest(request: HttpRequest, service_id: str) -> HttpResponse:
    """Anyone can report a problem with a listing; no account, nothing about them kept."""
    try:
        service = selectors.service_detail(service_id)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc
    form = SuggestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = form_wait(request, SUGGEST_BUDGET, form)
        if wait:
            context = {"service": service, "form": form}
            return limited_response(render(request, "directory/suggest.html", context), wait)
        if not form.cleaned_data.get("website"):  # filled only by bots
            services.suggestion_create(
                service=service,
                field=form.cleaned_data["field"],
                message=form.cleaned_data["message"],
                suggested_value=form.cleaned_data["suggested_value"],
                contact=form.cleaned_data["contact"],
                language=get_language() or "en",
            )
        return render(request, "directory/suggest_thanks.html", {"service": service})
    return render(
        request,
        "directory/suggest.html",
        {"service": service, "form": form},
        status=400 if form.errors else 200,
    )
