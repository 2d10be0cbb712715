"""Releases: the one way a public or cross-organization figure is made.

A release covers whole closed periods (ISO weeks starting Monday, or calendar months) that
closed at least ``lag_days`` ago, in the local time zone (``settings.TIME_ZONE``). It is
computed once by the scheduler (:func:`make_due`, hourly, and ``harbour make-releases``),
stored as a :class:`~harbour.core.models.Release` and served as stored by :func:`latest`: a
new report changes nothing public until its period has closed, the lag has passed and the next
release is made, and polling a page shows the same figures all period long.

Each app registers a *kind* with a ``build(start, end)`` function that returns what its pages
show for the periods in ``[start, end)``, already suppressed through
:mod:`harbour.core.suppression` (every table jointly: cells, margins, complements, and totals
over the periods offered). The stored data holds only strings ("12", "<5", "x", "0") and
labels: :func:`make_due` refuses a build that returns a number.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from harbour.core.models import Release

logger = logging.getLogger(__name__)

Period = Literal["week", "month"]
EPOCH_MONDAY = date(1970, 1, 5)  # tiled weekly releases count their blocks from this Monday


@dataclass(frozen=True)
class Kind:
    name: str
    build: Callable[[date, date], dict[str, Any]]
    period: Period
    periods: int
    lag_days: int
    tiled: bool = False
    backfill: int = 0


_KINDS: dict[str, Kind] = {}


def register(
    kind: str,
    *,
    build: Callable[[date, date], dict[str, Any]],
    period: Period,
    periods: int,
    lag_days: int,
    tiled: bool = False,
    backfill: int = 0,
) -> None:
    """Declare a kind of release. ``build(start, end)`` returns the JSON data for the whole
    closed periods ``[start, end)``, suppressed by the builder itself.

    With ``tiled``, releases of more than one period never overlap: each covers the next
    block of ``periods`` periods (counted from Monday 5 January 1970, or from January), so
    no period is ever in two releases, and two releases cannot be subtracted to reveal a
    period that the suppression of either one protected. (With ``periods=1`` every kind is
    tiled.) ``backfill`` also makes up to that many earlier releases that were never made
    (a tiled page showing several blocks side by side has them from its first day)."""
    if period not in ("week", "month"):
        raise ValueError(f"a release period is 'week' or 'month', not {period!r}")
    if periods < 1 or lag_days < 0:
        raise ValueError("a release needs at least one period and a lag of 0 days or more")
    if backfill < 0:
        raise ValueError("backfill is 0 or more")
    _KINDS[kind] = Kind(kind, build, period, periods, lag_days, tiled, backfill)


def kinds() -> list[Kind]:
    return list(_KINDS.values())


def get_kind(kind: str) -> Kind:
    try:
        return _KINDS[kind]
    except KeyError:
        raise LookupError(f"no release kind {kind!r} is registered") from None


def local_date(now: datetime) -> date:
    return timezone.localtime(now, ZoneInfo(settings.TIME_ZONE)).date()


def _period_start(day: date, period: Period) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _back(end: date, period: Period, count: int) -> date:
    if period == "week":
        return end - timedelta(weeks=count)
    months = end.year * 12 + end.month - 1 - count
    return date(months // 12, months % 12 + 1, 1)


def closed_end(kind: str, now: datetime) -> date:
    """The end (exclusive) of the newest period of ``kind`` that closed ``lag_days`` ago or
    more: a week or month that ends on day E (exclusive) is released from local day
    E + lag_days. For a tiled kind, the end of the newest whole block of periods."""
    spec = get_kind(kind)
    end = _period_start(local_date(now) - timedelta(days=spec.lag_days), spec.period)
    if spec.tiled:
        if spec.period == "week":
            index = (end - EPOCH_MONDAY).days // 7
        else:
            index = end.year * 12 + end.month - 1
        end = _back(end, spec.period, index % spec.periods)
    return end


def bounds(kind: str, now: datetime) -> tuple[date, date]:
    """``(start, end)`` of the release of ``kind`` due at ``now``: its ``periods`` newest
    closed periods."""
    spec = get_kind(kind)
    end = closed_end(kind, now)
    return _back(end, spec.period, spec.periods), end


def period_starts(kind: str, start: date, end: date) -> list[date]:
    """The first day of each period in ``[start, end)``, oldest first."""
    spec = get_kind(kind)
    out = []
    day = start
    while day < end:
        out.append(day)
        day = _back(day, spec.period, -1)
    return out


def check_data(data: Any, path: str = "data") -> None:
    """Refuse anything but strings, booleans, None, lists and string-keyed objects: a number
    in a release could be a count that suppression hid."""
    if isinstance(data, dict):
        for key, value in data.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: keys must be strings, not {key!r}")
            check_data(value, f"{path}.{key}")
    elif isinstance(data, list | tuple):
        for i, value in enumerate(data):
            check_data(value, f"{path}[{i}]")
    elif not (data is None or isinstance(data, str | bool)):
        raise TypeError(f"{path}: a release holds strings only, not {type(data).__name__}")


def make(kind: str, *, now: datetime | None = None) -> Release | None:
    """Build and store the release of ``kind`` due at ``now`` unless it exists (and the
    ``backfill`` earlier ones never made); returns the newest release made, or None when there
    was nothing to make. Idempotent; two workers at once make each release once: the second
    one's insert fails on the unique constraint and is dropped."""
    now = now or timezone.now()
    spec = get_kind(kind)
    end = closed_end(kind, now)
    ends = [_back(end, spec.period, spec.periods * n) for n in range(spec.backfill, -1, -1)]
    made = None
    for block_end in ends:
        made = _make(spec, _back(block_end, spec.period, spec.periods), block_end, now) or made
    return made


def _make(spec: Kind, start: date, end: date, now: datetime) -> Release | None:
    from harbour.core import audit
    from harbour.core.models import AuditAction

    if Release.objects.filter(kind=spec.name, period_end=end).exists():
        return None
    data = spec.build(start, end)
    check_data(data)
    try:
        with transaction.atomic():
            release = Release.objects.create(
                kind=spec.name, period_start=start, period_end=end, made_at=now, data=data
            )
            audit.record(
                action=AuditAction.RELEASE_MAKE,
                obj=release,
                metadata={"kind": spec.name, "period_start": str(start), "period_end": str(end)},
            )
    except IntegrityError:
        if Release.objects.filter(kind=spec.name, period_end=end).exists():
            return None  # another worker made it first
        raise
    return release


def make_due(*, now: datetime | None = None) -> list[Release]:
    """Make every registered kind's release whose newest closed period has none yet. A kind
    whose build fails does not stop the others; the first failure is raised at the end."""
    made: list[Release] = []
    failure: Exception | None = None
    for spec in kinds():
        try:
            release = make(spec.name, now=now)
        except Exception as exc:  # logged; the other kinds still get their release
            logger.exception("release %s failed", spec.name)
            failure = failure or exc
            continue
        if release is not None:
            made.append(release)
    if failure is not None:
        raise failure
    return made


def latest(kind: str) -> Release | None:
    """What a public page serves: the newest stored release of ``kind`` (never live)."""
    return Release.objects.filter(kind=kind).order_by("-period_end").first()


def recent(kind: str, count: int) -> list[Release]:
    """The ``count`` newest stored releases of ``kind``, oldest first (tiled kinds: disjoint
    blocks a page may show side by side, never summed)."""
    return list(Release.objects.filter(kind=kind).order_by("-period_end")[:count])[::-1]
