"""Periodic jobs: the worker puts each registered task on the queue every ``every`` seconds.

The last enqueue time is kept in the database and advanced with a compare-and-set update, so
several workers (or a restarted one) enqueue each due job once.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    task: Any  # a django-tasks Task
    kwargs: tuple[tuple[str, Any], ...] = ()


_JOBS: dict[str, Job] = {}


def register(name: str, *, every: timedelta, task: Any, **kwargs: Any) -> None:
    _JOBS[name] = Job(name=name, every=every, task=task, kwargs=tuple(sorted(kwargs.items())))


def jobs() -> list[Job]:
    return list(_JOBS.values())


def enqueue_due(now: datetime | None = None) -> list[str]:
    """Enqueue every job whose time has come; returns their names."""
    from harbour.core.models import PeriodicRun

    now = now or timezone.now()
    enqueued = []
    for job in jobs():
        with transaction.atomic():
            run = PeriodicRun.objects.filter(name=job.name).first()
            if run is None:
                try:
                    with transaction.atomic():
                        PeriodicRun.objects.create(name=job.name, last_enqueued_at=now)
                except IntegrityError:
                    continue
            elif run.last_enqueued_at + job.every > now:
                continue
            elif not PeriodicRun.objects.filter(
                name=job.name, last_enqueued_at=run.last_enqueued_at
            ).update(last_enqueued_at=now):
                continue  # another worker took it
            job.task.enqueue(**dict(job.kwargs))
            enqueued.append(job.name)
    return enqueued


class Scheduler(threading.Thread):
    """Runs :func:`enqueue_due` every ``interval`` seconds until stopped."""

    def __init__(self, interval: float = 5.0) -> None:
        super().__init__(name="harbour-scheduler", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                close_old_connections()
                enqueue_due()
            except Exception:  # a bad tick must not kill the worker; it is logged
                logger.exception("periodic scheduling failed")
            self.stopped.wait(self.interval)
        close_old_connections()

    def stop(self) -> None:
        self.stopped.set()
