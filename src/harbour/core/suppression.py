"""Small-cell suppression for every count published outside the organization that owns it.

Pure Python (no Django). A count from 1 to ``THRESHOLD - 1`` is shown as "<5"; zero is shown
(an empty cell reveals nobody). Counts are published in *groups* tied by addition (a total and
its parts: a row and its cells, "naloxone used" and "reversed" + "not reversed"); wherever a
group would let a hidden count be recovered by subtraction, a second count is hidden too
("complementary suppression") and shown as "x", so a reader can tell "between 1 and 4" from
"hidden only to protect another cell". :func:`linked` does this for any set of named counts and
groups; :func:`row` and :func:`table` are thin wrappers on it. Shares are withheld when their
denominator is small.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

THRESHOLD = 5

SMALL = "small"
COMPLEMENT = "complement"


@dataclass(frozen=True)
class Cell:
    """One published count. ``reason`` is "" (shown), "small" (1 to 4, shown as "<5") or
    "complement" (hidden only so that another cell cannot be worked out, shown as "x").
    ``Cell(value, True)`` without a reason is "small" for 1–4 and "complement" otherwise."""

    value: int
    suppressed: bool = False
    reason: str = ""

    def __post_init__(self) -> None:
        if self.reason not in ("", SMALL, COMPLEMENT):
            raise ValueError(f"unknown suppression reason {self.reason!r}")
        if self.reason:
            object.__setattr__(self, "suppressed", True)
        elif self.suppressed:
            object.__setattr__(self, "reason", SMALL if is_small(self.value) else COMPLEMENT)

    @property
    def mark(self) -> str:
        """ "<5" for a small count, "x" for one hidden to protect another, "" when shown."""
        if self.reason == SMALL:
            return f"<{THRESHOLD}"
        if self.reason == COMPLEMENT:
            return "x"
        return ""

    def __str__(self) -> str:
        return self.mark or str(self.value)

    @property
    def shown(self) -> int | None:
        return None if self.suppressed else self.value


def is_small(count: int) -> bool:
    return 0 < count < THRESHOLD


def cell(count: int) -> Cell:
    return Cell(count, reason=SMALL if is_small(count) else "")


def parse(mark: str) -> Cell:
    """A published figure ("12", "<5", "x") back as a Cell, for drawing a stored release:
    a hidden one has no known value (0)."""
    if mark == f"<{THRESHOLD}":
        return Cell(0, reason=SMALL)
    if mark == "x":
        return Cell(0, reason=COMPLEMENT)
    return Cell(int(mark))


def linked(
    values: Mapping[str, int],
    groups: Sequence[tuple[str, Sequence[str]]],
    *,
    published: Collection[str] | None = None,
    known: Collection[str] = (),
) -> dict[str, Cell]:
    """Joint suppression of named counts tied by additive groups ``(total, parts)``.

    Primary suppression hides every count 1–4 as "small", also in keys that are never
    published (a complement such as "used but not reversed" is computed only so that its
    smallness is protected). Then, until nothing changes, every group with exactly one hidden
    member (its total or one part) hides another: the smallest non-zero shown part, or the
    total when no part can be hidden; those are "complement". A non-zero key not in
    ``published`` is never shown, so hiding it costs nothing: it is chosen first as a
    complement (not a zero one: a count known to be zero protects nothing). Callers show
    only the published keys. Keys in ``known`` are seen by someone elsewhere (one
    organization's own figures in its version to share): they are never chosen as a
    complement, since hiding them here would protect nothing; a group whose other parts are
    all known hides its total. A hidden count can still be bounded, never worked out exactly by
    subtracting shown counts within a group (the usual standard for small-cell rules).
    """
    for total, parts in groups:
        missing = [k for k in (total, *parts) if k not in values]
        if missing:
            raise ValueError(f"group {total!r} names unknown counts: {missing}")
        if values[total] != sum(values[p] for p in parts):
            raise ValueError(f"group {total!r}: the total is not the sum of its parts")
    shown_keys = set(values) if published is None else set(published)
    reasons: dict[str, str] = {k: SMALL for k, v in values.items() if is_small(v)}

    def pick(candidates: Sequence[str]) -> str | None:
        candidates = [k for k in candidates if k not in known]
        free = [
            (0, i, k) for i, k in enumerate(candidates) if k not in shown_keys and values[k] > 0
        ]
        costly = [(values[k], i, k) for i, k in enumerate(candidates) if values[k] > 0]
        best = min(free or costly, default=None)
        return best[2] if best else None

    changed = True
    while changed:
        changed = False
        for total, parts in groups:
            members = [total, *parts]
            hidden = [k for k in members if k in reasons]
            if len(hidden) != 1:
                continue
            choice = pick([p for p in parts if p not in reasons])
            if choice is None and hidden[0] != total and total not in known:
                choice = total
            if choice is not None:
                reasons[choice] = COMPLEMENT
                changed = True
    return {k: Cell(v, reason=reasons.get(k, "")) for k, v in values.items()}


def row(counts: Sequence[int]) -> list[Cell]:
    """The cells of a row whose total is published: primary plus complementary suppression."""
    keys = [str(i) for i in range(len(counts))]
    values = dict(zip(keys, counts, strict=True))
    values["total"] = sum(counts)
    cells = linked(values, [("total", keys)], published=keys)
    return [cells[k] for k in keys]


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
    """A table published with its row totals, column totals and grand total: one call to
    :func:`linked` with each row, each column, and the row and column totals against the
    grand total as groups."""
    rows = [list(r) for r in counts]
    width = len(rows[0]) if rows else 0
    if any(len(r) != width for r in rows):
        raise ValueError("every row needs the same number of cells")
    values: dict[str, int] = {}
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            values[f"{i}:{j}"] = v
        values[f"{i}:"] = sum(r)
    for j in range(width):
        values[f":{j}"] = sum(r[j] for r in rows)
    values[":"] = sum(sum(r) for r in rows)
    groups: list[tuple[str, Sequence[str]]] = [
        (f"{i}:", [f"{i}:{j}" for j in range(width)]) for i in range(len(rows))
    ]
    groups += [(f":{j}", [f"{i}:{j}" for i in range(len(rows))]) for j in range(width)]
    groups.append((":", [f"{i}:" for i in range(len(rows))]))
    groups.append((":", [f":{j}" for j in range(width)]))
    cells = linked(values, groups)
    return Table(
        cells=[[cells[f"{i}:{j}"] for j in range(width)] for i in range(len(rows))],
        row_totals=[cells[f"{i}:"] for i in range(len(rows))],
        column_totals=[cells[f":{j}"] for j in range(width)],
        total=cells[":"],
    )
