from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from harbour.directory import hsds


class Command(BaseCommand):
    help = (
        "Export the directory as an HSDS 3.0 tabular datapackage: datapackage.json and one CSV "
        "per table. Confidential locations are exported without address or position."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("directory", help="Folder to write (created if missing).")
        parser.add_argument(
            "--lang", choices=["en", "fr"], default="en", help="Language of the text (default: en)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = hsds.export_tabular(Path(options["directory"]), lang=options["lang"])
        total = sum(counts.values())
        self.stdout.write(f"wrote {total} rows in {len(counts)} tables to {options['directory']}")
