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

from harbour.core import suppression
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


# --- the public summary -----------------------------------------------------------------------


@dataclass
class PublicSummary:
    weeks: list[date]  # Monday of each week, oldest first
    weekly: list[suppression.Cell]  # all areas, per week
    # per area: the last 4 weeks, the 8 weeks before, and the 12 weeks
    areas: list[tuple[str, suppression.Cell, suppression.Cell, suppression.Cell]]
    recent_total: suppression.Cell
    before_total: suppression.Cell
    total: suppression.Cell
    cells: dict[str, suppression.Cell] = field(default_factory=dict)
    organizations: int = 0


def public_events() -> QuerySet[OverdoseEvent]:
    """Events of organizations that publish their figures (a setting, off by default), and
    anonymous community reports; never spam-excluded ones."""
    sharing = DetectionSettings.objects.filter(share_publicly=True).values("organization_id")
    return OverdoseEvent.objects.filter(
        Q(organization_id__in=sharing) | Q(organization__isnull=True), excluded=False
    )


RECENT_WEEKS = 4


def public_summary(*, weeks: int = 12, today: date | None = None) -> PublicSummary:
    """The last ``weeks`` weeks of public events, as published figures: by postal area for the
    last 4 weeks and the weeks before (with area, period and grand totals) and week by week
    for all areas together.

    Every count 1–4 is hidden, and a second count wherever a published total could give a
    hidden one away: the area table through ``suppression.table``; the weekly figures block by
    block (the 4 recent weeks, the weeks before), since each block's total is the table's
    period total; the map's cells (H3 resolution 6) as one row against the grand total."""
    today = today or local_day(timezone.now())
    monday = today - timedelta(days=today.weekday())
    starts = [monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    since = datetime.combine(starts[0], datetime.min.time(), ZoneInfo(settings.TIME_ZONE))
    events = public_events().filter(occurred_at__gte=since)
    split = weeks - RECENT_WEEKS
    by_area: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_week = [0] * weeks
    for occurred_at, fsa in events.values_list("occurred_at", "fsa"):
        index = (local_day(occurred_at) - starts[0]).days // 7
        if 0 <= index < weeks:
            by_area[fsa or "?"][1 if index < split else 0] += 1
            by_week[index] += 1
    names = sorted(by_area)
    published = suppression.table([by_area[name] for name in names] or [[0, 0]])
    areas = [(name, *published.cells[i], published.row_totals[i]) for i, name in enumerate(names)]
    weekly = suppression.row(by_week[:split]) + suppression.row(by_week[split:])
    cells = suppressed(cell_counts(events, resolution=PUBLIC_H3_RESOLUTION))
    return PublicSummary(
        weeks=starts, weekly=weekly, areas=areas,  # type: ignore[arg-type]
        recent_total=published.column_totals[0], before_total=published.column_totals[1],
        total=published.total, cells=cells,
        organizations=DetectionSettings.objects.filter(share_publicly=True).count(),
    )  # fmt: skip


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
