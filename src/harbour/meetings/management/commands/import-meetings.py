from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from harbour.accounts.models import Organization
from harbour.core import imports
from harbour.meetings import services


class Command(BaseCommand):
    help = (
        "Import a Meeting Guide JSON feed (a URL or a file) as the meetings of an organization. "
        "Every item is checked first; errors name the item's index, its slug and the field, and "
        "nothing is written if any item fails (unless --skip-invalid: the items with problems "
        "are left out and their meetings kept as they are). A re-import writes only the "
        "meetings whose normalized fields changed (an unchanged feed writes nothing and says 0 "
        "new, 0 changed), and archives the organization's meetings missing from the feed. "
        "Unknown meeting-type codes are kept and reported. The summary ends with the counts."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("source", help="An http(s) URL or a path to a .json file.")
        parser.add_argument("--org", required=True, help="Slug of the organization listing them.")
        parser.add_argument(
            "--fellowship",
            help='Program of items without a "fellowship" field (aa, na, smart, dharma, '
            "alanon, msth, circle, peer).",
        )
        parser.add_argument(
            "--timezone", help="IANA time zone of items without one (default: TIME_ZONE)."
        )
        parser.add_argument(
            "--keep-missing",
            action="store_true",
            help="Do not archive this organization's meetings that the feed no longer lists.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; write nothing."
        )
        imports.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.filter(slug=options["org"], is_active=True).first()
        if org is None:
            raise CommandError(f"--org {options['org']!r}: no active organization has this slug")
        source = options["source"]
        try:
            items = services.parse_feed(services.read_source(source), source=source)
            report = services.import_meetings(
                organization=org,
                items=items,
                fellowship=options["fellowship"],
                default_timezone=options["timezone"],
                source=source,
                dry_run=options["dry_run"],
                remove_missing=not options["keep_missing"],
                skip_invalid=options["skip_invalid"],
            )
        except services.ImportFailed as exc:
            if options["report"]:
                imports.write_report(options["report"], exc.report.problems)
            for line in exc.report.errors[:200]:
                self.stderr.write(line)
            if len(exc.report.errors) > 200:
                self.stderr.write(f"... and {len(exc.report.errors) - 200} more")
            errors = exc.report.errors
            reason = errors[0] if len(errors) == 1 else f"{len(errors)} problems (above)"
            raise CommandError(f"import failed: {reason}; nothing was written") from exc
        if options["report"]:
            imports.write_report(options["report"], report.problems)
        for line in report.warning_lines():
            self.stderr.write(f"warning: {line}")
        for line in report.errors[:200]:
            self.stderr.write(f"skipped: {line}")
        if report.skipped:
            self.stdout.write(imports.skipped_line(report.skipped, options["report"]))
        prefix = "dry run, nothing written: " if options["dry_run"] else ""
        self.stdout.write(prefix + report.summary())
