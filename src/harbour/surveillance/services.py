"""Every write of the surveillance app: events (from other apps and from CSV), settings,
detection runs and what coordinators do with signals.

Other apps record overdose events through :func:`event_record` only (outreach responses,
check-ins that needed naloxone, anonymous reports); the same event sent twice (a retry, a
re-import) is stored once, by its ``(source, source_ref)``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import h3
import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from harbour.core import audit, geo, imports
from harbour.core.models import AuditAction
from harbour.core.permissions import require_role
from harbour.core.roles import Role
from harbour.surveillance.models import (
    H3_RESOLUTION,
    DetectionSettings,
    Level,
    Method,
    OverdoseEvent,
    PublishedSeries,
    Signal,
    SignalStatus,
    Source,
)

log = logging.getLogger(__name__)

EARLIEST = datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC"))
CLOCK_SKEW = timedelta(minutes=10)  # a device clock a little ahead is not "the future"
DAILY_STEPS = 120  # days of history for the daily methods (EARS needs 10, Poisson-gamma 28)
FARRINGTON_WEEKS = 5 * 52 + 30  # b = 5 years of baseline, w = 3, and the weeks left out
SCAN_HISTORY_DAYS = 56
SCAN_P_VALUE = 0.05
POISSON_GAMMA_BASELINE = 28


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventIn:
    occurred_at: datetime
    source: str
    source_ref: str
    fsa: str = ""
    lat: float | None = None
    lng: float | None = None
    city: str = ""
    health_region: str = ""
    fatal: bool | None = None
    naloxone_given: bool | None = None
    substances: Sequence[str] = field(default_factory=tuple)


def _locate(fsa: str, lat: float | None, lng: float | None) -> tuple[str, str]:
    """(postal area, H3 cell) from a postal code and/or a position; the position itself is
    not kept. ValueError naming the field when neither gives a Canadian area."""
    code = ""
    if fsa.strip():
        found = geo.fsa_of(fsa)
        if found is None:
            raise ValueError("fsa")
        code = found
    if lat is not None and lng is not None:
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise ValueError("position")
        cell = h3.latlng_to_cell(lat, lng, H3_RESOLUTION)
        if not code:
            code = geo.nearest_fsa(lat, lng) or ""
        return code, cell
    if not code:
        raise ValueError("fsa")
    centroid = geo.fsa_centroid(code)
    cell = h3.latlng_to_cell(centroid.lat, centroid.lng, H3_RESOLUTION) if centroid else ""
    return code, cell


def _event_row(data: EventIn, now: datetime) -> dict[str, Any]:
    errors: dict[str, str] = {}
    when = data.occurred_at
    if timezone.is_naive(when):
        when = timezone.make_aware(when, ZoneInfo(settings.TIME_ZONE))
    if when > now + CLOCK_SKEW:
        errors["occurred_at"] = _("The time is in the future.")
    elif when < EARLIEST:
        errors["occurred_at"] = _("The time is before 2000.")
    if data.source not in Source.values:
        errors["source"] = _("Unknown source %(source)r.") % {"source": data.source}
    if not data.source_ref.strip():
        errors["source_ref"] = _("Each event needs a reference from its source.")
    fsa = cell = ""
    try:
        fsa, cell = _locate(data.fsa, data.lat, data.lng)
    except ValueError as error:
        if str(error) == "position":
            errors["position"] = _("Latitude must be -90 to 90 and longitude -180 to 180.")
        elif data.fsa.strip():
            errors["fsa"] = _("%(value)r is not a Canadian postal code.") % {"value": data.fsa}
        else:
            errors["fsa"] = _("Give a postal area or a position.")
    if errors:
        raise ValidationError(errors)
    substances = sorted({" ".join(s.split()).lower()[:60] for s in data.substances if s.strip()})
    return {
        "occurred_at": when,
        "fsa": fsa,
        "h3_cell": cell,
        "city": " ".join(data.city.split())[:120],
        "province": geo.fsa_province(fsa),
        "health_region": " ".join(data.health_region.split())[:120],
        "fatal": data.fatal,
        "naloxone_given": data.naloxone_given,
        "substances": substances[:20],
        "source": data.source,
        "source_ref": data.source_ref.strip()[:80],
    }


@transaction.atomic
def event_record(*, organization: Any, data: EventIn) -> tuple[OverdoseEvent, bool]:
    """Store one overdose event (no person: a time, a coarse area and what happened).

    Returns the event and whether it is new; the same ``(source, source_ref)`` again returns
    the event already stored, unchanged. ``organization`` is who recorded it (None for an
    anonymous community report). ValidationError names the fields that are wrong."""
    row = _event_row(data, timezone.now())
    existing = OverdoseEvent.objects.filter(
        source=row["source"], source_ref=row["source_ref"]
    ).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            event = OverdoseEvent.objects.create(organization=organization, **row)
    except IntegrityError:  # the same event at the same moment from a retry
        return OverdoseEvent.objects.get(source=row["source"], source_ref=row["source_ref"]), False
    return event, True


def event_exclude(*, source: str, source_ref: str, excluded: bool = True) -> int:
    """An event that should not count (an anonymous report found to be spam), or again."""
    return OverdoseEvent.objects.filter(source=source, source_ref=source_ref).update(
        excluded=excluded
    )


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


# --- published series (PHAC) ------------------------------------------------------------------


def shipped_harms() -> str:
    """PHAC's quarterly overall numbers, as shipped with Harbour (``surveillance/data``)."""
    from importlib import resources

    path = resources.files("harbour.surveillance").joinpath("data", "phac_harms_quarterly.csv")
    return path.read_text("utf-8")


_QUARTER = re.compile(r"^(\d{4}) Q([1-4])$")


def published_import(*, text: str, filename: str = "SubstanceHarmsData.csv") -> int:
    """PHAC's opioid- and stimulant-related harms (Health Infobase CSV): the overall numbers by
    quarter are kept ("Suppressed" or blank values as missing). Replaces what was loaded."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    need = {"Substance", "Source", "Specific_Measure", "Region", "Time_Period", "Year_Quarter",
            "Unit", "Value", "Disaggregator"}  # fmt: skip
    missing = sorted(need - set(reader.fieldnames or []))
    if missing:
        raise ImportError_([f"{filename}:1: missing columns {', '.join(missing)}"])
    rows: dict[tuple[str, ...], PublishedSeries] = {}
    errors = []
    for line, raw in enumerate(reader, start=2):
        if raw["Time_Period"] != "By quarter" or raw["Specific_Measure"] != "Overall numbers":
            continue
        if raw["Disaggregator"].strip() or raw["Unit"] not in {"Number", "Crude rate"}:
            continue
        match = _QUARTER.match(raw["Year_Quarter"].strip())
        if not match:
            errors.append(f"{filename}:{line}: column 'Year_Quarter': {raw['Year_Quarter']!r}")
            continue
        value_text = raw["Value"].strip()
        value: float | None = None
        if value_text and value_text.lower() not in {"suppr.", "suppressed", "n/a", "na"}:
            try:
                value = float(value_text.replace(",", ""))
            except ValueError:
                errors.append(f"{filename}:{line}: column 'Value': {value_text!r} is not a number")
                continue
        year, quarter = int(match.group(1)), int(match.group(2))
        key = (raw["Substance"], raw["Source"], raw["Region"], raw["Year_Quarter"], raw["Unit"])
        rows[key] = PublishedSeries(
            publisher="phac", substance=raw["Substance"], harm=raw["Source"],
            region=raw["Region"], period=raw["Year_Quarter"].strip(),
            period_start=date(year, 3 * quarter - 2, 1), unit=raw["Unit"], value=value,
        )  # fmt: skip
    if errors:
        raise ImportError_(errors[:MAX_ERRORS])
    with transaction.atomic():
        PublishedSeries.objects.filter(publisher="phac").delete()
        PublishedSeries.objects.bulk_create(rows.values(), batch_size=1000)
    return len(rows)


_MONTHS = {name: n for n, name in enumerate(
    ["January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"], start=1)}  # fmt: skip


def published_import_cdc(*, text: str, filename: str = "VSRR.csv") -> int:
    """CDC's provisional drug overdose death counts (VSRR): 12-month-ending counts by state,
    month and drug indicator, kept as published (a blank value is missing). Replaces what was
    loaded from the CDC."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    need = {"State Name", "Year", "Month", "Indicator", "Data Value"}
    missing = sorted(need - set(reader.fieldnames or []))
    if missing:
        raise ImportError_([f"{filename}:1: missing columns {', '.join(missing)}"])
    rows: dict[tuple[str, ...], PublishedSeries] = {}
    errors = []
    for line, raw in enumerate(reader, start=2):
        month = _MONTHS.get(raw["Month"].strip())
        if month is None or not raw["Year"].strip().isdigit():
            errors.append(
                f"{filename}:{line}: column 'Month'/'Year': {raw['Month']!r} {raw['Year']!r}"
            )
            continue
        value_text = raw["Data Value"].strip().replace(",", "")
        try:
            value = float(value_text) if value_text else None
        except ValueError:
            errors.append(f"{filename}:{line}: column 'Data Value': {raw['Data Value']!r}")
            continue
        year = int(raw["Year"])
        period = f"{year}-{month:02d}"
        key = (raw["Indicator"], raw["State Name"], period)
        rows[key] = PublishedSeries(
            publisher="cdc", substance=raw["Indicator"][:80], harm="Deaths, 12 months ending",
            region=raw["State Name"][:60], period=period, period_start=date(year, month, 1),
            unit="Number", value=value,
        )  # fmt: skip
    if errors:
        raise ImportError_(errors[:MAX_ERRORS])
    with transaction.atomic():
        PublishedSeries.objects.filter(publisher="cdc").delete()
        PublishedSeries.objects.bulk_create(rows.values(), batch_size=1000)
    return len(rows)


# --- settings ---------------------------------------------------------------------------------


def settings_for(organization: Any) -> DetectionSettings:
    """The organization's settings (the defaults until someone saves them)."""
    found = DetectionSettings.objects.filter(organization=organization).first()
    return found or DetectionSettings(organization=organization)


@transaction.atomic
def settings_update(*, organization: Any, actor: Any, **values: Any) -> DetectionSettings:
    require_role(actor, organization.pk, Role.COORDINATOR)
    current = settings_for(organization)
    methods = values.get("methods")
    if methods is not None:
        unknown = [m for m in methods if m not in Method.values]
        if unknown or not methods:
            raise ValidationError({"methods": _("Choose at least one method.")})
    for name, value in values.items():
        setattr(current, name, value)
    if "areas" in values:
        areas = []
        for word in str(values["areas"]).replace(",", " ").split():
            found = geo.fsa_of(word)
            if found is None:
                raise ValidationError(
                    {"areas": _("%(value)s is not a postal area (e.g. K7L).") % {"value": word}}
                )
            areas.append(found)
        current.areas = " ".join(dict.fromkeys(areas))
    current.full_clean(exclude=["organization"])
    current.save()
    audit.record(
        action=AuditAction.SURVEILLANCE_SETTINGS,
        actor=actor,
        organization=organization,
        obj=current,
        metadata={"fields": sorted(values)},
    )
    return current


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


# --- what coordinators do with signals --------------------------------------------------------


@transaction.atomic
def signal_dismiss(*, signal: Signal, actor: Any, reason: str) -> Signal:
    require_role(actor, signal.organization_id, Role.COORDINATOR)
    reason = " ".join(reason.split())[:300]
    if not reason:
        raise ValidationError({"reason": _("Say why, for whoever looks at this signal later.")})
    if signal.status != SignalStatus.NEW:
        raise ValidationError({"reason": _("This signal was already handled.")})
    Signal.objects.filter(pk=signal.pk).update(
        status=SignalStatus.DISMISSED, dismissed_reason=reason, reviewed_by=actor
    )
    audit.record(
        action=AuditAction.SIGNAL_DISMISS, actor=actor, organization=signal.organization,
        obj=signal, metadata={"method": signal.method},
    )  # fmt: skip
    signal.refresh_from_db()
    return signal


@transaction.atomic
def signal_to_alert(*, signal: Signal, actor: Any) -> Any:
    """One click: an alert draft of the organization for the signal's areas (reviewed, then
    published, like any other alert)."""
    from harbour.alerts import services as alerts

    require_role(actor, signal.organization_id, Role.COORDINATOR)
    locked = Signal.objects.select_for_update().get(pk=signal.pk)
    if locked.status != SignalStatus.NEW:
        raise ValidationError({"signal": _("This signal was already handled.")})
    areas = [a for a in locked.area.split() if len(a) == 3] if locked.level in {
        Level.FSA, Level.CLUSTER} else []  # fmt: skip
    where_en = locked.area or "the community"
    where_fr = locked.area or "la communauté"
    alert = alerts.alert_draft(
        actor=actor,
        organization=signal.organization,
        title_en=f"More overdoses than usual: {where_en}"[:140],
        title_fr=f"Plus de surdoses que d’habitude : {where_fr}"[:140],
        body_en=(
            f"{locked.observed} overdoses were reported in {where_en} from "
            f"{alerts.local_time(locked.period_start, 'en')} to "
            f"{alerts.local_time(locked.period_end, 'en')}, more than usual. "
            "Do not use alone, start with a small amount, and carry naloxone."
        ),
        body_fr=(
            f"{locked.observed} surdoses ont été signalées ({where_fr}) du "
            f"{alerts.local_time(locked.period_start, 'fr')} au "
            f"{alerts.local_time(locked.period_end, 'fr')}, plus que d’habitude. "
            "Ne consommez pas seul·e, commencez par une petite quantité et "
            "ayez de la naloxone."
        ),
        areas=areas,
        area_description_en=where_en,
        area_description_fr=where_fr,
        valid_until=timezone.now() + timedelta(days=3),
    )
    Signal.objects.filter(pk=locked.pk).update(
        status=SignalStatus.ALERTED, alert=alert, reviewed_by=actor
    )
    audit.record(
        action=AuditAction.SIGNAL_ALERT, actor=actor, organization=signal.organization,
        obj=signal, metadata={"alert": str(alert.pk)},
    )  # fmt: skip
    return alert
