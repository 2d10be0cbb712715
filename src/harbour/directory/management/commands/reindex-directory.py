from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from harbour.directory import services
from harbour.directory.models import Service, ServiceAtLocation


class Command(BaseCommand):
    help = (
        "Rebuild the directory's opening-hours rows, search documents and search entries for every "
        "service "
        "(after an upgrade that changes how text is indexed, or a bulk edit in the database)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rows = services.opening_rows_rebuild(
            service_at_locations=ServiceAtLocation.objects.select_related("location")
        )
        indexed = services.service_reindex(
            services=Service.objects.select_related("organization").iterator(chunk_size=500)
        )
        self.stdout.write(f"reindexed {indexed} services; {rows} opening-hours rows")
