from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from harbour.core import csvsafe
from harbour.directory import duplicates
from harbour.directory.models import Service


class Command(BaseCommand):
    help = (
        "List likely duplicate listings: the same provider and service name with the same "
        "address or phone number (fuzzy: case, accents, punctuation, St/Street/rue, unit "
        "numbers). Staff merge them at /org/<slug>/directory/duplicates/."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--csv", metavar="FILE", help="Also write the groups to a CSV file.")

    def handle(self, *args: Any, **options: Any) -> None:
        found = duplicates.groups()
        services = {
            s.pk: s
            for s in Service.objects.filter(
                pk__in=[i for g in found for i in g.ids]
            ).select_related("organization__owner")
        }
        rows = []
        for number, group in enumerate(found, start=1):
            reasons = "; ".join(group.reasons)
            for pk in group.ids:
                s = services[pk]
                owner = s.organization.owner.slug if s.organization.owner else ""
                rows.append([number, reasons, str(pk), s.name, s.organization.name, owner])
        for number, group in enumerate(found, start=1):
            self.stdout.write(f"group {number} ({'; '.join(group.reasons)}):")
            for row in rows:
                if row[0] == number:
                    owner = f" [maintained by {row[5]}]" if row[5] else ""
                    self.stdout.write(f"  {row[2]}  {row[3]} · {row[4]}{owner}")
        self.stdout.write(
            f"{len(found)} group(s) of likely duplicates, "
            f"{duplicates.total(found)} listing(s) a merge would remove"
        )
        if options["csv"]:
            with Path(options["csv"]).open("w", newline="", encoding="utf-8") as out:
                writer = csvsafe.writer(out)
                writer.writerow(["group", "reasons", "service_id", "service", "provider", "owner"])
                writer.writerows(rows)
