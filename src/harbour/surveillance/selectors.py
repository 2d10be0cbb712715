"""Reads of the surveillance app: what a coordinator's dashboard and the public summary show.

Staff figures are the organization's own (its events and the anonymous reports in the areas
it watches), exact, to coordinators and viewers of that organization only. Public figures
come from organizations that chose to share them, and every count goes through
``core.suppression``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import h3
import numpy as np
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from harbour.core import geo, suppression
from harbour.core.permissions import scope
from harbour.core.roles import Role
from harbour.drugcheck.models import HIGH_RISK
from harbour.surveillance import detection
from harbour.surveillance.models import (
    DetectionSettings,
    Level,
    OverdoseEvent,
    PublishedSeries,
    Signal,
    SignalStatus,
)
from harbour.surveillance.services import settings_for, visible_events

PUBLIC_H3_RESOLUTION = 6  # about 36 km² a cell on the public map


def signals_for(actor: Any, *, organization: Any, status: str | None = None) -> QuerySet[Signal]:
    qs = scope(Signal.objects.all(), actor, minimum=Role.VIEWER).filter(organization=organization)
    if status:
        qs = qs.filter(status=status)
    return qs


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment, ZoneInfo(settings.TIME_ZONE)).date()


@dataclass
class Day:
    day: date
    count: int
    expected: float | None
    upperbound: float | None
    alarm: bool


@dataclass
class Timeline:
    level: str
    area: str
    days: list[Day]
    method: str

    @property
    def total(self) -> int:
        return sum(d.count for d in self.days)

    @property
    def alarms(self) -> int:
        return sum(d.alarm for d in self.days)


def _events_of(organization: Any, level: str, area: str) -> QuerySet[OverdoseEvent]:
    events = visible_events(organization)
    if level == Level.FSA:
        events = events.filter(fsa=area)
    elif level == Level.CITY:
        events = events.filter(city__iexact=area)
    elif level == Level.REGION:
        events = events.filter(health_region=area)
    elif level == Level.CLUSTER:
        events = events.filter(fsa__in=area.split())
    return events


def timeline(
    organization: Any, *, level: str = Level.COMMUNITY, area: str = "", days: int = 90,
    today: date | None = None,
) -> Timeline:  # fmt: skip
    """Daily counts of the last ``days`` local days with the band the detector expects
    (Poisson-gamma over the 28 days before each day; EARS C2 would flag the same spikes on a
    busy series) and the days it flags."""
    today = today or local_day(timezone.now())
    history = days + 28
    first = today - timedelta(days=history - 1)
    counts = np.zeros(history)
    for occurred_at in (
        _events_of(organization, level, area)
        .filter(
            occurred_at__gte=datetime.combine(
                first, datetime.min.time(), ZoneInfo(settings.TIME_ZONE)
            )
        )
        .values_list("occurred_at", flat=True)
    ):
        index = (local_day(occurred_at) - first).days
        if 0 <= index < history:
            counts[index] += 1
    options = settings_for(organization)
    result = detection.poisson_gamma(counts, baseline=28, alpha=options.alpha)
    out = []
    for index in range(28, history):
        upper = result.upperbound[index]
        expected = result.expected[index]
        out.append(
            Day(
                day=first + timedelta(days=index),
                count=int(counts[index]),
                expected=float(expected) if np.isfinite(expected) else None,
                upperbound=float(upper) if np.isfinite(upper) else None,
                alarm=bool(result.alarm[index]) and counts[index] >= options.min_events,
            )
        )
    return Timeline(level=level, area=area, days=out, method="poisson_gamma")


@dataclass
class AreaCount:
    key: str  # FSA or H3 cell
    count: int
    cell: suppression.Cell | None = None


def area_counts(organization: Any, *, days: int = 28) -> list[AreaCount]:
    """Events by postal area over the last ``days`` days, busiest first (staff: exact)."""
    since = timezone.now() - timedelta(days=days)
    counter = Counter(
        visible_events(organization).filter(occurred_at__gte=since).values_list("fsa", flat=True)
    )
    return [AreaCount(key=k or "?", count=v) for k, v in counter.most_common()]


def cell_counts(events: QuerySet[OverdoseEvent], *, resolution: int = 7) -> dict[str, int]:
    """Events per H3 cell, at ``resolution`` (7 as stored, or a coarser parent)."""
    counter: Counter[str] = Counter()
    for cell in events.exclude(h3_cell="").values_list("h3_cell", flat=True):
        counter[cell if resolution >= 7 else h3.cell_to_parent(cell, resolution)] += 1
    return dict(counter)


def suppressed(counts: dict[str, int]) -> dict[str, suppression.Cell]:
    """Map cells as published: counts 1–4 hidden, and one more where a single hidden cell
    could be worked out from the total."""
    return dict(zip(counts, suppression.row(list(counts.values())), strict=True))


# --- panels from other apps -------------------------------------------------------------------


@dataclass
class Panel:
    title: str
    figures: list[tuple[str, str]]  # (label, value)
    link: str = ""


PANELS: list[Callable[[Any, Any, date, date], Panel | None]] = []


def register_panel(provider: Callable[[Any, Any, date, date], Panel | None]) -> None:
    """Apps above surveillance (outreach: naloxone, encounters) add a dashboard panel:
    ``provider(actor, organization, first_day, last_day)`` returns a Panel or None."""
    PANELS.append(provider)


def drugcheck_panel(actor: Any, organization: Any, first: date, last: date) -> Panel | None:
    from django.utils.translation import gettext as _

    from harbour.drugcheck import selectors as drugcheck

    samples = drugcheck.own_samples(actor, organization=organization).filter(
        collected_on__gte=first, collected_on__lte=last
    )
    total = samples.count()
    if not total:
        return None
    by_sample: dict[Any, set[str]] = drugcheck._classes_by_sample(samples)
    risky = sum(1 for classes in by_sample.values() if classes & HIGH_RISK)
    return Panel(
        title=_("Drug checking"),
        figures=[
            (_("samples checked"), str(total)),
            (_("held a high-risk substance"), str(risky)),
        ],
    )


def panels(actor: Any, organization: Any, first: date, last: date) -> list[Panel]:
    out = []
    for provider in [drugcheck_panel, *PANELS]:
        panel = provider(actor, organization, first, last)
        if panel is not None:
            out.append(panel)
    return out


# --- the public release ("trends") ------------------------------------------------------------


TRENDS = "trends"
TRENDS_WEEKS = 4  # a release is a block of 4 closed ISO weeks, and blocks never overlap
TRENDS_LAG_DAYS = 7  # a block goes out a week after it closes, once late reports are in
TRENDS_SHOWN = 3  # the public page shows the 3 newest releases side by side: 12 weeks


def public_events() -> QuerySet[OverdoseEvent]:
    """Events of organizations that publish their figures (a setting, off by default), and
    anonymous community reports; never spam-excluded ones."""
    sharing = DetectionSettings.objects.filter(share_publicly=True).values("organization_id")
    return OverdoseEvent.objects.filter(
        Q(organization_id__in=sharing) | Q(organization__isnull=True), excluded=False
    )


def trends_release(start: date, end: date) -> dict[str, Any]:
    """The public figures for the whole closed weeks ``[start, end)``, as stored in a release:
    the events of each week (all areas), of each postal area, and of each map hexagon (H3
    resolution 6, the hexagon holding the area's centre, so the map is a grouping of the
    areas and never cuts one), all suppressed together in one call to
    :func:`harbour.core.suppression.linked`: the weeks, the areas and the hexagons each add up
    to the release's total, and each hexagon to its areas. Only the marks ("12", "<5", "x")
    are stored; no count that was hidden."""
    zone = ZoneInfo(settings.TIME_ZONE)
    since = datetime.combine(start, datetime.min.time(), zone)
    until = datetime.combine(end, datetime.min.time(), zone)
    weeks = (end - start).days // 7
    by_week = [0] * weeks
    by_area: Counter[str] = Counter()
    events = public_events().filter(occurred_at__gte=since, occurred_at__lt=until)
    for occurred_at, fsa in events.values_list("occurred_at", "fsa"):
        index = (local_day(occurred_at) - start).days // 7
        if 0 <= index < weeks:
            by_week[index] += 1
            by_area[fsa or "?"] += 1
    total = sum(by_week)
    hexes: dict[str, list[str]] = defaultdict(list)
    for fsa in sorted(by_area):
        centre = geo.fsa_centroid(fsa) if fsa != "?" else None
        if centre is not None:
            hexes[h3.latlng_to_cell(centre.lat, centre.lng, PUBLIC_H3_RESOLUTION)].append(fsa)
    values: dict[str, int] = {"total": total}
    values.update({f"w:{i}": n for i, n in enumerate(by_week)})
    values.update({f"a:{fsa}": n for fsa, n in by_area.items()})
    for hexagon, fsas in hexes.items():
        values[f"h:{hexagon}"] = sum(by_area[f] for f in fsas)
    values["h:-"] = total - sum(values[f"h:{h}"] for h in hexes)  # not on the map
    groups: list[tuple[str, Sequence[str]]] = [
        ("total", [f"w:{i}" for i in range(weeks)]),
        ("total", [f"a:{fsa}" for fsa in by_area]),
        ("total", [*(f"h:{h}" for h in hexes), "h:-"]),
        *((f"h:{h}", [f"a:{f}" for f in fsas]) for h, fsas in hexes.items()),
    ]
    cells = suppression.linked(values, groups, published=set(values) - {"h:-"})
    return {
        "weeks": [
            {"start": (start + timedelta(weeks=i)).isoformat(), "count": str(cells[f"w:{i}"])}
            for i in range(weeks)
        ],
        "areas": [{"fsa": fsa, "count": str(cells[f"a:{fsa}"])} for fsa in sorted(by_area)],
        "map": [{"cell": h, "count": str(cells[f"h:{h}"])} for h in sorted(hexes)],
        "total": str(cells["total"]),
        "organizations": str(DetectionSettings.objects.filter(share_publicly=True).count()),
    }


@dataclass
class Trends:
    """What the public page shows: the newest releases, oldest first, as stored."""

    releases: list[Any]  # core.models.Release
    areas: list[tuple[str, list[str]]]  # postal area, its mark in each release
    totals: list[str]  # all areas, each release
    weeks: list[date]
    weekly: list[suppression.Cell]
    cells: dict[str, suppression.Cell]  # the newest release's map

    @property
    def latest(self) -> Any:
        return self.releases[-1] if self.releases else None


def public_trends() -> Trends:
    """The stored trends releases the public page serves (never computed live)."""
    from harbour.core import releases

    shown = releases.recent(TRENDS, TRENDS_SHOWN)
    names = sorted({a["fsa"] for r in shown for a in r.data.get("areas", [])})
    by_release = [{a["fsa"]: a["count"] for a in r.data.get("areas", [])} for r in shown]
    weeks = [w for r in shown for w in r.data.get("weeks", [])]
    newest = shown[-1].data.get("map", []) if shown else []
    return Trends(
        releases=shown,
        areas=[(name, [found.get(name, "0") for found in by_release]) for name in names],
        totals=[r.data.get("total", "0") for r in shown],
        weeks=[date.fromisoformat(w["start"]) for w in weeks],
        weekly=[suppression.parse(w["count"]) for w in weeks],
        cells={m["cell"]: suppression.parse(m["count"]) for m in newest},
    )


def published_series(
    *, substance: str = "Opioids", harm: str = "Deaths", region: str = "Canada",
    unit: str = "Number",
) -> list[PublishedSeries]:  # fmt: skip
    return list(
        PublishedSeries.objects.filter(
            substance=substance, harm=harm, region=region, unit=unit
        ).order_by("period_start")
    )


def published_regions() -> Sequence[str]:
    return list(
        PublishedSeries.objects.order_by("region").values_list("region", flat=True).distinct()
    )


@dataclass
class SignalGroup:
    """New signals of one area whose windows overlap: one burst seen by several methods (and
    at several levels: a postal area's count and a cluster centred on it are one thing)."""

    area: str
    label: str  # the area, or the level's name when the signal is for the whole community
    start: datetime
    end: datetime
    signals: list[Signal]
    # the wider areas (the city, the whole community) whose signals over the same days are
    # this burst seen from further out: "also seen in Kingston, Whole community"
    also: list[str] = field(default_factory=list)

    @property
    def methods(self) -> list[str]:
        return list(dict.fromkeys(str(s.get_method_display()) for s in self.signals))

    @property
    def first(self) -> Signal:
        return self.signals[0]


def new_signal_groups(actor: Any, *, organization: Any, limit: int = 500) -> list[SignalGroup]:
    """New (unreviewed) signals grouped per area: signals of the same area whose periods
    overlap are one group, listing the methods that fired. Coordinators only (they are the
    ones who dismiss a signal or turn it into an alert). Newest group first."""
    rows = list(
        scope(Signal.objects.all(), actor, minimum=Role.COORDINATOR)
        .filter(organization=organization, status=SignalStatus.NEW)
        .order_by("-period_end")[:limit]
    )

    def key(signal: Signal) -> str:
        return signal.area or f"level:{signal.level}"

    rows.sort(key=lambda s: (key(s), s.period_start))
    groups: list[SignalGroup] = []
    for signal in rows:
        last = groups[-1] if groups else None
        if last is not None and last.area == key(signal) and signal.period_start <= last.end:
            last.signals.append(signal)
            last.end = max(last.end, signal.period_end)
            continue
        groups.append(
            SignalGroup(
                area=key(signal),
                label=signal.area or str(signal.get_level_display()),
                start=signal.period_start,
                end=signal.period_end,
                signals=[signal],
            )
        )
    groups = _fold_wider(groups)
    groups.sort(key=lambda g: (-g.end.timestamp(), g.label))
    return groups


WIDER_LEVELS = {Level.CITY, Level.REGION, Level.COMMUNITY}


def _fold_wider(groups: list[SignalGroup]) -> list[SignalGroup]:
    """A burst in one postal area also lifts its city's and the whole community's counts: a
    signal at a wider level whose days overlap a narrower group's is that burst seen from
    further out, and joins it (the narrower group with the most signals, then the newest)
    rather than standing as another thing to review. With no narrower group over the same
    days, a wider signal stays its own item."""
    narrow = [g for g in groups if g.first.level not in WIDER_LEVELS]
    kept = list(narrow)
    for group in groups:
        if group.first.level not in WIDER_LEVELS:
            continue
        over = [g for g in narrow if g.start <= group.end and group.start <= g.end]
        if not over:
            kept.append(group)
            continue
        target = max(over, key=lambda g: (len(g.signals), g.end))
        target.signals.extend(group.signals)
        target.also.append(group.label)
        target.start, target.end = min(target.start, group.start), max(target.end, group.end)
    return kept
