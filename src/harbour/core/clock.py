"""The worker's clock for timed work (check-in deadlines, referral reminders): a thread that
advances whatever is due as soon as it is due, instead of waiting for the periodic scheduler.

Each registered kind of timed work gives two functions: ``advance(now) -> int`` (advance what
is due; safe to run in several workers at once) and ``next_due() -> datetime | None``. The
clock sleeps until the earliest next due time, at most ``max_wait`` seconds, so a new deadline
written by the web process is seen within that time. Each pass also sends urgent messages
(prompts, call-outs) itself, so they never wait behind a long fan-out on the task queue, and
records a heartbeat (worker ``clock:<host>``) that the health check and the watchdog read.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimedWork:
    name: str
    advance: Callable[[datetime], int]
    next_due: Callable[[], datetime | None]


_WORK: dict[str, TimedWork] = {}


def register(
    name: str, advance: Callable[[datetime], int], next_due: Callable[[], datetime | None]
) -> None:
    _WORK[name] = TimedWork(name, advance, next_due)


def tick(now: datetime | None = None) -> int:
    """Advance everything due at ``now``; returns how many items moved."""
    moved = 0
    for work in list(_WORK.values()):
        moved += work.advance(now or timezone.now())
    return moved


def next_due() -> datetime | None:
    times = [t for t in (work.next_due() for work in list(_WORK.values())) if t is not None]
    return min(times) if times else None


def beat(name: str | None = None) -> None:
    from harbour.core.tasks import heartbeat

    heartbeat.call(worker=name or f"clock:{socket.gethostname()}")


class Clock(threading.Thread):
    def __init__(self, max_wait: float = 0.5, beat_every: float = 2.0) -> None:
        super().__init__(name="harbour-clock", daemon=True)
        self.max_wait = max_wait
        self.beat_every = beat_every
        self.stopped = threading.Event()

    def run(self) -> None:
        from django.conf import settings

        from harbour.notify.services import deliver_due

        callback = settings.TWILIO_STATUS_CALLBACK_URL

        last_beat = 0.0
        while not self.stopped.is_set():
            wait = self.max_wait
            try:
                close_old_connections()
                if time.monotonic() - last_beat >= self.beat_every:
                    beat()
                    last_beat = time.monotonic()
                moved = tick()
                while deliver_due(limit=20, urgent_only=True, status_callback=callback):
                    pass
                if moved:
                    continue  # there may be more due: go again at once
                upcoming = next_due()
                if upcoming is not None:
                    wait = min(wait, max((upcoming - timezone.now()).total_seconds(), 0.05))
            except Exception:  # a bad pass must not stop the clock; it is logged, and retried
                logger.exception("timed work failed")
            self.stopped.wait(wait)
        close_old_connections()

    def stop(self) -> None:
        self.stopped.set()
