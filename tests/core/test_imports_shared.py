import csv
import io

from harbour.core import imports


def test_report_lists_every_problem_with_its_place(tmp_path):
    problems = [
        imports.Problem("services.csv", 3, "phone", "=HYPERLINK(1)", "not a phone number"),
        imports.Problem("services.csv", 0, "", "", "the file is empty"),
    ]
    out = tmp_path / "report.csv"
    assert imports.write_report(out, problems) == 2
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["line"] for r in rows] == ["3", "0"]
    assert rows[0]["column"] == "phone"
    assert rows[0]["value"] == "'=HYPERLINK(1)"  # a cell, never a formula
    assert str(problems[0]) == "services.csv: line 3: phone: not a phone number ('=HYPERLINK(1)')"


def test_counts_summary_names_every_table():
    counts = imports.Counts()
    counts.add("service", "unchanged", 12)
    counts.add("phone", "new")
    counts.add("phone", "skipped", 2)
    assert counts.summary() == (
        "service: 0 new, 0 changed, 12 unchanged; phone: 1 new, 0 changed, 0 unchanged, 2 skipped"
    )
    assert counts.written == 1


def test_progress_prints_plain_lines_off_a_terminal():
    out = io.StringIO()
    assert sum(imports.progress(range(2000), total=2000, label="rows", stream=out)) == 1999000
    assert out.getvalue().splitlines()[-1].startswith("rows: 2,000/2,000 (100%")


def test_removed_rows_count_as_written_and_the_skipped_line_points_at_the_report():
    counts = imports.Counts()
    counts.add("meeting", "unchanged", 2)
    counts.add("meeting", "removed", 1)
    assert counts.summary() == "meeting: 0 new, 0 changed, 2 unchanged, 1 removed"
    assert counts.written == 1 and counts.skipped == 0
    assert imports.skipped_line(1, None) == "1 row skipped (see --report)"
    assert imports.skipped_line(1203, "bad.csv") == "1,203 rows skipped (see bad.csv)"


def test_every_import_command_has_report_and_skip_invalid():
    from django.core.management import load_command_class

    for app, name in [
        ("harbour.directory", "import-hsds"),
        ("harbour.drugcheck", "import-drugcheck"),
        ("harbour.meetings", "import-meetings"),
        ("harbour.surveillance", "import-events"),
    ]:
        parser = load_command_class(app, name).create_parser("harbour", name)
        options = {a.dest for a in parser._actions}
        assert {"report", "skip_invalid"} <= options, name
