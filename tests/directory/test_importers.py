"""import-hsds on files shaped like real publishers' (HSDS 1.x packages whose ids repeat across
tables): ids scoped by their table, re-imports that write nothing, --skip-invalid and --report."""

from __future__ import annotations

import csv
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from harbour.core import csvsafe
from harbour.directory import hsds, hsds_legacy
from harbour.directory.models import (
    Address,
    DirectoryOrganization,
    Location,
    Phone,
    Schedule,
    Service,
    ServiceAtLocation,
)

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[1] / "data"
SHARED = DATA / "hsds_legacy_shared_ids"
LEGACY = DATA / "hsds_legacy"
EXAMPLES = DATA / "hsds" / "csv"
U1 = "6f1c2e4a-8b3d-4c5e-9f60-7a8b9c0d1e01"  # organization, service and location
U2 = "a3d5f7b9-1c2e-4d3f-8a4b-5c6d7e8f9002"  # a weekday schedule and a holiday closure


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


def scoped(table: str, value: str) -> uuid.UUID:
    return uuid.uuid5(hsds.NAMESPACE, f"{table}:{value}")


def test_ids_shared_across_1x_tables_are_scoped_by_their_table_and_nothing_is_lost():
    # when a 1.x package whose organization, service and location share one UUID, and whose
    # weekday schedule and holiday closure share another, is imported
    report = hsds.import_tabular(SHARED)
    # then every row is its own record, under an id derived from (table, original id)
    assert report.summary().startswith("organization: 1 new, 0 changed, 0 unchanged")
    assert DirectoryOrganization.objects.get().pk == scoped("organization", U1)
    service = Service.objects.get()
    assert service.pk == scoped("service", U1)
    assert service.organization_id == scoped("organization", U1)
    assert Location.objects.get().pk == scoped("location", U1)
    sal = ServiceAtLocation.objects.get()
    assert (sal.service_id, sal.location_id) == (service.pk, scoped("location", U1))
    # both schedules are kept: the holiday closure is not lost under the weekday hours
    schedules = {s.pk: s for s in Schedule.objects.all()}
    assert set(schedules) == {scoped("regular_schedule", U2), scoped("holiday_schedule", U2)}
    closure = schedules[scoped("holiday_schedule", U2)]
    assert (closure.valid_from, closure.description_en) == (date(2026, 12, 25), "Closed")
    assert schedules[scoped("regular_schedule", U2)].byday == "MO"
    assert Phone.objects.get().pk == scoped("phone", "c7e9a1b3-5d6f-4a7b-8c9d-0e1f2a3b4c03")
    assert Address.objects.get().location_id == scoped("location", U1)


def test_reimporting_an_unchanged_1x_package_writes_nothing_and_says_so(capsys):
    call_command("import-hsds", str(SHARED))
    capsys.readouterr()
    with no_writes():
        call_command("import-hsds", str(SHARED))
    out = capsys.readouterr().out.strip()
    assert out == (
        "organization: 0 new, 0 changed, 1 unchanged; service: 0 new, 0 changed, 1 unchanged; "
        "location: 0 new, 0 changed, 1 unchanged; "
        "service_at_location: 0 new, 0 changed, 1 unchanged; "
        "address: 0 new, 0 changed, 1 unchanged; phone: 0 new, 0 changed, 1 unchanged; "
        "schedule: 0 new, 0 changed, 2 unchanged"
    )


def test_reimporting_the_1x_sample_with_integer_ids_writes_nothing():
    hsds.import_tabular(LEGACY)
    with no_writes():
        again = hsds.import_tabular(LEGACY)
    assert again.counts.written == 0 and sum(again.unchanged.values()) > 20


def test_reimporting_an_unchanged_3_0_package_writes_nothing():
    first = hsds.import_tabular(EXAMPLES)
    assert first.counts.written > 0
    with no_writes():
        again = hsds.import_tabular(EXAMPLES)
    assert not again.created and not again.updated
    assert all(", 0 changed," in part for part in again.summary().split("; "))


def test_data_imported_before_the_scoping_keeps_its_ids_and_is_not_duplicated(
    monkeypatch, tmp_path
):
    # given the package imported before ids were scoped by table: the UUIDs as they were, so
    # the weekday schedule and the closure were one row (here the closure, the hours were lost)
    earlier = tmp_path / "earlier"
    shutil.copytree(SHARED, earlier)
    (earlier / "regular_schedules.csv").unlink()
    with monkeypatch.context() as patch:
        patch.setattr(hsds_legacy, "scoped_id", lambda table, value: value)
        hsds.import_tabular(earlier)
    assert DirectoryOrganization.objects.get().pk == uuid.UUID(U1)
    assert Schedule.objects.count() == 1
    # when it is imported again now
    report = hsds.import_tabular(SHARED)
    # then the stored rows keep their ids (nothing duplicated) and the lost row comes back
    assert DirectoryOrganization.objects.count() == Service.objects.count() == 1
    assert Service.objects.get().pk == uuid.UUID(U1)
    assert Location.objects.get().pk == uuid.UUID(U1)
    assert {s.pk for s in Schedule.objects.all()} == {
        uuid.UUID(U2),  # the first file in name order (holiday_schedules.csv) keeps it
        scoped("regular_schedule", U2),
    }
    assert report.created == {"schedule": 1}
    # and the next import finds everything as it is
    with no_writes():
        again = hsds.import_tabular(SHARED)
    assert again.counts.written == 0


def broken_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "shared"
    shutil.copytree(SHARED, folder)
    with (folder / "services.csv").open("a") as fh:
        # a second service with an unknown status, and its schedule refers to it
        fh.write(f"svc-2,{U1},,Evening outreach,,Van,,,sometimes,,,,,,\n")
    with (folder / "regular_schedules.csv").open("a") as fh:
        fh.write("sched-2,svc-2,,,3,18:00,22:00\n")
        fh.write(f"sched-3,{U1},,,Someday,18:00,22:00\n")
    return folder


def test_one_bad_row_stops_the_import_and_the_report_lists_every_problem(tmp_path, capsys):
    folder = broken_copy(tmp_path)
    report = tmp_path / "problems.csv"
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import-hsds", str(folder), "--report", str(report))
    assert Service.objects.count() == 0
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert [(r["file"], r["line"], r["column"], r["value"]) for r in rows] == [
        ("regular_schedules.csv", "4", "weekday", "Someday"),
        ("services.csv", "3", "status", "sometimes"),
    ]
    assert csvsafe.unquote(rows[1]["reason"]).startswith("'sometimes' is not one of: active")


def test_skip_invalid_imports_the_rest_and_skips_what_refers_to_a_skipped_row(tmp_path, capsys):
    folder = broken_copy(tmp_path)
    report = tmp_path / "problems.csv"
    call_command("import-hsds", str(folder), "--skip-invalid", "--report", str(report))
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0] == f"3 rows skipped (see {report})"
    assert "service: 1 new, 0 changed, 0 unchanged, 1 skipped" in out[-1]
    assert out[-1].endswith("schedule: 2 new, 0 changed, 0 unchanged, 2 skipped")
    assert Service.objects.count() == 1 and Schedule.objects.count() == 2
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    refers = [r for r in rows if r["reason"].startswith("refers to")]
    assert [(r["file"], r["line"], r["column"], r["value"]) for r in refers] == [
        ("regular_schedules.csv", "3", "service_id", "svc-2")
    ]
    assert refers[0]["reason"] == "refers to service services.csv: line 3, which is skipped"
    # and importing the same folder again writes nothing
    with no_writes():
        call_command("import-hsds", str(folder), "--skip-invalid")
    assert "schedule: 0 new, 0 changed, 2 unchanged, 2 skipped" in capsys.readouterr().out
