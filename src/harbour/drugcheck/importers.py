"""Drug-checking results from other services' files: UNC's two-table format and Drug Checking
BC's public table. Every row is checked first (errors name file, line and column); then all
samples are written in one transaction, or none. Re-importing the same file changes nothing:
samples are matched by (organization, source, external id)."""

from __future__ import annotations

import ast
import csv
import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.drugcheck import services
from harbour.drugcheck.models import Match, Method, Role, Sample, StripResult

FORMATS = ("unc", "drugcheckingbc")
DCBC_COLUMNS = [
    "Date", "Site", "City/Town", "Expected Substance", "Fentanyl Test Strip",
    "Benzo Test Strip", "FTIR Spectrometer",
]  # fmt: skip
STRIP_VALUES = {
    "true": StripResult.POSITIVE,
    "false": StripResult.NEGATIVE,
    "invalid": StripResult.INVALID,
    "n/a": None,
    "": None,
}
UNC_ANALYSIS = {"sampleid", "date_collect", "expectedsubstance"}
UNC_DETAIL = {"sampleid", "substance", "method"}


@dataclass
class ImportResult:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    samples: list[services.SampleIn] = field(default_factory=list)
    created: int = 0
    unchanged: int = 0

    def summary(self) -> str:
        return f"{self.created} new samples, {self.unchanged} already imported"


class ImportFailed(Exception):
    def __init__(self, result: ImportResult) -> None:
        super().__init__("\n".join(result.errors))
        self.result = result


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        return [h.strip() for h in reader.fieldnames or []], rows


def _unc_date(raw: str) -> date:
    return datetime.strptime(raw.strip().title(), "%d%b%Y").date()


UNC_FORMS = [
    ("pill", "pill"), ("tar", "tar"), ("crystal", "crystal"), ("powder", "powder"),
    ("cotton", "residue"), ("swab", "residue"), ("spatula", "residue"), ("syringe", "residue"),
]  # fmt: skip


def _unc_form(texture: str, sampletype: str) -> str:
    text = f"{texture} {sampletype}".lower()
    return next((form for word, form in UNC_FORMS if word in text), "other")


def read_unc(paths: list[Path], result: ImportResult) -> None:
    analysis: tuple[Path, list[dict[str, str]]] | None = None
    detail: tuple[Path, list[dict[str, str]]] | None = None
    for path in paths:
        header, rows = _rows(path)
        if set(header) >= UNC_ANALYSIS:
            analysis = (path, rows)
        elif set(header) >= UNC_DETAIL:
            detail = (path, rows)
        else:
            result.errors.append(
                f"{path.name}: line 1: not a UNC analysis or lab detail file "
                f"(needs columns {', '.join(sorted(UNC_ANALYSIS))} "
                f"or {', '.join(sorted(UNC_DETAIL))})"
            )
    if analysis is None:
        result.errors.append("the UNC analysis dataset (one row per sample) is missing")
        return
    samples: dict[str, services.SampleIn] = {}
    path, rows = analysis
    for line, row in enumerate(rows, start=2):
        sample_id = (row.get("sampleid") or "").strip()
        where = f"{path.name}: line {line}"
        if not sample_id:
            result.errors.append(f"{where}: column sampleid: is required")
            continue
        if sample_id in samples:
            result.errors.append(f"{where}: column sampleid: {sample_id!r} appears twice")
            continue
        try:
            collected = _unc_date(row.get("date_collect") or "")
        except ValueError:
            result.errors.append(
                f"{where}: column date_collect: {row.get('date_collect')!r} is not a date "
                "like 20Oct2022"
            )
            continue
        overdose = (row.get("overdose") or "").strip().lower()
        program = (row.get("program") or "").strip()
        samples[sample_id] = services.SampleIn(
            collected_on=collected,
            site=program if program and program != "redacted" else "UNC drug checking (by mail)",
            city=(row.get("location") or "").strip(),
            health_region=", ".join(
                part
                for part in ((row.get("county") or "").strip(), (row.get("state") or "").strip())
                if part
            ),
            expected=(row.get("expectedsubstance") or "").strip(),
            form=_unc_form(row.get("texture") or "", row.get("sampletype") or ""),
            colour=(row.get("color") or "").strip(),
            already_used={"1": True, "0": False}.get((row.get("consumed") or "").strip()),
            overdose=True if "involved" in overdose else False if "not" in overdose else None,
            source="unc",
            external_id=sample_id,
            where=where,
        )
    if detail is not None:
        path, rows = detail
        for line, row in enumerate(rows, start=2):
            sample_id = (row.get("sampleid") or "").strip()
            name = (row.get("substance") or "").strip()
            where = f"{path.name}: line {line}"
            if sample_id not in samples:
                result.errors.append(
                    f"{where}: column sampleid: no sample {sample_id!r} in the analysis dataset"
                )
                continue
            if not name:
                result.errors.append(f"{where}: column substance: is required")
                continue
            method = Method.LCMS if "lc" in (row.get("method") or "").lower() else Method.GCMS
            trace = (row.get("abundance") or "").strip().lower() == "trace"
            samples[sample_id].components.append(
                services.ComponentIn(
                    name=name,
                    role=Role.TRACE if trace else Role.PRIMARY,
                    method=method,
                )
            )
    else:
        result.warnings.append("no lab detail file: samples imported without their substances")
    result.samples += samples.values()


def _dcbc_date(raw: str) -> date:
    raw = raw.strip()
    for pattern in ("%Y-%m-%d", "%b %d, %Y", "%B %d, %Y", "%d/%m/%Y"):
        try:
            return datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
    raise ValueError(raw)


def _ftir_list(raw: str) -> list[str]:
    """The FTIR column: a Python-style list of names, read as data (never evaluated)."""
    text = raw.strip()
    if not text:
        return []
    value = ast.literal_eval(text)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(text)
    return [v.strip() for v in value if v.strip()]


def read_dcbc(paths: list[Path], result: ImportResult) -> None:
    for path in paths:
        header, rows = _rows(path)
        missing = [c for c in DCBC_COLUMNS if c not in header]
        if missing:
            result.errors.append(f"{path.name}: line 1: missing columns: {', '.join(missing)}")
            continue
        extra = [c for c in header if c not in DCBC_COLUMNS]
        if extra:
            result.warnings.append(f"{path.name}: columns not imported: {', '.join(extra)}")
        seen: dict[str, int] = {}
        for line, row in enumerate(rows, start=2):
            where = f"{path.name}: line {line}"
            problems = []
            try:
                collected = _dcbc_date(row.get("Date") or "")
            except ValueError:
                problems.append(f"column Date: {row.get('Date')!r} is not a date (YYYY-MM-DD)")
            strips: dict[str, str] = {}
            for column, method in (
                ("Fentanyl Test Strip", Method.FENTANYL_STRIP),
                ("Benzo Test Strip", Method.BENZO_STRIP),
            ):
                value = (row.get(column) or "").strip().lower()
                if value not in STRIP_VALUES:
                    problems.append(
                        f"column {column}: {row.get(column)!r} is not True, False, N/A or Invalid"
                    )
                elif STRIP_VALUES[value] is not None:
                    strips[str(method)] = str(STRIP_VALUES[value])
            try:
                names = _ftir_list(row.get("FTIR Spectrometer") or "")
            except (ValueError, SyntaxError):
                problems.append(
                    f"column FTIR Spectrometer: {row.get('FTIR Spectrometer')!r} is not a list "
                    "such as ['Caffeine', 'Fentanyl or Analog']"
                )
                names = []
            if not (row.get("Site") or "").strip():
                problems.append("column Site: is required")
            if problems:
                result.errors += [f"{where}: {p}" for p in problems]
                continue
            components = []
            for name in names:
                lowered = name.lower()
                if lowered == "no library match":
                    components.append(
                        services.ComponentIn(match=Match.NO_LIBRARY_MATCH, method=Method.FTIR)
                    )
                elif lowered == "uncertain match":
                    components.append(
                        services.ComponentIn(match=Match.UNCERTAIN, method=Method.FTIR)
                    )
                else:
                    components.append(services.ComponentIn(name=name, method=Method.FTIR))
            # no id in the table: the row's content, numbered when identical rows repeat
            content = "\x1f".join((row.get(c) or "").strip() for c in DCBC_COLUMNS)
            digest = hashlib.sha256(content.encode()).hexdigest()[:32]
            seen[digest] = seen.get(digest, 0) + 1
            result.samples.append(
                services.SampleIn(
                    collected_on=collected,
                    site=(row.get("Site") or "").strip(),
                    city=(row.get("City/Town") or "").strip(),
                    expected=(row.get("Expected Substance") or "").strip(),
                    strips=strips,
                    components=components,
                    source="drugcheckingbc",
                    external_id=f"{digest}-{seen[digest]}",
                    where=where,
                )
            )


def import_files(
    *, fmt: str, paths: list[Path], organization: Any, actor: Any = None, dry_run: bool = False
) -> ImportResult:
    """Check everything, then write everything or nothing. Raises ImportFailed with every
    problem found."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use {' or '.join(FORMATS)}")
    result = ImportResult()
    for path in paths:
        if not path.is_file():
            result.errors.append(f"{path}: no such file")
    if result.errors:
        raise ImportFailed(result)
    (read_unc if fmt == "unc" else read_dcbc)(paths, result)
    if result.errors:
        raise ImportFailed(result)
    with transaction.atomic():
        vocabulary = services.Vocabulary()
        known = (
            set(
                Sample.objects.filter(
                    organization=organization, source=result.samples[0].source
                ).values_list("external_id", flat=True)
            )
            if result.samples
            else set()
        )
        added_names: set[str] = set()
        for data in result.samples:
            if data.external_id in known:
                result.unchanged += 1
                continue
            before = set(vocabulary.by_name)
            try:
                services.sample_create(
                    organization=organization, data=data, actor=actor, vocabulary=vocabulary
                )
            except ValidationError as exc:
                result.errors += [
                    f"{data.where}: column {name}: {' '.join(messages)}"
                    for name, messages in exc.message_dict.items()
                ]
                continue
            added_names |= set(vocabulary.by_name) - before
            result.created += 1
        if result.errors:
            transaction.set_rollback(True)
            raise ImportFailed(result)
        if added_names:
            result.warnings.append(
                "new substances added to the vocabulary as not classified: "
                + ", ".join(sorted(added_names))
            )
        audit.record(
            action=AuditAction.DRUGCHECK_IMPORT,
            actor=actor,
            organization=organization,
            metadata={"format": fmt, "created": result.created, "unchanged": result.unchanged},
            label="" if actor is not None else "import-drugcheck",
        )
        if dry_run:
            transaction.set_rollback(True)
    return result
