from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from harbour.surveillance import services


class Command(BaseCommand):
    help = (
        "Load PHAC's opioid- and stimulant-related harms (Health Infobase CSV, "
        "SubstanceHarmsData.csv) for the public trends page: overall numbers and crude rates "
        "by region and quarter; suppressed values are kept as missing. Replaces what was loaded."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "file", nargs="?", help="The CSV file (default: the copy shipped with Harbour)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["file"]:
            path = Path(options["file"])
            try:
                text = path.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"cannot read {path}: {exc}") from exc
            name = path.name
        else:
            text, name = services.shipped_harms(), "SubstanceHarmsData.csv"
        try:
            count = services.published_import(text=text, filename=name)
        except services.ImportError_ as exc:
            for line in exc.errors:
                self.stderr.write(line)
            raise CommandError("nothing was loaded") from exc
        self.stdout.write(f"{count} published figures loaded")
