from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from harbour.core.logs import ACCESS_LOG_FORMAT

# gunicorn's longest request line (method, path, query): its maximum. Longer lines get
# gunicorn's own bare page, so Harbour's LongQueryMiddleware answers long queries first (with a
# page in the person's language) below this length.
LIMIT_REQUEST_LINE = 8190


def gunicorn_command(*, bind: str, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "harbour.wsgi:application",
        "--bind", bind,
        "--workers", str(workers),
        "--threads", "4",
        "--timeout", "60",
        "--limit-request-line", str(LIMIT_REQUEST_LINE),
        "--access-logfile", "-",
        # no client address, query string, token, Referer or User-Agent (core/logs.py)
        "--logger-class", "harbour.core.logs.AccessLogger",
        "--access-logformat", ACCESS_LOG_FORMAT,
    ]  # fmt: skip


class Command(BaseCommand):
    help = (
        "Serve Harbour with gunicorn (static files through WhiteNoise) and the check-in "
        "watchdog. With --with-worker, also run the task worker; Ctrl-C stops them all."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--bind",
            default=os.environ.get("HARBOUR_BIND", "127.0.0.1:8000"),
            help="Address to listen on (default: %(default)s, or HARBOUR_BIND).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("WEB_CONCURRENCY", "2")),
            help="gunicorn worker processes (default: %(default)s, or WEB_CONCURRENCY).",
        )
        parser.add_argument("--with-worker", action="store_true", help="Also run `harbour worker`.")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            call_command("collectstatic", interactive=False, verbosity=0)
        gunicorn = gunicorn_command(bind=options["bind"], workers=options["workers"])
        procs = [subprocess.Popen(gunicorn)]  # noqa: S603
        if options["with_worker"]:
            harbour = [sys.executable, "-m", "harbour.cli", "worker", "--no-startup-delay"]
            procs.append(subprocess.Popen(harbour))  # noqa: S603
        # the check-in watchdog runs beside the web server, not in the worker it watches
        watchdog = [sys.executable, "-m", "harbour.cli", "checkin-watchdog"]
        procs.append(subprocess.Popen(watchdog))  # noqa: S603
        self.stdout.write(f"Harbour is serving on http://{options['bind']}/ (Ctrl-C stops)")

        def stop(signum: int, frame: Any) -> None:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while all(proc.poll() is None for proc in procs):
                time.sleep(0.5)
        finally:
            stop(signal.SIGTERM, None)
            for proc in procs:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
        codes = [proc.returncode for proc in procs]
        if any(code not in (0, -signal.SIGTERM, -signal.SIGINT) for code in codes):
            raise SystemExit(1)
