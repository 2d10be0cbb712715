"""Drug-checking results from other services' files: UNC's two-table format and Drug Checking
BC's public table. Every row is checked first (problems name file, line, column and value); then
all samples are written in one transaction, or none (with ``skip_invalid``: the valid ones, the
rows with problems are left out and counted). Re-importing the same file writes nothing:
samples are matched by (organization, source, external id): UNC's ``sampleid``, and for Drug
Checking BC (whose table has no id) a digest of the row's cells, numbered when identical rows
repeat.

Drug Checking BC's strip columns hold one answer per strip; a cell can hold several when more
than one strip was run (``Positive;Negative``). Each strip's answer is kept (``readings``) and
the test's result combines them (``models.combine_readings``): answers that disagree are
"mixed", which is published as such and never counted as a positive."""

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
from harbour.core.imports import Counts, Problem, progress
from harbour.core.models import AuditAction
from harbour.drugcheck import services
from harbour.drugcheck.models import Match, Method, Role, Sample, StripResult, combine_readings

FORMATS = ("unc", "drugcheckingbc")
DCBC_COLUMNS = [
    "Date", "Site", "City/Town", "Expected Substance", "Fentanyl Test Strip",
    "Benzo Test Strip", "FTIR Spectrometer",
]  # fmt: skip
STRIP_VALUES = {
    "true": StripResult.POSITIVE,
    "false": StripResult.NEGATIVE,
    "positive": StripResult.POSITIVE,
    "negative": StripResult.NEGATIVE,
    "invalid": StripResult.INVALID,
    "n/a": None,
    "": None,
}
STRIP_SEPARATOR = ";"  # several strips of one kind in one cell: "Positive;Negative"
UNC_ANALYSIS = {"sampleid", "date_collect", "expectedsubstance"}
UNC_DETAIL = {"sampleid", "substance", "method"}


@dataclass
class ImportResult:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    samples: list[services.SampleIn] = field(default_factory=list)
    created: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)  # the errors, each with its place
    skipped: int = 0  # samples left out (skip_invalid)
    skipped_rows: int = 0  # rows left out: a sample's and its lab detail rows
    components: Counts = field(default_factory=Counts)

    def problem(self, file: str, line: int, column: str, value: str, reason: str) -> None:
        where = f"{file}: line {line}" if line else file
        self.errors.append(
            f"{where}: column {column}: {reason}" if column else f"{where}: {reason}"
        )
        self.problems.append(Problem(file, line, column, value, reason))

    @property
    def counts(self) -> Counts:
        counts = Counts()
        counts.add("sample", "new", self.created)
        counts.add("sample", "unchanged", self.unchanged)
        if self.skipped:
            counts.add("sample", "skipped", self.skipped)
        for table, row in self.components.tables.items():
            for outcome, n in row.items():
                counts.add(table, outcome, n)
        return counts

    def summary(self) -> str:
        return self.counts.summary()


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
            result.problem(
                path.name,
                1,
                "",
                "",
                f"not a UNC analysis or lab detail file (needs columns "
                f"{', '.join(sorted(UNC_ANALYSIS))} or {', '.join(sorted(UNC_DETAIL))})",
            )
    if analysis is None:
        result.problem("", 0, "", "", "the UNC analysis dataset (one row per sample) is missing")
        return
    samples: dict[str, services.SampleIn] = {}
    skipped: dict[str, str] = {}  # sample id -> where its analysis row is (left out)
    lines: dict[str, int] = {}  # sample id -> its rows (analysis and lab detail)
    path, rows = analysis
    for line, row in enumerate(rows, start=2):
        sample_id = (row.get("sampleid") or "").strip()
        where = f"{path.name}: line {line}"
        if not sample_id:
            result.problem(path.name, line, "sampleid", "", "is required")
            result.skipped += 1
            result.skipped_rows += 1
            continue
        if sample_id in samples or sample_id in skipped:
            result.problem(path.name, line, "sampleid", sample_id, f"{sample_id!r} appears twice")
            result.skipped_rows += 1
            if sample_id in samples:  # neither row is imported: which one is right?
                skipped[sample_id] = samples.pop(sample_id).where
                result.skipped += 1
                result.skipped_rows += lines.pop(sample_id, 0)
            continue
        try:
            collected = _unc_date(row.get("date_collect") or "")
        except ValueError:
            result.problem(
                path.name,
                line,
                "date_collect",
                row.get("date_collect") or "",
                f"{row.get('date_collect')!r} is not a date like 20Oct2022",
            )
            skipped[sample_id] = where
            result.skipped += 1
            result.skipped_rows += 1
            continue
        lines[sample_id] = 1
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
            if sample_id in skipped:
                result.problem(
                    path.name,
                    line,
                    "sampleid",
                    sample_id,
                    f"refers to sample {sample_id!r} ({skipped[sample_id]}), which is skipped",
                )
                result.skipped_rows += 1
                continue
            if sample_id not in samples:
                result.problem(
                    path.name,
                    line,
                    "sampleid",
                    sample_id,
                    f"no sample {sample_id!r} in the analysis dataset",
                )
                result.skipped_rows += 1
                continue
            if not name:
                # the sample would be imported without one of its substances: leave it out
                result.problem(path.name, line, "substance", "", "is required")
                skipped[sample_id] = samples.pop(sample_id).where
                result.skipped += 1
                result.skipped_rows += 1 + lines.pop(sample_id, 0)
                continue
            lines[sample_id] = lines.get(sample_id, 0) + 1
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
            result.problem(path.name, 1, "", "", f"missing columns: {', '.join(missing)}")
            continue
        extra = [c for c in header if c not in DCBC_COLUMNS]
        if extra:
            result.warnings.append(f"{path.name}: columns not imported: {', '.join(extra)}")
        seen: dict[str, int] = {}
        for line, row in enumerate(rows, start=2):
            where = f"{path.name}: line {line}"
            problems: list[tuple[str, str]] = []  # (column, reason)
            try:
                collected = _dcbc_date(row.get("Date") or "")
            except ValueError:
                problems.append(("Date", f"{row.get('Date')!r} is not a date (YYYY-MM-DD)"))
            strips: dict[str, str] = {}
            readings: dict[str, list[str]] = {}
            for column, method in (
                ("Fentanyl Test Strip", Method.FENTANYL_STRIP),
                ("Benzo Test Strip", Method.BENZO_STRIP),
            ):
                try:
                    found = _strip_readings(row.get(column) or "")
                except ValueError as exc:
                    problems.append((column, str(exc)))
                    continue
                if found:
                    strips[str(method)] = str(combine_readings(found))
                    if len(found) > 1:
                        readings[str(method)] = found
            try:
                names = _ftir_list(row.get("FTIR Spectrometer") or "")
            except (ValueError, SyntaxError):
                problems.append(
                    (
                        "FTIR Spectrometer",
                        f"{row.get('FTIR Spectrometer')!r} is not a list "
                        "such as ['Caffeine', 'Fentanyl or Analog']",
                    )
                )
                names = []
            if not (row.get("Site") or "").strip():
                problems.append(("Site", "is required"))
            if problems:
                for column, reason in problems:
                    result.problem(path.name, line, column, row.get(column) or "", reason)
                result.skipped += 1
                result.skipped_rows += 1
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
                    strip_readings=readings,
                    components=components,
                    source="drugcheckingbc",
                    external_id=f"{digest}-{seen[digest]}",
                    where=where,
                )
            )


def _strip_readings(raw: str) -> list[str]:
    """Each strip's answer in a strip cell: "True", "Negative", "Positive;Negative" (two
    strips), "N/A" or empty (none). ValueError with the reason otherwise."""
    found = []
    for part in raw.split(STRIP_SEPARATOR):
        value = part.strip().lower()
        if value not in STRIP_VALUES:
            raise ValueError(
                f"{raw!r} is not True, False, Positive, Negative, N/A or Invalid "
                f"(several strips: separated by {STRIP_SEPARATOR!r}, as in Positive;Negative)"
            )
        if STRIP_VALUES[value] is not None:
            found.append(str(STRIP_VALUES[value]))
    return found


def import_files(
    *,
    fmt: str,
    paths: list[Path],
    organization: Any,
    actor: Any = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
) -> ImportResult:
    """Check everything, then write everything or nothing: raises ImportFailed with every
    problem found. With ``skip_invalid`` the samples with problems are left out (and counted)
    and the others written. An import that finds every sample already there writes nothing
    (no audit event either: nothing changed)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use {' or '.join(FORMATS)}")
    result = ImportResult()
    for path in paths:
        if not path.is_file():
            result.problem(str(path), 0, "", "", "no such file")
    if result.errors:
        raise ImportFailed(result)
    (read_unc if fmt == "unc" else read_dcbc)(paths, result)
    whole_files = [p for p in result.problems if p.line <= 1]  # a file that cannot be read
    if result.errors and (not skip_invalid or whole_files):
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
        failed = 0
        for data in progress(result.samples, total=len(result.samples), label="samples"):
            if data.external_id in known:
                result.unchanged += 1
                result.components.add("component", "unchanged", len(data.components))
                continue
            before = set(vocabulary.by_name)
            try:
                with transaction.atomic():
                    services.sample_create(
                        organization=organization, data=data, actor=actor, vocabulary=vocabulary
                    )
            except ValidationError as exc:
                file, _sep, rest = data.where.partition(": line ")
                line = int(rest) if rest.isdigit() else 0
                for name, messages in exc.message_dict.items():
                    result.problem(
                        file, line, name, str(getattr(data, name, "")), " ".join(messages)
                    )
                failed += 1
                continue
            added_names |= set(vocabulary.by_name) - before
            result.created += 1
            result.components.add("component", "new", len(data.components))
        if failed and not skip_invalid:
            transaction.set_rollback(True)
            raise ImportFailed(result)
        result.skipped += failed
        result.skipped_rows += failed
        if added_names:
            result.warnings.append(
                "new substances added to the vocabulary as not classified: "
                + ", ".join(sorted(added_names))
            )
        if result.created:
            audit.record(
                action=AuditAction.DRUGCHECK_IMPORT,
                actor=actor,
                organization=organization,
                metadata={
                    "format": fmt,
                    "created": result.created,
                    "unchanged": result.unchanged,
                    "skipped": result.skipped,
                },
                label="" if actor is not None else "import-drugcheck",
            )
        if dry_run:
            transaction.set_rollback(True)
    return result
