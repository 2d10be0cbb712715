"""import-meetings on a real-shaped feed (the TSML UI fixture): a re-import of the unchanged feed
writes nothing and says so; --skip-invalid leaves out the bad items (their meetings are kept, not
archived); --report lists every problem."""

from __future__ import annotations

import copy
import csv
import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from harbour.core.models import AuditAction, AuditEvent
from harbour.meetings import services
from harbour.meetings.models import Meeting

pytestmark = pytest.mark.django_db


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


def test_reimporting_an_unchanged_feed_writes_nothing_and_says_so(org_a, fixture_items):
    out = []
    services.import_meetings(organization=org_a, items=fixture_items, fellowship="aa")
    audits = AuditEvent.objects.filter(action=AuditAction.MEETINGS_IMPORT).count()
    with no_writes():
        report = services.import_meetings(
            organization=org_a, items=copy.deepcopy(fixture_items), fellowship="aa"
        )
    out.append(report.summary())
    assert out == ["meeting: 0 new, 0 changed, 3 unchanged"]
    assert AuditEvent.objects.filter(action=AuditAction.MEETINGS_IMPORT).count() == audits


def test_skip_invalid_leaves_out_bad_items_and_keeps_their_meetings(
    org_a, fixture_items, tmp_path, capsys
):
    # given the three meetings imported
    services.import_meetings(organization=org_a, items=fixture_items, fellowship="aa")
    before = Meeting.objects.get(slug="online").updated_at
    # when the feed comes back with one item broken and a new one
    items = copy.deepcopy(fixture_items)
    items[1]["day"] = 9
    items.append({**copy.deepcopy(fixture_items[0]), "slug": "evening", "time": "19:00"})
    path = tmp_path / "meetings.json"
    path.write_text(json.dumps(items))
    report = tmp_path / "report.csv"
    args = [str(path), "--org", org_a.slug, "--fellowship", "aa", "--report", str(report)]
    # then by default nothing is written
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import-meetings", *args)
    assert not Meeting.objects.filter(slug="evening").exists()
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert [(r["file"], r["line"], r["column"], r["value"]) for r in rows] == [
        (str(path), "0", "[1].day", "9")
    ]
    # and with --skip-invalid the rest is imported, the broken one left as it was (not archived)
    capsys.readouterr()
    call_command("import-meetings", *args, "--skip-invalid")
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [
        f"1 row skipped (see {report})",
        "meeting: 1 new, 0 changed, 2 unchanged, 1 skipped",
    ]
    online = Meeting.objects.get(slug="online")
    assert online.archived_at is None and online.updated_at == before
    assert Meeting.objects.filter(slug="evening").exists()
    assert len(list(csv.DictReader(report.open(encoding="utf-8")))) == 1
