"""Reads for meetings: the public search (by day, time, near a place, type, language, online,
"starting within the hour"), one public meeting, the feed's rows, and staff views scoped to the
actor's organizations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Q, QuerySet

from harbour.core import geo
from harbour.core.permissions import get_scoped_or_404, scope
from harbour.core.roles import Role
from harbour.meetings import weekly
from harbour.meetings.models import Attendance, Fellowship, Meeting, MeetingSuggestion
from harbour.meetings.models import SuggestionStatus as Status

SOON_MINUTES = 60
PER_PAGE = 30
MAX_RADIUS_KM = 200.0
NEXT_COUNT = 10  # the landing page: the next meetings, whatever the hour
# the radius that fits a place when none is chosen: towns are dense, rural areas (a postal code
# whose second character is 0, e.g. K0H) need more; widened step by step while fewer than
# ENOUGH meetings are found
URBAN_KM = 10.0
RURAL_KM = 40.0
WIDER_KM = (40.0, 100.0)
ENOUGH = 3


def public() -> QuerySet[Meeting]:
    """Listed meetings: not archived, of active organizations."""
    return Meeting.objects.filter(archived_at__isnull=True, organization__is_active=True)


def meeting_public(slug: str) -> Meeting | None:
    return public().select_related("fellowship", "organization").filter(slug=slug).first()


FACETS_KEY = "meetings:facets"


def facets() -> dict[str, Any]:
    """Time zones, fellowships and languages of listed meetings: what search windows and the
    form's choices need. Cached for a minute (other processes without a shared cache see a
    change within that time); every write to meetings clears it here (``services.changed``)."""
    found = cache.get(FACETS_KEY)
    if found is None:
        from harbour.meetings.types import LANGUAGE_CODES

        listed = public().order_by()
        languages: set[str] = set()
        for types in listed.values_list("types", flat=True).distinct():
            languages.update(code for code in types.split() if code in LANGUAGE_CODES)
        found = {
            "zones": sorted(set(listed.values_list("timezone", flat=True).distinct())),
            "fellowships": sorted(
                Fellowship.objects.filter(
                    pk__in=listed.values_list("fellowship_id", flat=True).distinct()
                ).values_list("slug", "name_en", "name_fr")
            ),
            "languages": sorted(languages),
        }
        cache.set(FACETS_KEY, found, timeout=60)
    return found


def zones_in_use() -> list[str]:
    return facets()["zones"]


def fellowships_in_use(lang: str = "en") -> list[tuple[str, str]]:
    """(slug, name in ``lang``) of the fellowships of listed meetings."""
    return [(slug, (fr or en) if lang == "fr" else en) for slug, en, fr in facets()["fellowships"]]


def languages_in_use() -> list[str]:
    return facets()["languages"]


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    place: geo.Place | None = None
    radius_km: float | None = None  # None: the radius that fits the place (auto_radius)
    day: int | None = None  # spec day, 0 = Sunday
    soon: bool = False  # starting within the next hour
    after_minute: int | None = None  # starting at or after this local time
    type: str = ""
    language: str = ""
    attendance: str = ""  # "", "in_person" (in person or hybrid), "online" (online or hybrid)
    fellowship: str = ""
    page: int = 1
    per_page: int = PER_PAGE


@dataclass
class Row:
    meeting: Meeting
    starts_at: datetime | None
    distance_km: float | None


@dataclass
class Result:
    rows: list[Row] = field(default_factory=list)
    total: int = 0
    page: int = 1
    pages: int = 1
    radius_km: float | None = None  # the radius used near a place
    widened_from: float | None = None  # the radius that found too few, when it was widened
    found_before: int = 0  # how many that radius found


def is_rural(place: geo.Place | None) -> bool:
    """A postal place whose forward sortation area is rural (second character 0, e.g. K0H)."""
    return place is not None and place.kind == "postal" and place.label[1:2] == "0"


def auto_radius(place: geo.Place | None) -> float:
    return RURAL_KM if is_rural(place) else URBAN_KM


def _soon(now: datetime, minutes: int) -> Q:
    match = Q(pk__in=[])
    for window in weekly.windows(now, minutes, zones_in_use()):
        spans = Q(pk__in=[])
        for day, lo, hi in window.spans:
            spans |= Q(days__contains=str(day), start_minute__gte=lo, start_minute__lt=hi)
        match |= Q(timezone__in=window.zones) & spans
    return match


def _near(place: geo.Place, radius_km: float) -> Q:
    min_lat, max_lat, min_lng, max_lng = geo.bounding_box(place.lat, place.lng, radius_km)
    box = Q(geo_lat__gte=min_lat, geo_lat__lte=max_lat, geo_lng__gte=min_lng, geo_lng__lte=max_lng)
    cells = geo.grid_cells(min_lat, max_lat, min_lng, max_lng)
    return box & Q(grid_cell__in=cells) if cells is not None else box


def search(query: SearchQuery, *, now: datetime) -> Result:
    """Meetings matching every filter, soonest first (then nearest). A place limits meetings
    people go to (in person or hybrid) to the radius; "online" shows online and hybrid
    meetings from anywhere, so a place does not limit them.

    With a place and no radius chosen, the radius fits the place (:func:`auto_radius`) and is
    widened (``WIDER_KM``) while fewer than ``ENOUGH`` meetings are found; the result says the
    radius used and the one it was widened from."""
    place = query.place if query.attendance != "online" else None
    if place is None or query.radius_km is not None:
        return _search(query, now=now)
    first = auto_radius(place)
    result = _search(replace(query, radius_km=first), now=now)
    found_before = result.total
    for wider in WIDER_KM:
        if result.total >= ENOUGH or wider <= (result.radius_km or first):
            continue
        widened = _search(replace(query, radius_km=wider), now=now)
        if widened.total > result.total:  # wider only when it finds more
            result = widened
    if result.radius_km != first:
        result.widened_from = first
        result.found_before = found_before
    return result


def _search(query: SearchQuery, *, now: datetime) -> Result:
    rows = public().exclude(attendance=Attendance.INACTIVE)
    if query.fellowship:
        rows = rows.filter(fellowship__slug=query.fellowship)
    if query.type:
        rows = rows.filter(types__contains=f" {query.type} ")
    if query.language:
        rows = rows.filter(types__contains=f" {query.language} ")
    if query.attendance == "in_person":
        rows = rows.filter(attendance__in=[Attendance.IN_PERSON, Attendance.HYBRID])
    elif query.attendance == "online":
        rows = rows.filter(attendance__in=[Attendance.ONLINE, Attendance.HYBRID])
    if query.q.strip():
        for word in query.q.split()[:6]:
            rows = rows.filter(
                Q(name__icontains=word) | Q(location__icontains=word) | Q(group__icontains=word)
                | Q(city__icontains=word) | Q(formatted_address__icontains=word)
            )  # fmt: skip
    if query.day is not None:
        rows = rows.filter(days__contains=str(query.day))
    if query.after_minute is not None:
        rows = rows.filter(start_minute__gte=query.after_minute)
    if query.soon:
        rows = rows.filter(_soon(now, SOON_MINUTES))
    place = query.place if query.attendance != "online" else None
    radius = min(max(query.radius_km or auto_radius(place), 1.0), MAX_RADIUS_KM)
    if place is not None:
        rows = rows.filter(_near(place, radius), attendance__in=[Attendance.IN_PERSON,
                                                                 Attendance.HYBRID])  # fmt: skip
    candidates = rows.order_by().values_list(
        "pk", "days", "start_minute", "timezone", "geo_lat", "geo_lng", "name"
    )
    found: list[tuple[float, float, str, Any, datetime | None, float | None]] = []
    for pk, days, minute, tz, lat, lng, name in candidates.iterator(chunk_size=2000):
        distance = None
        if place is not None:
            if lat is None or lng is None:
                continue
            distance = geo.haversine_km(place.lat, place.lng, lat, lng)
            if distance > radius:
                continue
        day_list = weekly.days_of(days)
        if query.soon:
            starts = weekly.starts_within(day_list, minute, tz, now, SOON_MINUTES)
            if starts is None:
                continue
        elif query.day is not None and minute is not None:
            starts = _on_day(query.day, minute, tz, now)
        else:
            starts = weekly.next_start(day_list, minute, tz, weekly.floor_minute(now))
        key = starts.timestamp() if starts is not None else float("inf")
        found.append((key, distance or 0.0, name, pk, starts, distance))
    found.sort(key=lambda r: (r[0], r[1], r[2], str(r[3])))
    total = len(found)
    pages = max(1, -(-total // query.per_page))
    page = min(max(query.page, 1), pages)
    chosen = found[(page - 1) * query.per_page : page * query.per_page]
    meetings = Meeting.objects.select_related("fellowship", "organization").in_bulk(
        [r[3] for r in chosen]
    )
    return Result(
        rows=[Row(meetings[r[3]], r[4], r[5]) for r in chosen],
        total=total,
        page=page,
        pages=pages,
        radius_km=radius if place is not None else None,
    )


def _on_day(day: int, minute: int, tz: str, now: datetime) -> datetime:
    """The next start on spec day ``day`` (this week's if it is still to come)."""
    local = now.astimezone(weekly.zone(tz))
    ahead = (day - weekly.spec_day(local.date())) % 7
    start = weekly.local_start(local.date() + timedelta(days=ahead), minute, tz)
    if start < weekly.floor_minute(now):
        start = weekly.local_start(local.date() + timedelta(days=ahead + 7), minute, tz)
    return start


# --- the feed ---------------------------------------------------------------------------------

FEED_VALUES = (
    "name", "slug", "days", "start_minute", "end_minute", "timezone", "types", "notes",
    "location", "location_notes", "formatted_address", "address", "city", "state",
    "postal_code", "country", "latitude", "longitude", "approximate", "regions", "group",
    "group_notes", "conference_url", "conference_url_notes", "conference_phone",
    "conference_phone_notes", "venmo", "square", "paypal", "homegroup_online", "url",
    "feedback_emails", "updated_at", "fellowship__slug", "organization__name_en",
    "organization__name_fr", "organization__city", "organization__province",
)  # fmt: skip


def feed_rows(*, organization: str = "", fellowship: str = "") -> Iterator[dict[str, Any]]:
    """Every listed meeting (inactive ones too: the feed says what we hold), as plain values."""
    rows = public()
    if organization:
        rows = rows.filter(organization__slug=organization)
    if fellowship:
        rows = rows.filter(fellowship__slug=fellowship)
    return rows.order_by("slug").values(*FEED_VALUES).iterator(chunk_size=2000)


# --- staff ------------------------------------------------------------------------------------


def staff_meetings(actor: Any, *, organization: Any, archived: bool = False) -> QuerySet[Meeting]:
    rows = scope(Meeting.objects.all(), actor, minimum=Role.PEER_WORKER).filter(
        organization=organization, archived_at__isnull=not archived
    )
    return rows.select_related("fellowship").order_by("days", "start_minute", "name")


def staff_meeting(actor: Any, *, organization: Any, meeting_id: Any) -> Meeting:
    return get_scoped_or_404(
        Meeting.objects.filter(organization=organization).select_related("fellowship"),
        actor,
        minimum=Role.PEER_WORKER,
        pk=meeting_id,
    )


def pending_suggestions(actor: Any, *, organization: Any) -> QuerySet[MeetingSuggestion]:
    return (
        scope(MeetingSuggestion.objects.all(), actor, field="meeting__organization",
              minimum=Role.COORDINATOR)
        .filter(meeting__organization=organization, status=Status.PENDING)
        .select_related("meeting")
        .order_by("created_at")
    )  # fmt: skip


def suggestion_for(actor: Any, *, organization: Any, suggestion_id: Any) -> MeetingSuggestion:
    return get_scoped_or_404(
        MeetingSuggestion.objects.filter(meeting__organization=organization).select_related(
            "meeting", "meeting__organization"
        ),
        actor,
        field="meeting__organization",
        minimum=Role.COORDINATOR,
        pk=suggestion_id,
    )
