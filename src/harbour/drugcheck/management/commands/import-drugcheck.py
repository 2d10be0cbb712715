from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from harbour.accounts.models import Organization
from harbour.core import imports
from harbour.drugcheck import importers


class Command(BaseCommand):
    help = (
        "Import drug-checking results for an organization: --format unc (UNC's analysis dataset "
        "and lab detail files, given together) or --format drugcheckingbc (Drug Checking BC's "
        "public table; a strip cell may hold several strips, as in Positive;Negative, kept as a "
        "mixed result). Every row is checked first; errors name the file, line and column, and "
        "nothing is written if any row fails (unless --skip-invalid). Samples already imported "
        "are left as they are: importing the same file again writes nothing and says 0 new. The "
        "summary ends with counts per table."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("files", nargs="+", help="CSV file(s).")
        parser.add_argument("--format", required=True, choices=importers.FORMATS)
        parser.add_argument(
            "--org", required=True, help="Slug of the organization the samples belong to."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and count; write nothing."
        )
        imports.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"no organization with slug {options['org']!r}")
        try:
            result = importers.import_files(
                fmt=options["format"],
                paths=[Path(p) for p in options["files"]],
                organization=organization,
                dry_run=options["dry_run"],
                skip_invalid=options["skip_invalid"],
            )
        except importers.ImportFailed as exc:
            if options["report"]:
                imports.write_report(options["report"], exc.result.problems)
            for line in exc.result.errors[:200]:
                self.stderr.write(line)
            raise CommandError(
                f"import failed: {len(exc.result.errors)} problem(s); nothing was written"
            ) from exc
        if options["report"]:
            imports.write_report(options["report"], result.problems)
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        for line in result.errors[:200]:
            self.stderr.write(f"skipped: {line}")
        if result.skipped_rows:
            self.stdout.write(imports.skipped_line(result.skipped_rows, options["report"]))
        prefix = "dry run, nothing written: " if options["dry_run"] else ""
        self.stdout.write(prefix + result.summary())
