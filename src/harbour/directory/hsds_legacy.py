"""The older HSDS tabular layouts (1.x and the 2.x drafts) that many 211s and cities still
publish, read into the HSDS 3.0 tables that ``hsds.validate`` checks and imports.

What changes on the way (everything else keeps its column name, and columns HSDS 3.0 does not
define are kept as extra data and reported, as for 3.0 files):

- ``physical_addresses`` and ``postal_addresses`` become ``address`` rows with ``address_type``
  physical / postal (``country`` defaults to CA when empty);
- ``regular_schedules`` (``weekday``: 1 = Monday ... 7 = Sunday as in ISO 8601, 0 also Sunday,
  or a day name in English or French) become weekly ``schedule`` rows;
- ``holiday_schedules`` become ``schedule`` rows valid from ``start_date`` to ``end_date``:
  open hours every day of that period, or, when ``closed`` is true, a row without hours whose
  description says "Closed" (Harbour does not model closures yet, so these do not change
  "open now"; they are kept and exported);
- ``service_taxonomy`` becomes ``attribute`` rows linking the service to the term
  (``taxonomy_detail`` in ``value``); the 1.x ``taxonomy`` file (terms with ``vocabulary``)
  becomes ``taxonomy_term`` rows;
- ``eligibility`` rows are joined into the service's ``eligibility_description``, ``fees`` into
  ``fees_description``, ``payment_accepted`` kept as the service's extra data;
- ``accessibility_for_disabilities`` becomes ``accessibility``; ``language`` -> ``name``;
  ``service_area`` -> ``name``; organization ``url`` -> ``website``; a location without
  ``location_type`` is physical.

Errors keep the original file name and line.

Ids. In the older layout an id is unique only within its own file: publishers reuse the same id
(a UUID or a number) in ``regular_schedules.csv`` and ``holiday_schedules.csv``, or in
``organizations.csv`` and ``services.csv``. So every id from this layout, whatever its form, is
scoped by its source table: it becomes ``uuid5(NAMESPACE, "<table>:<id>")`` (the table is the
1.x table, e.g. ``regular_schedule``), and every column that refers to a row (``service_id``,
``location_id``, ...) is scoped by the table it refers to. The ids are stable, so re-importing an
unchanged package finds every row as it was and writes nothing. (HSDS 3.0 files keep their ids.)

Data imported before this scoping used the id as it was (a UUID kept, another id mapped to
``uuid5(NAMESPACE, id)``; tables merged from two files scoped non-UUID ids only). So that a
re-import does not duplicate it, ``earlier_ids`` gives each row its id under that earlier rule,
and ``hsds.read_source`` keeps a row's earlier id when a row with that id exists and no row has
the new id yet (each earlier id is claimed once: when two rows of an earlier import shared one,
the first file in name order keeps it and the other becomes a row of its own).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable

NAMESPACE = uuid.UUID("0b7c1f1e-5a44-4b0e-8a3e-0e9d0a6f6c55")  # as hsds.NAMESPACE

Table = tuple[str, list[dict[str, str]], list[str]]
ERRORS = "!errors"

# file stem (singular or plural) -> legacy table
ALIASES = {
    "organizations": "organization",
    "programs": "program",
    "services": "service",
    "locations": "location",
    "services_at_location": "service_at_location",
    "services_at_locations": "service_at_location",
    "service_at_locations": "service_at_location",
    "phones": "phone",
    "physical_addresses": "physical_address",
    "postal_addresses": "postal_address",
    "regular_schedules": "regular_schedule",
    "holiday_schedules": "holiday_schedule",
    "service_taxonomies": "service_taxonomy",
    "taxonomies": "taxonomy",
    "eligibilities": "eligibility",
    "service_areas": "service_area",
    "required_documents": "required_document",
    "languages": "language",
    "contacts": "contact",
    "fundings": "funding",
    "fees": "fee",
    "meta_table_descriptions": "meta_table_description",
}
# tables only the older layouts have: one of them present means the folder is 1.x/2.x
LEGACY_ONLY = {
    "physical_address",
    "postal_address",
    "regular_schedule",
    "holiday_schedule",
    "service_taxonomy",
    "eligibility",
    "payment_accepted",
    "accessibility_for_disabilities",
    "fee",
}
RENAMES: dict[str, dict[str, str]] = {
    "organization": {"url": "website"},
    "language": {"language": "name"},
    "service_area": {"service_area": "name"},
    "accessibility_for_disabilities": {"accessibility": "description"},
    "service_taxonomy": {"service_id": "link_id", "taxonomy_id": "taxonomy_term_id"},
    "taxonomy": {"vocabulary": "taxonomy"},
    "service": {"fees": "fees_description"},
}
TARGET = {
    "physical_address": "address",
    "postal_address": "address",
    "regular_schedule": "schedule",
    "holiday_schedule": "schedule",
    "service_taxonomy": "attribute",
    "taxonomy": "taxonomy_term",
    "accessibility_for_disabilities": "accessibility",
}
MERGED_INTO_SERVICE = {"eligibility", "payment_accepted", "fee"}
# a column that refers to a row -> the 1.x table of that row (after RENAMES)
REFERS_TO = {
    "organization_id": "organization",
    "program_id": "program",
    "service_id": "service",
    "location_id": "location",
    "service_at_location_id": "service_at_location",
    "contact_id": "contact",
    "phone_id": "phone",
    "taxonomy_term_id": "taxonomy",
    "parent_id": "taxonomy",
    "link_id": "service",
}
DAYS = {
    **{str(n): code for n, code in enumerate(["SU", "MO", "TU", "WE", "TH", "FR", "SA", "SU"])},
    **{
        name: code
        for code, names in {
            "MO": ("monday", "mon", "mo", "lundi", "lun"),
            "TU": ("tuesday", "tue", "tues", "tu", "mardi", "mar"),
            "WE": ("wednesday", "wed", "we", "mercredi", "mer"),
            "TH": ("thursday", "thu", "thur", "thurs", "th", "jeudi", "jeu"),
            "FR": ("friday", "fri", "fr", "vendredi", "ven"),
            "SA": ("saturday", "sat", "sa", "samedi", "sam"),
            "SU": ("sunday", "sun", "su", "dimanche", "dim"),
        }.items()
        for name in names
    },
}
EVERY_DAY = "MO,TU,WE,TH,FR,SA,SU"
TRUE = {"true", "t", "yes", "y", "1", "oui"}


def table_of(file_name: str) -> str:
    stem = file_name.rsplit("/", 1)[-1].removesuffix(".csv").strip().lower()
    return ALIASES.get(stem, stem)


def read_csv(data: bytes) -> tuple[list[dict[str, str]], list[str]]:
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    rows = list(reader)
    return rows, [h.strip() for h in reader.fieldnames or []]


def is_legacy(files: dict[str, bytes]) -> bool:
    for name, data in files.items():
        table = table_of(name)
        if table in LEGACY_ONLY:
            return True
        if table == "taxonomy":  # 1.x terms; 3.0's taxonomies.csv has no vocabulary/parent
            header = read_csv(data.split(b"\n", 1)[0] + b"\n")[1]
            if {"vocabulary", "parent_id", "parent_name"} & set(header):
                return True
    return False


def convert(files: dict[str, bytes]) -> dict[str, Table]:
    """{3.0 table: (file name(s), rows with ``_where``, header)} from a 1.x/2.x folder."""
    out: dict[str, tuple[list[str], list[dict[str, str]]]] = {}
    merged: dict[str, list[tuple[str, int, dict[str, str]]]] = {}
    sources: dict[str, set[str]] = {}
    for name in sorted(files):
        legacy = table_of(name)
        rows, _header = read_csv(files[name])
        if legacy in MERGED_INTO_SERVICE:
            merged.setdefault(legacy, []).extend(
                (name, line, row) for line, row in enumerate(rows, start=2)
            )
            continue
        target = TARGET.get(legacy, legacy)
        sources.setdefault(target, set()).add(name)
        names, converted = out.setdefault(target, ([], []))
        names.append(name)
        for line, row in enumerate(rows, start=2):
            record = _convert_row(legacy, {k.strip(): (v or "") for k, v in row.items() if k})
            record["_where"] = f"line {line}"
            record["_line"] = str(line)
            record["_file"] = name
            converted.append(record)
    errors = _merge_into_services(out, merged)
    result: dict[str, Table] = {}
    if errors:  # validate() adds these to its own
        result[ERRORS] = ("", errors, ["file", "line", "column", "value", "reason"])
    for target, (names, rows) in out.items():
        several = len(set(names)) > 1
        for row in rows:
            file = row.pop("_file", "")
            legacy = table_of(file)
            if several:
                row["_where"] = f"{file}: {row['_where']}"
            row["_file"] = file
            for column in ("id", *REFERS_TO):  # as written, for problems
                if row.get(column):
                    row[f"_as_written:{column}"] = row[column]
            if row.get("id"):
                raw = row["id"].strip()
                row["id"] = scoped_id(legacy, raw)
                row["_earlier_id"] = str(_earlier_id(legacy, raw, several))
            for column, table in REFERS_TO.items():
                if column == "parent_id" and legacy != "taxonomy":
                    continue
                if (row.get(column) or "").strip():
                    row[column] = scoped_id(table, row[column].strip())
        header = list(dict.fromkeys(k for row in rows for k in row if not k.startswith("_")))
        result[target] = (
            ", ".join(dict.fromkeys(names)),
            rows,
            header,
        )
    return result


def scoped_id(table: str, value: str) -> str:
    """The id of a 1.x row, scoped by its table: stable, and the same for every reference."""
    return str(uuid.uuid5(NAMESPACE, f"{table}:{value}"))


def _earlier_id(legacy: str, value: str, several: bool) -> uuid.UUID:
    """The id the same row got before ids were scoped by table (see the module's docstring)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return uuid.uuid5(NAMESPACE, f"{legacy}:{value}" if several else value)


def earlier_ids(
    tables: dict[str, Table], existing: Callable[[str, set[str]], set[str]]
) -> dict[str, str]:
    """{new id: earlier id} for the rows stored under their earlier id only. ``existing(table,
    ids)`` says which of these ids the 3.0 table holds."""
    aliases: dict[str, str] = {}
    for target, (_names, rows, _header) in tables.items():
        if target == ERRORS or target.startswith("?"):
            continue
        new = {row["id"] for row in rows if row.get("id")}
        earlier = {row["_earlier_id"] for row in rows if row.get("_earlier_id")}
        found = existing(target, new | earlier)
        claimed: set[str] = set()
        for row in rows:
            old = row.get("_earlier_id")
            if not old or row["id"] in found or old not in found or old in claimed:
                continue
            if old == row["id"]:
                continue
            claimed.add(old)
            aliases[row["id"]] = old
    return aliases


def apply_aliases(tables: dict[str, Table], aliases: dict[str, str]) -> None:
    """Rename ids (and references to them) to the earlier ids ``earlier_ids`` found."""
    if not aliases:
        return
    for target, (_names, rows, _header) in tables.items():
        if target == ERRORS:
            continue
        for row in rows:
            for column in ("id", *REFERS_TO):
                value = row.get(column)
                if value and value in aliases:
                    row[column] = aliases[value]


def _convert_row(legacy: str, row: dict[str, str]) -> dict[str, str]:
    for old, new in RENAMES.get(legacy, {}).items():
        if old in row and new not in row:
            row[new] = row.pop(old)
    if legacy in {"physical_address", "postal_address"}:
        row.setdefault("address_type", "physical" if legacy == "physical_address" else "postal")
        if not row.get("country", "").strip():
            row["country"] = "CA"
    elif legacy == "location" and not row.get("location_type", "").strip():
        row["location_type"] = "physical"
    elif legacy == "regular_schedule":
        raw = row.pop("weekday", "").strip()
        row["byday"] = DAYS.get(raw.lower(), f"?{raw}")
        row.setdefault("freq", "WEEKLY")
    elif legacy == "holiday_schedule":
        row["valid_from"] = row.pop("start_date", "")
        row["valid_to"] = row.pop("end_date", "")
        if row.pop("closed", "").strip().lower() in TRUE:
            row["description"] = row.get("description") or "Closed"
            row["opens_at"] = row["closes_at"] = ""
        else:
            row.setdefault("freq", "WEEKLY")
            row.setdefault("byday", EVERY_DAY)
    elif legacy == "service_taxonomy":
        row.setdefault("link_entity", "service")
        if "taxonomy_detail" in row:
            row.setdefault("value", row.pop("taxonomy_detail"))
    elif legacy == "taxonomy":
        row.pop("parent_name", None)  # the parent is linked by parent_id
        if not row.get("description", "").strip():
            row["description"] = row.get("name", "")
    return row


def _merge_into_services(
    out: dict[str, tuple[list[str], list[dict[str, str]]]],
    merged: dict[str, list[tuple[str, int, dict[str, str]]]],
) -> list[dict[str, str]]:
    """Join eligibility, fees and payments into their service; a row whose service is not in
    services.csv is a problem (file, line, column, value, reason)."""
    errors: list[dict[str, str]] = []
    services = {row.get("id", ""): row for row in out.get("service", ([], []))[1]}
    column = {
        "eligibility": "eligibility_description",
        "fee": "fees_description",
        "payment_accepted": "payment_accepted",
    }
    value_of = {"eligibility": "eligibility", "fee": "fee", "payment_accepted": "payment"}
    for legacy, rows in merged.items():
        for name, line, row in rows:
            service = services.get((row.get("service_id") or "").strip())
            value = (row.get(value_of[legacy]) or "").strip()
            if service is None:
                errors.append(
                    {
                        "file": name,
                        "line": str(line),
                        "column": "service_id",
                        "value": row.get("service_id") or "",
                        "reason": f"no service with id {row.get('service_id', '')!r} "
                        "in services.csv",
                    }
                )
                continue
            if value:
                current = service.get(column[legacy], "")
                service[column[legacy]] = f"{current}; {value}" if current else value
    return errors
