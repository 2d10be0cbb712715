"""Directory fixtures: Harbour's taxonomy and a small, hand-checked set of services."""

from __future__ import annotations

from datetime import time

import pytest

from harbour.directory import services as ds
from harbour.directory.models import (
    Address,
    DirectoryOrganization,
    Location,
    Phone,
    Schedule,
    Service,
    ServiceAtLocation,
)

KINGSTON = (44.2312, -76.4860)


@pytest.fixture
def taxonomy(db):  # type: ignore[no-untyped-def]
    return ds.taxonomy_load_harbour()


@pytest.fixture
def make_service(taxonomy):  # type: ignore[no-untyped-def]
    provider = DirectoryOrganization.objects.create(
        name_en="Test provider", name_fr="Fournisseur test"
    )

    def make(
        name_en: str,
        name_fr: str = "",
        *,
        lat: float = KINGSTON[0],
        lng: float = KINGSTON[1],
        tz: str = "America/Toronto",
        codes: tuple[str, ...] = (),
        hours: tuple[tuple[str, str, str], ...] = (("MO,TU,WE,TH,FR,SA,SU", "09:00", "17:00"),),
        confidential: bool = False,
        description_en: str = "",
        status: str = "active",
    ) -> ServiceAtLocation:
        service = Service.objects.create(
            organization=provider,
            name_en=name_en,
            name_fr=name_fr or name_en,
            description_en=description_en,
            status=status,
        )
        location = Location.objects.create(
            organization=provider,
            latitude=lat,
            longitude=lng,
            timezone=tz,
            confidential=confidential,
        )
        Address.objects.create(
            location=location,
            address_1="1 Main St",
            city="Kingston",
            state_province="ON",
            postal_code="K7L 1A1",
        )
        Phone.objects.create(service=service, number="613-555-0100")
        for byday, opens, closes in hours:
            h1, m1 = map(int, opens.split(":"))
            h2, m2 = map(int, closes.split(":"))
            Schedule.objects.create(
                location=location, byday=byday, opens_at=time(h1, m1), closes_at=time(h2, m2)
            )
        sal = ServiceAtLocation.objects.create(service=service, location=location)
        if codes:
            ds.service_set_terms(service=service, codes=codes)
        ds.opening_rows_rebuild(service_at_locations=[sal])
        ds.service_reindex(services=[service])
        return sal

    return make
