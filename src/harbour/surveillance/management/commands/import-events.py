from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from harbour.accounts.models import Organization
from harbour.core import imports
from harbour.surveillance import services
from harbour.surveillance.models import Source

FIELDS = "; ".join(f"{key}: {what}" for key, what in services.MAP_FIELDS.items())


class Command(BaseCommand):
    help = (
        "Import overdose events for an organization from a CSV file, naming which column holds "
        "what with --map (e.g. --map 'date=Incident Date,fsa=Postal Code,fatal=Outcome'). "
        "Every row is checked first; errors give the line and column, and nothing is written if "
        "any row fails (unless --skip-invalid). Rows already imported are left as they are: "
        "importing the same file again writes nothing and says 0 new. The summary ends with the "
        "counts. Exact positions are never kept: "
        "only the postal area and a map cell. A date without a time counts at noon; times "
        f"without a zone are local (the TIME_ZONE setting). Fields: {FIELDS}."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="CSV file with a header row.")
        parser.add_argument("--org", required=True, help="Slug of the organization.")
        parser.add_argument("--map", required=True, help="field=column pairs, comma-separated.")
        parser.add_argument(
            "--source", default=Source.OTHER, choices=Source.values,
            help="Source of every row (unless a source column is mapped). Default: other.",
        )  # fmt: skip
        parser.add_argument("--dry-run", action="store_true", help="Check and count only.")
        imports.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"no organization with slug {options['org']!r}")
        path = Path(options["file"])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        try:
            mapping = services.parse_mapping(options["map"])
            result = services.events_import(
                organization=organization, text=text, mapping=mapping,
                source=options["source"], filename=path.name, dry_run=options["dry_run"],
                skip_invalid=options["skip_invalid"],
            )  # fmt: skip
        except services.ImportError_ as exc:
            if options["report"]:
                imports.write_report(options["report"], exc.problems)
            for line in exc.errors[:200]:
                self.stderr.write(line)
            raise CommandError(
                f"import failed: {len(exc.errors)} problem(s); nothing was written"
            ) from exc
        if options["report"]:
            imports.write_report(options["report"], result.problems)
        for line in result.errors[:200]:
            self.stderr.write(f"skipped: {line}")
        if result.skipped:
            self.stdout.write(imports.skipped_line(result.skipped, options["report"]))
        prefix = "dry run, nothing written: " if options["dry_run"] else ""
        self.stdout.write(prefix + result.summary())
