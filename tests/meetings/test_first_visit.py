"""A first visit: the next meetings whatever the hour, a radius that fits the place (wider in
the country, widened when too few are near, said on the page), schedules in words ("Every
day"), and time zones as people say them ("Pacific time"), never "America/Vancouver"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from harbour.core import geo
from harbour.core.roles import Role
from harbour.meetings import selectors
from harbour.meetings.forms import days_label, zone_label

pytestmark = pytest.mark.django_db

# Sunday 29 November 2026, 03:00 in Kingston (Toronto time)
NIGHT = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
KINGSTON = {"city": "Kingston", "state": "ON", "country": "CA", "timezone": "America/Toronto"}


def near_k7l(km_north: float) -> dict[str, float]:
    """A position ``km_north`` kilometres north of the K7L centroid."""
    place = geo.parse_place("K7L")
    return {"latitude": round(place.lat + km_north / 111.2, 5), "longitude": place.lng}


def slugs(result: selectors.Result) -> list[str]:
    return [row.meeting.slug for row in result.rows]


def test_at_night_with_no_filter_the_page_lists_the_next_meetings(client, org_a, add_meeting):
    add_meeting(org_a, slug="early", name="Early Bird", day=list(range(7)), time="07:00",
                address="1 Demo St", postal_code="K7L 1A1", **KINGSTON)  # fmt: skip
    add_meeting(org_a, slug="monday", name="Monday Night", day=1, time="19:00",
                address="2 Demo St", postal_code="K7L 1A1", **KINGSTON)  # fmt: skip
    with time_machine.travel(NIGHT, tick=False):
        page = client.get(reverse("meetings:search")).content.decode()
        assert "The next meetings" in page
        assert "No meeting matches" not in page
        assert "Today 7 a.m." in page  # the morning's meeting, four hours from now
        assert "Tomorrow 7 p.m." in page  # Monday night's
        assert page.index("Early Bird") < page.index("Monday Night")
        client.cookies["django_language"] = "fr"
        french = client.get(reverse("meetings:search")).content.decode()
    assert "Les prochaines réunions" in french
    assert "Aujourd’hui 7 h" in french and "Demain 19 h" in french


def test_in_town_the_radius_is_10_km_and_widens_when_too_few_are_near(client, org_a, add_meeting):
    for n in range(4):
        add_meeting(org_a, slug=f"near-{n}", name=f"In town {n}", day=0, time="19:00",
                    address=f"{n} Main St", **near_k7l(6), **KINGSTON)  # fmt: skip
    add_meeting(org_a, slug="far", name="Out of town", day=0, time="19:00",
                address="9 Rural Rd", **near_k7l(30), **KINGSTON)  # fmt: skip
    k7l = geo.parse_place("K7L 1A1")
    result = selectors.search(selectors.SearchQuery(place=k7l), now=NIGHT)
    assert result.radius_km == 10 and result.widened_from is None
    assert slugs(result) == [f"near-{n}" for n in range(4)]
    # the old hidden 2 km found none of these
    assert selectors.search(selectors.SearchQuery(place=k7l, radius_km=2), now=NIGHT).total == 0
    # chosen: kept as it is, never widened
    chosen = selectors.search(selectors.SearchQuery(place=k7l, radius_km=40), now=NIGHT)
    assert chosen.total == 5 and chosen.widened_from is None
    # with only one meeting in town, the search reaches 40 km and the page says so
    for n in range(1, 4):
        selectors.Meeting.objects.filter(slug=f"near-{n}").delete()
    with time_machine.travel(NIGHT, tick=False):
        page = client.get(reverse("meetings:search"), {"near": "K7L 1A1"}).content.decode()
    assert "2 meetings found" in page
    assert "Only 1 meeting within 10 km, so these are the meetings within 40 km" in page
    assert 'href="#id_radius"' in page  # and how to change it


def test_in_the_country_the_radius_is_40_km(org_a, add_meeting):
    k0h = geo.parse_place("K0H")
    assert selectors.is_rural(k0h) and not selectors.is_rural(geo.parse_place("K7L"))
    lat, lng = k0h.lat + 30 / 111.2, k0h.lng
    add_meeting(org_a, slug="farm", name="Farm hall", day=0, time="19:00", address="1 Farm Rd",
                latitude=round(lat, 5), longitude=lng, **KINGSTON)  # fmt: skip
    result = selectors.search(selectors.SearchQuery(place=k0h), now=NIGHT)
    assert result.radius_km == 40 and slugs(result) == ["farm"]


def test_no_meeting_near_widens_to_the_nearest_and_says_none_were_within(
    client, org_a, add_meeting
):
    add_meeting(org_a, slug="far", name="Out of town", day=0, time="19:00",
                address="9 Rural Rd", **near_k7l(30), **KINGSTON)  # fmt: skip
    with time_machine.travel(NIGHT, tick=False):
        page = client.get(reverse("meetings:search"), {"near": "K7L"}).content.decode()
    assert "No meetings within 10 km, so these are the nearest within 40 km of K7L · " in page


def test_schedules_in_words_in_both_languages():
    with translation.override("en"):
        assert days_label(list(range(7))) == "Every day"
        assert days_label([1, 2, 3, 4, 5]) == "Monday to Friday"
        assert days_label([6, 0]) == "Saturday and Sunday"
        assert days_label([0, 1, 3]) == "Monday, Wednesday, Sunday"
    with translation.override("fr"):
        assert days_label(list(range(7))) == "Tous les jours"
        assert days_label([1, 2, 3, 4, 5]) == "Du lundi au vendredi"


def test_time_zones_in_words_and_only_when_not_the_sites(client, org_a, add_meeting):
    with translation.override("en"):
        assert zone_label("America/Vancouver") == "Pacific time"
        assert zone_label("Europe/Paris") == "Paris time"
    with translation.override("fr"):
        assert zone_label("America/Vancouver") == "heure du Pacifique"
    add_meeting(org_a, slug="daily", name="Daily Reflection", day=list(range(7)),
                time="19:00", address="1 Demo St", postal_code="K7L 1A1", **KINGSTON)  # fmt: skip
    add_meeting(org_a, slug="van", name="Vancouver weekdays", day=[1, 2, 3, 4, 5],
                time="12:00", address="9 West St", city="Vancouver", postal_code="V6A 1A1",
                timezone="America/Vancouver")  # fmt: skip
    with time_machine.travel(NIGHT, tick=False):
        daily = client.get(reverse("meetings:detail", args=["daily"])).content.decode()
        van = client.get(reverse("meetings:detail", args=["van"])).content.decode()
        listing = client.get(reverse("meetings:search")).content.decode()
    assert "Every day, 7 p.m." in daily and "Eastern time" not in daily
    assert "Monday to Friday, 12 p.m." in van and "(Pacific time)" in van
    assert "(Pacific time)" in listing
    for page in (daily, van, listing):
        assert "America/" not in page.split("<main")[1].split("</main>")[0]


def test_staff_choose_a_zone_by_its_name(staff_client, org_a, make_member):
    client = staff_client(make_member(org_a, Role.COORDINATOR))
    page = client.get(f"/org/{org_a.slug}/meetings/new/").content.decode()
    assert '<option value="America/Moncton">Atlantic time (Moncton)</option>' in page
    assert '<option value="America/Toronto" selected>Eastern time (Toronto)</option>' in page


def test_distances_from_a_postal_area_are_as_rough_as_the_area(client, org_a, add_meeting):
    """From K7L's centre a meeting 6.3 km away is "about 5 km" and one 1.5 km away "in or near
    K7L": never "6.3 km" or "1.5 km", which the centre of an area cannot tell."""
    add_meeting(org_a, slug="six", name="Six North", day=0, time="19:00",
                address="6 Main St", **near_k7l(6.3), **KINGSTON)  # fmt: skip
    add_meeting(org_a, slug="close", name="Close By", day=0, time="19:00",
                address="1 Main St", **near_k7l(1.5), **KINGSTON)  # fmt: skip
    with time_machine.travel(NIGHT, tick=False):
        page = client.get(reverse("meetings:search"), {"near": "K7L 1A1"}).content.decode()
        assert "about 5\u00a0km" in page
        assert "in or near K7L" in page
        assert "6.3\u00a0km" not in page and "1.5\u00a0km" not in page
        # from a position, the distance is real
        here = near_k7l(0)
        exact = client.get(
            reverse("meetings:search"), {"near": f"{here['latitude']},{here['longitude']}"}
        ).content.decode()
    assert "6.3\u00a0km" in exact and "1.5\u00a0km" in exact
