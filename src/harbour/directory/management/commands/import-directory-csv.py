from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from harbour.accounts.models import Organization
from harbour.core.imports import write_report
from harbour.directory import csvimport

FIELDS = "; ".join(f"{key}: {what}" for key, what in csvimport.MAP_FIELDS.items())


class Command(BaseCommand):
    help = (
        "Import a service directory's own CSV export (a 211 line, a provincial directory) into "
        "the HSDS 3.0 directory, naming which column holds what with --map (e.g. --map "
        "'key=Record ID,organization=Agency Name,name=Program Name,phone=Phone,hours=Hours'); "
        "--show-columns lists the file's columns with a sample row. Opening hours in free text "
        "(Mon-Fri 9am-5pm, lundi au vendredi de 9 h à 17 h, 24/7) become weekly schedules; a text "
        "that is not understood is kept as written and the hours stay unknown. Every row is "
        "checked against HSDS 3.0 first; by default one problem means nothing is written, "
        "--skip-invalid writes the valid rows. Listings are matched by --org and the key "
        "column, so importing the same file again changes nothing. The summary ends with "
        f"counts per table. Fields: {FIELDS}."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="CSV file with a header row (UTF-8; , ; or tab).")
        parser.add_argument(
            "--show-columns", action="store_true",
            help="Print the file's columns and a sample row, then stop.",
        )  # fmt: skip
        parser.add_argument(
            "--org", help="Slug of the Harbour organization whose staff maintain the listings."
        )
        parser.add_argument("--map", help="field=column pairs, comma-separated.")
        parser.add_argument(
            "--lang", choices=["en", "fr"], default="en", help="Language of the text (default: en)."
        )
        parser.add_argument(
            "--skip-invalid", action="store_true",
            help="Write the valid rows and skip the others (default: write nothing if one fails).",
        )  # fmt: skip
        parser.add_argument(
            "--report", metavar="FILE",
            help="Write every problem (file, line, column, value, reason) to this CSV file.",
        )  # fmt: skip
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and count; write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            if options["show_columns"]:
                self.stdout.write(csvimport.show_columns(path))
                return
            if not options["org"] or not options["map"]:
                raise CommandError("--org and --map are required (or --show-columns)")
            organization = Organization.objects.filter(slug=options["org"]).first()
            if organization is None:
                raise CommandError(f"no organization with slug {options['org']!r}")
            try:
                mapping = csvimport.parse_mapping(options["map"], csvimport.header(path))
            except csvimport.MappingError as exc:
                for line in exc.errors:
                    self.stderr.write(line)
                raise CommandError(
                    "the mapping does not fit the file; nothing was written"
                ) from exc
            try:
                result = csvimport.import_csv(
                    path, mapping=mapping, owner=organization, lang=options["lang"],
                    skip_invalid=options["skip_invalid"], dry_run=options["dry_run"],
                    show_progress=True, progress_stream=sys.stderr,
                )  # fmt: skip
            except csvimport.ImportFailed as exc:
                self._report(options["report"], exc.problems)
                for problem in exc.problems[:200]:
                    self.stderr.write(str(problem))
                if len(exc.problems) > 200:
                    self.stderr.write(f"... and {len(exc.problems) - 200} more")
                raise CommandError(
                    f"import failed: {len(exc.problems)} problem(s) in {exc.rows} rows; "
                    "nothing was written (--skip-invalid writes the valid rows)"
                ) from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path}: not UTF-8 text ({exc.reason}); save it as UTF-8") from exc
        self._report(options["report"], result.problems)
        for problem in result.problems[:20]:
            self.stderr.write(f"skipped: {problem}")
        self.stdout.write(result.summary())

    def _report(self, path: str | None, problems: list[Any]) -> None:
        if path:
            n = write_report(path, problems)
            self.stderr.write(f"{n} problem(s) written to {path}")
