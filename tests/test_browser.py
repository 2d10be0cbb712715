"""Harbour in a real browser: Debian's Chromium driven by Playwright, checked by axe-core.

Every page visited is checked for serious or critical accessibility violations, and a phone-size
screenshot is saved under ``var/screenshots/`` for people to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "var" / "screenshots"
EXIT_URL = "https://exit.example.org/"

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("Chromium is missing: .ci/run installs Debian's chromium package")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from harbour.core.roles import Role  # noqa: E402

from .conftest import PASSWORD, totp_code  # type: ignore[import-not-found]  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = Axe()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Playwright's sync API runs an event loop in this thread; Django's ORM must still work here
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Browser, settings, live_server) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    settings.HARBOUR_QUICK_EXIT_URL = EXIT_URL
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=live_server.url)
    context.route(f"{EXIT_URL}**", lambda route: route.fulfill(body="<title>Weather</title>Sunny"))
    page = context.new_page()
    page.set_default_timeout(8000)
    yield page
    context.close()


def check(page: Page, name: str) -> None:
    """axe-core finds no serious or critical violation; keep a screenshot."""
    results = AXE.run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert bad == [], f"{name}: {bad}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, email: str, secret: str | None = None) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    if secret:
        page.get_by_label("Authenticator code").fill(totp_code(secret))
        page.get_by_role("button", name="Sign in", exact=True).click()


def test_home_switches_to_french_and_remembers_it(page: Page) -> None:
    page.goto("/")
    expect(page.locator("h1")).to_have_text("The opposite of addiction is connection.")
    check(page, "home-en")
    page.get_by_role("button", name="Français").click()
    expect(page.locator("h1")).to_have_text("Le contraire de la dépendance, c’est le lien.")
    assert page.locator("html").get_attribute("lang") == "fr"
    check(page, "home-fr")
    page.goto("/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"


def test_unknown_language_cookie_shows_english(page: Page, live_server) -> None:  # type: ignore[no-untyped-def]
    page.context.add_cookies([{"name": "django_language", "value": "de", "url": live_server.url}])
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "en"


def test_quick_exit_leaves_and_back_does_not_return(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="Quick exit").click()
    page.wait_for_url(EXIT_URL)
    page.go_back()
    assert "Harbour" not in (page.title() or "")


def test_escape_twice_exits(page: Page) -> None:
    page.goto("/")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_url(EXIT_URL)


def test_staff_sign_in_with_totp_sees_only_their_organization(
    page: Page, org_a, org_b, make_member, enable_totp
) -> None:  # type: ignore[no-untyped-def]
    user = make_member(org_a, Role.COORDINATOR)
    make_member(org_b, Role.ORG_ADMIN)
    secret = enable_totp(user)
    page.goto("/accounts/login/")
    check(page, "login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    check(page, "mfa-code")
    page.get_by_label("Authenticator code").fill("000000")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text("Incorrect code.")).to_be_visible()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.goto("/org/")
    expect(page.get_by_role("link", name="org-a services")).to_be_visible()
    expect(page.get_by_text("org-b services")).to_have_count(0)
    check(page, "dashboard")
    page.goto("/org/org-a/")
    check(page, "organization")
    response = page.goto("/org/org-b/")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Page not found")
    check(page, "not-found")


def test_staff_without_totp_are_sent_to_set_it_up(page: Page, org_a, make_member) -> None:  # type: ignore[no-untyped-def]
    user = make_member(org_a, Role.OUTREACH_WORKER)
    sign_in(page, user.email)
    page.goto("/org/")
    # allauth asks for the password again before any change to two-factor authentication
    assert "/accounts/reauthenticate/" in page.url
    expect(page.get_by_text("Staff accounts must use two-factor authentication.")).to_be_visible()
    check(page, "reauthenticate")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    assert page.url.endswith("/accounts/2fa/totp/activate/")
    check(page, "mfa-setup")


def test_admin_pages_are_accessible(page: Page, org_a, admin_a, enable_totp) -> None:  # type: ignore[no-untyped-def]
    secret = enable_totp(admin_a)
    sign_in(page, admin_a.email, secret)
    for path, name in [
        ("/org/org-a/members/", "members"),
        ("/org/org-a/api-keys/", "api-keys"),
        ("/org/org-a/audit/", "audit"),
    ]:
        page.goto(path)
        check(page, name)
    page.goto("/org/org-a/members/")
    page.get_by_label("Email address").fill("new.person@example.org")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to new.person@example.org.")).to_be_visible()


def test_works_without_javascript(
    browser: Browser, live_server, org_a, make_member, enable_totp
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    page.goto("/")
    page.get_by_role("button", name="Français").click()
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_role("button", name="English").click()
    user = make_member(org_a, Role.VIEWER)
    sign_in(page, user.email, enable_totp(user))
    page.goto("/org/")
    expect(page.get_by_role("link", name="org-a services")).to_be_visible()
    context.close()


# --- Find help ----------------------------------------------------------------------------------


@pytest.fixture
def directory(db):  # type: ignore[no-untyped-def]
    from harbour.demo.directory import load

    return load()


def test_search_by_postal_code_with_open_now_and_detail_page(page: Page, directory) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.get_by_label("What do you need?").fill("withdrawal")
    page.get_by_label("Near (postal code)").fill("K7K")
    page.get_by_label("Open now").check()
    page.get_by_role("button", name="Search").click()
    # the demo withdrawal beds are open 24 hours, so they are open now
    expect(page.get_by_role("link", name="Withdrawal management beds (demo)")).to_be_visible()
    expect(page.get_by_text("Open 24 hours").first).to_be_visible()
    check(page, "search-results")
    # the map loads tiles only when asked
    tiles: list[str] = []
    page.context.route(
        "https://tile.openstreetmap.org/**",
        lambda route: (tiles.append(route.request.url), route.fulfill(status=204)),
    )
    assert tiles == []
    page.get_by_role("button", name="Show map").click()
    expect(page.locator("#results-map .leaflet-marker-icon")).to_have_count(1)
    page.wait_for_timeout(300)
    assert tiles, "the map asked for tiles once shown"
    check(page, "search-map")
    page.get_by_role("link", name="Withdrawal management beds (demo)").click()
    expect(page.locator("h1")).to_have_text("Withdrawal management beds (demo)")
    check(page, "service-detail")
    page.get_by_role("button", name="Français").click()
    expect(page.locator("h1")).to_have_text("Lits de gestion du sevrage (démo)")
    check(page, "service-detail-fr")


def test_french_search_and_unknown_postal_code(page: Page, directory) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.get_by_role("button", name="Français").click()
    page.goto("/find/?q=d%C3%A9sintox&near=Z9Z")
    expect(page.get_by_text("Nous ne connaissons pas le code postal")).to_be_visible()
    expect(page.get_by_role("link", name="Lits de gestion du sevrage (démo)")).to_be_visible()
    check(page, "search-fr")
