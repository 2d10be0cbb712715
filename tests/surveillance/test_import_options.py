"""import-events on a file shaped like a paramedic service's export: a re-import of the unchanged
file writes nothing and says so; --skip-invalid imports the good rows; --report lists the bad."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from harbour.surveillance.models import OverdoseEvent

pytestmark = pytest.mark.django_db

EMS = Path(__file__).resolve().parents[1] / "data" / "surveillance" / "ems_events_sample.csv"
MAP = (
    "id=Incident Number,date=Incident Date,time=Incident Time,fsa=Postal Code,"
    "fatal=Patient Outcome,naloxone=Naloxone Administered,substances=Suspected Substances"
)


@contextmanager
def no_writes() -> Iterator[None]:
    """Fails when anything is inserted, updated or deleted inside."""
    with CaptureQueriesContext(connection) as queries:
        yield
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}
    ]
    assert writes == []


def run(path: Path, org, *extra: str) -> None:  # type: ignore[no-untyped-def]
    call_command("import-events", str(path), "--org", org.slug, "--map", MAP, "--source", "ems",
                 *extra)  # fmt: skip


def test_reimporting_an_unchanged_file_writes_nothing_and_says_so(org_a, capsys):
    run(EMS, org_a)
    assert capsys.readouterr().out.strip() == "event: 4 new, 0 changed, 0 unchanged"
    with no_writes():
        run(EMS, org_a)
    assert capsys.readouterr().out.strip() == "event: 0 new, 0 changed, 4 unchanged"
    assert OverdoseEvent.objects.count() == 4


def test_bad_rows_stop_the_import_unless_skipped_and_the_report_says_why(org_a, tmp_path, capsys):
    path = tmp_path / "ems.csv"
    shutil.copy(EMS, path)
    with path.open("a") as fh:
        fh.write("EMS-2026-004240,2026-11-31,10:00,K7L,Fatal,Yes,\n")
        fh.write("EMS-2026-004241,2026-11-23,10:00,K7L,Maybe,Yes,\n")
    report = tmp_path / "report.csv"
    with pytest.raises(CommandError, match="nothing was written"):
        run(path, org_a, "--report", str(report))
    assert OverdoseEvent.objects.count() == 0
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert [(r["file"], r["line"], r["column"], r["value"]) for r in rows] == [
        ("ems.csv", "6", "Incident Date", "2026-11-31"),
        ("ems.csv", "7", "Patient Outcome", "Maybe"),
    ]
    capsys.readouterr()
    run(path, org_a, "--report", str(report), "--skip-invalid")
    assert capsys.readouterr().out.strip().splitlines() == [
        f"2 rows skipped (see {report})",
        "event: 4 new, 0 changed, 0 unchanged, 2 skipped",
    ]
    assert OverdoseEvent.objects.count() == 4
