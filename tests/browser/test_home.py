"""A coordinator's first steps, in a real browser: signing in lands on what needs them now
(phone and desktop, English and French); the outreach encounter form counts "+1 new" as one
person; the stock page on a phone starts with what is low and stays short with the demo data;
staff tables use a desktop's width; and a viewer is shown no link to pages they cannot open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from harbour.accounts.models import Organization, User
from harbour.core.roles import Role

from .conftest import BROWSER, DESKTOP, PASSWORD, PHONE, check, log_in

pytestmark = BROWSER


def test_a_coordinator_signs_in_and_lands_on_what_needs_them(
    page: Page,
    org_a: Organization,
    make_member: Callable[..., User],
    make_needs: Callable[..., dict[str, Any]],
    enable_totp: Callable[[User], str],
) -> None:
    # given an organization with work waiting (an alert written by someone else)
    author = make_member(org_a, Role.COORDINATOR, email="author@org-a.example.org")
    make_needs(org_a, author)
    coordinator = make_member(org_a, Role.COORDINATOR)
    # when the coordinator signs in on their phone (password, then the authenticator code)
    log_in(page, coordinator.email, enable_totp(coordinator))
    # then they land on their home, which lists what needs them with counts and links
    assert page.url.endswith("/org/")
    expect(page.locator("h1")).to_have_text("What needs you now")
    needs = page.locator(".need h3")
    expect(needs).to_have_text(
        [
            "1 alert is waiting for a second person",
            "1 check-in needs the dispatcher",
            "2 new signals to review (grouped by area)",
            "1 referral to acknowledge",
            "1 naloxone refill request is waiting",
            "1 supply is low",
        ]
    )
    expect(page.get_by_text("seen by 4 methods", exact=False)).to_be_visible()
    expect(page.get_by_text("Van: 1 nasal naloxone kit left")).to_be_visible()
    check(page, "home-coordinator")
    page.set_viewport_size(DESKTOP)
    check(page, "home-coordinator-desktop")
    page.set_viewport_size(PHONE)
    # in French
    page.get_by_role("button", name="Français").click()
    expect(page.locator("h1")).to_have_text("Ce qui vous attend")
    expect(page.locator(".need h3").first).to_have_text("1 alerte attend une deuxième personne")
    check(page, "home-coordinator-fr")
    # the link goes where the work is
    page.get_by_role("link", name="Ouvrir le tableau de répartition").click()
    assert page.url.endswith(f"/org/{org_a.slug}/checkins/")


def test_nothing_waiting_says_so_with_the_everyday_pages(
    page: Page,
    org_a: Organization,
    make_member: Callable[..., User],
    enable_totp: Callable[[User], str],
) -> None:
    worker = make_member(org_a, Role.PEER_WORKER)
    log_in(page, worker.email, enable_totp(worker))
    expect(page.get_by_text("Nothing needs you right now.")).to_be_visible()
    expect(page.get_by_role("link", name="Log an outreach encounter")).to_be_visible()
    expect(page.get_by_role("link", name="Drug alerts")).to_have_count(0)
    check(page, "home-empty")
    page.get_by_role("button", name="Français").click()
    expect(page.get_by_text("Rien ne vous attend pour l’instant.")).to_be_visible()
    check(page, "home-empty-fr")


def _demo_outreach() -> tuple[Organization, User]:
    from harbour.demo.data import load
    from harbour.demo.outreach import load as load_outreach

    load()
    load_outreach()
    from harbour.outreach.models import Program

    program = Program.objects.select_related("organization").order_by("created_at").first()
    assert program is not None
    org = program.organization
    coordinator = (
        User.objects.filter(memberships__organization=org, memberships__role=Role.COORDINATOR)
        .order_by("email")
        .first()
    )
    assert coordinator is not None
    coordinator.set_password(PASSWORD)
    coordinator.save(update_fields=["password"])
    return org, coordinator


def test_the_stock_page_on_a_phone_starts_with_what_is_low_and_stays_short(
    page: Page, enable_totp: Callable[[User], str]
) -> None:
    org, coordinator = _demo_outreach()
    log_in(page, coordinator.email, enable_totp(coordinator))
    for language in ("en", "fr"):
        if language == "fr":
            page.get_by_role("button", name="Français").click()
        page.goto(f"/org/{org.slug}/outreach/stock/")
        summary = page.locator(".stock-summary")
        expect(summary).to_be_visible()
        # the summary is the first thing after the heading and its note
        first = page.locator("main h2:visible").first
        expect(first).to_have_id("stock-summary-title")
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 3000, f"the stock page is {height}px tall on a phone ({language})"
        check(page, f"outreach-stock-summary-{language}")
    # desktop: the full table, opened, is not squeezed: no column clipped or hidden
    page.get_by_role("button", name="English").click()
    page.set_viewport_size(DESKTOP)
    page.goto(f"/org/{org.slug}/outreach/stock/")
    page.locator(".stock-all > summary").click()
    wraps = page.locator(".stock-all .table-wrap")
    assert wraps.count() >= 1
    for i in range(wraps.count()):
        fits = wraps.nth(i).evaluate("w => [w.querySelector('table').scrollWidth, w.clientWidth]")
        assert fits[0] <= fits[1], f"table {i} is {fits[0]}px in a {fits[1]}px container"
    main_width = page.evaluate("document.querySelector('main').clientWidth")
    assert main_width > 1100, f"staff pages use {main_width}px of a 1280px screen"
    check(page, "outreach-stock-desktop")


def test_plus_one_new_records_one_person_and_supplies_read_in_the_right_number(
    page: Page,
    org_a: Organization,
    make_member: Callable[..., User],
    enable_totp: Callable[[User], str],
) -> None:
    from harbour.outreach import services
    from harbour.outreach.models import Encounter

    coordinator = make_member(org_a, Role.COORDINATOR)
    services.program_update(
        actor=coordinator, organization=org_a, tracked=["syringes"], areas=["K7L"],
        expiry_warning_days=60, cover_weeks=4, low_stock_weeks=1,
    )  # fmt: skip
    van = services.team_save(actor=coordinator, organization=org_a, name="Van", fsa="K7L")
    services.stock_receive(actor=coordinator, team=van, supply="syringes", quantity=10)
    log_in(page, coordinator.email, enable_totp(coordinator))
    page.goto(f"/org/{org_a.slug}/outreach/log/")
    expect(page.get_by_role("spinbutton", name="Returning people")).to_have_value("0")
    expect(page.get_by_role("spinbutton", name="New people")).to_have_value("0")
    page.get_by_role("button", name="One more: New people").click()
    expect(page.get_by_role("spinbutton", name="New people")).to_have_value("1")
    page.get_by_role("button", name="One more: Syringes").click()
    page.get_by_label("Postal area").fill("K7L")
    page.get_by_role("button", name="Save encounter").click()
    expect(
        page.get_by_text("Saved and sent.").or_(page.get_by_text("Encounter saved"))
    ).to_be_visible()
    stored = Encounter.objects.get()
    assert (stored.people_new, stored.people_returning, stored.people) == (1, 0, 1)
    page.goto(f"/org/{org_a.slug}/outreach/")
    expect(page.get_by_role("cell", name="1 syringe", exact=True)).to_be_visible()
    page.get_by_role("button", name="Français").click()
    expect(page.get_by_role("cell", name="1 seringue", exact=True)).to_be_visible()
    check(page, "outreach-home-fr")


def test_a_viewer_sees_no_link_to_pages_their_role_cannot_open(
    page: Page,
    org_a: Organization,
    make_member: Callable[..., User],
    enable_totp: Callable[[User], str],
) -> None:
    viewer = make_member(org_a, Role.VIEWER)
    log_in(page, viewer.email, enable_totp(viewer))
    page.goto(f"/org/{org_a.slug}/outreach/report/")
    for name in ("Log encounter", "Stock", "Naloxone", "Settings", "Outreach"):
        expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)
    page.goto("/org/")
    for name in ("Log an outreach encounter", "Check-ins: dispatcher", "Drug alerts"):
        expect(page.get_by_role("link", name=name)).to_have_count(0)
    # every staff link on these pages opens for this viewer
    for url in ("/org/", f"/org/{org_a.slug}/", f"/org/{org_a.slug}/outreach/report/"):
        page.goto(url)
        hrefs = page.locator("main a[href^='/org/']").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        for href in set(hrefs):
            status = page.request.get(href, max_redirects=0).status
            assert status in (200, 302), f"{url} links to {href}, which answers {status}"
    check(page, "outreach-report-viewer")
