"""import-drugcheck on tables shaped like the publishers' (Drug Checking BC strip cells holding
several strips' answers, a few bad rows): mixed results kept and shown as such, never counted as
a positive; re-imports that write nothing; --skip-invalid and --report."""

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
from django.utils import translation

from harbour.core.models import AuditEvent
from harbour.drugcheck import board, importers
from harbour.drugcheck.models import Method, Sample, SampleTest, StripResult, combine_readings

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[1] / "data" / "drugcheck"
UNC = [DATA / "unc_analysis_dataset.csv", DATA / "unc_lab_detail.csv"]
DCBC = DATA / "drugcheckingbc_sample.csv"
MULTI = DATA / "drugcheckingbc_multistrip.csv"


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


def test_several_strip_answers_combine_into_one_result():
    assert combine_readings(["positive", "negative"]) == StripResult.MIXED
    assert combine_readings(["positive", "positive"]) == StripResult.POSITIVE
    assert combine_readings(["invalid", "negative"]) == StripResult.NEGATIVE
    assert combine_readings(["invalid", "invalid"]) == StripResult.INVALID
    assert combine_readings([]) == ""


def test_a_cell_with_two_strips_is_imported_as_a_mixed_result_with_each_answer(org_a):
    result = importers.import_files(fmt="drugcheckingbc", paths=[MULTI], organization=org_a)
    assert result.summary() == (
        "sample: 4 new, 0 changed, 0 unchanged; component: 7 new, 0 changed, 0 unchanged"
    )
    fentanyl = {
        (t.sample.expected, t.sample.site[-1]): t
        for t in SampleTest.objects.filter(method=Method.FENTANYL_STRIP).select_related("sample")
    }
    mixed = fentanyl[("Down", "A")]
    assert (mixed.result, mixed.readings) == ("mixed", ["positive", "negative"])
    both = fentanyl[("Down", "B")]
    assert (both.result, both.readings) == ("positive", ["positive", "positive"])
    assert fentanyl[("Crystal Meth", "B")].readings == []  # one strip: its result alone
    benzo = SampleTest.objects.get(method=Method.BENZO_STRIP, sample__site__endswith="B",
                                   sample__expected="Down")  # fmt: skip
    assert (benzo.result, benzo.readings) == ("negative", ["invalid", "negative"])
    with translation.override("en"):
        assert mixed.result_text == "Mixed (positive; negative)"
    with translation.override("fr"):
        assert mixed.result_text == "Mixte (positif; négatif)"


def test_a_mixed_strip_does_not_count_as_finding_fentanyl_on_the_board(org_a):
    importers.import_files(fmt="drugcheckingbc", paths=[MULTI], organization=org_a)
    samples = Sample.objects.prefetch_related("components__substance", "tests")
    counts, _regions = board.tally(samples)
    # three bought as opioids: the mixed strip alone (nothing else found) is not fentanyl; the
    # mixed strip with fentanyl on the FTIR is, by the FTIR; two positive strips are
    assert (counts["class:opioid"], counts["fentanyl"], counts["no-fentanyl"]) == (3, 2, 1)
    with translation.override("fr"):
        published = board.results([board._result(s) for s in samples.order_by("expected", "site")])
        texts = [t["result"] for r in published for t in r["tests"]]
    assert "Mixte (positif; négatif)" in texts and "Positif (positif; positif)" in texts


def test_the_public_lookup_shows_a_mixed_strip_as_such_in_both_languages(client, org_a):
    importers.import_files(fmt="drugcheckingbc", paths=[MULTI], organization=org_a)
    sample = Sample.objects.get(expected="Down", site__endswith="A")
    page = client.post("/drugcheck/result/", {"code": sample.code}).content.decode()
    assert "<dt>Fentanyl test strip</dt><dd>Mixed (positive; negative)</dd>" in page
    client.cookies["django_language"] = "fr"
    page = client.post(
        "/drugcheck/result/", {"code": sample.code}, HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert "<dd>Mixte (positif; négatif)</dd>" in page


@pytest.mark.parametrize(
    ("fmt", "paths"), [("unc", UNC), ("drugcheckingbc", [DCBC]), ("drugcheckingbc", [MULTI])]
)
def test_reimporting_an_unchanged_file_writes_nothing_and_says_so(org_a, fmt, paths):
    first = importers.import_files(fmt=fmt, paths=paths, organization=org_a)
    assert first.created > 0
    audits = AuditEvent.objects.count()
    with no_writes():
        again = importers.import_files(fmt=fmt, paths=paths, organization=org_a)
    assert again.summary() == (
        f"sample: 0 new, 0 changed, {first.created} unchanged; "
        f"component: 0 new, 0 changed, {first.components.get('component', 'new')} unchanged"
    )
    assert AuditEvent.objects.count() == audits


def bad_copy(tmp_path: Path) -> Path:
    path = tmp_path / "dcbc.csv"
    shutil.copy(MULTI, path)
    with path.open("a") as fh:
        fh.write('"2026-10-05","Harbour Test Site A","Vancouver","Down","Positive/Negative",'
                 '"False","[\'Caffeine\']"\n')  # fmt: skip
        fh.write('"2026-13-05","Harbour Test Site A","Vancouver","Down","False","False","[]"\n')
    return path


def test_bad_rows_stop_the_import_unless_skipped_and_the_report_says_why(org_a, tmp_path, capsys):
    path = bad_copy(tmp_path)
    report = tmp_path / "report.csv"
    args = [str(path), "--format", "drugcheckingbc", "--org", org_a.slug, "--report", str(report)]
    # by default one bad row and nothing is written
    with pytest.raises(CommandError, match="2 problem"):
        call_command("import-drugcheck", *args)
    assert Sample.objects.count() == 0
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert [(r["file"], r["line"], r["column"], r["value"]) for r in rows] == [
        ("dcbc.csv", "6", "Fentanyl Test Strip", "Positive/Negative"),
        ("dcbc.csv", "7", "Date", "2026-13-05"),
    ]
    assert "separated by ';'" in rows[0]["reason"]
    # with --skip-invalid the valid rows are imported and the summary says how many were not
    capsys.readouterr()
    call_command("import-drugcheck", *args, "--skip-invalid")
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [
        f"2 rows skipped (see {report})",
        "sample: 4 new, 0 changed, 0 unchanged, 2 skipped; "
        "component: 7 new, 0 changed, 0 unchanged",
    ]
    assert Sample.objects.count() == 4
    assert len(list(csv.DictReader(report.open(encoding="utf-8")))) == 2


def test_unc_detail_rows_of_a_skipped_sample_are_skipped_too_and_say_why(org_a, tmp_path):
    analysis = tmp_path / "unc_analysis_dataset.csv"
    detail = tmp_path / "unc_lab_detail.csv"
    shutil.copy(UNC[1], detail)
    with UNC[0].open(encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    header = lines[0].split(",")
    column = header.index("date_collect")
    cells = next(csv.reader([lines[1]]))
    first_id = cells[header.index("sampleid")]
    cells[column] = "sometime"
    buffer = [lines[0], ",".join(f'"{c}"' if "," in c else c for c in cells), *lines[2:]]
    analysis.write_text("\n".join(buffer) + "\n", encoding="utf-8")
    result = importers.import_files(
        fmt="unc", paths=[analysis, detail], organization=org_a, skip_invalid=True
    )
    assert (result.created, result.skipped) == (19, 1)
    reasons = {p.reason for p in result.problems}
    assert any(r.startswith("'sometime' is not a date") for r in reasons)
    refers = [p for p in result.problems if p.reason.startswith("refers to")]
    assert refers and all(p.value == first_id for p in refers)
    assert refers[0].reason == (
        f"refers to sample {first_id!r} (unc_analysis_dataset.csv: line 2), which is skipped"
    )
    assert result.skipped_rows == 1 + len(refers)


def test_unc_sample_id_twice_skips_both_rows_and_their_detail(org_a, tmp_path):
    analysis = tmp_path / "unc_analysis_dataset.csv"
    lines = UNC[0].read_text(encoding="utf-8").splitlines()
    analysis.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")
    first_id = next(csv.DictReader(lines))["sampleid"]
    result = importers.import_files(
        fmt="unc", paths=[analysis, UNC[1]], organization=org_a, skip_invalid=True
    )
    assert (result.created, result.skipped) == (19, 1)
    twice = [p for p in result.problems if p.reason.endswith("appears twice")]
    assert [(p.line, p.value) for p in twice] == [(len(lines) + 1, first_id)]
    detail = sum(1 for row in csv.DictReader(UNC[1].open(encoding="utf-8"))
                 if row["sampleid"] == first_id)  # fmt: skip
    assert detail > 0
    assert result.skipped_rows == 2 + detail
    assert not Sample.objects.filter(external_id=first_id).exists()
