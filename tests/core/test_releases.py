"""Releases: whole closed periods, made once by the scheduler, served as stored."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django_tasks_db.models import DBTaskResult

from harbour.core import releases, schedule, suppression
from harbour.core.models import AuditAction, AuditEvent, Release

pytestmark = pytest.mark.django_db

TORONTO = ZoneInfo("America/Toronto")


@pytest.fixture
def kinds():
    saved = dict(releases._KINDS)
    releases._KINDS.clear()  # only the kinds of these tests
    calls: list[tuple[date, date]] = []

    def build(start: date, end: date) -> dict:
        calls.append((start, end))
        return {"total": str(suppression.cell(len(calls) + 2))}

    releases.register("test-weekly", build=build, period="week", periods=4, lag_days=7)
    releases.register("test-monthly", build=build, period="month", periods=3, lag_days=10)
    yield calls
    releases._KINDS.clear()
    releases._KINDS.update(saved)


def test_closed_end_is_the_newest_period_closed_the_lag_ago_in_local_time(kinds, settings):
    settings.TIME_ZONE = "America/Toronto"
    # Wednesday 2026-11-18 in Toronto; the week of Mon 9 Nov closed on Mon 16 Nov, 2 days ago
    now = datetime(2026, 11, 18, 12, tzinfo=TORONTO)
    assert releases.closed_end("test-weekly", now) == date(2026, 11, 9)  # lag 7 days not over
    now = datetime(2026, 11, 23, 0, 30, tzinfo=TORONTO)  # Monday 23 Nov, local
    assert releases.closed_end("test-weekly", now) == date(2026, 11, 16)
    # 23 Nov 04:59 UTC is still 22 Nov in Toronto
    utc = ZoneInfo("UTC")
    assert releases.closed_end("test-weekly", datetime(2026, 11, 23, 4, 59, tzinfo=utc)) == date(
        2026, 11, 9
    )
    # months: November closes on 1 Dec, released from 11 Dec (lag 10 days)
    assert releases.closed_end("test-monthly", datetime(2026, 12, 10, 23, tzinfo=TORONTO)) == (
        date(2026, 11, 1)
    )
    assert releases.closed_end("test-monthly", datetime(2026, 12, 11, tzinfo=TORONTO)) == (
        date(2026, 12, 1)
    )
    assert releases.bounds("test-monthly", datetime(2026, 2, 15, tzinfo=TORONTO)) == (
        date(2025, 11, 1),
        date(2026, 2, 1),
    )
    assert releases.bounds("test-weekly", now) == (date(2026, 10, 19), date(2026, 11, 16))
    assert releases.period_starts("test-monthly", date(2025, 11, 1), date(2026, 2, 1)) == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
    ]


def test_make_due_builds_each_closed_period_once_and_latest_serves_it(kinds, settings):
    settings.TIME_ZONE = "America/Toronto"
    now = datetime(2026, 11, 23, 9, tzinfo=TORONTO)
    # when the scheduler runs twice in the same hour, and once more later that week
    made = releases.make_due(now=now)
    again = releases.make_due(now=now)
    later = releases.make_due(now=datetime(2026, 11, 29, 23, tzinfo=TORONTO))
    # then each kind has one release, built once, and nothing is rebuilt
    assert sorted(r.kind for r in made) == ["test-monthly", "test-weekly"]
    assert again == [] and later == []
    assert len(kinds) == 2
    weekly = releases.latest("test-weekly")
    assert weekly is not None
    assert (weekly.period_start, weekly.period_end) == (date(2026, 10, 19), date(2026, 11, 16))
    assert weekly.last_day == date(2026, 11, 15)
    assert weekly.made_at == now
    assert weekly.data == {"total": "<5"}
    assert AuditEvent.objects.filter(action=AuditAction.RELEASE_MAKE).count() == 2
    # when the next week has closed the lag ago, a new release is made and served
    nxt = releases.make_due(now=datetime(2026, 11, 30, 9, tzinfo=TORONTO))
    assert [r.kind for r in nxt] == ["test-weekly"]
    newest = releases.latest("test-weekly")
    assert newest is not None and newest.period_end == date(2026, 11, 23)
    assert newest.data == {"total": "5"}
    assert Release.objects.filter(kind="test-weekly").count() == 2
    assert releases.latest("nothing-registered") is None


def test_one_release_per_kind_and_period_even_with_two_workers(kinds):
    Release.objects.create(
        kind="k", period_start=date(2026, 1, 1), period_end=date(2026, 2, 1),
        made_at=datetime(2026, 2, 8, tzinfo=TORONTO), data={},
    )  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        Release.objects.create(
            kind="k", period_start=date(2026, 1, 5), period_end=date(2026, 2, 1),
            made_at=datetime(2026, 2, 9, tzinfo=TORONTO), data={},
        )  # fmt: skip


def test_a_build_that_returns_a_number_is_refused(kinds):
    releases.register(
        "test-raw", build=lambda s, e: {"rows": [{"count": 3}]}, period="week", periods=1,
        lag_days=0,
    )  # fmt: skip
    with pytest.raises(TypeError, match=r"data.rows\[0\].count"):
        releases.make("test-raw", now=datetime(2026, 11, 23, tzinfo=TORONTO))
    assert not Release.objects.filter(kind="test-raw").exists()


def test_the_scheduler_runs_make_releases_hourly_and_the_command_runs_it_now(
    kinds, run_tasks, capsys
):
    job = {j.name: j for j in schedule.jobs()}["core.releases"]
    assert job.every.total_seconds() == 3600
    schedule.enqueue_due()
    assert DBTaskResult.objects.filter(task_path="harbour.core.tasks.make_releases").exists()
    run_tasks()
    assert Release.objects.filter(kind="test-weekly").count() == 1
    call_command("make-releases")
    assert "nothing due" in capsys.readouterr().out


def test_tiled_releases_never_share_a_period(kinds):
    # given a weekly kind released in blocks of 4 weeks
    releases.register(
        "test-tiled", build=lambda s, e: {}, period="week", periods=4, lag_days=7, tiled=True
    )
    # when the scheduler runs every day for 10 weeks
    seen: list[tuple[date, date]] = []
    day = datetime(2026, 9, 1, 12, tzinfo=TORONTO)
    for n in range(70):
        made = releases.make("test-tiled", now=day + timedelta(days=n))
        if made is not None:
            seen.append((made.period_start, made.period_end))
    # then each release is a block of 4 whole weeks, and the blocks follow one another
    assert len(seen) >= 2
    for start, end in seen:
        assert start.weekday() == 0 and (end - start).days == 28
    for (_s1, e1), (s2, _e2) in itertools.pairwise(seen):
        assert e1 == s2
    # monthly blocks of 3 are calendar quarters
    releases.register(
        "test-quarters", build=lambda s, e: {}, period="month", periods=3, lag_days=0, tiled=True
    )
    assert releases.bounds("test-quarters", datetime(2026, 12, 2, 12, tzinfo=TORONTO)) == (
        date(2026, 7, 1),
        date(2026, 10, 1),
    )


def test_backfill_makes_the_earlier_blocks_never_made_once(kinds):
    built: list[tuple[date, date]] = []

    def build(start: date, end: date) -> dict:
        built.append((start, end))
        return {}

    releases.register("test-back", build=build, period="month", periods=1, lag_days=0, backfill=2)
    releases.make_due(now=datetime(2026, 12, 2, 12, tzinfo=TORONTO))
    releases.make_due(now=datetime(2026, 12, 3, 12, tzinfo=TORONTO))
    assert built == [
        (date(2026, 9, 1), date(2026, 10, 1)),
        (date(2026, 10, 1), date(2026, 11, 1)),
        (date(2026, 11, 1), date(2026, 12, 1)),
    ]
    releases.make_due(now=datetime(2027, 1, 2, 12, tzinfo=TORONTO))
    assert built[-1] == (date(2026, 12, 1), date(2027, 1, 1)) and len(built) == 4
    assert [r.period_end for r in releases.recent("test-back", 3)] == [
        date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1),
    ]  # fmt: skip
