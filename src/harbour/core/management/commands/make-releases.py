from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from harbour.core.releases import make_due


class Command(BaseCommand):
    help = (
        "Make now the releases of public and shared figures whose periods have closed (the "
        "worker does this every hour). Prints each release made."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        made = make_due()
        for release in made:
            self.stdout.write(f"{release.kind}: {release.period_start} to {release.period_end}")
        if not made:
            self.stdout.write("nothing due: every release is up to date")
