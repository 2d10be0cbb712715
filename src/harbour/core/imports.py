"""What every importer shares: problems with their place, a problem report, counts, progress.

An importer collects `Problem`s (file, line, column, value, reason) while it checks its input.
By default one problem stops the import and nothing is written (atomic); with ``--skip-invalid``
the rows that hold a problem are left out and the rest is written. ``--report FILE`` writes every
problem as CSV, whatever the outcome. The summary always ends with counts per table:
``service: 0 new, 0 changed, 12 unchanged``.

`progress()` shows a bar on a terminal and a plain line every so often otherwise (a log, CI).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from harbour.core import csvsafe

T = TypeVar("T")

REPORT_COLUMNS = ["file", "line", "column", "value", "reason"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, where it is. `line` is 1-based as a person counts (the
    header of a CSV file is line 1); 0 when the problem is the file itself. `value` is the cell as
    read (cut to 200 characters)."""

    file: str
    line: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f": line {self.line}"
        if self.column:
            where += f": {self.column}"
        value = f" ({self.value!r})" if self.value else ""
        return f"{where}: {self.reason}{value}"


@dataclass
class Counts:
    """Rows per table: new, changed, unchanged, skipped (with --skip-invalid)."""

    tables: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, table: str, outcome: str, n: int = 1) -> None:
        assert outcome in {"new", "changed", "unchanged", "skipped", "removed"}, outcome
        row = self.tables.setdefault(
            table, {"new": 0, "changed": 0, "unchanged": 0, "skipped": 0, "removed": 0}
        )
        row[outcome] += n

    def get(self, table: str, outcome: str) -> int:
        return self.tables.get(table, {}).get(outcome, 0)

    @property
    def written(self) -> int:
        return sum(r["new"] + r["changed"] + r.get("removed", 0) for r in self.tables.values())

    @property
    def skipped(self) -> int:
        return sum(r["skipped"] for r in self.tables.values())

    def summary(self) -> str:
        """``table: 1 new, 0 changed, 3 unchanged`` per table (skipped and removed (archived)
        only when some were)."""
        parts = []
        for table, r in self.tables.items():
            text = f"{table}: {r['new']} new, {r['changed']} changed, {r['unchanged']} unchanged"
            if r["skipped"]:
                text += f", {r['skipped']} skipped"
            if r.get("removed"):
                text += f", {r['removed']} removed"
            parts.append(text)
        return "; ".join(parts) or "nothing to import"


def write_report(path: Path | str, problems: Iterable[Problem]) -> int:
    """Write every problem as CSV (formula-safe: cells are data, not spreadsheet formulas).
    Returns the number written. An empty report still has its header: "no problems" is a file."""
    n = 0
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        writer = csvsafe.dict_writer(fh, fieldnames=REPORT_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        for p in problems:
            writer.writerow(
                {
                    "file": p.file,
                    "line": p.line,
                    "column": p.column,
                    "value": p.value[:200],
                    "reason": p.reason,
                }
            )
            n += 1
    return n


# --- what every import command shares --------------------------------------------------------

REPORT_HELP = (
    "Write every problem found (file, line, column, value, reason) to this CSV file, whatever "
    "the outcome; a file with only its header means no problems."
)
SKIP_HELP = (
    "Import the valid rows and skip the rows with problems (and the rows that refer to a "
    "skipped row); the summary says how many were skipped. Without it, one problem stops the "
    "import and nothing is written."
)


def add_arguments(parser: Any) -> None:
    """``--report FILE`` and ``--skip-invalid``, the same in every import command."""
    parser.add_argument("--report", metavar="FILE", help=REPORT_HELP)
    parser.add_argument("--skip-invalid", action="store_true", help=SKIP_HELP)


def skipped_line(n: int, report: str | None) -> str:
    """The line that says how many rows were left out, and where to read why."""
    rows = "1 row" if n == 1 else f"{n:,} rows"
    where = f"see {report}" if report else "see --report"
    return f"{rows} skipped ({where})"


def progress(
    items: Iterable[T],
    *,
    total: int | None = None,
    label: str = "",
    stream: IO[str] | None = None,
    every: float = 5.0,
) -> Iterator[T]:
    """Yield `items`, showing how far along: a bar redrawn in place on a terminal, else a plain line
    every `every` seconds and one at the end. Nothing is shown for fewer than 1,000 items."""
    out: Any = stream if stream is not None else sys.stderr
    tty = bool(getattr(out, "isatty", lambda: False)())
    start = last = time.monotonic()
    n = 0
    for n, item in enumerate(items, start=1):
        yield item
        now = time.monotonic()
        if now - last >= (0.2 if tty else every):
            last = now
            _show(out, tty, label, n, total, now - start)
    if n >= 1000 or (total or 0) >= 1000:
        _show(out, tty, label, n, total, time.monotonic() - start)
        if tty:
            out.write("\n")
            out.flush()


def _show(out: Any, tty: bool, label: str, n: int, total: int | None, elapsed: float) -> None:
    rate = n / elapsed if elapsed > 0 else 0.0
    head = f"{label}: " if label else ""
    if total:
        pct = min(100, n * 100 // total)
        if tty:
            filled = pct * 30 // 100
            bar = "#" * filled + "-" * (30 - filled)
            out.write(f"\r{head}[{bar}] {pct:3d}% {n:,}/{total:,} ({rate:,.0f}/s)")
        else:
            out.write(f"{head}{n:,}/{total:,} ({pct}%, {rate:,.0f}/s)\n")
    else:
        out.write(("\r" if tty else "") + f"{head}{n:,} ({rate:,.0f}/s)" + ("" if tty else "\n"))
    out.flush()
