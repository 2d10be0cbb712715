from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from harbour.accounts.models import Organization
from harbour.surveillance import services


class Command(BaseCommand):
    help = (
        "Run spike detection now (the worker runs it every hour): for one organization with "
        "--org, else for every organization whose settings are saved and enabled. New signals "
        "are saved and coordinators emailed; a rerun finds nothing new."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--org", help="Slug of one organization.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["org"]:
            organization = Organization.objects.filter(slug=options["org"]).first()
            if organization is None:
                raise CommandError(f"no organization with slug {options['org']!r}")
            found = len(services.detect(organization=organization))
        else:
            found = services.detect_all()
        self.stdout.write(f"{found} new signal(s)")
