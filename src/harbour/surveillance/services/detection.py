"""Detection runs: series, methods, signals found, saved and notified."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from harbour.core import geo
from harbour.core.roles import Role
from harbour.surveillance.models import (
    DetectionSettings,
    Level,
    Method,
    OverdoseEvent,
    Signal,
    SignalStatus,
)
from harbour.surveillance.services.config import settings_for

log = logging.getLogger(__name__)

DAILY_STEPS = 120  # days of history for the daily methods (EARS needs 10, Poisson-gamma 28)
FARRINGTON_WEEKS = 5 * 52 + 30  # b = 5 years of baseline, w = 3, and the weeks left out
SCAN_HISTORY_DAYS = 56
SCAN_P_VALUE = 0.05
POISSON_GAMMA_BASELINE = 28


# --- detection --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """Counts of the events visible to an organization, per area, in 24-hour steps ending at
    ``now`` (the last step is the last 24 hours)."""

    keys: list[tuple[str, str]]  # (level, area)
    counts: np.ndarray  # len(keys) x steps
    now: datetime
    step: timedelta


def _series(events: Iterable[tuple[datetime, str, str, str]], now: datetime, steps: int,
            step: timedelta, areas: Sequence[str]) -> Series:  # fmt: skip
    """Counts per (level, area) from (occurred_at, fsa, city, health_region) rows. Every watched
    area has a series even without events; missing steps are zeros."""
    keys: dict[tuple[str, str], int] = {(Level.COMMUNITY, ""): 0}
    for fsa in areas:
        keys.setdefault((Level.FSA, fsa), len(keys))
    rows: list[int] = []
    cols: list[int] = []
    seconds = step.total_seconds()
    for occurred_at, fsa, city, region in events:
        age = (now - occurred_at).total_seconds()
        position = steps - 1 - int(age // seconds)
        if not 0 <= position < steps:
            continue
        for key in ((Level.COMMUNITY, ""), (Level.FSA, fsa), (Level.CITY, city.title()),
                    (Level.REGION, region)):  # fmt: skip
            if key[1] or key[0] == Level.COMMUNITY:
                index = keys.setdefault(key, len(keys))
                rows.append(index)
                cols.append(position)
    counts = np.zeros((len(keys), steps))
    if rows:
        np.add.at(counts, (np.array(rows), np.array(cols)), 1)
    return Series(keys=list(keys), counts=counts, now=now, step=step)


_FINEST_FIRST: dict[str, int] = {Level.FSA: 0, Level.CITY: 1, Level.REGION: 2, Level.COMMUNITY: 3}


def _distinct(series: Series) -> Series:
    """Leave out a series that holds exactly the events of a finer one (a city whose events
    are all in one postal area, a community that is one city): one spike, one signal."""
    order = sorted(range(len(series.keys)), key=lambda i: _FINEST_FIRST[series.keys[i][0]])
    seen: set[bytes] = set()
    keep = []
    for index in order:
        row = series.counts[index]
        signature = row.tobytes()
        if row.any() and signature in seen:
            continue
        seen.add(signature)
        keep.append(index)
    keep.sort()
    return Series(keys=[series.keys[i] for i in keep], counts=series.counts[keep],
                  now=series.now, step=series.step)  # fmt: skip


@dataclass
class Found:
    method: str
    level: str
    area: str
    start: datetime
    end: datetime
    observed: int
    expected: float | None
    upperbound: float | None
    pvalue: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _newest(series: Series, method: str, result: Any, min_events: int) -> list[Found]:
    last = series.counts.shape[1] - 1
    found = []
    alarms = np.asarray(result.alarm)[:, last]
    for row in np.flatnonzero(alarms):
        observed = int(series.counts[row, last])
        if observed < min_events:
            continue
        level, area = series.keys[row]
        expected = getattr(result, "expected", None)
        pvalue = getattr(result, "pvalue", None)
        found.append(
            Found(
                method=method, level=level, area=area, start=series.now - series.step,
                end=series.now, observed=observed,
                expected=_finite(expected[row, last]) if expected is not None else None,
                upperbound=_finite(result.upperbound[row, last]),
                pvalue=_finite(pvalue[row, last]) if pvalue is not None else None,
            )
        )  # fmt: skip
    return found


def find_signals(
    *,
    events: Sequence[tuple[datetime, str, str, str]],
    now: datetime,
    options: DetectionSettings,
) -> list[Found]:
    """Run the organization's methods over its events; what alarms at the newest step.

    ``events`` are (occurred_at, fsa, city, health_region), at most ``FARRINGTON_WEEKS`` weeks
    old. Pure apart from reading ``options``: the detection library does the statistics
    (imported here: scipy takes most of a second to load, and the worker's clock, which
    records events, must start fast after a restart)."""
    from harbour.surveillance import detection

    methods = options.method_list()
    areas = options.area_list()
    found: list[Found] = []
    daily = _distinct(_series(events, now, DAILY_STEPS, timedelta(days=1), areas))
    ears_methods: tuple[tuple[str, Literal["C1", "C2", "C3"]], ...] = (
        (Method.EARS_C1, "C1"), (Method.EARS_C2, "C2"), (Method.EARS_C3, "C3"),
    )  # fmt: skip
    for method, name in ears_methods:
        if method in methods:
            ears = detection.ears(daily.counts, method=name, alpha=options.ears_alpha)
            found += _newest(daily, method, ears, options.min_events)
    if Method.POISSON_GAMMA in methods:
        gamma = detection.poisson_gamma(
            daily.counts, baseline=POISSON_GAMMA_BASELINE, alpha=options.alpha
        )
        found += _newest(daily, Method.POISSON_GAMMA, gamma, options.min_events)
    if Method.FARRINGTON in methods:
        weekly = _distinct(_series(events, now, FARRINGTON_WEEKS, timedelta(weeks=1), areas))
        last = FARRINGTON_WEEKS - 1
        farrington = detection.farrington_flexible(
            weekly.counts, freq=52, range=[last], alpha=options.alpha
        )
        found += _newest(weekly, Method.FARRINGTON, farrington, options.min_events)
    if Method.COUNT_24H in methods:
        found += _count_window(events, now, options.count_threshold)
    if Method.SCAN in methods:
        found += _scan(events, now, options)
    return found


def _count_window(events: Sequence[tuple[datetime, str, str, str]], now: datetime,
                  threshold: int) -> list[Found]:  # fmt: skip
    from harbour.surveillance import detection

    since = now - timedelta(hours=24)
    recent = [(at, fsa) for at, fsa, _city, _region in events if since < at <= now and fsa]
    if len(recent) < threshold:
        return []
    times = np.array([at.replace(tzinfo=None) for at, _fsa in recent], dtype="datetime64[s]")
    groups = np.array([fsa for _at, fsa in recent])
    result = detection.count_window_alarms(times, threshold=threshold, groups=groups)
    found = []
    for episode in range(len(result.episode_start)):
        utc = ZoneInfo("UTC")
        start = result.episode_start[episode].astype(datetime).replace(tzinfo=utc)
        end = result.episode_end[episode].astype(datetime).replace(tzinfo=utc)
        found.append(
            Found(
                method=Method.COUNT_24H, level=Level.FSA, area=str(result.episode_group[episode]),
                start=start, end=now, observed=int(result.episode_events[episode]),
                expected=None, upperbound=float(threshold - 1),
                detail={"last_event": end.isoformat()},
            )
        )  # fmt: skip
    return found


def _scan(events: Sequence[tuple[datetime, str, str, str]], now: datetime,
          options: DetectionSettings) -> list[Found]:  # fmt: skip
    from harbour.surveillance import detection

    days = SCAN_HISTORY_DAYS
    since = now - timedelta(days=days)
    recent = [(at, fsa) for at, fsa, _c, _r in events if since < at <= now and fsa]
    areas = sorted({fsa for _at, fsa in recent if geo.fsa_centroid(fsa) is not None})
    if len(areas) < 2 or len(recent) < 10:
        return []
    index = {fsa: i for i, fsa in enumerate(areas)}
    area_of, day_of = [], []
    for at, fsa in recent:
        if fsa in index:
            area_of.append(index[fsa])
            day_of.append(days - 1 - int((now - at).total_seconds() // 86400))
    counts = detection.events_to_counts(np.array(area_of), np.array(day_of), len(areas), days)
    coordinates = []
    for fsa in areas:
        centroid = geo.fsa_centroid(fsa)
        assert centroid is not None
        coordinates.append((centroid.lat, centroid.lng))
    seed = int(now.timestamp()) // 3600  # the same hour's rerun gives the same answer
    result = detection.space_time_permutation_scan(
        counts, np.array(coordinates), geographic=True, max_days=options.scan_days,
        max_radius=15.0, n_simulations=999, rng=seed,
    )  # fmt: skip
    found = []
    for cluster in result.clusters:
        if cluster.p_value > SCAN_P_VALUE or cluster.observed < options.min_events:
            continue
        names = [areas[i] for i in cluster.areas]
        found.append(
            Found(
                method=Method.SCAN, level=Level.CLUSTER, area=" ".join(names),
                start=now - timedelta(days=days - cluster.start), end=now,
                observed=cluster.observed, expected=cluster.expected, upperbound=None,
                pvalue=cluster.p_value,
                detail={"radius_km": round(cluster.radius, 1),
                        "relative_risk": round(cluster.relative_risk, 2)},
            )
        )  # fmt: skip
    return found


def _save(organization: Any, item: Found) -> tuple[Signal, bool]:
    """One signal per spike: a rerun while the same spike lasts updates the open signal."""
    recent = Signal.objects.filter(
        organization=organization, method=item.method, level=item.level, area=item.area,
        period_end__gt=item.end - timedelta(hours=24),
    )  # fmt: skip
    open_signal = recent.order_by("-period_end").first()
    if open_signal is not None:
        if item.observed > open_signal.observed and open_signal.status == SignalStatus.NEW:
            Signal.objects.filter(pk=open_signal.pk).update(
                observed=item.observed, period_end=item.end, expected=item.expected,
                upperbound=item.upperbound, pvalue=item.pvalue,
            )  # fmt: skip
        return open_signal, False
    signal, created = Signal.objects.get_or_create(
        organization=organization, method=item.method, level=item.level, area=item.area,
        period_end=item.end,
        defaults={"period_start": item.start, "observed": item.observed,
                  "expected": item.expected, "upperbound": item.upperbound,
                  "pvalue": item.pvalue, "detail": item.detail},
    )  # fmt: skip
    return signal, created


def _notify(organization: Any, signals: list[Signal]) -> int:
    """Email the organization's coordinators (each in their language) about new signals."""
    from harbour.accounts.models import Membership
    from harbour.core.roles import ROLE_RANK
    from harbour.core.views import absolute_url
    from harbour.notify import services as notify

    if not signals:
        return 0
    link = absolute_url("surveillance-staff:dashboard", slug=organization.slug)
    roles = [r for r, rank in ROLE_RANK.items() if rank >= ROLE_RANK[Role.COORDINATOR]]
    members = Membership.objects.filter(
        organization=organization, role__in=roles, user__is_active=True
    ).select_related("user")
    sent = 0
    for member in members:
        lang = "fr" if member.user.preferred_language.startswith("fr") else "en"
        with translation.override(lang):
            lines = [
                "- "
                + _("%(method)s: %(area)s (%(level)s), %(observed)s events") % {
                    "method": s.get_method_display(), "area": s.area or _("whole community"),
                    "level": s.get_level_display(), "observed": s.observed}
                + (_(", about %(expected)s expected") % {"expected": f"{s.expected:.1f}"}
                   if s.expected is not None else "")
                for s in signals
            ]  # fmt: skip
            body = "\n".join(
                [_("Harbour found more overdose events than usual:"), "", *lines, "",
                 _("See the signals and decide what to do: %(link)s") % {"link": link}]
            )  # fmt: skip
            notify.enqueue(
                key=f"signal:{signals[0].pk}:n{len(signals)}:user:{member.user_id}",
                channel="email",
                to=member.user.email,
                subject=_("Harbour: possible spike in overdoses"),
                body=body,
                lang=lang,
            )
        sent += 1
    return sent


def visible_events(organization: Any, options: DetectionSettings | None = None) -> Any:
    """Events an organization's detection counts: its own, and anonymous community reports in
    the postal areas it watches. Spam-excluded reports never count."""
    from django.db.models import Q

    options = options or settings_for(organization)
    condition = Q(organization=organization)
    areas = options.area_list()
    if areas:
        condition |= Q(organization__isnull=True, fsa__in=areas)
    return OverdoseEvent.objects.filter(condition, excluded=False)


def detect(*, organization: Any, now: datetime | None = None) -> list[Signal]:
    """One detection run for an organization: new signals are saved and coordinators told."""
    now = now or timezone.now()
    options = settings_for(organization)
    if not options.enabled:
        return []
    weeks = FARRINGTON_WEEKS if Method.FARRINGTON in options.method_list() else 0
    since = now - max(timedelta(days=DAILY_STEPS), timedelta(weeks=weeks))
    rows = list(
        visible_events(organization, options)
        .filter(occurred_at__gt=since, occurred_at__lte=now)
        .values_list("occurred_at", "fsa", "city", "health_region")
    )
    found = find_signals(events=rows, now=now, options=options)
    new: list[Signal] = []
    with transaction.atomic():
        for item in found:
            signal, created = _save(organization, item)
            if created:
                new.append(signal)
        if options.notify_email:
            _notify(organization, new)
    return new


def detect_all(now: datetime | None = None) -> int:
    """Every active organization that watches for spikes (saved settings, enabled)."""
    total = 0
    for options in DetectionSettings.objects.filter(
        enabled=True, organization__is_active=True
    ).select_related("organization"):
        try:
            total += len(detect(organization=options.organization, now=now))
        except Exception:  # one organization's failure must not stop the others
            log.exception("detection failed for %s", options.organization_id)
    return total
