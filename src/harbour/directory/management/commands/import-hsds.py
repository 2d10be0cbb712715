from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from harbour.core import imports
from harbour.directory import duplicates, hsds


class Command(BaseCommand):
    help = (
        "Import HSDS 3.0 data: a tabular datapackage (a folder of CSV files or a zip) or HSDS JSON "
        "(a service, a list, or an API page; nested objects included); also the older HSDS 1.x/2.x "
        "CSV layout (physical_addresses.csv, regular_schedules.csv, ...), whose ids are scoped by "
        "their table. Everything is checked first; errors name the file, line and column, and "
        "nothing is written if any row fails (unless --skip-invalid). Records are matched by id, "
        "so importing the same data again writes nothing and says 0 new, 0 changed. The summary "
        "ends with counts per table."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "path", help="Folder of HSDS CSV files, a zip of them, or a .json file."
        )
        parser.add_argument(
            "--lang", choices=["en", "fr"], default="en", help="Language of the text (default: en)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; write nothing."
        )
        imports.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        if not path.exists():
            raise CommandError(f"{path}: no such file or folder")
        try:
            report = hsds.import_tabular(
                path,
                lang=options["lang"],
                dry_run=options["dry_run"],
                skip_invalid=options["skip_invalid"],
            )
        except hsds.ImportFailed as exc:
            if options["report"]:
                imports.write_report(options["report"], exc.report.problems)
            for line in exc.report.errors[:200]:
                self.stderr.write(line)
            raise CommandError(
                f"import failed: {len(exc.report.errors)} problem(s); nothing was written"
            ) from exc
        except ValueError as exc:
            if options["report"]:
                imports.write_report(
                    options["report"], [imports.Problem(path.name, 0, "", "", str(exc))]
                )
            raise CommandError(str(exc)) from exc
        if options["report"]:
            imports.write_report(options["report"], report.problems)
        for warning in report.warnings:
            self.stderr.write(f"warning: {warning}")
        for line in report.errors[:200]:
            self.stderr.write(f"skipped: {line}")
        if report.rows_skipped:
            self.stdout.write(imports.skipped_line(report.rows_skipped, options["report"]))
        prefix = "dry run, nothing written: " if options["dry_run"] else ""
        self.stdout.write(prefix + report.summary())
        if not options["dry_run"]:
            found = duplicates.groups()
            if found:
                self.stderr.write(
                    f"warning: {duplicates.total(found)} listing(s) look like duplicates of "
                    f"others ({len(found)} group(s)): list them with `harbour find-duplicates`; "
                    "staff merge them at /org/<slug>/directory/duplicates/"
                )
