"""Find help, as a first-time visitor on a phone: a person at night near "K7L 1A1" sees where
the search is measured from, honest distances, which places have no hours listed, and the first
result without scrolling; the map library loads only when the map is asked for."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Request, expect

from .conftest import BROWSER, DESKTOP, PHONE, check, screenshots

pytestmark = BROWSER

TONIGHT = "2026-11-25T23:00"  # a Wednesday, 11 p.m.
METRES = re.compile(r"\d\s?m$|less than 1 km|moins de 1 km|\b0[.,]\d\s?km")


@pytest.fixture
def directory(db: None) -> None:
    from harbour.demo.directory import load

    load()


def _first_result_is_on_screen(page: Page) -> None:
    first = page.locator(".result-list > li").first
    expect(first).to_be_visible()
    box = first.locator("h3").bounding_box()
    viewport = page.viewport_size
    assert box is not None and viewport is not None
    assert box["y"] + box["height"] <= viewport["height"], (box, viewport)


def _distance_lines(page: Page) -> list[str]:
    return [t.strip() for t in page.locator(".result-list > li > p.muted").all_inner_texts()]


def test_at_night_near_a_postal_code(page: Page, directory: None) -> None:
    scripts: list[str] = []

    def seen(request: Request) -> None:
        if request.resource_type in {"script", "stylesheet"}:
            scripts.append(request.url)

    page.on("request", seen)
    page.goto("/find/")
    expect(page.locator("h1")).to_have_text("Find help near you")
    page.get_by_label("Near (postal code)").fill("K7L 1A1")
    page.locator("summary", has_text="More filters").click()
    page.get_by_label("Or open at").fill(TONIGHT)
    page.get_by_role("button", name="Search").click()

    # the summary says where the search is measured from, then the results: no form in between
    summary = page.locator("#results-heading")
    expect(summary).to_contain_text("around K7L · Kingston")
    expect(summary).to_contain_text("open at the time asked")
    expect(page.get_by_role("button", name="Search")).to_be_hidden()
    _first_result_is_on_screen(page)
    # places without hours are counted, not hidden silently
    unknown = page.locator(".unknown-hours")
    expect(unknown).to_contain_text("have no hours listed, so they are not shown")
    expect(page.get_by_text("Distances from the centre of K7L are approximate")).to_be_visible()
    assert not [line for line in _distance_lines(page) if METRES.search(line)]
    check(page, "find-night-k7l")
    page.set_viewport_size(DESKTOP)
    _first_result_is_on_screen(page)
    page.set_viewport_size(PHONE)

    # the person asks for the places with unknown hours too
    unknown.get_by_role("link", name="Include places with unknown hours").click()
    expect(summary).to_contain_text("or hours unknown")
    expect(page.get_by_text("Hours not listed — call to check").first).to_be_visible()
    _first_result_is_on_screen(page)
    lines = _distance_lines(page)
    assert lines and not [line for line in lines if METRES.search(line)], lines
    assert any("in or near K7L" in line or "about" in line for line in lines), lines
    check(page, "find-night-k7l-unknown-hours")

    # the map library is not loaded until the map is asked for
    assert not [url for url in scripts if "leaflet" in url]
    page.context.route("https://tile.openstreetmap.org/**", lambda route: route.fulfill(status=204))
    page.get_by_role("button", name="Show map").click()
    expect(page.locator("#results-map.leaflet-container")).to_be_visible()
    assert [url for url in scripts if url.endswith("leaflet.js")]

    # a place with no hours: its page says so, with no week of "Closed", and a big call button
    listing = page.locator(".result-list > li", has_text="Hours not listed — call to check").first
    listing.locator("h3 a").click()
    location = page.locator("section.location").first
    expect(location).to_contain_text("Hours not listed — call to check")
    expect(location.locator("table.hours")).to_have_count(0)
    call = page.locator("a.button.big[href^='tel:']").first
    expect(call).to_be_visible()
    expect(call).to_contain_text("Call")
    check(page, "find-service-no-hours")


def test_at_night_near_a_postal_code_in_french(page: Page, directory: None) -> None:
    page.goto("/")
    page.get_by_role("button", name="Français").click()
    page.goto(f"/find/?near=K7L+1A1&open_at={TONIGHT}")
    summary = page.locator("#results-heading")
    expect(summary).to_contain_text("autour de K7L · Kingston")
    expect(page.locator(".unknown-hours")).to_contain_text("n’ont pas d’heures indiquées")
    _first_result_is_on_screen(page)
    check(page, "find-night-k7l-fr")
    page.get_by_role("link", name="Inclure les lieux dont les heures sont inconnues").click()
    expect(page.get_by_text("Heures non indiquées — appelez pour vérifier").first).to_be_visible()
    lines = _distance_lines(page)
    assert not [line for line in lines if METRES.search(line)], lines
    # the form is one tap away
    page.get_by_text("Modifier la recherche").click()
    expect(page.get_by_role("button", name="Rechercher")).to_be_visible()
    check(page, "find-change-search-fr")


def test_without_javascript_the_results_and_change_search_work(
    nojs_page: Page, directory: None
) -> None:
    page = nojs_page
    page.goto(f"/find/?near=K7L+1A1&open_at={TONIGHT}&include_unknown_hours=on")
    _first_result_is_on_screen(page)
    expect(page.get_by_role("button", name="Show map")).to_be_hidden()
    page.get_by_text("Change search").click()
    page.get_by_label("Near (postal code)").fill("K7K")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#results-heading")).to_contain_text("around K7K")
    screenshots(page, "find-nojs")  # axe-core needs scripts: checked above with them on
