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
