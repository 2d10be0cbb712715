"""The service-gap report: referrals by type of service across organizations, how they ended,
time to accept, completion rate, and declines for "no capacity" by type and area (unmet need).
Pure Python: rows in, suppressed figures out.

Counts go through :mod:`harbour.core.suppression`: the table of outcomes is published with its
row totals (referrals of each type), column totals and grand total, so it is suppressed as a
whole table (primary and complementary suppression in both directions). Each type's
"no capacity" count is then broken down by area only where that count itself is shown, with
complementary suppression inside the breakdown, so no hidden number can be recovered from the
two tables together. Shares and medians are withheld when they rest on fewer than 5 referrals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from statistics import median
from typing import NamedTuple

from harbour.core import suppression

OPEN = {"sent", "received", "accepted", "in_progress", "on_hold"}
OUTCOMES = {"completed", "unsuccessful", "declined", "redirected", "cancelled"}
EXCLUDED = {"draft", "entered_in_error"}
COLUMNS = ("completed", "no_capacity", "declined_other", "open", "other")


@dataclass(frozen=True)
class Figure:
    """A published count. Hidden counts of 1 to 4 read "<5"; a count hidden only so that a
    small one cannot be worked out (complementary suppression) reads "x"."""

    value: int
    suppressed: bool

    def __str__(self) -> str:
        if not self.suppressed:
            return str(self.value)
        return f"<{suppression.THRESHOLD}" if suppression.is_small(self.value) else "x"

    @property
    def shown(self) -> int | None:
        return None if self.suppressed else self.value


def _figure(cell: suppression.Cell) -> Figure:
    return Figure(cell.value, cell.suppressed)


class Row(NamedTuple):
    service_type: str
    area: str
    status: str
    reason_code: str
    sent_at: datetime | None
    accepted_at: datetime | None


@dataclass(frozen=True)
class Line:
    service_type: str
    cells: list[Figure]  # in COLUMNS order
    total: Figure
    completion: float | None  # completed / referrals with an outcome
    accept_hours: float | None  # median hours from sent to accepted

    def cell(self, column: str) -> Figure:
        return self.cells[COLUMNS.index(column)]


@dataclass(frozen=True)
class Unmet:
    service_type: str
    total: Figure
    areas: list[tuple[str, Figure]]


@dataclass(frozen=True)
class Report:
    lines: list[Line]
    column_totals: list[Figure]
    total: Figure
    completion: float | None
    accept_hours: float | None
    unmet: list[Unmet]

    def column_total(self, column: str) -> Figure:
        return self.column_totals[COLUMNS.index(column)]


def column_of(row: Row) -> str:
    if row.status == "completed":
        return "completed"
    if row.status == "declined":
        return "no_capacity" if row.reason_code == "no_capacity" else "declined_other"
    if row.status in OPEN:
        return "open"
    return "other"


def _median_hours(hours: list[float]) -> float | None:
    if len(hours) < suppression.THRESHOLD:
        return None
    return round(median(hours), 1)


@dataclass
class _Tally:
    counts: list[int]
    ended: int = 0
    completed: int = 0
    hours: list[float] | None = None


def build(rows: Iterable[Row]) -> Report:
    """One pass over the rows, then suppression of the whole table."""
    index = {c: i for i, c in enumerate(COLUMNS)}
    tallies: dict[str, _Tally] = {}
    areas: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        if r.status in EXCLUDED or r.sent_at is None:
            continue
        tally = tallies.get(r.service_type)
        if tally is None:
            tally = tallies[r.service_type] = _Tally([0] * len(COLUMNS), hours=[])
        column = column_of(r)
        tally.counts[index[column]] += 1
        if r.status in OUTCOMES:
            tally.ended += 1
            tally.completed += r.status == "completed"
        if r.accepted_at is not None:
            assert tally.hours is not None
            tally.hours.append((r.accepted_at - r.sent_at).total_seconds() / 3600)
        if column == "no_capacity":
            areas[r.service_type][r.area] += 1
    types = sorted(tallies, key=lambda t: (t == "", t))
    if not types:
        zero = Figure(0, False)
        return Report([], [zero for _ in COLUMNS], zero, None, None, [])
    table = suppression.table([tallies[t].counts for t in types])
    lines = []
    for i, t in enumerate(types):
        cells = [_figure(c) for c in table.cells[i]]
        # a share could help work out a hidden count of its row: only for rows shown whole
        whole = not any(c.suppressed for c in cells)
        tally = tallies[t]
        lines.append(
            Line(
                service_type=t,
                cells=cells,
                total=_figure(table.row_totals[i]),
                completion=suppression.share(tally.completed, tally.ended) if whole else None,
                accept_hours=_median_hours(tally.hours or []),
            )
        )
    column_totals = [_figure(c) for c in table.column_totals]
    unmet = []
    for line in lines:
        shown = line.cell("no_capacity")
        if shown.suppressed or shown.value == 0:
            continue
        per_area = areas[line.service_type]
        order = sorted(per_area, key=lambda a: (-per_area[a], a))
        cells = [_figure(c) for c in suppression.row([per_area[a] for a in order])]
        unmet.append(Unmet(line.service_type, shown, list(zip(order, cells, strict=True))))
    everything = list(tallies.values())
    hidden_totals = any(c.suppressed for c in column_totals)
    return Report(
        lines=lines,
        column_totals=column_totals,
        total=_figure(table.total),
        completion=None
        if hidden_totals
        else suppression.share(
            sum(t.completed for t in everything), sum(t.ended for t in everything)
        ),
        accept_hours=_median_hours([h for t in everything for h in t.hours or []]),
        unmet=unmet,
    )
