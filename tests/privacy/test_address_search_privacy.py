"""Attack: with street addresses loaded, search from the addresses around a confidential
shelter and read how far it is. A precise origin (an address, an intersection) gives real
distances to public places only: the shelter still has none, and answers the same from any
address in its postal area. The address typed is not logged."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from harbour.directory.models import AddressPoint, Service

from .test_confidential_places import SHELTER, shelter  # noqa: F401 -- the fixture

# Made-up address points: one next to the shelter, one across its postal area (H2X).
POINTS = [
    ("10", "secrete", "rue", SHELTER[0] + 0.0002, SHELTER[1]),
    ("200", "publique", "rue", 45.5098, -73.5700),
    ("90", "secrete", "rue", 45.5100, -73.5690),
]


@pytest.fixture
def addresses(db: None) -> None:
    for number, street, kind, lat, lng in POINTS:
        AddressPoint.objects.create(
            street=street, street_type=kind, number=int(number), number_text=number,
            city="montreal", city_name="Montréal", latitude=lat, longitude=lng,
        )  # fmt: skip


def _shelter_line(client: Any, near: str) -> str:
    body = client.get("/find/", {"q": "shelter", "near": near, "radius": "5"}).content.decode()
    assert "near " in body, body[:2000]  # the search started from the address
    found = re.search(
        r'<h3><a href="[^"]+">Night shelter</a></h3>\s*<p class="muted">(.*?)</p>', body, re.S
    )
    assert found is not None
    return found.group(1).strip()


def test_an_address_next_to_the_shelter_tells_nothing_more(
    client: Any,
    shelter: Service,  # noqa: F811
    addresses: None,
    caplog: Any,
) -> None:
    with caplog.at_level(logging.DEBUG):
        lines = {
            _shelter_line(client, "10 Rue Secrète"),
            _shelter_line(client, "200 rue Publique, Montréal"),
            _shelter_line(client, "Secrète & Publique"),
        }
    # the organization's name alone: no distance from an address next door or across the area
    assert lines == {"Night shelters"}
    assert "Secrète" not in caplog.text and "Publique" not in caplog.text
    data = client.get(
        "/api/v1/directory/search", {"lat": SHELTER[0] + 0.0002, "lng": SHELTER[1], "q": "shelter"}
    ).json()
    hit = next(i for i in data["items"] if i["name"] == "Night shelter")
    assert hit["distance_km"] is None and hit["distance_approximate"] is False
