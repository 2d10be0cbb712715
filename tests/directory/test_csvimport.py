"""import-directory-csv: a 211-style export with free-text hours in English and French."""

from __future__ import annotations

import csv
import io
import shutil
import uuid
from datetime import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Q

from harbour.core.models import AuditAction, AuditEvent
from harbour.directory import csvimport, hsds
from harbour.directory import services as ds
from harbour.directory.models import (
    Address,
    Attribute,
    DirectoryOrganization,
    Location,
    OpeningRow,
    Phone,
    Schedule,
    SearchEntry,
    Service,
    ServiceAtLocation,
)

DATA = Path(__file__).parent.parent / "data" / "directory_csv"
FIXTURE = DATA / "211_export.csv"
MAP = (
    "key=Resource ID,organization=Agency Name,name=Program Name,"
    "description=Program Description,phone=Phone Numbers,email=Email,url=Website,"
    "address_1=Street Address,city=City,province=Province,postal_code=Postal Code,"
    "latitude=Latitude,longitude=Longitude,hours=Hours of Operation,"
    "languages=Languages Offered,category=Category"
)


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import-directory-csv", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def service(key: str, slug: str = "org-a") -> Service:
    return Service.objects.get(pk=uuid.uuid5(hsds.NAMESPACE, f"harbour-csv:{slug}:{key}:service"))


def byday(svc: Service) -> list[tuple[str, time | None, time | None, str]]:
    schedules = Schedule.objects.filter(
        Q(location__service_at_locations__service=svc) | Q(service=svc)
    )
    return sorted(
        (s.byday, s.opens_at, s.closes_at, s.description_en or s.description_fr or "")
        for s in schedules
    )


@pytest.fixture
def imported(org_a, taxonomy):  # type: ignore[no-untyped-def]
    out, _err = run(str(FIXTURE), "--org", "org-a", "--map", MAP)
    return out


def test_show_columns_lists_headers_with_a_sample_row(db) -> None:  # type: ignore[no-untyped-def]
    out, _err = run(str(FIXTURE), "--show-columns")
    assert out.startswith("211_export.csv: 16 columns")
    assert "  Resource ID          R-1001" in out
    assert "Hours of Operation   Mon-Fri 9am-5pm" in out
    assert "Fields for --map: key, name, organization" in out


def test_unknown_column_names_the_available_columns(org_a) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="mapping does not fit"):
        run(str(FIXTURE), "--org", "org-a", "--map", "key=Resource ID,name=Service Name")
    with pytest.raises(csvimport.MappingError) as info:
        csvimport.parse_mapping("key=Resource ID,name=Service Name", csvimport.header(FIXTURE))
    (message,) = info.value.errors
    assert message.startswith("--map: name: no column 'Service Name' in the file (columns: ")
    assert "'Program Name'" in message and "'Hours of Operation'" in message


def test_mapping_errors() -> None:
    columns = ["ID", "Name", "Lat", "Lng"]
    with pytest.raises(csvimport.MappingError, match="unknown field 'colour'"):
        csvimport.parse_mapping("key=ID,name=Name,colour=Name", columns)
    with pytest.raises(csvimport.MappingError, match="key=<column> is required"):
        csvimport.parse_mapping("name=Name", columns)
    with pytest.raises(csvimport.MappingError, match="latitude and longitude go together"):
        csvimport.parse_mapping("key=ID,name=Name,latitude=Lat", columns)
    with pytest.raises(csvimport.MappingError, match="'name=' is not field=column"):
        csvimport.parse_mapping("key=ID,name=", columns)
    # case and spaces around a column name do not matter
    assert csvimport.parse_mapping("key= id ,name=NAME", columns) == {"key": "ID", "name": "Name"}


def test_import_turns_rows_into_hsds_records(imported: str) -> None:
    assert "12 rows read" in imported
    assert "2 rows: hours kept as text" in imported
    assert imported.splitlines()[-1].startswith("organization: 6 new, 0 changed, 0 unchanged; ")
    assert "service: 12 new, 0 changed, 0 unchanged" in imported
    assert DirectoryOrganization.objects.count() == 6
    assert Service.objects.count() == 12
    harbourview = DirectoryOrganization.objects.get(name_en="Harbourview Community Health Centre")
    assert harbourview.owner.slug == "org-a"
    assert harbourview.services.count() == 2

    supplies = service("R-1001")
    assert supplies.name_en == "Harm Reduction Supplies"
    assert supplies.email == "supplies@example.org"
    assert sorted((p.number, p.extension) for p in supplies.phones.all()) == [
        ("1-800-555-0199", 12),
        ("613-555-0101", None),
    ]
    assert sorted(lang.code for lang in supplies.languages.all()) == ["en", "fr"]
    sal = ServiceAtLocation.objects.get(service=supplies)
    assert (sal.location.latitude, sal.location.longitude) == (44.2312, -76.4860)
    assert sal.location.timezone == "America/Toronto"
    address = Address.objects.get(location=sal.location)
    assert (address.address_1, address.city, address.state_province, address.postal_code) == (
        "123 Princess St", "Kingston", "ON", "K7L 1A1",
    )  # fmt: skip
    assert Attribute.objects.get(link_id=supplies.pk).taxonomy_term.code == (
        "harm-reduction.naloxone"
    )
    assert byday(supplies) == [("MO,TU,WE,TH,FR", time(9), time(17), "Mon-Fri 9am-5pm")]

    # "Ontario" and "k7l1a1" are normalized; no position: the postal area's centre, approximate
    counselling = service("R-1002")
    assert Address.objects.get(location__service_at_locations__service=counselling).postal_code == (
        "K7L 1A1"
    )
    van = ServiceAtLocation.objects.get(service=service("R-1003")).location
    assert van.coordinates_approximate and van.latitude is not None
    assert Location.objects.get(service_at_locations__service=service("R-1011")).timezone == (
        "America/Vancouver"
    )


def test_english_hours(imported: str) -> None:
    weekdays = ("MO,TU,WE,TH,FR", time(9), time(17))
    assert byday(service("R-1002"))[0][:3] == weekdays  # Monday to Friday 9:00-17:00
    assert byday(service("R-1003"))[0][:3] == weekdays  # M-F 9-5
    # "Sat 10am-2pm; Sun closed": Saturday only, nothing invented for the other days
    assert [s[:3] for s in byday(service("R-1004"))] == [("SA", time(10), time(14))]
    # 24/7 and "24 hours": every day, midnight to midnight
    assert [s[:3] for s in byday(service("R-1005"))] == [("MO,TU,WE,TH,FR,SA,SU", time(0), time(0))]
    assert [s[:3] for s in byday(service("R-1010"))] == [("MO,TU,WE,TH,FR,SA,SU", time(0), time(0))]
    # "Tues & Thurs 1-4, Sat 12-3": afternoon hours
    assert [s[:3] for s in byday(service("R-1011"))] == [
        ("SA", time(12), time(15)),
        ("TU,TH", time(13), time(16)),
    ]


def test_french_hours(imported: str) -> None:
    weekdays = ("MO,TU,WE,TH,FR", time(9), time(17))
    assert byday(service("R-1006")) == [(*weekdays, "Lun-ven 9 h à 17 h")]
    assert byday(service("R-1007"))[0][:3] == weekdays
    assert [s[:3] for s in byday(service("R-1008"))] == [("SA", time(10), time(14))]


def test_hours_not_understood_are_kept_as_text_and_unknown(imported: str) -> None:
    for key, text in (("R-1009", "By appointment"), ("R-1012", "Hours vary: call ahead")):
        svc = service(key)
        assert byday(svc) == [("", None, None, text)]
        sal = ServiceAtLocation.objects.get(service=svc)
        assert not OpeningRow.objects.filter(service_at_location=sal).exists()
        assert SearchEntry.objects.get(service_at_location=sal).week == "0" * 168


def test_opening_rows_and_search_index(imported: str) -> None:
    sal = ServiceAtLocation.objects.get(service=service("R-1001"))
    assert sorted(
        OpeningRow.objects.filter(service_at_location=sal).values_list(
            "weekday", "start_minute", "end_minute"
        )
    ) == [(day, 540, 1020) for day in range(5)]
    entry = SearchEntry.objects.get(service_at_location=sal)
    assert entry.week == ("0" * 9 + "1" * 8 + "0" * 7) * 5 + "0" * 48
    assert " harm-reduction.naloxone " in entry.category_codes
    # the same document as the one-at-a-time reindex
    svc = service("R-1001")
    document = svc.search_document
    ds.service_reindex(services=[svc])
    svc.refresh_from_db()
    assert svc.search_document == document and "naloxon" in document


def test_reimport_unchanged_writes_nothing(imported: str) -> None:
    before = {s.pk: s.updated_at for s in Service.objects.all()}
    out, _err = run(str(FIXTURE), "--org", "org-a", "--map", MAP)
    last = out.splitlines()[-1]
    assert "service: 0 new, 0 changed, 12 unchanged" in last
    for table in ("organization", "location", "address", "phone", "schedule", "language"):
        assert f"{table}: 0 new, 0 changed," in last
    assert {s.pk: s.updated_at for s in Service.objects.all()} == before
    assert Phone.objects.count() == 14


def test_reimport_updates_in_place(imported: str, tmp_path: Path) -> None:
    text = FIXTURE.read_text("utf-8")
    text = text.replace("613-555-0101; 1-800-555-0199 ext. 12", "613-555-0109")
    text = text.replace("Mon-Fri 9am-5pm", "Mon-Sat 10am-6pm")
    changed = tmp_path / "211_export.csv"
    changed.write_text(text, "utf-8")
    supplies = service("R-1001")
    out, _err = run(str(changed), "--org", "org-a", "--map", MAP)
    assert "service: 0 new, 0 changed, 12 unchanged" in out
    assert "phone: 0 new, 1 changed, 12 unchanged" in out
    assert "removed (no longer in the file): phone 1" in out
    assert [p.number for p in supplies.phones.all()] == ["613-555-0109"]
    assert byday(supplies)[0][:3] == ("MO,TU,WE,TH,FR,SA", time(10), time(18))
    sal = ServiceAtLocation.objects.get(service=supplies)
    assert OpeningRow.objects.filter(service_at_location=sal).count() == 6
    assert Service.objects.count() == 12


def test_french_reimport_keeps_the_english_text(imported: str, tmp_path: Path) -> None:
    french = tmp_path / "fr.csv"
    french.write_text(
        "Resource ID,Program Name,Agency Name\nR-1001,Fournitures de réduction des méfaits,"
        "Centre de santé communautaire Harbourview\n",
        "utf-8",
    )
    run(str(french), "--org", "org-a", "--lang", "fr", "--map",
        "key=Resource ID,name=Program Name,organization=Agency Name")  # fmt: skip
    supplies = service("R-1001")
    assert supplies.name_en == "Harm Reduction Supplies"
    assert supplies.name_fr == "Fournitures de réduction des méfaits"
    assert supplies.phones.count() == 2  # phone not mapped: not touched


def write(tmp_path: Path, rows: list[list[str]]) -> Path:
    path = tmp_path / "export.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["ID", "Name", "Phone", "Email", "Lat", "Lng", "Hours"], *rows])
    return path


BAD_ROWS = [
    ["A1", "Good service", "613-555-0100", "", "", "", "Mon-Fri 9-5"],
    ["A2", "", "613-555-0101", "", "", "", ""],  # line 3: no name
    ["A3", "Bad email", "613-555-0102", "not-an-email", "", "", ""],  # line 4
    ["A4", "Bad position", "", "", "95", "-75", ""],  # line 5
    ["A1", "Same key", "", "", "", "", ""],  # line 6
    ["A5", "No number", "call us", "", "", "", ""],  # line 7
]
SMALL_MAP = "key=ID,name=Name,phone=Phone,email=Email,latitude=Lat,longitude=Lng,hours=Hours"


def test_atomic_failure_names_line_and_column(org_a, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, BAD_ROWS)
    report = tmp_path / "problems.csv"
    with pytest.raises(CommandError, match=r"5 problem\(s\) in 6 rows; nothing was written"):
        run(str(path), "--org", "org-a", "--map", SMALL_MAP, "--report", str(report))
    assert Service.objects.count() == 0 and DirectoryOrganization.objects.count() == 0
    with report.open(encoding="utf-8") as fh:
        problems = list(csv.DictReader(fh))
    assert [(p["line"], p["column"], p["value"]) for p in problems] == [
        ("3", "Name", ""),
        ("4", "Email", "not-an-email"),
        ("5", "Lat", "95"),
        ("6", "ID", "A1"),
        ("7", "Phone", "call us"),
    ]
    assert {p["file"] for p in problems} == {"export.csv"}
    assert problems[0]["reason"] == "is required"
    assert problems[1]["reason"].startswith("service email: Enter a valid email address")
    assert problems[3]["reason"] == "the same key as line 2: keys must be unique"


def test_skip_invalid_imports_the_valid_rows(org_a, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, BAD_ROWS)
    report = tmp_path / "problems.csv"
    out, err = run(
        str(path), "--org", "org-a", "--map", SMALL_MAP, "--skip-invalid", "--report", str(report)
    )
    assert "5 rows skipped (invalid)" in out
    assert out.splitlines()[-1] == (
        "organization: 1 new, 0 changed, 0 unchanged, 5 skipped; "
        "service: 1 new, 0 changed, 0 unchanged, 5 skipped; "
        "phone: 1 new, 0 changed, 0 unchanged; schedule: 1 new, 0 changed, 0 unchanged"
    )
    assert "5 problem(s) written to" in err
    assert list(Service.objects.values_list("name_en", flat=True)) == ["Good service"]
    assert len(report.read_text("utf-8").splitlines()) == 6
    event = AuditEvent.objects.get(action=AuditAction.DIRECTORY_IMPORT)
    assert event.organization_id == org_a.pk
    assert event.metadata["skipped"] == 5


def test_dry_run_writes_nothing(org_a, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, BAD_ROWS[:1])
    out, _err = run(str(path), "--org", "org-a", "--map", SMALL_MAP, "--dry-run")
    assert "dry run, nothing written: organization: 1 new" in out
    assert Service.objects.count() == 0


def test_semicolon_file_with_bom(org_a, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "excel.csv"
    path.write_bytes(
        "\ufeffNo;Nom;Heures\r\n7;Halte-accueil;7 jours sur 7, 24 h sur 24\r\n".encode()
    )
    out, _err = run(
        str(path), "--org", "org-a", "--lang", "fr", "--map", "key=No,name=Nom,hours=Heures"
    )
    assert "service: 1 new" in out
    (schedule,) = Schedule.objects.all()
    assert (schedule.byday, schedule.opens_at, schedule.description_fr) == (
        "MO,TU,WE,TH,FR,SA,SU", time(0), "7 jours sur 7, 24 h sur 24",
    )  # fmt: skip


def test_other_organizations_listings_are_separate(org_a, make_org, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    make_org("org-b")
    path = write(tmp_path, BAD_ROWS[:1])
    run(str(path), "--org", "org-a", "--map", SMALL_MAP)
    run(str(path), "--org", "org-b", "--map", SMALL_MAP)
    assert Service.objects.count() == 2
    assert sorted(DirectoryOrganization.objects.values_list("owner__slug", flat=True)) == [
        "org-a", "org-b",
    ]  # fmt: skip


def test_needs_org_and_map(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="--org and --map are required"):
        run(str(FIXTURE))
    with pytest.raises(CommandError, match="no organization with slug 'nope'"):
        run(str(FIXTURE), "--org", "nope", "--map", MAP)
    latin1 = tmp_path / "latin1.csv"
    shutil.copy(FIXTURE, latin1)
    latin1.write_bytes("ID,Name\n1,Caf\xe9\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        run(str(latin1), "--show-columns")


def test_progress_in_plain_lines_when_not_a_terminal(org_a, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, [[f"K{i}", f"Service {i}", "", "", "", "", ""] for i in range(1200)])
    stream = io.StringIO()
    mapping = csvimport.parse_mapping(SMALL_MAP, csvimport.header(path))
    result = csvimport.import_csv(
        path, mapping=mapping, owner=org_a, show_progress=True, progress_stream=stream
    )
    assert result.counts.get("service", "new") == 1200
    lines = stream.getvalue().splitlines()
    # a line every few seconds (however many the machine's speed makes), and one at the end
    checking = [line for line in lines if line.startswith("checking: ")]
    writing = [line for line in lines if line.startswith("writing: ")]
    assert checking[-1].startswith("checking: 1,200/1,200 (100%")
    assert writing[-1].startswith("writing: 1,200/1,200 (100%")
    assert len(checking) + len(writing) == len(lines)
    assert "\r" not in stream.getvalue()


def test_imported_listings_validate_as_hsds_3(client, imported: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.directory.test_hsds_api import valid

    for svc in Service.objects.all():
        body = client.get(f"/api/hsds/services/{svc.id}").json()
        valid(body, "service.json")
    body = client.get(f"/api/hsds/services/{service('R-1006').id}", {"lang": "fr"}).json()
    assert body["name"] == "Soutien par les pairs"
    body = client.get(f"/api/hsds/services/{service('R-1006').id}").json()
    schedules = body["service_at_locations"][0]["location"]["schedules"]
    assert [(s["byday"], s["opens_at"], s["description"]) for s in schedules] == [
        ("MO,TU,WE,TH,FR", "09:00:00", "Lun-ven 9 h à 17 h")
    ]
    # and the tabular export imports back unchanged
    hsds.export_tabular(tmp_path / "hsds")
    report = hsds.import_tabular(tmp_path / "hsds")
    assert "service: 0 new, 0 changed, 12 unchanged" in report.summary()
