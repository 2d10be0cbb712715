"""Overdose events from a CSV file, with a column mapping."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from harbour.core import audit, imports
from harbour.core.models import AuditAction
from harbour.surveillance.models import (
    OverdoseEvent,
    Source,
)
from harbour.surveillance.services.events import EventIn, _event_row

log = logging.getLogger(__name__)


# --- CSV import -------------------------------------------------------------------------------

MAP_FIELDS = {
    "date": "the date, or date and time, of the event (required)",
    "time": "the time of day, when the date column has none",
    "fsa": "postal code or its first three characters",
    "lat": "latitude (with lng; only the area is kept)",
    "lng": "longitude",
    "city": "city or town",
    "region": "health region",
    "fatal": "yes/no, true/false, 1/0, fatal/non-fatal",
    "naloxone": "yes/no: was naloxone given",
    "substances": "suspected substances, separated by ; or |",
    "source": "the source of each row (ems, ed, coroner, site, outreach, report, other)",
    "id": "the source's own id of the event (re-imports skip ids already stored)",
}
TRUE_WORDS = {"1", "y", "yes", "true", "t", "oui", "o", "vrai", "fatal", "deceased", "death"}
FALSE_WORDS = {"0", "n", "no", "false", "f", "non", "faux", "non-fatal", "nonfatal", "survived"}
_SOURCE_WORDS = {
    **{value: value for value in Source.values},
    "emergency department": Source.EMERGENCY_DEPARTMENT,
    "emergency": Source.EMERGENCY_DEPARTMENT,
    "paramedics": Source.EMS,
    "supervised consumption": Source.SUPERVISED_SITE,
    "ops": Source.SUPERVISED_SITE,
    "scs": Source.SUPERVISED_SITE,
    "anonymous report": Source.ANONYMOUS_REPORT,
}
MAX_ERRORS = 50


class ImportError_(Exception):
    """The file cannot be imported; ``errors`` are one line each (file:line: column: why),
    ``problems`` the same with their place (file, line, column, value, reason) for --report."""

    def __init__(self, errors: list[str], problems: list[imports.Problem] | None = None) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors
        self.problems = (
            problems
            if problems is not None
            else [imports.Problem("", 0, "", "", e) for e in errors]
        )


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    already: int = 0
    skipped: int = 0  # rows left out (skip_invalid)
    errors: list[str] = field(default_factory=list)  # why (skip_invalid)
    problems: list[imports.Problem] = field(default_factory=list)

    @property
    def counts(self) -> imports.Counts:
        counts = imports.Counts()
        counts.add("event", "new", self.created)
        counts.add("event", "unchanged", self.already)
        counts.add("event", "skipped", self.skipped)
        return counts

    def summary(self) -> str:
        """``event: 3 new, 0 changed, 0 unchanged``: an event already imported is unchanged
        (events are kept as first imported)."""
        return self.counts.summary()


def parse_mapping(text: str) -> dict[str, str]:
    """``date=Incident Date,fsa=Postal`` -> {"date": "Incident Date", "fsa": "Postal"}."""
    mapping: dict[str, str] = {}
    errors = []
    for part in (p for p in re.split(r",(?=\s*\w+\s*=)", text or "") if p.strip()):
        key, sep, column = part.partition("=")
        key = key.strip().lower()
        if not sep or not column.strip():
            errors.append(f"--map: {part.strip()!r} is not field=column")
        elif key not in MAP_FIELDS:
            errors.append(f"--map: unknown field {key!r} (fields: {', '.join(MAP_FIELDS)})")
        else:
            mapping[key] = column.strip()
    if not errors and "date" not in mapping:
        errors.append("--map: date=<column> is required")
    if not errors and "fsa" not in mapping and not {"lat", "lng"} <= mapping.keys():
        errors.append("--map: give fsa=<column>, or both lat=<column> and lng=<column>")
    if not errors and ("lat" in mapping) != ("lng" in mapping):
        errors.append("--map: lat and lng go together")
    if errors:
        raise ImportError_(errors)
    return mapping


def _bool(value: str) -> bool | None:
    word = value.strip().lower()
    if not word or word in {"unknown", "na", "n/a", "inconnu"}:
        return None
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{value!r} is not yes or no")


def _when(day: str, clock: str, zone: ZoneInfo) -> datetime:
    text = day.strip()
    if not text:
        raise ValueError("the date is empty")
    try:
        if len(text) <= 10:
            parsed = datetime.combine(date.fromisoformat(text), time(12, 0))
            if clock.strip():
                parsed = datetime.combine(parsed.date(), time.fromisoformat(clock.strip()))
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a date like 2026-11-30 or 2026-11-30 21:15") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=zone)
    try:
        # in UTC: PostgreSQL refuses offsets beyond ±15:59 that Python's datetime accepts
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} is out of range") from None


def _float(value: str, name: str) -> float | None:
    text = value.strip().replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a {name}") from None


def events_import(
    *,
    organization: Any,
    text: str,
    mapping: dict[str, str],
    source: str = Source.OTHER,
    filename: str = "events.csv",
    dry_run: bool = False,
    actor: Any = None,
    skip_invalid: bool = False,
) -> ImportResult:
    """Import events from CSV: every row is checked first; one bad row and nothing is written
    (``ImportError_`` lists up to 50 problems as ``file:line: column 'X' (field): why``, and
    every one in ``problems``). With ``skip_invalid`` the bad rows are left out and counted.
    Rows already imported (same id, or the same row again without an id) are unchanged; an
    import where every row is already there writes nothing (no audit event either)."""
    if source not in Source.values:
        raise ImportError_([f"--source: unknown source {source!r} ({', '.join(Source.values)})"])
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    if not header:
        raise ImportError_([f"{filename}: the file is empty"])
    reader.fieldnames = header
    missing = [f"{filename}:1: the file has no column {column!r} (mapped to {key}); its "
               f"columns are {', '.join(repr(h) for h in header)}"
               for key, column in mapping.items() if column not in header]  # fmt: skip
    if missing:
        raise ImportError_(missing)
    zone = ZoneInfo(settings.TIME_ZONE)
    now = timezone.now()
    errors: list[str] = []
    problems: list[imports.Problem] = []
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    bad_lines: set[int] = set()

    def fail(line: int, key: str, why: str) -> None:
        column = mapping.get(key, key)
        if len(errors) < MAX_ERRORS:
            errors.append(f"{filename}:{line}: column {column!r} ({key}): {why}")
        problems.append(imports.Problem(filename, line, column, cells.get(key, ""), why))
        bad_lines.add(line)

    cells: dict[str, str] = {}
    for line, raw in enumerate(imports.progress(reader, label=filename), start=2):
        if len(errors) >= MAX_ERRORS and not skip_invalid:
            break
        cells = {key: (raw.get(column) or "") for key, column in mapping.items()}
        if not any(value.strip() for value in raw.values() if isinstance(value, str)):
            continue  # a blank line
        try:
            when = _when(cells["date"], cells.get("time", ""), zone)
        except ValueError as error:
            fail(line, "date", str(error))
            continue
        values: dict[str, Any] = {}
        bad = False
        for key, name in (("lat", "latitude"), ("lng", "longitude")):
            try:
                values[key] = _float(cells.get(key, ""), name)
            except ValueError as error:
                fail(line, key, str(error))
                bad = True
        for key in ("fatal", "naloxone"):
            try:
                values[key] = _bool(cells.get(key, ""))
            except ValueError as error:
                fail(line, key, str(error))
                bad = True
        row_source = source
        if "source" in mapping:
            word = cells["source"].strip().lower()
            if word and word not in _SOURCE_WORDS:
                fail(line, "source", f"unknown source {cells['source']!r}")
                bad = True
            row_source = _SOURCE_WORDS.get(word, source)
        if bad:
            continue
        if "id" in mapping and cells["id"].strip():
            ref = f"import:{organization.pk.hex[:8]}:{cells['id'].strip()}"[:80]
        else:
            digest = hashlib.sha256(
                "\x1f".join(f"{k}={v.strip()}" for k, v in sorted(cells.items())).encode()
            ).hexdigest()[:32]
            seen[digest] = seen.get(digest, 0) + 1  # the same row twice in a file is 2 events
            ref = f"row:{organization.pk.hex[:8]}:{digest}:{seen[digest]}"
        data = EventIn(
            occurred_at=when,
            source=row_source,
            source_ref=ref,
            fsa=cells.get("fsa", ""),
            lat=values["lat"],
            lng=values["lng"],
            city=cells.get("city", ""),
            health_region=cells.get("region", ""),
            fatal=values["fatal"],
            naloxone_given=values["naloxone"],
            substances=[s for s in re.split(r"[;|]", cells.get("substances", "")) if s.strip()],
        )
        try:
            rows.append(_event_row(data, now))
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                key = {"occurred_at": "date", "position": "lat"}.get(name, name)
                fail(line, key, " ".join(messages))
    if errors and not skip_invalid:
        raise ImportError_(errors, problems)
    result = ImportResult(rows=len(rows), skipped=len(bad_lines), errors=errors, problems=problems)
    with transaction.atomic():
        stored = set()
        refs = [r["source_ref"] for r in rows]
        for start in range(0, len(refs), 500):
            stored |= set(
                OverdoseEvent.objects.filter(source_ref__in=refs[start : start + 500]).values_list(
                    "source", "source_ref"
                )
            )
        new = [
            OverdoseEvent(organization=organization, **r)
            for r in rows
            if (r["source"], r["source_ref"]) not in stored
        ]
        OverdoseEvent.objects.bulk_create(new, batch_size=500)
        result.created, result.already = len(new), len(rows) - len(new)
        if not new:
            return result  # every row already there: nothing to write
        audit.record(
            action=AuditAction.SURVEILLANCE_IMPORT,
            actor=actor,
            organization=organization,
            metadata={
                "file": filename[-100:],
                "created": result.created,
                "skipped": result.already,
                "invalid": result.skipped,
            },
        )
        if dry_run:
            transaction.set_rollback(True)
    return result
