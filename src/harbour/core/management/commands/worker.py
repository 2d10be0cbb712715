from __future__ import annotations

from typing import Any

from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from harbour.core.clock import Clock
from harbour.core.schedule import Scheduler


class Command(DbWorkerCommand):
    help = (
        "Run Harbour's task worker: runs queued tasks (emails, messages), advances timed work "
        "(check-in deadlines) the moment it is due, and puts periodic jobs such as the heartbeat "
        "on the queue. Ctrl-C stops it after the current task."
    )

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--no-scheduler",
            action="store_true",
            help="Do not enqueue periodic jobs from this worker.",
        )
        parser.add_argument(
            "--no-clock",
            action="store_true",
            help="Do not advance timed work (check-in deadlines) from this worker.",
        )
        parser.set_defaults(reload=False)

    def handle(self, *args: Any, **options: Any) -> None:
        threads: list[Scheduler | Clock] = []
        no_clock = options.pop("no_clock")
        if not options.pop("no_scheduler") and not options.get("batch"):
            threads.append(Scheduler())
        if not no_clock and not options.get("batch"):
            threads.append(Clock())
        for thread in threads:
            thread.start()
        try:
            super().handle(*args, **options)
        finally:
            for thread in threads:
                thread.stop()
