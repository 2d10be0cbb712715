"""A directory's own CSV export (a 211 line, a provincial directory) imported as HSDS 3.0 rows.

Such exports have their own columns ("Agency Name", "Phone", "Hours"), one row per service.
``--map 'key=Record ID,organization=Agency Name,name=Program Name,phone=Phone,...'`` names the
column that holds each field (:data:`MAP_FIELDS`); each row becomes an HSDS organization,
service, location, service at location, address, phones, schedules, languages and taxonomy
attributes. Opening hours in free text are read by :mod:`hours_text`; a text it does not
understand is kept as written (the schedule's description) and the hours stay unknown.

Ids are derived from the Harbour organization's slug and the row's key (uuid5), so importing
the file again updates each listing in place; a row in which nothing differs is "unchanged" and
is not written. Organizations are one per name (per key when no organization column is mapped).

The file is read twice, streaming: a first pass builds and checks every row against the HSDS 3.0
datapackage (required columns, types) and the models (lengths, e-mails, web addresses) and writes
nothing; a second pass writes, 1,000 rows at a time, in one transaction. By default one problem
stops the import (atomic); ``skip_invalid`` leaves out the rows with a problem. Memory stays
bounded whatever the size of the file (only the keys and the organizations seen are kept).
"""

from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import time
from functools import cache
from pathlib import Path
from typing import IO, Any

from django.db import (
    DEFAULT_DB_ALIAS,
    connection,
    connections,
    models,
    reset_queries,
    transaction,
)

from harbour.core import audit, geo
from harbour.core.imports import Counts, Problem, progress
from harbour.core.models import AuditAction
from harbour.directory import hours, hours_text, hsds, textsearch
from harbour.directory import models as m
from harbour.directory import services as directory_services

MAP_FIELDS: dict[str, str] = {
    "key": "the column that names each row the same way in every export (required: a re-import "
    "updates the listing with the same key)",
    "name": "the service or program name (required)",
    "organization": "the agency or provider name (default: one provider per row, named as the "
    "service)",
    "description": "what the service offers",
    "phone": "phone numbers; several in one cell separated by ; or /",
    "email": "e-mail address",
    "url": "website",
    "address_1": "street address",
    "address_2": "second address line",
    "city": "city or town",
    "province": "province or territory (ON, Ontario, Québec...)",
    "postal_code": "postal code",
    "latitude": "latitude (decimal degrees)",
    "longitude": "longitude (decimal degrees)",
    "hours": "opening hours as text (Mon-Fri 9am-5pm, lundi au vendredi de 9 h à 17 h...)",
    "languages": "languages spoken, separated by , or ;",
    "category": "codes or names of Harbour taxonomy terms, separated by ; or ,",
    "eligibility": "who can use the service",
    "fees": "fees",
}
REQUIRED_FIELDS = ("key", "name")
BATCH = 1000
MAX_PROBLEMS = 100_000  # a report beyond this is the same mistake repeated
TABLES = [
    "organization", "service", "location", "service_at_location", "address", "phone",
    "schedule", "language", "attribute",
]  # fmt: skip

PROVINCES: dict[str, tuple[str, str]] = {
    # code -> (IANA zone of most of its people, names in English and French)
    "BC": ("America/Vancouver", "british columbia|colombie-britannique"),
    "AB": ("America/Edmonton", "alberta"),
    "SK": ("America/Regina", "saskatchewan"),
    "MB": ("America/Winnipeg", "manitoba"),
    "ON": ("America/Toronto", "ontario"),
    "QC": ("America/Toronto", "quebec|québec|que|pq"),
    "NB": ("America/Moncton", "new brunswick|nouveau-brunswick"),
    "NS": ("America/Halifax", "nova scotia|nouvelle-écosse|nouvelle-ecosse"),
    "PE": ("America/Halifax", "prince edward island|île-du-prince-édouard|pei|ipe"),
    "NL": ("America/St_Johns", "newfoundland and labrador|terre-neuve-et-labrador|nfld"),
    "YT": ("America/Whitehorse", "yukon"),
    "NT": ("America/Yellowknife", "northwest territories|territoires du nord-ouest"),
    "NU": ("America/Iqaluit", "nunavut"),
}
_PROVINCE_OF = {code.casefold(): code for code in PROVINCES} | {
    name: code for code, (_tz, names) in PROVINCES.items() for name in names.split("|")
}
LANGUAGES = {
    "en": "english|anglais", "fr": "french|français|francais", "es": "spanish|espagnol|español",
    "ar": "arabic|arabe", "zh": "chinese|chinois|mandarin|cantonese|cantonais",
    "pa": "punjabi|pendjabi", "tl": "tagalog", "pt": "portuguese|portugais",
    "it": "italian|italien", "de": "german|allemand", "uk": "ukrainian|ukrainien",
    "ru": "russian|russe", "fa": "farsi|persian|persan", "so": "somali", "vi": "vietnamese",
    "cr": "cree|cri", "oj": "ojibwe|ojibwa|ojibwé", "iu": "inuktitut", "ase": "asl",
    "fsl": "lsq",
}  # fmt: skip
_LANGUAGE_OF = {name: code for code, names in LANGUAGES.items() for name in names.split("|")}
_LANGUAGE_OF.update({code: code for code in LANGUAGES})
_SPLIT_PHONES = re.compile(r"\s*[;/|\n]\s*")
_SPLIT_LIST = re.compile(r"\s*[;,|\n]\s*")
_EXTENSION = re.compile(r"\s*(?:ext\.?|x|poste|p\.)\s*(\d{1,6})\s*$", re.IGNORECASE)


class MappingError(ValueError):
    """--map is wrong; ``errors`` say what, one line each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


class ImportFailed(Exception):
    """Nothing was written; ``problems`` say where and why."""

    def __init__(self, problems: list[Problem], rows: int) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems
        self.rows = rows


@dataclass
class Result:
    rows: int = 0
    skipped_rows: int = 0
    hours_as_text: int = 0
    categories_as_text: int = 0
    counts: Counts = field(default_factory=Counts)
    removed: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> str:
        """What happened, ending with the counts per table."""
        lines = [f"{self.rows:,} rows read"]
        if self.skipped_rows:
            lines.append(f"{self.skipped_rows:,} rows skipped (invalid)")
        if self.hours_as_text:
            lines.append(f"{self.hours_as_text:,} rows: hours kept as text")
        if self.categories_as_text:
            lines.append(f"{self.categories_as_text:,} rows: categories not matched, kept as text")
        removed = ", ".join(f"{table} {n}" for table, n in self.removed.items() if n)
        if removed:
            lines.append(f"removed (no longer in the file): {removed}")
        prefix = "dry run, nothing written: " if self.dry_run else ""
        lines.append(prefix + self.counts.summary())
        return "\n".join(lines)


# --- the file and the mapping ----------------------------------------------------------------


def open_csv(path: Path) -> tuple[IO[str], csv.DictReader[str]]:
    """The file (UTF-8, with or without a byte-order mark) and a reader over it; the delimiter
    (comma, semicolon or tab) is the one the header line uses most."""
    fh: IO[str] = path.open(encoding="utf-8-sig", newline="")
    head = fh.readline()
    delimiter = max(",;\t", key=head.count)
    fh.seek(0)
    return fh, csv.DictReader(fh, delimiter=delimiter)


def header(path: Path) -> list[str]:
    fh, reader = open_csv(path)
    with fh:
        return [name.strip() for name in reader.fieldnames or []]


def show_columns(path: Path, rows: int = 1) -> str:
    """The file's columns, each with the value in the first row(s): to write --map from."""
    fh, reader = open_csv(path)
    with fh:
        names = list(reader.fieldnames or [])
        samples = [row for _, row in zip(range(rows), reader, strict=False)]
    width = max((len(n) for n in names), default=0)
    out = [f"{path.name}: {len(names)} columns"]
    for name in names:
        values = " | ".join((s.get(name) or "").strip()[:60] for s in samples)
        out.append(f"  {name.strip():<{width}}  {values}")
    out.append("")
    out.append("Fields for --map: " + ", ".join(MAP_FIELDS))
    return "\n".join(out)


def parse_mapping(text: str, columns: list[str]) -> dict[str, str]:
    """``key=Record ID,name=Program Name`` -> {"key": "Record ID", "name": "Program Name"}.

    A column name may contain commas only if the next pair starts after one. Column names are
    matched as written, then ignoring case and spaces around them."""
    by_fold = {c.strip().casefold(): c for c in columns}
    mapping: dict[str, str] = {}
    errors = []
    for part in (p for p in re.split(r",(?=\s*\w+\s*=)", text or "") if p.strip()):
        key, sep, column = part.partition("=")
        key, column = key.strip().lower(), column.strip()
        if not sep or not column:
            errors.append(f"--map: {part.strip()!r} is not field=column")
        elif key not in MAP_FIELDS:
            errors.append(f"--map: unknown field {key!r} (fields: {', '.join(MAP_FIELDS)})")
        elif key in mapping:
            errors.append(f"--map: {key} is given twice")
        elif column in columns:
            mapping[key] = column
        elif column.casefold() in by_fold:
            mapping[key] = by_fold[column.casefold()]
        else:
            available = ", ".join(repr(c) for c in columns)
            errors.append(f"--map: {key}: no column {column!r} in the file (columns: {available})")
    for key in REQUIRED_FIELDS:
        if not errors and key not in mapping:
            errors.append(f"--map: {key}=<column> is required")
    if not errors and ("latitude" in mapping) != ("longitude" in mapping):
        errors.append("--map: latitude and longitude go together")
    if errors:
        raise MappingError(errors)
    return mapping


# --- one row -> HSDS records -----------------------------------------------------------------


@dataclass
class Built:
    """The HSDS records of one row: {table: [model field values]}; ``pk`` is each one's id."""

    line: int
    key: str
    records: dict[str, list[dict[str, Any]]]
    intervals: list[hours.Interval] | None
    timezone: str
    hours_as_text: bool = False
    categories_as_text: bool = False


class RowBuilder:
    def __init__(
        self,
        *,
        mapping: dict[str, str],
        owner: Any,
        lang: str,
        filename: str,
        terms: dict[str, Any] | None = None,
    ) -> None:
        self.mapping = mapping
        self.owner = owner
        self.lang = lang
        self.filename = filename
        self.scope = f"harbour-csv:{owner.slug}"
        self.terms = terms if terms is not None else load_terms()
        self.specs = {
            name: {f["name"]: f for f in r["schema"]["fields"]}
            for name, r in hsds.resources_by_name().items()
            if name in TABLES
        }

    def id(self, *parts: str) -> uuid.UUID:
        return uuid.uuid5(hsds.NAMESPACE, ":".join((self.scope, *parts)))

    def cell(self, row: dict[str, Any], key: str) -> str:
        column = self.mapping.get(key)
        value = row.get(column) if column else None
        return value.strip() if isinstance(value, str) else ""

    def build(
        self, row: dict[str, Any], line: int, *, check: bool = True
    ) -> tuple[Built | None, list[Problem]]:
        problems: list[Problem] = []
        lang = self.lang

        def problem(key: str, reason: str, value: str | None = None) -> None:
            cell = self.cell(row, key) if value is None else value
            problems.append(
                Problem(self.filename, line, self.mapping.get(key, key), cell[:200], reason)
            )

        if None in row:  # more cells than the header has columns
            problems.append(Problem(self.filename, line, "", "", "more cells than columns"))
        key = self.cell(row, "key")
        name = self.cell(row, "name")
        if not key:
            problem("key", "is required (the row's stable key)")
        if not name:
            problem("name", "is required")
        if problems:
            return None, problems
        org_name = self.cell(row, "organization") or name
        org_id = (
            self.id("organization", org_name.casefold())
            if "organization" in self.mapping and self.cell(row, "organization")
            else self.id(key, "organization")
        )
        service_id = self.id(key, "service")
        records: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
        records["organization"].append(
            {"pk": org_id, f"name_{lang}": org_name, "owner_id": self.owner.pk}
        )
        service = {
            "pk": service_id,
            "organization_id": org_id,
            f"name_{lang}": name,
            f"description_{lang}": self.cell(row, "description"),
            "url": self.cell(row, "url"),
            "email": self.cell(row, "email"),
            f"eligibility_description_{lang}": self.cell(row, "eligibility"),
            f"fees_description_{lang}": self.cell(row, "fees"),
            "status": m.ServiceStatus.ACTIVE,
        }
        service = {k: v for k, v in service.items() if _mapped(k, self.mapping)}
        service["hsds_extra"] = {}
        records["service"].append(service)

        # where
        province_raw = self.cell(row, "province")
        province = _PROVINCE_OF.get(province_raw.casefold(), province_raw)
        timezone = PROVINCES.get(province, ("America/Toronto", ""))[0]
        address = {
            "address_1": self.cell(row, "address_1"),
            "address_2": self.cell(row, "address_2"),
            "city": self.cell(row, "city"),
            "state_province": province,
            "postal_code": _postal(self.cell(row, "postal_code")),
        }
        lat = lng = None
        approximate = False
        for axis, limit in (("latitude", 90), ("longitude", 180)):
            raw = self.cell(row, axis)
            if not raw:
                continue
            try:
                value = float(raw.replace(",", "."))
            except ValueError:
                problem(axis, "is not a number")
                continue
            if not -limit <= value <= limit:
                problem(axis, f"is out of range (-{limit} to {limit})")
                continue
            if axis == "latitude":
                lat = value
            else:
                lng = value
        if (lat is None) != (lng is None) and not problems:
            problem("latitude" if lat is None else "longitude", "is empty but its pair is not")
            lat = lng = None
        if lat is None and address["postal_code"]:
            centre = geo.fsa_centroid(address["postal_code"])
            if centre is not None:
                lat, lng, approximate = centre.lat, centre.lng, True
        has_place = any(address.values()) or lat is not None
        location_id: uuid.UUID | None = None
        sal_id: uuid.UUID | None = None
        if has_place:
            location_id = self.id(key, "location")
            sal_id = self.id(key, "service_at_location")
            records["location"].append(
                {
                    "pk": location_id,
                    "organization_id": org_id,
                    "location_type": m.LocationType.PHYSICAL,
                    "latitude": lat,
                    "longitude": lng,
                    "coordinates_approximate": approximate,
                    "grid_cell": geo.grid_cell(lat, lng),
                    "timezone": timezone,
                }
            )
            records["service_at_location"].append(
                {"pk": sal_id, "service_id": service_id, "location_id": location_id}
            )
            if address["address_1"]:  # a city alone places the location, it is no address
                records["address"].append(
                    {
                        "pk": self.id(key, "address"),
                        "location_id": location_id,
                        **address,
                        "country": "CA",
                        "address_type": m.LocationType.PHYSICAL,
                    }
                )

        # phones
        for index, text in enumerate(p for p in _SPLIT_PHONES.split(self.cell(row, "phone")) if p):
            extension = None
            found = _EXTENSION.search(text)
            if found:
                extension, text = int(found.group(1)), text[: found.start()].strip()
            if sum(ch.isdigit() for ch in text) < 3:
                problem("phone", "is not a phone number", text)
                continue
            records["phone"].append(
                {
                    "pk": self.id(key, "phone", str(index)),
                    "service_id": service_id,
                    "number": text,
                    "extension": extension,
                }
            )

        # hours
        raw_hours = self.cell(row, "hours")
        intervals = hours_text.parse(raw_hours) if raw_hours else None
        # a row's location is its own: its schedules are the service's hours there (and the
        # HSDS API shows them with the location)
        owner_of_schedule = (
            {"location_id": location_id, "service_id": None}
            if sal_id
            else {"service_id": service_id, "location_id": None}
        )
        built = Built(line, key, records, intervals, timezone)
        if intervals:
            for index, item in enumerate(hours.to_hsds(intervals)):
                records["schedule"].append(
                    {
                        "pk": self.id(key, "schedule", str(index)),
                        **owner_of_schedule,
                        "freq": "WEEKLY",
                        "byday": item["byday"],
                        "opens_at": time.fromisoformat(item["opens_at"]),
                        "closes_at": time.fromisoformat(item["closes_at"]),
                        f"description_{lang}": raw_hours,
                    }
                )
        elif raw_hours:
            built.hours_as_text = True
            records["schedule"].append(
                {
                    "pk": self.id(key, "schedule", "0"),
                    **owner_of_schedule,
                    "freq": "",
                    "byday": "",
                    "opens_at": None,
                    "closes_at": None,
                    f"description_{lang}": raw_hours,
                }
            )

        # languages
        for text in (t for t in _SPLIT_LIST.split(self.cell(row, "languages")) if t):
            code = _LANGUAGE_OF.get(text.casefold(), "")
            records["language"].append(
                {
                    "pk": self.id(key, "language", (code or text).casefold()),
                    "service_id": service_id,
                    "name": text[:100],
                    "code": code,
                }
            )

        # categories
        unmatched = []
        for text in (t for t in _SPLIT_LIST.split(self.cell(row, "category")) if t):
            term_id = self.terms.get(text.casefold())
            if term_id is None:
                unmatched.append(text)
                continue
            records["attribute"].append(
                {
                    "pk": self.id(key, "attribute", str(term_id)),
                    "link_id": service_id,
                    "link_entity": "service",
                    "taxonomy_term_id": term_id,
                }
            )
        if unmatched:
            service["hsds_extra"] = {"category": "; ".join(unmatched)}
            built.categories_as_text = True
        records["attribute"] = list({r["pk"]: r for r in records["attribute"]}.values())
        records["language"] = list({r["pk"]: r for r in records["language"]}.values())

        if check:
            problems += self.check(records, row, line)
        return (None if problems else built), problems

    # HSDS column -> the --map field a person wrote, to name the CSV column in a problem
    _FIELD_OF = {
        "state_province": "province", "name": "name", "description": "description",
        "eligibility_description": "eligibility", "fees_description": "fees", "number": "phone",
        "opens_at": "hours", "closes_at": "hours", "byday": "hours",
    }  # fmt: skip

    def check(
        self, records: dict[str, list[dict[str, Any]]], row: dict[str, Any], line: int
    ) -> list[Problem]:
        """Each record against the HSDS 3.0 datapackage (required columns) and its model
        (lengths, e-mail and web addresses, choices): the checks ``import-hsds`` makes."""
        problems = []
        for table, items in records.items():
            model = hsds.MODEL_OF[table]
            spec = self.specs[table]
            translated = hsds.LANG_FIELDS.get(model, set())
            for record in items:
                required: set[str] = set()
                for column, f in spec.items():
                    if not f.get("constraints", {}).get("required") or column == "id":
                        continue
                    if column in translated and column != "name":
                        continue  # the export gives the name or the other language's text
                    value = record.get(f"{column}_{self.lang}" if column in translated else column)
                    if value is None and column.endswith("_id"):
                        value = record.get(column)
                    if value in (None, ""):
                        problems.append(self._problem(table, column, row, line, "is required"))
                        required.add(column)
                if table in {"organization", "service", "address", "phone"}:
                    for column, reason in _field_errors(model, record):
                        if column not in required:
                            problems.append(self._problem(table, column, row, line, reason))
                if table == "schedule" and record.get("opens_at") is not None:
                    try:
                        hours.parse_hsds_schedule(
                            byday=record["byday"],
                            opens_at=record["opens_at"].strftime("%H:%M"),
                            closes_at=record["closes_at"].strftime("%H:%M"),
                        )
                    except ValueError as exc:
                        problems.append(self._problem(table, "byday", row, line, str(exc)))
        return problems

    def _problem(
        self, table: str, column: str, row: dict[str, Any], line: int, reason: str
    ) -> Problem:
        key = self._FIELD_OF.get(column, column)
        if table == "organization" and column == "name":
            key = "organization" if "organization" in self.mapping else "name"
        source = self.mapping.get(key)
        value = (row.get(source) or "").strip() if source else ""
        where = source or f"{table}.{column}"
        return Problem(self.filename, line, where, value[:200], f"{table} {column}: {reason}")


@cache
def _fields(model: type[models.Model]) -> dict[str, models.Field[Any, Any]]:
    return {f.attname: f for f in model._meta.concrete_fields if not f.is_relation}


def _field_errors(model: type[models.Model], record: dict[str, Any]) -> list[tuple[str, str]]:
    """(HSDS column, reason) for each value its model field refuses: lengths, e-mail and web
    addresses, choices. The field checks of ``full_clean``, without building an instance."""
    from django.core.exceptions import ValidationError

    errors = []
    fields = _fields(model)
    for name, value in record.items():
        f = fields.get(name)
        if f is None or name == "id" or value in (None, ""):
            continue
        try:
            f.clean(value, None)
        except ValidationError as exc:
            column = re.sub(r"_(en|fr)$", "", name)
            errors.append((column, " ".join(exc.messages)))
    return errors


def _mapped(attribute: str, mapping: dict[str, str]) -> bool:
    """Whether a service attribute comes from a mapped column (others are left as they are)."""
    base = re.sub(r"_(en|fr)$", "", attribute)
    field_of = {"description": "description", "url": "url", "email": "email",
                "eligibility_description": "eligibility", "fees_description": "fees"}  # fmt: skip
    return base not in field_of or field_of[base] in mapping


def _postal(value: str) -> str:
    text = re.sub(r"\s+", "", value).upper()
    if re.fullmatch(r"[A-Z]\d[A-Z]\d[A-Z]\d", text):
        return f"{text[:3]} {text[3:]}"
    return value


def load_terms() -> dict[str, Any]:
    """Taxonomy terms by code and by name in either language (casefolded)."""
    found: dict[str, Any] = {}
    for pk, code, name_en, name_fr in m.TaxonomyTerm.objects.values_list(
        "pk", "code", "name_en", "name_fr"
    ):
        for word in (name_fr, name_en, code):
            if word:
                found[word.casefold()] = pk
    return found


# --- reading ---------------------------------------------------------------------------------


def rows(
    path: Path, *, label: str = "", stream: IO[str] | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, row) for each data row, streaming; ``line`` is where the row starts in the file
    (the header is line 1; a quoted cell may span lines)."""
    fh, reader = open_csv(path)
    with fh:
        if reader.fieldnames:
            reader.fieldnames = [name.strip() for name in reader.fieldnames]
        total = None
        line = reader.line_num + 1
        items: Iterable[dict[str, Any]] = reader
        if label:
            total = _count_lines(path)
            items = progress(reader, total=total, label=label, stream=stream)
        for row in items:
            yield line, row
            line = reader.line_num + 1


def _count_lines(path: Path) -> int | None:
    """Data rows, roughly (a quoted cell over two lines counts twice): for the progress bar."""
    n = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            n += chunk.count(b"\n")
    return max(n - 1, 0) or None


# --- import ----------------------------------------------------------------------------------


def import_csv(
    path: Path,
    *,
    mapping: dict[str, str],
    owner: Any,
    lang: str = "en",
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress_stream: IO[str] | None = None,
    show_progress: bool = False,
    actor: Any = None,
) -> Result:
    """Check every row, then write all of them (or, with ``skip_invalid``, the valid ones) in
    one transaction. Raises :class:`ImportFailed` with every problem when one row fails and
    ``skip_invalid`` is not set: nothing is written then."""
    result = Result(dry_run=dry_run)
    builder = RowBuilder(mapping=mapping, owner=owner, lang=lang, filename=path.name)
    invalid: set[int] = set()
    keys: dict[str, int] = {}
    for line, row in rows(path, label="checking" if show_progress else "", stream=progress_stream):
        result.rows += 1
        built, problems = builder.build(row, line)
        if built is not None:
            first = keys.setdefault(built.key, line)
            if first != line:
                problems = [
                    Problem(
                        path.name, line, mapping["key"], built.key[:200],
                        f"the same key as line {first}: keys must be unique",
                    )
                ]  # fmt: skip
        if problems:
            invalid.add(line)
            if len(result.problems) < MAX_PROBLEMS:
                result.problems += problems
    del keys
    if result.problems and not skip_invalid:
        raise ImportFailed(result.problems, result.rows)
    result.skipped_rows = len(invalid)
    writer = _Writer(result, mapping)
    with transaction.atomic():
        batch: list[Built] = []
        for line, row in rows(
            path, label="writing" if show_progress else "", stream=progress_stream
        ):
            if line in invalid:
                continue
            built, _problems = builder.build(row, line, check=False)
            if built is None:  # the file changed between the passes
                raise ImportFailed([Problem(path.name, line, "", "", "changed while read")], 0)
            result.hours_as_text += built.hours_as_text
            result.categories_as_text += built.categories_as_text
            batch.append(built)
            if len(batch) >= BATCH:
                writer.write(batch)
                batch = []
        if batch:
            writer.write(batch)
        if result.skipped_rows:
            for table in TABLES[:2]:
                result.counts.add(table, "skipped", result.skipped_rows)
        audit.record(
            action=AuditAction.DIRECTORY_IMPORT,
            actor=actor,
            organization=owner,
            metadata={
                "file": path.name[-100:],
                "rows": result.rows,
                "skipped": result.skipped_rows,
                "written": result.counts.written,
            },
        )
        if dry_run:
            transaction.set_rollback(True)
    return result


# What each table's rows belong to: children are replaced as a set per parent (a phone gone
# from the cell is removed), parents are upserted by id.
CHILD_OF = {
    "phone": "service_id",
    "schedule": None,  # by service or service at location; see _Writer._existing_children
    "language": "service_id",
    "attribute": "link_id",
}


CHILD_FIELD = {
    "phone": "phone",
    "schedule": "hours",
    "language": "languages",
    "attribute": "category",
}


class _Writer:
    """Writes batches of built rows: each table's existing rows are read as plain values (no
    model instances), compared, and new or changed ones written with one ``executemany`` per
    table (Django's ``bulk_create`` spends most of its time building and compiling objects)."""

    def __init__(self, result: Result, mapping: dict[str, str]) -> None:
        self.result = result
        self.mapping = mapping
        self.orgs_seen: set[uuid.UUID] = set()

    def write(self, batch: list[Built]) -> None:
        reset_queries()  # with DEBUG on, Django would keep every statement of the import
        counts = self.result.counts
        touched: set[uuid.UUID] = set()  # services whose listing changed
        hours_changed: dict[uuid.UUID, Built] = {}  # service at location -> the row
        stale_hours: set[Any] = set()  # locations whose schedules were removed
        for table in TABLES:
            model = hsds.MODEL_OF[table]
            if table in CHILD_OF and CHILD_FIELD[table] not in self.mapping:
                continue  # not in this file: left as it is (a French file of names only)
            records: list[tuple[Built, dict[str, Any]]] = []
            for built in batch:
                for record in built.records[table]:
                    if table == "organization":
                        if record["pk"] in self.orgs_seen:
                            continue
                        self.orgs_seen.add(record["pk"])
                    records.append((built, record))
            manager = model._base_manager  # plain columns, no modeltranslation rewriting
            columns = [f.attname for f in model._meta.concrete_fields]
            if table in CHILD_OF:
                parents = {self._parent(table, b) for b in batch}
                existing = self._existing_children(table, model, parents, columns)
                stale = set(existing) - {record["pk"] for _b, record in records}
                if stale:
                    for pk in stale:
                        touched.add(self._service_of(table, existing[pk]))
                        if table == "schedule":
                            stale_hours.add(existing[pk]["location_id"])
                    manager.filter(pk__in=stale).delete()
                    self.result.removed[table] = self.result.removed.get(table, 0) + len(stale)
            else:
                ids = [r["pk"] for _b, r in records]
                existing = {row["id"]: row for row in manager.filter(pk__in=ids).values(*columns)}
            new: list[dict[str, Any]] = []
            changed: list[tuple[Any, dict[str, Any]]] = []
            for built, record in records:
                current = existing.get(record["pk"])
                if current is None:
                    new.append(record)
                    counts.add(table, "new")
                else:
                    differ = {
                        k: v
                        for k, v in record.items()
                        if k != "pk" and not hsds._same(current[k], v)
                    }
                    if not differ:
                        counts.add(table, "unchanged")
                        continue
                    changed.append((record["pk"], differ))
                    counts.add(table, "changed")
                if table != "organization":
                    touched.add(built.records["service"][0]["pk"])
                if table in {"schedule", "location"} and built.records["service_at_location"]:
                    hours_changed[built.records["service_at_location"][0]["pk"]] = built
                if table == "service_at_location":
                    hours_changed[record["pk"]] = built
            if new:
                _insert(model, new)
            if changed:
                _update(model, changed)
        for built in batch:
            sal = built.records["service_at_location"]
            if sal and sal[0]["location_id"] in stale_hours:
                hours_changed[sal[0]["pk"]] = built
        if hours_changed:
            _opening_rows(hours_changed)
        if touched:
            reindex(touched)

    @staticmethod
    def _parent(table: str, built: Built) -> uuid.UUID:
        if table == "schedule" and built.records["location"]:
            return built.records["location"][0]["pk"]
        return built.records["service"][0]["pk"]

    @staticmethod
    def _existing_children(
        table: str, model: type[models.Model], parents: set[uuid.UUID], columns: list[str]
    ) -> dict[Any, dict[str, Any]]:
        manager = model._base_manager  # plain columns, no modeltranslation rewriting
        if table == "schedule":
            found = manager.filter(
                models.Q(location_id__in=parents) | models.Q(service_id__in=parents)
            )
        elif table == "attribute":
            found = manager.filter(link_entity="service", link_id__in=parents)
        else:
            found = manager.filter(**{f"{CHILD_OF[table]}__in": parents})
        return {row["id"]: row for row in found.values(*columns)}

    @staticmethod
    def _service_of(table: str, row: dict[str, Any]) -> Any:
        if table == "attribute":
            return row["link_id"]
        if table == "schedule" and row["service_id"] is None:
            sal = m.ServiceAtLocation.objects.filter(location_id=row["location_id"]).first()
            return sal.service_id if sal else None
        return row["service_id"]


# values every database driver takes as they are (others go through the field: UUIDs, dates...)
_PLAIN = {str, int, float, bool, type(None)}


@cache
def _defaults(model: type[models.Model]) -> dict[str, Any]:
    return {f.attname: f.get_default() for f in model._meta.concrete_fields}


def _insert(model: type[models.Model], records: list[dict[str, Any]]) -> None:
    """INSERT the records (``pk`` and model attribute values; every other column its default).
    As modeltranslation does, the untranslated column holds the text in the language given."""
    from django.utils import timezone

    conn = connections[DEFAULT_DB_ALIAS]
    now = timezone.now()
    fields = model._meta.concrete_fields
    defaults = _defaults(model)
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 (table and column names from the model)
        quote(model._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    rows = []
    for record in records:
        row = []
        for f in fields:
            name = f.attname
            if name == "id":
                value = record["pk"]
            elif name in {"created_at", "updated_at"}:
                value = now
            elif name in record:
                value = record[name]
            elif f"{name}_en" in record or f"{name}_fr" in record:
                value = record.get(f"{name}_en") or record.get(f"{name}_fr") or ""
            else:
                value = defaults[name]
                if isinstance(value, dict | list):
                    value = type(value)(value)
            row.append(value if type(value) in _PLAIN else f.get_db_prep_save(value, conn))
        rows.append(row)
    with conn.cursor() as cursor:
        cursor.executemany(sql, rows)


def _update(model: type[models.Model], changes: list[tuple[Any, dict[str, Any]]]) -> None:
    """UPDATE the changed columns of each row (one statement per set of columns)."""
    from django.utils import timezone

    now = timezone.now()
    by_name = {f.attname: f for f in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    groups: dict[tuple[str, ...], list[list[Any]]] = {}
    for pk, values in changes:
        names = tuple(sorted(values))
        row = [by_name[n].get_db_prep_save(values[n], connection) for n in names]
        row.append(by_name["updated_at"].get_db_prep_save(now, connection))
        row.append(by_name["id"].get_db_prep_save(pk, connection))
        groups.setdefault(names, []).append(row)
    with connection.cursor() as cursor:
        for names, rows in groups.items():
            sets = ", ".join(f"{quote(by_name[n].column)} = %s" for n in (*names, "updated_at"))
            cursor.executemany(
                f"UPDATE {quote(model._meta.db_table)} SET {sets} WHERE id = %s",  # noqa: S608
                rows,
            )


def _opening_rows(rows_of: dict[uuid.UUID, Built]) -> None:
    """The ``OpeningRow`` s of these services at locations, from the hours just read (their
    schedules are the row's own, so the intervals are known without reading them back)."""
    m.OpeningRow.objects.filter(service_at_location_id__in=list(rows_of)).delete()
    conn = connections[DEFAULT_DB_ALIAS]
    sal_field = m.OpeningRow._meta.get_field("service_at_location")
    rows = []
    for sal_id, built in rows_of.items():
        sal = sal_field.get_db_prep_save(sal_id, conn)
        for weekday, start, end, valid_from, valid_to in hours.weekly_rows(built.intervals or []):
            assert valid_from is None and valid_to is None  # free text has no validity dates
            rows.append((sal, built.timezone, weekday, start, end))
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO directory_openingrow (service_at_location_id, timezone, weekday, "
            "start_minute, end_minute) VALUES (%s, %s, %s, %s, %s)",
            rows,
        )
    from django.core.cache import cache

    cache.delete(directory_services.TIMEZONES_CACHE_KEY)


def reindex(service_ids: Iterable[Any]) -> None:
    """``services.service_reindex`` for many services in a few queries: the same search
    document (``services._texts``), the same full-text row and search entries."""
    ids = list(service_ids)
    services = list(
        m.Service.objects.filter(pk__in=ids).values_list(
            "pk", "name_en", "description_en", "eligibility_description_en",
            "organization__name_en", "name_fr", "description_fr", "eligibility_description_fr",
            "organization__name_fr", "alternate_name",
        )
    )  # fmt: skip
    term_texts: dict[Any, list[str | None]] = {}
    for link_id, *texts in (
        m.Attribute.objects.filter(link_entity="service", link_id__in=ids)
        .order_by("taxonomy_term__code")
        .values_list(
            "link_id",
            "taxonomy_term__name_en",
            "taxonomy_term__name_fr",
            "taxonomy_term__keywords_en",
            "taxonomy_term__keywords_fr",
        )
    ):
        term_texts.setdefault(link_id, []).extend(texts)
    documents = {
        pk: textsearch.document(*texts, *term_texts.get(pk, [])) for pk, *texts in services
    }
    pk_field = m.Service._meta.pk
    assert pk_field is not None
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE directory_service SET search_document = %s WHERE id = %s",
            [(doc, pk_field.get_db_prep_value(pk, connection)) for pk, doc in documents.items()],
        )
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            keys = [pk.hex for pk in documents]
            for i in range(0, len(keys), 500):
                part = keys[i : i + 500]
                cursor.execute(
                    "DELETE FROM directory_service_fts WHERE service_id IN "  # noqa: S608
                    f"({','.join(['%s'] * len(part))})",
                    part,
                )
            cursor.executemany(
                "INSERT INTO directory_service_fts (service_id, document) VALUES (%s, %s)",
                [(pk.hex, doc) for pk, doc in documents.items()],
            )
    directory_services.search_entries_rebuild(service_ids=list(documents))
