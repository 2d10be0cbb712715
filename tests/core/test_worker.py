from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from harbour.core import schedule
from harbour.core.models import PeriodicRun, WorkerHeartbeat
from harbour.core.selectors import worker_status
from harbour.core.tasks import heartbeat

pytestmark = pytest.mark.django_db


def test_the_worker_runs_a_queued_heartbeat(run_tasks):
    # given
    heartbeat.enqueue(worker="w1")
    assert not WorkerHeartbeat.objects.exists()
    # when
    run_tasks()
    # then
    beat = WorkerHeartbeat.objects.get(worker="w1")
    assert beat.runs == 1
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    heartbeat.enqueue(worker="w1")
    run_tasks()
    beat.refresh_from_db()
    assert beat.runs == 2


def test_worker_status_turns_stale_when_heartbeats_stop(settings):
    settings.HARBOUR_HEARTBEAT_SECONDS = 30
    now = timezone.now()
    assert worker_status(now)["status"] == "unknown"
    WorkerHeartbeat.objects.create(worker="w", seen_at=now - timedelta(seconds=60))
    assert worker_status(now)["status"] == "ok"
    assert worker_status(now + timedelta(minutes=5))["status"] == "stale"


def test_periodic_jobs_are_enqueued_once_per_period():
    # given the heartbeat job registered by the core app
    names = [job.name for job in schedule.jobs()]
    assert "core.heartbeat" in names
    now = timezone.now()
    # when two workers tick at the same moment
    first = schedule.enqueue_due(now)
    second = schedule.enqueue_due(now)
    # then it is on the queue once
    assert "core.heartbeat" in first
    assert "core.heartbeat" not in second
    count = DBTaskResult.objects.filter(task_path="harbour.core.tasks.heartbeat").count()
    assert count == 1
    later = schedule.enqueue_due(now + timedelta(seconds=31))
    assert "core.heartbeat" in later
    assert PeriodicRun.objects.get(name="core.heartbeat").last_enqueued_at == now + timedelta(
        seconds=31
    )
