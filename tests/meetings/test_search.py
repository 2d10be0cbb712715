"""Finding a meeting: starting within the hour in each meeting's own time zone, near a postal
code, by language, day, type, program and online; the page, its calendar and printable list."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from harbour.core import geo
from harbour.meetings import selectors

pytestmark = pytest.mark.django_db

# Saturday 28 November 2026, 18:30 in Toronto and Montréal, 15:30 in Vancouver
NOW = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)
MTL = {"city": "Montréal", "state": "QC", "country": "CA", "timezone": "America/Toronto"}


@pytest.fixture
def meetings(org_a, add_meeting):  # type: ignore[no-untyped-def]
    add = add_meeting
    add(
        org_a,
        slug="mtl-fr",
        name="Groupe du samedi",
        day=6,
        time="19:00",
        types=["O", "FR"],
        address="200 rue Exemple",
        postal_code="H2X 1Y4",
        **MTL,
    )
    add(
        org_a,
        slug="mtl-en",
        name="Saturday English",
        day=6,
        time="19:15",
        types=["EN"],
        address="45 avenue Sample",
        postal_code="H2J 2K2",
        latitude=45.5265,
        longitude=-73.583,
        **MTL,
    )
    add(
        org_a,
        slug="mtl-fr-later",
        name="Plus tard",
        day=6,
        time="21:00",
        types=["FR"],
        address="200 rue Exemple",
        postal_code="H2X 1Y4",
        **MTL,
    )
    add(
        org_a,
        slug="kingston-fr",
        name="Kingston en français",
        day=6,
        time="19:00",
        types=["FR"],
        address="1 Demo St",
        city="Kingston",
        postal_code="K7L 1A1",
        timezone="America/Toronto",
    )
    add(
        org_a,
        slug="online-fr",
        name="En ligne",
        day=6,
        time="19:00",
        types=["FR"],
        formatted_address="Montréal, QC, Canada",
        conference_url="https://meet.example/fr",
        timezone="America/Toronto",
    )
    add(
        org_a,
        slug="vancouver",
        name="Vancouver afternoon",
        day=6,
        time="16:00",
        types=["EN"],
        address="9 West St",
        city="Vancouver",
        postal_code="V6A 1A1",
        timezone="America/Vancouver",
    )
    add(org_a, slug="sunday-early", name="After midnight", day=0, time="00:20", types=["EN"],
        address="1 Demo St", city="Kingston", postal_code="K7L 1A1",
        timezone="America/Toronto")  # fmt: skip


def slugs(result: selectors.Result) -> list[str]:
    return [row.meeting.slug for row in result.rows]


def test_a_french_meeting_starting_within_the_hour_near_a_postal_code(meetings):
    # given a person in Montréal (H2X) at 18:30 on a Saturday
    query = selectors.SearchQuery(place=geo.parse_place("H2X"), soon=True, language="FR")
    # when they look for French meetings starting within the hour nearby
    result = selectors.search(query, now=NOW)
    # then only the one that fits all of it is found, with when and how far
    assert slugs(result) == ["mtl-fr"]
    (row,) = result.rows
    assert row.starts_at == datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
    assert row.distance_km is not None and row.distance_km < 2
    assert row.meeting.geo_approximate  # placed by its postal area


def test_starting_soon_is_computed_in_each_meetings_zone_soonest_first(meetings):
    result = selectors.search(selectors.SearchQuery(soon=True), now=NOW)
    # Vancouver's 16:00 is 30 minutes away too (same start: by name); Sunday 00:20 and 21:00
    # are not within the hour
    assert slugs(result) == ["online-fr", "mtl-fr", "kingston-fr", "vancouver", "mtl-en"]
    late = datetime(2026, 11, 29, 4, 40, tzinfo=UTC)  # 23:40 Saturday in Toronto
    assert slugs(selectors.search(selectors.SearchQuery(soon=True), now=late)) == ["sunday-early"]


def test_a_place_limits_meetings_people_go_to_and_online_ones_come_from_anywhere(meetings):
    near = geo.parse_place("H2X")
    in_town = selectors.search(selectors.SearchQuery(place=near, soon=True), now=NOW)
    assert slugs(in_town) == ["mtl-fr", "mtl-en"]
    online = selectors.search(
        selectors.SearchQuery(place=near, soon=True, attendance="online"), now=NOW
    )
    assert slugs(online) == ["online-fr"]
    kingston = selectors.search(
        selectors.SearchQuery(place=geo.parse_place("K7L 1A1"), radius_km=5), now=NOW
    )
    assert slugs(kingston) == ["kingston-fr", "sunday-early"]


def test_day_type_program_and_words(meetings, org_a, add_meeting):
    add_meeting(org_a, slug="na-sunday", name="Clean Sunday", fellowship="na", day=0,
                time="10:00", types=["NA-BT"], address="1 Demo St", city="Kingston",
                postal_code="K7L 1A1")  # fmt: skip
    sunday = selectors.search(selectors.SearchQuery(day=0), now=NOW)
    assert slugs(sunday) == ["sunday-early", "na-sunday"]
    assert slugs(selectors.search(selectors.SearchQuery(fellowship="na"), now=NOW)) == ["na-sunday"]
    assert slugs(selectors.search(selectors.SearchQuery(type="O"), now=NOW)) == ["mtl-fr"]
    found = selectors.search(selectors.SearchQuery(q="kingston français"), now=NOW)
    assert slugs(found) == ["kingston-fr"]
    evening = selectors.search(selectors.SearchQuery(day=6, after_minute=20 * 60), now=NOW)
    assert slugs(evening) == ["mtl-fr-later"]


def test_the_page_lists_soon_meetings_and_keeps_going_with_a_bad_postal_code(client, meetings):
    with time_machine.travel(NOW, tick=False):
        landing = client.get(reverse("meetings:search"))
        assert landing.status_code == 200
        page = landing.content.decode()
        assert "Starting in the next hour" in page and "Groupe du samedi" in page
        assert "in 30 min" in page
        found = client.get(reverse("meetings:search"), {"near": "H2X", "soon": "on",
                                                       "language": "FR"})  # fmt: skip
        text = found.content.decode()
        assert "1 meeting found" in text and "Groupe du samedi" in text
        assert "Kingston en français" not in text
        bad = client.get(reverse("meetings:search"), {"near": "ZZZ", "soon": "on"})
        text = bad.content.decode()
        assert "We do not know the postal code “ZZZ”" in text
        assert "5 meetings found" in text


def test_the_search_calendar_and_printable_list(client, meetings):
    with time_machine.travel(NOW, tick=False):
        ics = client.get(reverse("meetings:calendar"), {"language": "FR"})
        assert ics["Content-Type"] == "text/calendar; charset=utf-8"
        assert ics["Content-Disposition"] == 'attachment; filename="meetings.ics"'
        text = ics.content.decode()
        assert text.count("BEGIN:VEVENT") == 4
        assert "DTSTART;TZID=America/Toronto:20261128T190000" in text
        printed = client.get(reverse("meetings:print"), {"day": "6"})
        page = printed.content.decode()
        assert printed.status_code == 200
        assert page.index("Vancouver afternoon") < page.index("Groupe du samedi")  # by time
        assert "Sunday" not in page.split("<main")[1].split("</main>")[0]


def test_french_page_labels_and_times(client, meetings):
    client.cookies["django_language"] = "fr"
    with time_machine.travel(NOW, tick=False):
        page = client.get(reverse("meetings:search"), {"soon": "on", "language": "FR"})
    text = page.content.decode()
    assert "Réunions de soutien par les pairs" in text
    assert "Aujourd’hui 19 h" in text
    assert "Ouvert(e)" in text  # the spec's French label
