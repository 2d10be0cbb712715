from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from harbour.core.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore the database from a file written by `harbour backup`. Everything in the "
        "database now is replaced. Stop the web server and worker first."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", help="Backup file to restore.")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        if not options["yes"]:
            answer = input(f"Replace the whole database with {path}? Type 'yes': ")
            if answer.strip().lower() != "yes":
                raise CommandError("restore cancelled")
        try:
            restore(path)
        except (BackupError, OSError) as exc:
            raise CommandError(f"restore failed: {exc}") from exc
        self.stdout.write(f"restored {path}")
