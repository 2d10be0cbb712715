from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from harbour.directory import addresses


class Command(BaseCommand):
    help = (
        "Load street addresses from a CSV file of Statistics Canada's Open Database of Addresses "
        "(ODA), so that a search for help can start from a street address or an intersection "
        "without any service on the network. Loads in batches; shows progress."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path, help="an ODA CSV file (one province, or part)")
        parser.add_argument(
            "--replace", action="store_true", help="remove every loaded address first"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        with path.open(encoding="utf-8-sig", newline="") as stream:
            result = addresses.load(stream, replace=options["replace"], progress_stream=self.stderr)
        self.stdout.write(
            f"loaded {result.loaded} addresses; skipped {result.skipped} rows "
            "without a position or a street"
        )
