"""Small-cell suppression for every count published outside the organization that owns it.

Pure Python (no Django). A count from 1 to ``THRESHOLD - 1`` is shown as "<5"; zero is shown
(an empty cell reveals nobody). When one cell of a row is suppressed and the total is shown, a
second cell (the smallest other non-zero one) is suppressed too, so the hidden one cannot be
recovered by subtraction ("complementary suppression"). Shares are withheld when their
denominator is small.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

THRESHOLD = 5


@dataclass(frozen=True)
class Cell:
    value: int
    suppressed: bool

    def __str__(self) -> str:
        return f"<{THRESHOLD}" if self.suppressed else str(self.value)

    @property
    def shown(self) -> int | None:
        return None if self.suppressed else self.value


def is_small(count: int) -> bool:
    return 0 < count < THRESHOLD


def cell(count: int) -> Cell:
    return Cell(count, is_small(count))


def row(counts: Sequence[int]) -> list[Cell]:
    """The cells of a row whose total is published: primary plus complementary suppression."""
    cells = [cell(c) for c in counts]
    hidden = [i for i, c in enumerate(cells) if c.suppressed]
    if len(hidden) == 1:
        others = [(c.value, i) for i, c in enumerate(cells) if not c.suppressed and c.value > 0]
        if others:
            _value, index = min(others)
            cells[index] = Cell(cells[index].value, True)
    return cells


def share(part: int, whole: int) -> float | None:
    """``part / whole`` as a fraction, or None when ``whole`` is too small to publish."""
    if whole < THRESHOLD:
        return None
    if is_small(part) or is_small(whole - part):
        return None  # a share near 0 % or 100 % would reveal a small count
    return part / whole


@dataclass(frozen=True)
class Table:
    cells: list[list[Cell]]
    row_totals: list[Cell]
    column_totals: list[Cell]
    total: Cell


def table(counts: Sequence[Sequence[int]]) -> Table:
    """A table published with its row totals, column totals and grand total.

    Primary suppression hides counts 1–4 (in cells and totals alike). Then, until nothing
    changes, any row or column whose total is shown and that has exactly one hidden cell gets
    a second one (its smallest shown non-zero cell), so no hidden count can be recovered by
    subtracting shown cells from a shown total. The same is done with the row totals against
    the grand total, and with the column totals. (A hidden count can still be bounded, never
    recovered: the usual standard for small-cell rules.)"""
    rows = [list(r) for r in counts]
    width = len(rows[0]) if rows else 0
    if any(len(r) != width for r in rows):
        raise ValueError("every row needs the same number of cells")
    hidden = [[is_small(v) for v in r] for r in rows]
    row_sums = [sum(r) for r in rows]
    col_sums = [sum(r[j] for r in rows) for j in range(width)]
    grand = sum(row_sums)
    row_hidden = [is_small(v) for v in row_sums]
    col_hidden = [is_small(v) for v in col_sums]

    def complete(values: list[int], flags: list[bool], total_shown: bool) -> bool:
        if not total_shown or sum(flags) != 1:
            return False
        others = [(v, i) for i, v in enumerate(values) if not flags[i] and v > 0]
        if not others:
            return False
        flags[min(others)[1]] = True
        return True

    changed = True
    while changed:
        changed = False
        for i, r in enumerate(rows):
            changed |= complete(r, hidden[i], not row_hidden[i])
        for j in range(width):
            column = [r[j] for r in rows]
            flags = [hidden[i][j] for i in range(len(rows))]
            if complete(column, flags, not col_hidden[j]):
                for i, flag in enumerate(flags):
                    hidden[i][j] = flag
                changed = True
        changed |= complete(row_sums, row_hidden, not is_small(grand))
        changed |= complete(col_sums, col_hidden, not is_small(grand))
    return Table(
        cells=[[Cell(v, hidden[i][j]) for j, v in enumerate(r)] for i, r in enumerate(rows)],
        row_totals=[Cell(v, row_hidden[i]) for i, v in enumerate(row_sums)],
        column_totals=[Cell(v, col_hidden[j]) for j, v in enumerate(col_sums)],
        total=cell(grand),
    )
