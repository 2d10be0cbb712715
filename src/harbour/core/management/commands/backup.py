from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from harbour.core.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Back up the database while Harbour runs: SQLite's online backup, or pg_dump's custom "
        "format on PostgreSQL. Prints the file written."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "path",
            nargs="?",
            help="File to write (default: var/backups/harbour-<time>.sqlite3 or .dump).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings
        from django.db import connection

        if options["path"]:
            path = Path(options["path"])
        else:
            suffix = "sqlite3" if connection.vendor == "sqlite" else "dump"
            stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
            path = Path(settings.VAR_DIR) / "backups" / f"harbour-{stamp}.{suffix}"
        try:
            written = backup(path)
        except (BackupError, OSError) as exc:
            raise CommandError(f"backup failed: {exc}") from exc
        self.stdout.write(str(written))
