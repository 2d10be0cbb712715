"""A first visit to meetings, at night, on a phone and a desktop, in English and French: the
next meetings whatever the hour, near "K7L 1A1" within a radius that fits the place (widened,
and said so, when few are near), and the radius changed by hand. Checked by axe-core."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from harbour.accounts.models import Organization
from harbour.core import geo
from harbour.meetings import services as meetings

from .conftest import AXE, BROWSER, DESKTOP, PHONE, check, new_context

pytestmark = BROWSER

# Sunday 29 November 2026, 03:00 in Kingston
NIGHT = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def axe_on_desktop(page: Page, name: str) -> None:
    """``check`` runs axe-core at phone size; the same page at desktop size too."""
    page.set_viewport_size(DESKTOP)
    results = AXE.run(page)
    bad = [
        v["id"] for v in results.response["violations"] if v["impact"] in {"serious", "critical"}
    ]
    page.set_viewport_size(PHONE)
    assert not bad, f"axe-core on {name} at desktop size: {bad}"


def _kingston(org: Organization) -> None:
    meetings.fellowships_load()  # browser tests flush the database, data migrations included
    k7l = geo.parse_place("K7L")
    at = {"city": "Kingston", "state": "ON", "country": "CA", "timezone": "America/Toronto"}

    def north(km: float) -> dict[str, float]:
        return {"latitude": round(k7l.lat + km / 111.2, 5), "longitude": k7l.lng}

    items = [
        {"slug": "early-bird", "name": "Early Bird", "fellowship": "aa", "day": list(range(7)),
         "time": "07:00", "address": "1 Demo St", **north(2), **at},
        {"slug": "monday-night", "name": "Monday Night", "fellowship": "na", "day": 1,
         "time": "19:00", "address": "2 Demo St", **north(3), **at},
        {"slug": "sydenham", "name": "Sydenham Hall", "fellowship": "aa", "day": 0,
         "time": "10:00", "address": "9 Rural Rd", **north(30), **at},
    ]  # fmt: skip
    meetings.import_meetings(organization=org, items=items)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_at_night_near_k7l_1a1_a_person_finds_the_next_meetings(
    browser: Browser, live_server: LiveServer, org_a: Organization, language: str
) -> None:
    _kingston(org_a)
    words = {
        "en": {"h2": "The next meetings", "near": "Near (postal code)", "find": "Find meetings",
               "today": "Today 7 a.m.", "tomorrow": "Tomorrow 7 p.m.",
               "widened": "Only 2 meetings within 10 km, so these are the meetings within "
                          "40 km of K7L · Kingston",
               "within": "Within", "found3": "3 meetings found", "found2": "2 meetings found",
               "change": "Change the distance", "every": "Every day, 7 a.m."},
        "fr": {"h2": "Les prochaines réunions", "near": "Près de (code postal)",
               "find": "Trouver des réunions", "today": "Aujourd’hui 7 h",
               "tomorrow": "Demain 19 h",
               "widened": "Seulement 2 réunions dans un rayon de 10 km : voici donc les réunions "
                          "dans un rayon de 40 km de K7L · Kingston",
               "within": "Dans un rayon de", "found3": "3 réunions trouvées",
               "found2": "2 réunions trouvées", "change": "Changer la distance",
               "every": "Tous les jours, 7 h"},
    }[language]  # fmt: skip
    context = new_context(browser, live_server.url)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    with time_machine.travel(NIGHT, tick=True):
        # given it is 3 a.m.: the first page lists the next meetings, not an empty hour
        page.goto("/meetings/")
        expect(page.get_by_role("heading", name=words["h2"])).to_be_visible()
        results = page.locator("li.meeting")
        expect(results.first).to_contain_text("Early Bird")
        expect(results.first).to_contain_text(words["today"])
        expect(page.locator("li.meeting", has_text="Monday Night")).to_contain_text(
            words["tomorrow"]
        )
        expect(page.get_by_text("America/Toronto")).to_have_count(0)
        check(page, f"meetings-next-{language}")
        axe_on_desktop(page, f"meetings-next-{language}")
        # when they look near K7L 1A1, the radius fits the town and widens, saying so
        page.get_by_label(words["near"]).fill("K7L 1A1")
        page.get_by_role("button", name=words["find"]).click()
        expect(page.get_by_role("heading", name=words["found3"])).to_be_visible()
        expect(page.get_by_role("status").filter(has_text=words["widened"])).to_be_visible()
        check(page, f"meetings-near-k7l-{language}")
        axe_on_desktop(page, f"meetings-near-k7l-{language}")
        # and they can choose the distance themselves
        page.get_by_role("link", name=words["change"]).click()
        page.get_by_label(words["within"], exact=True).select_option("10")
        page.get_by_role("button", name=words["find"]).click()
        expect(page.get_by_role("heading", name=words["found2"])).to_be_visible()
        expect(page.locator("li.meeting", has_text="Sydenham Hall")).to_have_count(0)
        # and a meeting's page says its schedule in words
        page.get_by_role("link", name="Early Bird", exact=True).click()
        expect(page.get_by_text(words["every"])).to_be_visible()
        check(page, f"meeting-every-day-{language}")
        axe_on_desktop(page, f"meeting-every-day-{language}")
    context.close()
