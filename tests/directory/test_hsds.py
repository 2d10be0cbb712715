"""HSDS 3.0 interchange: the official examples import, exports are valid and round-trip."""

from __future__ import annotations

import csv
import json
import re
import shutil
import uuid
import zipfile
from datetime import date
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from harbour.directory import hsds
from harbour.directory.models import Location, Schedule, Service

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[1] / "data" / "hsds"
EXAMPLES = DATA / "csv"


def check_datapackage(folder: Path) -> int:
    """Every CSV of the package has the resource's columns, in order, and meets its constraints
    (required, enum, and the value types the HSDS fields declare). Returns rows checked."""
    package = json.loads((DATA / "datapackage.json").read_text())
    checked = 0
    for resource in package["resources"]:
        path = folder / resource["path"]
        if not path.exists():
            continue
        fields = resource["schema"]["fields"]
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            assert reader.fieldnames == [f["name"] for f in fields], resource["path"]
            for line, row in enumerate(reader, start=2):
                for f in fields:
                    value = row[f["name"]]
                    constraints = f.get("constraints", {})
                    where = f"{resource['path']}:{line}:{f['name']}"
                    if constraints.get("required"):
                        assert value != "", where
                    if value == "":
                        continue
                    if "enum" in constraints:
                        assert value in constraints["enum"], where
                    if f["type"] == "number":
                        float(value)
                    if f["type"] == "integer":
                        int(value)
                    if f["type"] == "date":
                        date.fromisoformat(value)
                    if f["type"] == "string" and f.get("format") == "uuid":
                        assert re.fullmatch(r"[0-9a-f-]{36}", value), where
                checked += 1
    return checked


def folder_text(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.csv"))}


def test_official_examples_import_and_export_valid_datapackage(tmp_path):
    report = hsds.import_tabular(EXAMPLES)
    assert report.created["service"] == 1 and report.created["organization"] == 1
    assert any("metadata" in warning for warning in report.warnings)
    service = Service.objects.get()
    assert service.name_en == "Community Counselling"
    assert (service.minimum_age, service.maximum_age) == (12, 100)
    assert service.hsds_extra["wait_time"] == "wait_time"  # a deprecated column, kept
    schedule = Schedule.objects.get()
    assert (schedule.byday, schedule.opens_at.hour, schedule.closes_at.hour) == ("TH,FR", 10, 18)
    out = tmp_path / "export"
    counts = hsds.export_tabular(out)
    assert counts["service"] == 1
    assert check_datapackage(out) >= 19
    assert json.loads((out / "datapackage.json").read_text())["name"]


def test_export_import_export_is_identical(tmp_path, make_service):
    make_service(
        "Naloxone kit",
        "Trousse de naloxone",
        codes=("harm-reduction.naloxone",),
        hours=(("MO,TU", "09:00", "17:00"), ("FR", "20:00", "08:00")),
    )
    first = tmp_path / "first"
    hsds.export_tabular(first)
    imported = hsds.import_tabular(first)
    assert imported.created == {}
    # the provider had no description, which HSDS requires: the export gave its name
    assert imported.updated == {"organization": 1}
    again = hsds.import_tabular(first)
    assert again.created == {} and again.updated == {}
    assert again.unchanged["service"] == 1
    second = tmp_path / "second"
    hsds.export_tabular(second)
    assert folder_text(first) == folder_text(second)
    assert check_datapackage(second) > 0


def test_french_export_carries_the_french_text(tmp_path, make_service):
    make_service("Food bank", "Banque alimentaire")
    hsds.export_tabular(tmp_path, lang="fr")
    rows = list(csv.DictReader((tmp_path / "services.csv").open(encoding="utf-8")))
    assert [r["name"] for r in rows] == ["Banque alimentaire"]


def test_confidential_locations_leave_no_address_or_position(tmp_path, make_service):
    sal = make_service("Safe house", confidential=True)
    hsds.export_tabular(tmp_path)
    locations = list(csv.DictReader((tmp_path / "locations.csv").open(encoding="utf-8")))
    assert [(r["latitude"], r["longitude"]) for r in locations] == [("", "")]
    assert "1 Main St" not in (tmp_path / "addresses.csv").read_text()
    assert Location.objects.get(pk=sal.location_id).latitude is not None


def test_bad_rows_are_all_reported_with_file_line_and_column_and_nothing_is_written(tmp_path):
    folder = tmp_path / "bad"
    shutil.copytree(EXAMPLES, folder)
    services = (folder / "services.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(services.splitlines()))
    header = rows[0]
    broken = list(rows[1])
    broken[header.index("status")] = "open"
    broken[header.index("minimum_age")] = "twelve"
    second = list(rows[1])
    second[header.index("id")] = "4e4a1d2a-0000-4000-8000-000000000001"
    second[header.index("organization_id")] = "4e4a1d2a-0000-4000-8000-0000000000ff"
    with (folder / "services.csv").open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, broken, second])
    with pytest.raises(hsds.ImportFailed) as exc:
        hsds.import_tabular(folder)
    errors = exc.value.report.errors
    assert (
        "services.csv: line 2: column status: 'open' is not one of: "
        "active, inactive, defunct, temporarily closed" in errors
    )
    assert "services.csv: line 2: column minimum_age: 'twelve' is not a whole number" in errors
    assert (
        "services.csv: line 3: column organization_id: no directoryorganization with id "
        "4e4a1d2a-0000-4000-8000-0000000000ff" in errors
    )
    assert Service.objects.count() == 0


def test_dry_run_reports_and_writes_nothing():
    report = hsds.import_tabular(EXAMPLES, dry_run=True)
    assert report.created["service"] == 1
    assert Service.objects.count() == 0


def test_zip_and_unknown_columns(tmp_path):
    folder = tmp_path / "extra"
    shutil.copytree(EXAMPLES, folder)
    text = (folder / "programs.csv").read_text(encoding="utf-8").splitlines()
    text[0] += ",our_code"
    text[1] += ",P-7"
    (folder / "programs.csv").write_text("\r\n".join(text) + "\r\n", encoding="utf-8")
    archive = tmp_path / "package.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for item in folder.glob("*.csv"):
            z.write(item, arcname=f"data/{item.name}")
    report = hsds.import_tabular(archive)
    assert "programs.csv: columns not in HSDS 3.0 kept as extra data: our_code" in report.warnings


def test_commands(tmp_path, capsys):
    call_command("import-hsds", str(EXAMPLES), "--dry-run")
    assert "dry run, nothing written: taxonomy: 1 new" in capsys.readouterr().out
    call_command("import-hsds", str(EXAMPLES))
    call_command("export-hsds", str(tmp_path / "out"))
    assert "wrote" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no such file"):
        call_command("import-hsds", str(tmp_path / "missing"))


def test_hsds_json_service_full_imports_with_everything_nested():
    from harbour.directory.models import Address, Phone, ServiceAtLocation

    path = DATA / "examples" / "service_full.json"
    report = hsds.import_tabular(path)
    service = Service.objects.get()
    assert service.name_en == "Community Counselling"
    assert service.organization.name_en
    assert ServiceAtLocation.objects.filter(service=service).count() == 1
    assert Address.objects.count() >= 1
    assert Phone.objects.count() == 1  # the example reuses one phone id everywhere
    assert report.created["service"] == 1
    again = hsds.import_tabular(path)
    assert again.created == {} and again.updated == {}


def test_hsds_json_errors_name_the_json_path(tmp_path):
    data = json.loads((DATA / "examples" / "service_full.json").read_text())
    data["status"] = "open"
    data["phones"][0]["id"] = "7d9b1a52-6c1e-4f0e-9b7f-3a2d6c8e9f10"
    data["phones"][0]["number"] = ""
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(hsds.ImportFailed) as exc:
        hsds.import_tabular(bad)
    errors = exc.value.report.errors
    assert any(
        e.startswith("bad.json: service[0]: column status: 'open' is not one of") for e in errors
    )
    assert "bad.json: service[0].phones[0]: column number: is required" in errors
    assert Service.objects.count() == 0


def test_reindex_command_rebuilds_search_documents(make_service, capsys):
    sal = make_service("Naloxone kit")
    Service.objects.filter(pk=sal.service_id).update(search_document="")
    call_command("reindex-directory")
    assert "reindexed 1 services; 7 opening-hours rows" in capsys.readouterr().out
    assert Service.objects.get(pk=sal.service_id).search_document.startswith("naloxone kit")


LEGACY = Path(__file__).resolve().parents[1] / "data" / "hsds_legacy"


def test_hsds_1x_folder_imports_converted_and_exports_valid_3_0(tmp_path):
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from harbour.directory import selectors
    from harbour.directory.models import (
        Accessibility,
        Address,
        Attribute,
        Language,
        TaxonomyTerm,
    )

    report = hsds.import_tabular(LEGACY)
    assert report.created["service"] == 2 and report.created["address"] == 2
    naloxone = Service.objects.get(name_en="Naloxone kits and training")
    # ids of the older layout are scoped by their table: stable UUIDs
    assert naloxone.id == uuid.uuid5(hsds.NAMESPACE, "service:1")
    assert naloxone.eligibility_description_en == "adult; family"
    assert naloxone.fees_description_en == "Free"
    assert naloxone.hsds_extra["payment_accepted"] == "none needed"
    assert naloxone.organization.website == "https://lakeside.example"
    kinds = sorted(Address.objects.values_list("address_type", "country", "postal_code"))
    assert kinds == [("physical", "CA", "K7L 1A1"), ("postal", "CA", "K7L 4V6")]
    assert sorted(Language.objects.values_list("name", flat=True)) == ["English", "French"]
    assert Accessibility.objects.get().description_en == "Wheelchair accessible"
    naloxone_term = TaxonomyTerm.objects.get(name_en="Naloxone")
    assert naloxone_term.parent is not None and naloxone_term.parent.name_en == "Harm Reduction"
    assert Attribute.objects.get(link_id=naloxone.id).taxonomy_term == naloxone_term
    weekly = Schedule.objects.filter(service=naloxone, valid_from__isnull=True)
    assert sorted(s.byday for s in weekly) == ["FR", "MO", "TH", "TU", "WE"]
    closed = Schedule.objects.get(service=naloxone, valid_from=date(2026, 12, 25))
    assert closed.opens_at is None and closed.description_en == "Closed"
    winter = Schedule.objects.get(service__name_en="Winter drop-in")
    assert (winter.byday, winter.opens_at, winter.closes_at) == (
        "MO,TU,WE,TH,FR,SA,SU",
        time(18),
        time(8),
    )
    # the converted hours answer "open now", validity dates included
    toronto = ZoneInfo("America/Toronto")
    for at, expected in [
        (datetime(2026, 11, 25, 10, 0, tzinfo=toronto), ["Naloxone kits and training"]),
        (datetime(2026, 11, 25, 22, 0, tzinfo=toronto), []),  # before the winter season
        (datetime(2026, 12, 2, 22, 0, tzinfo=toronto), ["Winter drop-in"]),
    ]:
        page = selectors.search(selectors.SearchQuery(open_at=at), now=at)
        assert [hit.sal.service.name_en for hit in page.hits] == expected, at
    # columns with no 3.0 home are reported, not dropped
    assert any("phones.csv" in w and "language" in w for w in report.warnings)
    # importing again changes nothing; the export is a valid 3.0 package
    again = hsds.import_tabular(LEGACY)
    assert not again.created and not again.updated
    out = tmp_path / "export"
    hsds.export_tabular(out)
    assert check_datapackage(out) >= 20


def test_hsds_1x_errors_name_the_original_file_and_line(tmp_path):
    folder = tmp_path / "legacy"
    shutil.copytree(LEGACY, folder)
    with (folder / "regular_schedules.csv").open("a") as fh:
        fh.write("6,1,,,Someday,09:00,17:00\n7,1,,,6,25:00,17:00\n")
    with (folder / "eligibility.csv").open("a") as fh:
        fh.write("3,99,adult\n")
    with pytest.raises(hsds.ImportFailed) as failed:
        hsds.import_tabular(folder)
    errors = failed.value.report.errors
    weekday = "regular_schedules.csv: line 7: column weekday: 'Someday' is not a day"
    assert any(e.startswith(weekday) for e in errors)
    assert any(e.startswith("regular_schedules.csv: line 8: column opens_at") for e in errors)
    assert any(e.startswith("eligibility.csv: line 4: column service_id") for e in errors)
    assert Service.objects.count() == 0


def test_schedules_are_checked_before_anything_is_written(tmp_path):
    folder = tmp_path / "csv"
    shutil.copytree(EXAMPLES, folder)
    path = folder / "schedules.csv"
    path.write_text(path.read_text().replace("TH,FR", "TH,XX"))
    with pytest.raises(hsds.ImportFailed) as failed:
        hsds.import_tabular(folder)
    assert failed.value.report.errors == [
        "schedules.csv: line 2: unknown day 'XX' in byday: use MO, TU, WE, TH, FR, SA, SU"
    ]
    assert Service.objects.count() == 0
