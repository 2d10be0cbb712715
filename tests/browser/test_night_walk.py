"""The walk the first-time-user issue ends on, in one go: a person at 11 p.m. on a phone, near
"K7L 1A1", starts on the home page, finds places open now with honest distances and the places
without hours counted, the first result without scrolling, then the next meetings near them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import time_machine
from playwright.sync_api import Page, expect

from harbour.accounts.models import Organization

from .conftest import BROWSER, check
from .test_meetings_first_visit import _kingston

pytestmark = BROWSER

# Wednesday 25 November 2026, 11 p.m. in Kingston
ELEVEN_PM = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
METRES = re.compile(r"\d\s?m$|less than 1 km|\b\d+[.,]\d\s?km")


def test_at_night_near_k7l_1a1_from_the_home_page_to_the_next_meetings(
    page: Page, org_a: Organization
) -> None:
    from harbour.demo.directory import load

    load()
    _kingston(org_a)
    with time_machine.travel(ELEVEN_PM, tick=True):
        page.goto("/")
        page.get_by_label("Near (postal code)").first.fill("K7L 1A1")
        page.locator("#home-open").check()
        page.get_by_role("button", name="Search").first.click()

        summary = page.locator("#results-heading")
        expect(summary).to_contain_text("around K7L · Kingston")
        expect(summary).to_contain_text("open now")
        first = page.locator(".result-list > li").first
        box = first.locator("h3").bounding_box()
        assert box is not None and box["y"] + box["height"] <= 844, box  # no scrolling
        expect(page.locator(".unknown-hours")).to_contain_text("have no hours listed")
        lines = [t.strip() for t in page.locator(".result-list > li > p.muted").all_inner_texts()]
        assert lines and not [line for line in lines if METRES.search(line)], lines
        check(page, "night-walk-find")

        page.goto("/meetings/")
        expect(page.get_by_role("heading", name="The next meetings")).to_be_visible()
        expect(page.locator("li.meeting").first).to_contain_text("Tomorrow 7 a.m.")
        page.get_by_label("Near (postal code)").fill("K7L 1A1")
        page.get_by_role("button", name="Find meetings").click()
        expect(page.locator("li.meeting", has_text="Early Bird")).to_contain_text("in or near K7L")
        meeting_lines = page.locator("li.meeting p.muted").all_inner_texts()
        assert not [line for line in meeting_lines if METRES.search(line)], meeting_lines
        check(page, "night-walk-meetings")
