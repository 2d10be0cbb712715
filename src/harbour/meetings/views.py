"""Public meeting pages (search, one meeting, calendars, printable list, the feed, suggesting a
change) and staff pages (the organization's meetings, editing, moderating suggestions)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Count, Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from harbour.accounts.selectors import organization_for
from harbour.core import geo
from harbour.core.permissions import role_in
from harbour.core.ratelimit import FormBudget, form_wait, limited_response, ratelimit
from harbour.core.roles import Role, role_at_least
from harbour.meetings import feed, ics, selectors, services, weekly
from harbour.meetings import types as meeting_types
from harbour.meetings.forms import (
    AFTER,
    MeetingForm,
    ReviewForm,
    SearchForm,
    SuggestionForm,
    day_name,
    days_label,
    unique_slug,
    zone_label,
)
from harbour.meetings.models import Meeting
from harbour.meetings.services import MANAGE, MODERATE

ICS_LIMIT = 200
PRINT_LIMIT = 500


def _lang() -> str:
    return "fr" if (get_language() or "en").startswith("fr") else "en"


def _search_form(request: HttpRequest) -> SearchForm:
    form = SearchForm(
        request.GET or None,
        fellowships=selectors.fellowships_in_use(_lang()),
        languages=selectors.languages_in_use(),
    )
    if request.GET:
        form.is_valid()  # errors are shown beside the fields; valid parts still search
        for name in list(form.errors):
            form.cleaned_data.pop(name, None)
    return form


def _query(form: SearchForm, now: datetime, *, per_page: int) -> selectors.SearchQuery:
    data: dict[str, Any] = form.cleaned_data if form.is_bound else {}
    day = data.get("day") or ""
    if day == "today":
        local = now.astimezone(weekly.zone(_site_zone()))
        day = str(weekly.spec_day(local.date()))
    return selectors.SearchQuery(
        q=data.get("q", "") or "",
        place=form.place,
        radius_km=float(data["radius"]) if data.get("radius") else None,
        day=int(day) if day else None,
        soon=bool(data.get("soon")),
        after_minute=AFTER.get(data.get("time") or ""),
        type=data.get("type") or "",
        language=data.get("language") or "",
        attendance=data.get("attendance") or "",
        fellowship=data.get("fellowship") or "",
        page=data.get("page") or 1,
        per_page=per_page,
    )


def _site_zone() -> str:
    from django.conf import settings

    return str(settings.TIME_ZONE)


def describe(
    row: selectors.Row, now: datetime, lang: str, place: geo.Place | None = None
) -> dict[str, Any]:
    """What a result shows: when (in the meeting's zone, with "in 25 min" when soon), where,
    how far, and the types in words."""
    meeting = row.meeting
    when = ""
    soon = ""
    if row.starts_at is not None:
        local = row.starts_at.astimezone(weekly.zone(meeting.timezone))
        when = f"{_day_word(local.date(), now, meeting.timezone)} " + _clock(
            local.hour * 60 + local.minute, lang
        )
        minutes = int((row.starts_at - weekly.floor_minute(now)).total_seconds() // 60)
        if 0 <= minutes <= 60:
            soon = _("starting now") if minutes == 0 else _("in %(n)s min") % {"n": minutes}
        if not _same_zone(meeting.timezone, row.starts_at):
            when += f" ({zone_label(meeting.timezone)})"
    distance = ""
    if row.distance_km is not None:
        distance = geo.distance_label(row.distance_km, lang)
        # from a postal area's centre, or to a meeting known only by its postal area, the
        # distance is known no better than the area: as the directory says it, never in metres
        if meeting.geo_approximate or (place is not None and place.kind == "postal"):
            if row.distance_km < geo.AREA_UNCERTAINTY_KM:
                distance = (
                    _("in or near %(area)s") % {"area": place.label.split(" ")[0]}
                    if place is not None and place.kind == "postal"
                    else _("nearby")
                )
            else:
                coarse = f"{geo.coarse_km(row.distance_km):.0f}\u00a0km"
                distance = _("about %(distance)s") % {"distance": coarse}
    terms = meeting.fellowship.vocabulary()
    return {
        "meeting": meeting,
        "when": when,
        "soon": soon,
        "distance": distance,
        "types": meeting_types.labels(meeting.type_codes, lang, terms),
    }


def _day_word(day: Any, now: datetime, tz: str) -> str:
    """ "Today", "Tomorrow", or the day's name, for a date in the meeting's zone."""
    today = now.astimezone(weekly.zone(tz)).date()
    if day == today:
        return _("Today")
    if (day - today).days == 1:
        return _("Tomorrow")
    return day_name(weekly.spec_day(day))


def _same_zone(tz: str, moment: datetime) -> bool:
    """Whether clocks in ``tz`` read as the site's at ``moment`` (no zone label is needed)."""
    site = moment.astimezone(weekly.zone(_site_zone())).utcoffset()
    return moment.astimezone(weekly.zone(tz)).utcoffset() == site


def _clock(minute: int, lang: str) -> str:
    from harbour.directory.hours import clock

    return clock(minute, lang)


@require_safe
@ratelimit("meetings-search", limit=120)
def search(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    form = _search_form(request)
    searched = bool(request.GET)
    query = _query(form, now, per_page=selectors.PER_PAGE)
    if not searched:  # the landing page: the next meetings, whatever the hour
        query = selectors.SearchQuery(per_page=selectors.NEXT_COUNT)
    result = selectors.search(query, now=now)
    lang = _lang()
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "meetings/search.html",
        {
            "form": form,
            "result": result,
            "rows": [describe(r, now, lang, query.place) for r in result.rows],
            "searched": searched,
            "query_string": params.urlencode(),
            "feed_url": reverse("meetings:feed"),
            "place": query.place if query.attendance != "online" else None,
        },
    )


@require_safe
@ratelimit("meetings-search", limit=120)
def print_list(request: HttpRequest) -> HttpResponse:
    """A printable list (paper lists still matter in shelters and detox), grouped by day."""
    now = timezone.now()
    form = _search_form(request)
    query = _query(form, now, per_page=PRINT_LIMIT)
    result = selectors.search(query, now=now)
    lang = _lang()
    days: dict[int, list[dict[str, Any]]] = {}
    for row in result.rows:
        meeting = row.meeting
        for day in meeting.day_list or [-1]:
            if query.day is not None and day != query.day:
                continue
            days.setdefault(day, []).append(
                {
                    "meeting": meeting,
                    "time": _clock(meeting.start_minute, lang)
                    if meeting.start_minute is not None
                    else "",
                    "types": meeting_types.labels(
                        meeting.type_codes, lang, meeting.fellowship.vocabulary()
                    ),
                }
            )
    groups = [
        (day_name(day) if day >= 0 else _("By appointment"),
         sorted(items, key=lambda i: (i["meeting"].start_minute or 0, i["meeting"].name)))
        for day, items in sorted(days.items(), key=lambda kv: (kv[0] < 0, kv[0]))
    ]  # fmt: skip
    return render(
        request,
        "meetings/print.html",
        {"groups": groups, "total": result.total, "printed": now, "shown": len(result.rows)},
    )


def _page_url(request: HttpRequest, meeting: Meeting) -> str:
    return request.build_absolute_uri(reverse("meetings:detail", kwargs={"slug": meeting.slug}))


def _event(request: HttpRequest, meeting: Meeting, now: datetime) -> ics.Event | None:
    starts = services.when_next(meeting, now)
    if starts is None or meeting.start_minute is None:
        return None
    local = starts.astimezone(weekly.zone(meeting.timezone))
    duration = 60
    if meeting.end_minute is not None:
        duration = (meeting.end_minute - meeting.start_minute) % weekly.MINUTES_PER_DAY or 60
    lines = [meeting.notes]
    if meeting.conference_url:
        lines.append(_("Join online: %(link)s") % {"link": meeting.conference_url})
    if meeting.conference_url_notes:
        lines.append(meeting.conference_url_notes)
    if meeting.conference_phone:
        lines.append(_("Join by phone: %(number)s") % {"number": meeting.conference_phone})
    page = _page_url(request, meeting)
    lines.append(page)
    where = meeting.place_text if meeting.has_place else _("Online")
    if meeting.has_place and meeting.location:
        where = f"{meeting.location}, {where}"
    return ics.Event(
        uid=f"{meeting.pk}@harbour-meetings",
        summary=f"{meeting.name} ({meeting.fellowship.name})",
        tz=meeting.timezone,
        first_day=local.date(),  # a start moved by a daylight-saving gap keeps its date
        minute=meeting.start_minute,
        duration_minutes=duration,
        days=tuple(meeting.day_list),
        location=where,
        description="\n".join(line for line in lines if line),
        url=page,
    )


def _calendar_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text.encode("utf-8"), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_safe
def meeting_calendar(request: HttpRequest, slug: str) -> HttpResponse:
    meeting = selectors.meeting_public(slug)
    if meeting is None:
        raise Http404
    now = timezone.now()
    event = _event(request, meeting, now)
    if event is None:
        raise Http404  # by appointment: nothing to put in a calendar
    return _calendar_response(
        ics.calendar([event], name=meeting.name, now=now), f"{meeting.slug}.ics"
    )


@require_safe
@ratelimit("meetings-search", limit=120)
def search_calendar(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    form = _search_form(request)
    result = selectors.search(_query(form, now, per_page=ICS_LIMIT), now=now)
    events = [e for r in result.rows if (e := _event(request, r.meeting, now)) is not None]
    return _calendar_response(
        ics.calendar(events, name=_("Harbour meetings"), now=now), "meetings.ics"
    )


@require_safe
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    meeting = selectors.meeting_public(slug)
    if meeting is None:
        raise Http404
    now = timezone.now()
    lang = _lang()
    row = selectors.Row(meeting, services.when_next(meeting, now), None)
    info = describe(row, now, lang)
    return render(
        request,
        "meetings/detail.html",
        {
            **info,
            "days": days_label(meeting.day_list) if meeting.day_list else "",
            "zone": "" if _same_zone(meeting.timezone, now) else zone_label(meeting.timezone),
            "start": _clock(meeting.start_minute, lang) if meeting.start_minute is not None else "",
            "end": _clock(meeting.end_minute, lang) if meeting.end_minute is not None else "",
            "directions": _directions(meeting),
        },
    )


def _directions(meeting: Meeting) -> str:
    from urllib.parse import quote

    if not meeting.has_place:
        return ""
    if meeting.latitude is not None and meeting.longitude is not None:
        return (
            "https://www.openstreetmap.org/?mlat="
            f"{meeting.latitude:.5f}&mlon={meeting.longitude:.5f}#map=17/"
            f"{meeting.latitude:.5f}/{meeting.longitude:.5f}"
        )
    return "https://www.openstreetmap.org/search?query=" + quote(meeting.place_text)


# a drop-in centre's Wi-Fi is one address for many people (core.ratelimit.FormBudget)
SUGGEST_BUDGET = FormBudget("meetings-suggest", per_connection=30, per_content=3)


@require_http_methods(["GET", "POST"])
def suggest(request: HttpRequest, slug: str) -> HttpResponse:
    """Anyone can suggest a change; no account, nothing about them kept unless they give it."""
    meeting = selectors.meeting_public(slug)
    if meeting is None:
        raise Http404
    form = SuggestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = form_wait(request, SUGGEST_BUDGET, form)
        if wait:
            context = {"meeting": meeting, "form": form}
            return limited_response(render(request, "meetings/suggest.html", context), wait)
        if not form.cleaned_data.get("website"):  # filled only by bots
            services.suggestion_create(
                meeting=meeting,
                field=form.cleaned_data["field"],
                message=form.cleaned_data["message"],
                suggested_value=form.cleaned_data["suggested_value"],
                contact=form.cleaned_data["contact"],
                language=get_language() or "en",
            )
        return render(request, "meetings/suggest_thanks.html", {"meeting": meeting})
    return render(
        request,
        "meetings/suggest.html",
        {"meeting": meeting, "form": form},
        status=400 if form.errors else 200,
    )


@require_safe
@ratelimit("meetings-feed", limit=60)
def feed_json(request: HttpRequest) -> HttpResponse:
    """The Meeting Guide feed; ``?org=<slug>`` and ``?fellowship=<slug>`` narrow it. Cached until
    a listed meeting changes; ETag lets readers skip an unchanged download."""
    org = request.GET.get("org", "")[:80]
    fellowship = request.GET.get("fellowship", "")[:40]
    rows = selectors.public()
    if org:
        rows = rows.filter(organization__slug=org)
    if fellowship:
        rows = rows.filter(fellowship__slug=fellowship)
    state = rows.aggregate(
        n=Count("id"), last=Max("updated_at"), entity=Max("organization__updated_at")
    )
    version = (
        f"{org}|{fellowship}|{state['n']}|{state['last']}|{state['entity']}|{services.own_pages()}"
    )
    etag = '"' + hashlib.sha256(version.encode()).hexdigest()[:24] + '"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        key = f"meetings:feed:{etag}"
        body = cache.get(key)
        if body is None:
            body = feed.render(feed.build(organization=org, fellowship=fellowship))
            cache.set(key, body, timeout=3600)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"  # meeting finders read feeds from their sites
    return response


# --- staff ------------------------------------------------------------------------------------


@login_required
def staff_list(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=MANAGE)
    archived = request.GET.get("archived") == "1"
    role = role_in(request.user, org.pk)
    meetings = selectors.staff_meetings(request.user, organization=org, archived=archived)
    lang = _lang()
    rows = [
        {
            "meeting": m,
            "days": days_label(m.day_list) if m.day_list else _("By appointment"),
            "time": _clock(m.start_minute, lang) if m.start_minute is not None else "",
            "unknown": meeting_types.unknown(m.type_codes, m.fellowship.vocabulary()),
        }
        for m in meetings
    ]
    return render(
        request,
        "meetings/staff/list.html",
        {
            "org": org,
            "rows": rows,
            "archived": archived,
            "can_moderate": role_at_least(role, MODERATE),
            "pending_count": selectors.pending_suggestions(request.user, organization=org).count()
            if role_at_least(role, MODERATE)
            else 0,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def staff_edit(request: HttpRequest, slug: str, meeting_id: str | None = None) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=MANAGE)
    meeting = (
        selectors.staff_meeting(request.user, organization=org, meeting_id=meeting_id)
        if meeting_id
        else None
    )
    form = MeetingForm(request.POST or None, meeting=meeting)
    if request.method == "POST" and form.is_valid():
        data = form.listing_data(meeting)
        if meeting is None and not request.POST.get("slug"):
            data["slug"] = unique_slug(
                data["slug"], lambda s: Meeting.objects.filter(slug=s).exists()
            )
        try:
            saved = services.meeting_save(
                actor=request.user,
                organization=org,
                data=data,
                fellowship=form.cleaned_data["fellowship"],
                meeting=meeting,
            )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                target = {"day": "day", "types": "other_types", "regions": "regions"}.get(
                    name, name
                )
                for error in errors:
                    form.add_error(target if target in form.fields else None, error)
        else:
            messages.success(request, _("Meeting saved."))
            if "another" in request.POST:
                return redirect("meetings-staff:new", slug=org.slug)
            return (
                redirect("meetings-staff:list", slug=org.slug)
                if meeting is None
                else redirect("meetings-staff:edit", slug=org.slug, meeting_id=saved.pk)
            )
    return render(
        request,
        "meetings/staff/edit.html",
        {"org": org, "meeting": meeting, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def staff_archive(request: HttpRequest, slug: str, meeting_id: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=MANAGE)
    meeting = selectors.staff_meeting(request.user, organization=org, meeting_id=meeting_id)
    restore = request.POST.get("restore") == "1"
    services.meeting_archive(actor=request.user, meeting=meeting, archived=not restore)
    messages.success(request, _("Meeting listed again.") if restore else _("Meeting archived."))
    return redirect("meetings-staff:list", slug=org.slug)


@login_required
def staff_suggestions(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=MODERATE)
    return render(
        request,
        "meetings/staff/suggestions.html",
        {
            "org": org,
            "pending": selectors.pending_suggestions(request.user, organization=org),
            "form": ReviewForm(),
        },
    )


@login_required
@require_POST
def staff_review(
    request: HttpRequest, slug: str, suggestion_id: str, decision: str
) -> HttpResponse:
    org = organization_for(request.user, slug=slug, minimum=MODERATE)
    suggestion = selectors.suggestion_for(
        request.user, organization=org, suggestion_id=suggestion_id
    )
    if decision not in ("accept", "reject"):
        raise Http404
    form = ReviewForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        changed = services.suggestion_review(
            suggestion=suggestion, actor=request.user, accept=decision == "accept", note=note
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if decision == "reject":
            messages.success(request, _("Suggestion rejected."))
        elif changed:
            messages.success(request, _("Suggestion accepted and applied to the meeting."))
        else:
            messages.success(
                request, _("Suggestion accepted. Edit the meeting to make the change.")
            )
    return redirect("meetings-staff:suggestions", slug=org.slug)


def work_links(user: Any, org: Any) -> list[tuple[str, str]]:
    """Links for the organization page's "Work" list, by role (see templatetags)."""
    role = role_in(user, org.pk)
    links = []
    if role_at_least(role, MANAGE):
        links.append((reverse("meetings-staff:list", kwargs={"slug": org.slug}), _("Meetings")))
    if role_at_least(role, Role.COORDINATOR):
        links.append(
            (reverse("mentoring-staff:dashboard", kwargs={"slug": org.slug}), _("Peer mentoring"))
        )
    return links
