"""HSDS 3.0 tabular interchange: export the directory as a datapackage, import one back.

Import validates everything first (file, line, column in every error), then writes in one
transaction, upserting by id: importing the same data twice changes nothing, and
export -> import -> export gives the same files. Columns Harbour does not model are kept in each
row's ``hsds_extra`` and written back on export; columns HSDS does not define are reported.
Confidential locations are exported without address or position.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from django.db import models, transaction

from harbour.core import csvsafe
from harbour.core.imports import Counts, Problem, progress
from harbour.directory import hours, hsds_legacy
from harbour.directory import models as m

LANG_FIELDS: dict[Any, set[str]] = {
    m.Taxonomy: {"name", "description"},
    m.TaxonomyTerm: {"name", "description"},
    m.DirectoryOrganization: {"name", "description"},
    m.Program: {"name", "description"},
    m.Service: {
        "name", "description", "application_process", "fees_description",
        "eligibility_description", "interpretation_services", "alert",
    },
    m.Location: {"name", "description", "transportation"},
    m.ServiceAtLocation: {"description"},
    m.Schedule: {"description", "notes"},
    m.Phone: {"description"},
    m.Accessibility: {"description", "details"},
}  # fmt: skip

# HSDS resource name -> model, in an order where every foreign key points backwards.
TABLES: list[tuple[str, type[models.Model]]] = [
    ("taxonomy", m.Taxonomy),
    ("taxonomy_term", m.TaxonomyTerm),
    ("organization", m.DirectoryOrganization),
    ("organization_identifier", m.OrganizationIdentifier),
    ("program", m.Program),
    ("service", m.Service),
    ("location", m.Location),
    ("service_at_location", m.ServiceAtLocation),
    ("address", m.Address),
    ("contact", m.Contact),
    ("phone", m.Phone),
    ("schedule", m.Schedule),
    ("language", m.Language),
    ("accessibility", m.Accessibility),
    ("service_area", m.ServiceArea),
    ("cost_option", m.CostOption),
    ("required_document", m.RequiredDocument),
    ("funding", m.Funding),
    ("attribute", m.Attribute),
]
MODEL_OF = dict(TABLES)
NOT_IMPORTED = {"metadata", "meta_table_description"}
NAMESPACE = uuid.UUID("0b7c1f1e-5a44-4b0e-8a3e-0e9d0a6f6c55")


def datapackage() -> dict[str, Any]:
    text = resources.files("harbour.directory").joinpath("data", "hsds_datapackage.json")
    return dict(json.loads(text.read_text("utf-8")))


def resources_by_name() -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in datapackage()["resources"]}


@dataclass
class ImportReport:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)  # the errors, each with its place

    @property
    def counts(self) -> Counts:
        """Rows per table, in import order (then the 1.x tables merged into services)."""
        counts = Counts()
        outcomes = {
            "new": self.created,
            "changed": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
        }
        tables = [t for t, _model in TABLES] + sorted(set(self.skipped) - set(MODEL_OF))
        for table in tables:
            if any(by_table.get(table) for by_table in outcomes.values()):
                for outcome, by_table in outcomes.items():
                    counts.add(table, outcome, by_table.get(table, 0))
        return counts

    @property
    def rows_skipped(self) -> int:
        return sum(self.skipped.values())

    def summary(self) -> str:
        return self.counts.summary()


class ImportFailed(Exception):
    def __init__(self, report: ImportReport) -> None:
        super().__init__("\n".join(report.errors))
        self.report = report


# --- values ---------------------------------------------------------------------------------


def as_uuid(value: str) -> uuid.UUID:
    """HSDS ids are UUIDs; older data uses other ids, which map to stable derived UUIDs."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return uuid.uuid5(NAMESPACE, value)


def _field(model: type[models.Model], name: str) -> models.Field[Any, Any] | None:
    try:
        found = model._meta.get_field(name)  # also finds a foreign key by "<name>_id"
    except Exception:
        return None
    return found if isinstance(found, models.Field) else None


def column_field(model: type[models.Model], column: str) -> models.Field[Any, Any] | None:
    """The model field an HSDS column maps to, or None (kept in ``hsds_extra``)."""
    if column == "id":
        return model._meta.pk
    f = _field(model, column)
    if f is None or (f.is_relation and not column.endswith("_id")):
        return None  # e.g. taxonomy_term.taxonomy: a deprecated free-text column
    if f.name in {"hsds_extra", "search_document", "created_at", "updated_at"}:
        return None
    return f


def parse_value(f: models.Field[Any, Any], raw: str) -> Any:
    """A CSV cell as the model field wants it; ValueError with a reason otherwise."""
    if raw == "":
        if isinstance(f, models.CharField | models.TextField):
            return ""
        if not f.null and not isinstance(f, models.ForeignKey):
            raise ValueError("is required")
        return None
    if isinstance(f, models.ForeignKey | models.UUIDField):
        return as_uuid(raw)
    if isinstance(f, models.DateField):
        try:
            return date.fromisoformat(raw[:10])
        except ValueError as exc:
            raise ValueError(f"{raw!r} is not a date (YYYY-MM-DD)") from exc
    if isinstance(f, models.TimeField):
        try:
            return time.fromisoformat(raw)
        except ValueError as exc:
            raise ValueError(f"{raw!r} is not a time (HH:MM or HH:MM:SS)") from exc
    if isinstance(f, models.DecimalField):
        try:
            return Decimal(raw)
        except InvalidOperation as exc:
            raise ValueError(f"{raw!r} is not a number") from exc
    if isinstance(f, models.FloatField):
        try:
            return float(raw)
        except ValueError as exc:
            raise ValueError(f"{raw!r} is not a number") from exc
    if isinstance(f, models.IntegerField):
        try:
            number = float(raw)
        except ValueError as exc:
            raise ValueError(f"{raw!r} is not a whole number") from exc
        if number != int(number) or (number < 0 and "Positive" in type(f).__name__):
            raise ValueError(f"{raw!r} is not a whole number of 0 or more")
        return int(number)
    if f.choices and raw not in {str(c[0]) for c in f.choices}:
        allowed = ", ".join(str(c[0]) for c in f.choices)
        raise ValueError(f"{raw!r} is not one of: {allowed}")
    return raw


def format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, float):
        return repr(value)
    return str(value)


# --- export ---------------------------------------------------------------------------------


def _export_row(
    obj: models.Model, columns: list[str], lang: str, required: set[str]
) -> dict[str, str]:
    model = type(obj)
    translated = LANG_FIELDS.get(model, set())
    extra = getattr(obj, "hsds_extra", {}) or {}
    row: dict[str, str] = {}
    for column in columns:
        f = column_field(model, column)
        if column in translated:
            value: Any = getattr(obj, f"{column}_{lang}", "") or ""
            if not value and column in required:
                # HSDS requires it: the other language's text, else the name
                other = "fr" if lang == "en" else "en"
                value = getattr(obj, f"{column}_{other}", "") or row.get("name", "")
        elif f is not None:
            value = getattr(obj, f.attname)
            if value is None:
                value = extra.get(column)  # kept at import: an unlinked id, an invalid position
        else:
            value = extra.get(column, "")
        row[column] = format_value(value)
    if isinstance(obj, m.Location) and obj.confidential:
        row["latitude"] = row["longitude"] = ""
    return row


def export_tabular(directory: Path, lang: str = "en") -> dict[str, int]:
    """Write ``datapackage.json`` and one CSV per HSDS table; returns rows per table."""
    directory.mkdir(parents=True, exist_ok=True)
    found = resources_by_name()
    counts = {}
    confidential = set(m.Location.objects.filter(confidential=True).values_list("id", flat=True))
    for table, model in TABLES:
        resource = found[table]
        columns = [f["name"] for f in resource["schema"]["fields"]]
        required = {
            f["name"]
            for f in resource["schema"]["fields"]
            if f.get("constraints", {}).get("required")
        }
        objects: Iterable[models.Model] = model._default_manager.order_by("pk")
        if model is m.Address:
            objects = [a for a in objects if a.location_id not in confidential]  # type: ignore[attr-defined]
        path = directory / resource["path"]
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csvsafe.dict_writer(fh, fieldnames=columns, lineterminator="\r\n")
            writer.writeheader()
            n = 0
            for obj in objects:
                writer.writerow(_export_row(obj, columns, lang, required))
                n += 1
        counts[table] = n
    package = datapackage()
    package["resources"] = [found[table] for table, _ in TABLES]
    (directory / "datapackage.json").write_text(
        json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return counts


# --- import ---------------------------------------------------------------------------------


# HSDS 3.0 JSON nesting: (table, key) -> (child table, the child's column naming the parent,
# or None when the parent names the child, as service.organization_id does).
NESTED: dict[tuple[str, str], tuple[str, str | None]] = {
    ("service", "organization"): ("organization", None),
    ("service", "program"): ("program", None),
    ("service", "phones"): ("phone", "service_id"),
    ("service", "schedules"): ("schedule", "service_id"),
    ("service", "service_areas"): ("service_area", "service_id"),
    ("service", "languages"): ("language", "service_id"),
    ("service", "funding"): ("funding", "service_id"),
    ("service", "cost_options"): ("cost_option", "service_id"),
    ("service", "required_documents"): ("required_document", "service_id"),
    ("service", "contacts"): ("contact", "service_id"),
    ("service", "attributes"): ("attribute", "link_id"),
    ("service", "service_at_locations"): ("service_at_location", "service_id"),
    ("service_at_location", "location"): ("location", None),
    ("service_at_location", "contacts"): ("contact", "service_at_location_id"),
    ("service_at_location", "phones"): ("phone", "service_at_location_id"),
    ("service_at_location", "schedules"): ("schedule", "service_at_location_id"),
    ("location", "languages"): ("language", "location_id"),
    ("location", "addresses"): ("address", "location_id"),
    ("location", "contacts"): ("contact", "location_id"),
    ("location", "accessibility"): ("accessibility", "location_id"),
    ("location", "phones"): ("phone", "location_id"),
    ("location", "schedules"): ("schedule", "location_id"),
    ("organization", "funding"): ("funding", "organization_id"),
    ("organization", "contacts"): ("contact", "organization_id"),
    ("organization", "phones"): ("phone", "organization_id"),
    ("organization", "locations"): ("location", "organization_id"),
    ("organization", "programs"): ("program", "organization_id"),
    ("organization", "organization_identifiers"): ("organization_identifier", "organization_id"),
    ("organization", "services"): ("service", "organization_id"),
    ("contact", "phones"): ("phone", "contact_id"),
    ("phone", "languages"): ("language", "phone_id"),
    ("attribute", "taxonomy_term"): ("taxonomy_term", None),
}
SKIPPED_KEYS = {"metadata", "taxonomy_detail"}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_json(path: Path) -> dict[str, tuple[str, list[dict[str, str]], list[str]]]:
    """HSDS 3.0 JSON (one service, a list, or a Page of ``contents``; or organizations)
    flattened into the same {table: (name, rows, header)} shape as the CSV files."""
    data = json.loads(path.read_text(encoding="utf-8"))
    items = data.get("contents", data) if isinstance(data, dict) else data
    items = items if isinstance(items, list) else [items]
    tables: dict[str, dict[str, dict[str, str]]] = {}

    def add(table: str, obj: dict[str, Any], where: str, link: dict[str, str]) -> str:
        if not isinstance(obj, dict) or not obj.get("id"):
            raise ValueError(f"{path.name}: {where}: an object without an id")
        row = {k: _cell(v) for k, v in obj.items() if not isinstance(v, dict | list)}
        row.update(link)
        for key, value in obj.items():
            nested = NESTED.get((table, key))
            if key in SKIPPED_KEYS or nested is None or not isinstance(value, dict | list):
                continue
            child, column = nested
            if column is None:  # the parent names the child
                if isinstance(value, dict) and value:
                    row[f"{child}_id" if child != "taxonomy_term" else "taxonomy_term_id"] = add(
                        child, value, f"{where}.{key}", {}
                    )
                continue
            children = value if isinstance(value, list) else [value]
            for index, item in enumerate(children):
                extra = {column: row["id"]}
                if table == "service" and child == "attribute":
                    extra["link_entity"] = "service"
                add(child, item, f"{where}.{key}[{index}]", extra)
        row["_where"] = where
        tables.setdefault(table, {})[row["id"]] = {
            **tables.get(table, {}).get(row["id"], {}),
            **row,
        }
        return row["id"]

    first = (
        "organization"
        if items and isinstance(items[0], dict) and "services" in items[0]
        else "service"
    )
    for index, item in enumerate(items):
        add(first, item, f"{first}[{index}]", {})
    found = resources_by_name()
    result = {}
    for table, rows in tables.items():
        header = [f["name"] for f in found[table]["schema"]["fields"]]
        extra = sorted({k for row in rows.values() for k in row} - set(header) - {"_where"})
        result[table] = (path.name, list(rows.values()), header + extra)
    return result


# Limits on what an import reads, checked before anything is extracted: an HSDS datapackage
# has about twenty tables, and the largest real directories are a few hundred megabytes.
MAX_MEMBERS = 100
MAX_MEMBER_BYTES = 200 * 1024 * 1024
MAX_TOTAL_BYTES = 500 * 1024 * 1024
MAX_RATIO = 100  # uncompressed / compressed, per member (CSV compresses 5-20 times)
RATIO_FROM_BYTES = 1024 * 1024  # small members may compress better (a header and a few rows)


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB"


def _check_sizes(where: str, sizes: dict[str, int]) -> None:
    if len(sizes) > MAX_MEMBERS:
        raise ValueError(f"{where}: {len(sizes)} files; at most {MAX_MEMBERS} are read")
    for name, size in sizes.items():
        if size > MAX_MEMBER_BYTES:
            raise ValueError(
                f"{where}: {name} is {_mb(size)}; a file may be at most {_mb(MAX_MEMBER_BYTES)}"
            )
    total = sum(sizes.values())
    if total > MAX_TOTAL_BYTES:
        raise ValueError(
            f"{where}: the files add up to {_mb(total)}; at most {_mb(MAX_TOTAL_BYTES)} are read"
        )


def read_zip(path: Path) -> dict[str, bytes]:
    """The CSV files of a zip archive, by name, after checking every member's declared
    sizes and path (ValueError with a one-line reason); members are then read no further
    than their declared size, so an archive that lies about sizes is refused too."""
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise ValueError(f"{path.name}: {len(infos)} files; at most {MAX_MEMBERS} are read")
        for info in infos:
            name = info.filename
            parts = name.replace("\\", "/").split("/")
            if name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
                raise ValueError(f"{path.name}: {name!r} points outside the archive's folder")
            if info.compress_size and info.file_size > RATIO_FROM_BYTES:
                ratio = info.file_size / info.compress_size
                if ratio > MAX_RATIO:
                    raise ValueError(
                        f"{path.name}: {name} expands {ratio:.0f} times; "
                        f"at most {MAX_RATIO} times is read (a zip bomb?)"
                    )
        wanted = [info for info in infos if info.filename.endswith(".csv")]
        _check_sizes(path.name, {info.filename: info.file_size for info in infos})
        files: dict[str, bytes] = {}
        for info in wanted:
            with archive.open(info) as member:
                data = member.read(info.file_size + 1)
            if len(data) > info.file_size:
                raise ValueError(f"{path.name}: {info.filename} is larger than it says")
            files[Path(info.filename).name] = data
    return files


def read_source(path: Path) -> dict[str, tuple[str, list[dict[str, str]], list[str]]]:
    """{table: (file name, rows, header)} from a folder of CSVs, a zip of one, or HSDS JSON.

    A folder in the older 1.x/2.x layout is converted on the way (``hsds_legacy``)."""
    if path.is_file() and path.suffix.lower() == ".json":
        return read_json(path)
    by_path = {r["path"]: name for name, r in resources_by_name().items()}
    files: dict[str, bytes] = {}
    if path.is_dir():
        found = sorted(path.glob("*.csv"))
        sizes = {item.name: item.stat().st_size for item in found}
        _check_sizes(path.name, sizes)
        for item in found:
            files[item.name] = item.read_bytes()
    elif zipfile.is_zipfile(path):
        try:
            files = read_zip(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError) as exc:
            raise ValueError(f"{path.name}: not a readable zip archive ({exc})") from exc
    else:
        raise ValueError(f"{path}: not a folder of CSV files or a zip archive")
    if hsds_legacy.is_legacy(files):
        known = set(resources_by_name()) | {hsds_legacy.ERRORS}
        converted = {
            (table if table in known else f"?{name}"): (name, rows, header)
            for table, (name, rows, header) in hsds_legacy.convert(files).items()
        }
        hsds_legacy.apply_aliases(converted, hsds_legacy.earlier_ids(converted, _existing))
        return converted
    tables = {}
    for name, data in files.items():
        table = by_path.get(name)
        if table is None:
            table = f"?{name}"
        text = data.decode("utf-8-sig")
        reader = csv.DictReader(io.StringIO(text, newline=""))
        # a cell Harbour's export quoted against spreadsheet formulas comes back as written
        rows = [
            {k: csvsafe.unquote(v) if isinstance(v, str) else v for k, v in row.items()}
            for row in reader
        ]
        tables[table] = (name, rows, list(reader.fieldnames or []))
    return tables


def _existing(table: str, ids: set[str]) -> set[str]:
    """Which of these ids (UUID strings) the table holds."""
    model = MODEL_OF.get(table)
    if model is None:
        return set()
    wanted = list(ids)
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        found |= {
            str(pk)
            for pk in model._default_manager.filter(pk__in=wanted[start : start + 500]).values_list(
                "pk", flat=True
            )
        }
    return found


def _problem(
    report: ImportReport, name: str, row: dict[str, Any], column: str, value: str, reason: str
) -> None:
    """An error in a row: a line for people, and a Problem with its place for --report."""
    place = row.get("_where") or ""
    value = row.get(f"_as_written:{column}", value)  # an id of the older layout, before scoping
    text = (
        f"{_at(name, place)}: column {column}: {reason}"
        if column
        else f"{_at(name, place)}: {reason}"
    )
    report.errors.append(text)
    line = int(row["_line"]) if str(row.get("_line") or "").isdigit() else 0
    where = "" if line or not place else f"{place}."  # a JSON path when there is no line
    report.problems.append(
        Problem(row.get("_file") or name, line, f"{where}{column}", value, reason)
    )


def validate(
    source: dict[str, tuple[str, list[dict[str, str]], list[str]]], lang: str
) -> tuple[ImportReport, dict[str, list[dict[str, Any]]]]:
    """Check every row. Each parsed record keeps ``_bad`` (its problems, as Problems) so that
    ``--skip-invalid`` can leave it out; ``report.errors`` lists them all."""
    report = ImportReport()
    found = resources_by_name()
    parsed: dict[str, list[dict[str, Any]]] = {}
    for table, (name, rows, header) in source.items():
        if table == hsds_legacy.ERRORS:
            for row in rows:
                report.errors.append(
                    f"{row['file']}: line {row['line']}: column {row['column']}: {row['reason']}"
                )
                report.problems.append(
                    Problem(
                        row["file"], int(row["line"]), row["column"], row["value"], row["reason"]
                    )
                )
                legacy = hsds_legacy.table_of(row["file"])
                report.skipped[legacy] = report.skipped.get(legacy, 0) + 1
            continue
        if table.startswith("?"):
            report.warnings.append(f"{name}: not an HSDS 3.0 table; skipped")
            continue
        if table in NOT_IMPORTED:
            report.warnings.append(f"{name}: {table} records are not imported")
            continue
        model = MODEL_OF[table]
        spec = {f["name"]: f for f in found[table]["schema"]["fields"]}
        unknown = [c for c in header if c not in spec]
        if unknown:
            report.warnings.append(
                f"{name}: columns not in HSDS 3.0 kept as extra data: {', '.join(unknown)}"
            )
        if "id" not in header:
            report.errors.append(f"{name}: line 1: the id column is missing")
            report.problems.append(Problem(name, 1, "id", "", "the id column is missing"))
            report.skipped[table] = report.skipped.get(table, 0) + len(rows)
            continue
        required = [c for c, f in spec.items() if f.get("constraints", {}).get("required")]
        translated = LANG_FIELDS.get(model, set())
        out = []
        first_line: dict[Any, str] = {}
        for line, row in enumerate(rows, start=2):
            place = row.get("_where") or f"line {line}"  # a JSON path for JSON input
            if "_where" not in row:
                row = {**row, "_where": place, "_line": str(line)}
            before = len(report.problems)
            record: dict[str, Any] = {"extra": {}}
            for column in header:
                raw = (row.get(column) or "").strip()
                if column in required and not raw:
                    _problem(report, name, row, column, raw, "is required")
                    continue
                f = column_field(model, column) if column in spec else None
                if column in translated:
                    record[f"{column}_{lang}"] = raw
                elif f is None:
                    if raw:
                        record["extra"][column] = raw
                else:
                    try:
                        value = parse_value(f, raw)
                    except ValueError as exc:
                        _problem(report, name, row, column, raw, str(exc))
                        continue
                    record["pk" if column == "id" else f.attname] = value
            if model is m.Location:
                for axis, limit in (("latitude", 90), ("longitude", 180)):
                    value = record.get(axis)
                    if value is not None and not -limit <= value <= limit:
                        report.warnings.append(
                            f"{_at(name, place)}: column {axis}: {value:g} is out of range; "
                            "imported without a position (the value is kept for export)"
                        )
                        record["extra"][axis] = (row.get(axis) or "").strip()
                        record[axis] = None
            if model is m.Schedule:
                _check_schedule(record, name, row, report)
            for column, reason in _model_errors(model, record):
                _problem(report, name, row, column, (row.get(column) or "").strip(), reason)
            pk = record.get("pk")
            if pk is not None:
                if pk in first_line:
                    raw_id = (row.get("id") or "").strip()
                    _problem(
                        report,
                        name,
                        row,
                        "id",
                        raw_id,
                        f"repeats the id of {first_line[pk]}; ids must be unique",
                    )
                else:
                    first_line[pk] = place
            record["_where"] = place
            record["_row"] = row
            record["_bad"] = report.problems[before:]
            out.append(record)
        parsed[table] = out
    _check_references(parsed, source, report)
    return report, parsed


def _at(name: str, place: str) -> str:
    """ "file: line 3", or the place alone when it names its own file (older layouts merge
    two files into one table)."""
    return place if ".csv: line " in place else f"{name}: {place}"


def _check_schedule(
    record: dict[str, Any], name: str, row: dict[str, Any], report: ImportReport
) -> None:
    """A weekly schedule Harbour will compute hours from must make sense; others are kept."""
    place = row.get("_where") or ""
    if record.get("opens_at") is None or record.get("closes_at") is None:
        return
    freq = (record.get("freq") or "").strip()
    if freq and freq.upper() != "WEEKLY":
        report.warnings.append(
            f"{_at(name, place)}: column freq: {freq!r} schedules are kept but not used for "
            "opening hours (only WEEKLY ones are)"
        )
        return
    byday = record.get("byday") or ""
    if byday.startswith("?"):
        _problem(
            report,
            name,
            row,
            "weekday",
            byday[1:],
            f"{byday[1:]!r} is not a day (1 = Monday ... 7 = Sunday, or a day name)",
        )
        return
    try:
        hours.parse_hsds_schedule(
            byday=byday or None,
            opens_at=record["opens_at"].strftime("%H:%M"),
            closes_at=record["closes_at"].strftime("%H:%M"),
            valid_from=record["valid_from"].isoformat() if record.get("valid_from") else None,
            valid_to=record["valid_to"].isoformat() if record.get("valid_to") else None,
        )
    except ValueError as exc:
        _problem(report, name, row, "", "", str(exc))


def _model_errors(model: type[models.Model], record: dict[str, Any]) -> list[tuple[str, str]]:
    """The model's own checks (lengths, choices, ranges) before anything is written."""
    from django.core.exceptions import ValidationError

    values = {k: v for k, v in record.items() if k not in {"pk", "extra"} and k[0] != "_"}
    relations = [f.name for f in model._meta.fields if f.is_relation]
    try:
        model(**values).full_clean(exclude=[*relations, "id"], validate_unique=False)
    except ValidationError as exc:
        return [
            (key.removesuffix("_en").removesuffix("_fr"), " ".join(messages))
            for key, messages in exc.message_dict.items()
        ]
    return []


def _check_references(
    parsed: dict[str, list[dict[str, Any]]], source: dict[str, Any], report: ImportReport
) -> None:
    known: dict[type[models.Model], set[Any]] = {}
    for table, records in parsed.items():
        known.setdefault(MODEL_OF[table], set()).update(r.get("pk") for r in records)
    for table, records in parsed.items():
        model = MODEL_OF[table]
        name = source[table][0]
        for record in records:
            place = record.get("_where", "")
            for key, value in list(record.items()):
                if not key.endswith("_id") or value is None or key in {"link_id", "_where"}:
                    continue
                f = _field(model, key)
                if f is None or not f.is_relation or f.related_model is None:
                    continue
                target: Any = f.related_model
                if value in known.get(target, set()):
                    continue
                if target._default_manager.filter(pk=value).exists():
                    continue
                if m.MergedId.objects.filter(old_id=value).exists():
                    continue  # merged into another listing: the import links the survivor
                kind = target._meta.model_name
                if f.null:
                    # an optional link to something not in the data: kept for export, not linked
                    report.warnings.append(
                        f"{_at(name, place)}: column {key}: no {kind} with id {value}; not linked"
                    )
                    record["extra"][key] = str(value)
                    record[key] = None
                else:
                    row = record["_row"]
                    _problem(
                        report,
                        name,
                        row,
                        key,
                        (row.get(key) or "").strip(),
                        f"no {kind} with id {value}",
                    )
                    record["_bad"].append(report.problems[-1])


def _leave_out_invalid(
    parsed: dict[str, list[dict[str, Any]]], source: dict[str, Any], report: ImportReport
) -> None:
    """``--skip-invalid``: leave out the records with problems, then the records that refer to
    a left-out one (each is reported: "refers to service line 3, skipped"), until none does."""
    left_out: dict[type[models.Model], dict[Any, str]] = {}
    changed = True
    while changed:
        changed = False
        for table, records in parsed.items():
            model = MODEL_OF[table]
            kept = []
            for record in records:
                if not record["_bad"]:
                    for key, value in record.items():
                        if value is None or not key.endswith("_id") or key[0] == "_":
                            continue
                        target = left_out.get(_related(model, key), {})
                        if key == "link_id":
                            target = (
                                left_out.get(m.Service, {})
                                if record.get("link_entity", "service") == "service"
                                else {}
                            )
                        if value in target:
                            row = record["_row"]
                            name = row.get("_file") or source[table][0]
                            _problem(
                                report,
                                name,
                                row,
                                key,
                                (row.get(key) or "").strip(),
                                f"refers to {target[value]}, which is skipped",
                            )
                            record["_bad"].append(report.problems[-1])
                            break
                if record["_bad"]:
                    if record.get("pk") is not None:
                        file = record["_row"].get("_file") or source[table][0]
                        left_out.setdefault(model, {})[record["pk"]] = (
                            f"{model._meta.model_name} {_at(file, record['_where'])}"
                        )
                    report.skipped[table] = report.skipped.get(table, 0) + 1
                    changed = True
                else:
                    kept.append(record)
            parsed[table] = kept


def _related(model: type[models.Model], key: str) -> Any:
    f = _field(model, key)
    return f.related_model if f is not None and f.is_relation else None


def import_tabular(
    path: Path, *, lang: str = "en", dry_run: bool = False, skip_invalid: bool = False
) -> ImportReport:
    """Validate all, then write all or nothing: raises ImportFailed listing every problem. With
    ``skip_invalid`` the rows with problems (and the rows that refer to them) are left out and
    the rest is written; ``report.problems`` lists why. Nothing is written, not even the opening
    hours or the search index, when every row is as stored."""
    source = read_source(path)
    report, parsed = validate(source, lang)
    if report.errors and not skip_invalid:
        raise ImportFailed(report)
    if skip_invalid:
        _leave_out_invalid(parsed, source, report)
    with transaction.atomic():
        touched_services: set[Any] = set()
        aliases = _merged_ids()
        survivors = {new_id for new_id in aliases.values() if new_id is not None}
        merged = 0
        for table, model in TABLES:
            records = parsed.get(table, [])
            for record in progress(records, total=len(records), label=table):
                pk = record.pop("pk")
                extra = record.pop("extra")
                for key in [k for k in record if k.startswith("_")]:
                    record.pop(key)
                # a listing staff merged: its rows update the survivor (blanks only) or, being
                # copies of what the survivor has, are skipped; never a new duplicate
                fill_only = pk in aliases
                if fill_only:
                    merged += 1
                    pk = aliases[pk]
                links = [k for k, v in record.items() if k.endswith("_id") and v in aliases]
                if pk is None or any(aliases[record[k]] is None for k in links):
                    report.unchanged[table] = report.unchanged.get(table, 0) + 1
                    continue
                for key in links:
                    record[key] = aliases[record[key]]
                obj = model._default_manager.filter(pk=pk).first()
                values = {**record, "hsds_extra": extra}
                if fill_only and obj is not None:
                    values = {k: v for k, v in values.items() if _same(getattr(obj, k), None)}
                elif pk in survivors:  # its own row does not blank what a merge filled in
                    values = {k: v for k, v in values.items() if not _same(v, None)}
                if obj is None:
                    model._default_manager.create(pk=pk, **values)
                    report.created[table] = report.created.get(table, 0) + 1
                else:
                    changed = [k for k, v in values.items() if not _same(getattr(obj, k), v)]
                    if changed:
                        for k in changed:
                            setattr(obj, k, values[k])
                        obj.save()
                        report.updated[table] = report.updated.get(table, 0) + 1
                    else:
                        report.unchanged[table] = report.unchanged.get(table, 0) + 1
                if model is m.Service:
                    touched_services.add(pk)
        if merged:
            report.warnings.append(
                f"{merged} row(s) carry the ids of listings merged into others: they filled "
                "what the surviving listings lacked, or were skipped as copies"
            )
        if report.counts.written:
            _after_import(touched_services)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _merged_ids() -> dict[Any, Any]:
    """Old id -> the id it became in a merge (None: a copy, dropped)."""
    return dict(m.MergedId.objects.values_list("old_id", "new_id"))


def _same(current: Any, new: Any) -> bool:
    """Equal, counting an unset translation (None) and an empty text as the same."""
    return current == new or (current in (None, "") and new in (None, ""))


def _after_import(service_ids: set[Any]) -> None:
    from harbour.directory import services as directory_services

    sals = list(m.ServiceAtLocation.objects.all())
    directory_services.opening_rows_rebuild(service_at_locations=sals)
    directory_services.service_reindex(services=m.Service.objects.select_related("organization"))
