from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections


class Command(BaseCommand):
    help = (
        "Watch the check-in worker: when it falls behind (CHECKIN_LAG_ALERT_SECONDS) or stops, "
        "email and text the staff on duty directly, without the worker. `harbour serve` runs "
        "this in its own process."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="Look once and exit.")
        parser.add_argument(
            "--interval", type=float, default=2.0, help="Seconds between looks (default: 2)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from harbour.checkins.watchdog import check

        while True:
            close_old_connections()
            try:
                result = check()
            except Exception as exc:  # the database may be down: say so, and look again
                result = f"error: {exc}"
            if options["once"]:
                self.stdout.write(result)
                return
            if result != "ok":
                self.stdout.write(f"check-in watchdog: {result}")
            time.sleep(options["interval"])
