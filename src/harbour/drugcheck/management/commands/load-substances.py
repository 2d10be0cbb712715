from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from harbour.drugcheck import services


class Command(BaseCommand):
    help = (
        "Load or refresh the substance vocabulary (UNC's chemical dictionary with Harbour's "
        "classes, French names and aliases). Safe to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = services.substances_load()
        self.stdout.write(f"{count} substances in the vocabulary")
