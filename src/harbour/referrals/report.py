"""The service-gap report: referrals by type of service across organizations, how they ended,
time to accept, completion rate, and declines for "no capacity" by type and area (unmet need).
Pure Python: rows in, suppressed figures out, and back from what a release stored.

The report is cross-organization, so it is published only as releases (``core.releases``
kind "service-gaps", see ``referrals/gaps.py``): one per closed quarter, offered as the quarter
and its three months (disjoint; each figure of the quarter is the sum of the same figure in its
months), never as overlapping windows such as "90 days" beside "12 months". Every count goes
through :func:`harbour.core.suppression.linked` at once: each period's outcomes table with its
row, column and grand totals, each figure of the quarter against its months, and each type's
"no capacity" count against its breakdown by area; so no hidden count can be recovered by
subtracting shown ones, inside a table or between periods.
Hidden counts of 1–4 read "<5", counts hidden only to protect another read "x". Shares are
withheld for rows with a hidden count or fewer than 5 referrals, medians when they rest on
fewer than 5.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import median
from typing import Any, NamedTuple

from harbour.core import suppression

OPEN = {"sent", "received", "accepted", "in_progress", "on_hold"}
OUTCOMES = {"completed", "unsuccessful", "declined", "redirected", "cancelled"}
EXCLUDED = {"draft", "entered_in_error"}
COLUMNS = ("completed", "no_capacity", "declined_other", "open", "other")


@dataclass(frozen=True)
class Figure:
    """A published count, as published: "12", "0", "<5" (hidden, 1 to 4) or "x" (hidden only so
    that a small one cannot be worked out: complementary suppression; it may be any size)."""

    text: str

    def __str__(self) -> str:
        return self.text

    @property
    def suppressed(self) -> bool:
        return not self.text.isdigit()

    @property
    def value(self) -> int:
        """The count when shown (0 when hidden: never draw or add a hidden count)."""
        return int(self.text) if self.text.isdigit() else 0

    @property
    def shown(self) -> int | None:
        return None if self.suppressed else self.value


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


TOTAL = "all"  # the key of the whole release, beside its disjoint parts
ALL = "*"


@dataclass(frozen=True)
class Part:
    """One period a release offers: [start, end) in sent time."""

    key: str
    start: datetime
    end: datetime


@dataclass
class _Tally:
    counts: dict[str, int]
    ended: dict[tuple[str, str], int]
    completed: dict[tuple[str, str], int]
    hours: dict[tuple[str, str], list[float]]
    areas: dict[str, dict[str, int]]
    types: set[str]


def _key(period: str, service_type: str, column: str, area: str | None = None) -> str:
    key = f"{period}\x1f{service_type}\x1f{column}"
    return key if area is None else f"{key}\x1f{area}"


def _tally(rows: Iterable[Row], parts: Sequence[Part]) -> _Tally:
    t = _Tally(
        counts=defaultdict(int),
        ended=defaultdict(int),
        completed=defaultdict(int),
        hours=defaultdict(list),
        areas=defaultdict(lambda: defaultdict(int)),
        types=set(),
    )
    for r in rows:
        if r.status in EXCLUDED or r.sent_at is None:
            continue
        periods = [TOTAL]
        if parts:
            part = next((p.key for p in parts if p.start <= r.sent_at < p.end), None)
            if part is None:
                continue
            periods.append(part)
        t.types.add(r.service_type)
        column = column_of(r)
        for period in periods:
            for kind in (r.service_type, ALL):
                t.counts[_key(period, kind, column)] += 1
                t.counts[_key(period, kind, ALL)] += 1
            if r.status in OUTCOMES:
                t.ended[period, r.service_type] += 1
                t.completed[period, r.service_type] += r.status == "completed"
            if r.accepted_at is not None:
                t.hours[period, r.service_type].append(
                    (r.accepted_at - r.sent_at).total_seconds() / 3600
                )
        if column == "no_capacity":
            t.areas[r.service_type][r.area] += 1
            t.counts[_key(TOTAL, r.service_type, column, r.area)] += 1
    return t


def _groups(
    periods: Sequence[str], types: Sequence[str], areas: dict[str, dict[str, int]]
) -> list[tuple[str, list[str]]]:
    """Every additive tie: rows, columns and margins of each period's table, each cell of the
    whole release as the sum of the same cell in its parts, and the no-capacity count of each
    type as the sum of its areas."""
    ties: list[tuple[str, list[str]]] = []
    for p in periods:
        for t in types:
            ties.append((_key(p, t, ALL), [_key(p, t, c) for c in COLUMNS]))
        for c in COLUMNS:
            ties.append((_key(p, ALL, c), [_key(p, t, c) for t in types]))
        ties.append((_key(p, ALL, ALL), [_key(p, t, ALL) for t in types]))
        ties.append((_key(p, ALL, ALL), [_key(p, ALL, c) for c in COLUMNS]))
    parts = [p for p in periods if p != TOTAL]
    if parts:
        for t in [*types, ALL]:
            for c in [*COLUMNS, ALL]:
                ties.append((_key(TOTAL, t, c), [_key(p, t, c) for p in parts]))
    for t in types:
        if areas.get(t):
            ties.append(
                (
                    _key(TOTAL, t, "no_capacity"),
                    [_key(TOTAL, t, "no_capacity", a) for a in areas[t]],
                )
            )
    return ties


def build_release(rows: Iterable[Row], parts: Sequence[Part] = ()) -> dict[str, Report]:
    """The report of each part and of the whole (``TOTAL``), suppressed jointly: every table
    with its margins, and every figure of the whole against the same figure in the parts, so
    neither a subtraction inside a table nor a difference between two periods reveals a
    hidden count. The parts must be disjoint. The unmet need by area is given for the whole
    only."""
    tally = _tally(rows, parts)
    periods = [TOTAL, *(p.key for p in parts)]
    types = sorted(tally.types, key=lambda t: (t == "", t))
    ties = [(total, members) for total, members in _groups(periods, types, tally.areas) if members]
    keys = {k for total, members in ties for k in (total, *members)}
    cells = suppression.linked({k: tally.counts.get(k, 0) for k in keys}, ties)

    def figure(key: str) -> Figure:
        return Figure(str(cells[key]) if key in cells else "0")

    reports = {}
    for p in periods:
        lines = []
        for t in types:
            row = [figure(_key(p, t, c)) for c in COLUMNS]
            total = figure(_key(p, t, ALL))
            # a share could help work out a hidden count of its row: only for rows shown whole
            whole = not total.suppressed and not any(c.suppressed for c in row)
            lines.append(
                Line(
                    service_type=t,
                    cells=row,
                    total=total,
                    completion=suppression.share(tally.completed[p, t], tally.ended[p, t])
                    if whole
                    else None,
                    accept_hours=_median_hours(tally.hours[p, t]),
                )
            )
        column_totals = [figure(_key(p, ALL, c)) for c in COLUMNS]
        unmet = []
        for line in lines if p == TOTAL else []:
            shown = line.cell("no_capacity")
            if shown.suppressed or shown.value == 0:
                continue
            per_area = tally.areas[line.service_type]
            order = sorted(per_area, key=lambda a: (-per_area[a], a))
            unmet.append(
                Unmet(
                    line.service_type,
                    shown,
                    [(a, figure(_key(TOTAL, line.service_type, "no_capacity", a))) for a in order],
                )
            )
        hidden_totals = any(c.suppressed for c in column_totals)
        reports[p] = Report(
            lines=lines if types else [],
            column_totals=column_totals,
            total=figure(_key(p, ALL, ALL)),
            completion=None
            if hidden_totals
            else suppression.share(
                sum(tally.completed[p, t] for t in types), sum(tally.ended[p, t] for t in types)
            ),
            accept_hours=_median_hours([h for t in types for h in tally.hours[p, t]]),
            unmet=unmet,
        )
    return reports


def build(rows: Iterable[Row]) -> Report:
    """One period: every row given, suppressed as one table with its margins."""
    return build_release(rows)[TOTAL]


# --- stored in a release, read back for the page and the CSV ---------------------------------


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _float(text: str) -> float | None:
    return float(text) if text else None


def to_data(report: Report) -> dict[str, Any]:
    """What a release stores: strings only ("12", "<5", "x", "0", codes and labels)."""
    return {
        "lines": [
            {
                "service_type": line.service_type,
                "total": str(line.total),
                "cells": [str(c) for c in line.cells],
                "completion": _number(line.completion),
                "accept_hours": _number(line.accept_hours),
            }
            for line in report.lines
        ],
        "column_totals": [str(c) for c in report.column_totals],
        "total": str(report.total),
        "completion": _number(report.completion),
        "accept_hours": _number(report.accept_hours),
        "unmet": [
            {
                "service_type": u.service_type,
                "total": str(u.total),
                "areas": [[area, str(f)] for area, f in u.areas],
            }
            for u in report.unmet
        ],
    }


def from_data(data: dict[str, Any]) -> Report:
    return Report(
        lines=[
            Line(
                service_type=line["service_type"],
                cells=[Figure(c) for c in line["cells"]],
                total=Figure(line["total"]),
                completion=_float(line["completion"]),
                accept_hours=_float(line["accept_hours"]),
            )
            for line in data["lines"]
        ],
        column_totals=[Figure(c) for c in data["column_totals"]],
        total=Figure(data["total"]),
        completion=_float(data["completion"]),
        accept_hours=_float(data["accept_hours"]),
        unmet=[
            Unmet(u["service_type"], Figure(u["total"]), [(a, Figure(f)) for a, f in u["areas"]])
            for u in data["unmet"]
        ],
    )
