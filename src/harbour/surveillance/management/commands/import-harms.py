from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from harbour.surveillance import services


class Command(BaseCommand):
    help = (
        "Load published harms for context: --format phac (default), PHAC's opioid- and "
        "stimulant-related harms (Health Infobase CSV, SubstanceHarmsData.csv: overall numbers "
        "and crude rates by region and quarter, suppressed values kept as missing; without FILE, "
        "the copy shipped with Harbour), shown on the public trends page; or --format cdc, the "
        "CDC's provisional drug overdose death counts (VSRR: 12-month-ending counts by state, "
        "month and drug). Replaces what was loaded from the same publisher."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "file", nargs="?", help="The CSV file (default: PHAC's copy shipped with Harbour)."
        )
        parser.add_argument("--format", choices=["phac", "cdc"], default="phac")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["file"]:
            path = Path(options["file"])
            try:
                text = path.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"cannot read {path}: {exc}") from exc
            name = path.name
        elif options["format"] == "phac":
            text, name = services.shipped_harms(), "SubstanceHarmsData.csv"
        else:
            raise CommandError("--format cdc needs the CSV file")
        load = (
            services.published_import_cdc
            if options["format"] == "cdc"
            else services.published_import
        )
        try:
            count = load(text=text, filename=name)
        except services.ImportError_ as exc:
            for line in exc.errors:
                self.stderr.write(line)
            raise CommandError("nothing was loaded") from exc
        self.stdout.write(f"{count} published figures loaded")
