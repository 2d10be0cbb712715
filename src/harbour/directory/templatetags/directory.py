from __future__ import annotations

from urllib.parse import quote_plus

from django import template

from harbour.directory.models import Address, Location

register = template.Library()


@register.simple_tag
def directions_url(location: Location, address: Address | None = None) -> str:
    """OpenStreetMap directions to a precise position, or a search for the street address when
    the position is only a postal-area centroid; empty for confidential or unknown places."""
    if location.confidential:
        return ""
    if location.latitude is not None and not location.coordinates_approximate:
        return (
            "https://www.openstreetmap.org/directions?to="
            f"{location.latitude:.5f}%2C{location.longitude:.5f}"
        )
    if address is not None:
        text = (
            f"{address.address_1}, {address.city}, {address.state_province} {address.postal_code}"
        )
        return f"https://www.openstreetmap.org/search?query={quote_plus(text)}"
    return ""
