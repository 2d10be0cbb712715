"""Browser-test support: Debian's Chromium driven by Playwright, checked by axe-core.

Fixtures (``browser``, ``page``, ``nojs_page``) and helpers (``check``, ``log_in``, ``lang``) for
every ``tests/browser/test_*.py``; each capability keeps its browser tests in its own module and
marks it with ``pytestmark = BROWSER``.

Every page ``check()`` visits must have no serious or critical accessibility violation, and a
full-page screenshot of it is saved at phone size (390x844) and desktop size (1280x800) under
``var/screenshots/`` (git-ignored) for people to look at.

Without Chromium the tests skip, except in CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Route,
    ViewportSize,
    expect,
    sync_playwright,
)
from playwright.sync_api import (
    Error as PlaywrightError,
)
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from ..conftest import PASSWORD, totp_code

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
# The network is closed: the quick-exit target and the page "before Harbour" are intercepted.
EXIT_URL = "https://exit.example.org/"
BEFORE_URL = "https://before.example.org/"
NEUTRAL_PAGE = "<!doctype html><html lang='en'><title>Weather</title><p>Sunny, 21°C</p></html>"

H1_EN = "The opposite of addiction is connection."
H1_FR = "Le contraire de la dépendance, c’est le lien."

BROWSER = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = Axe()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package", pytrace=False)
        pytest.skip(f"{CHROMIUM} is not installed")
    # Playwright's sync API runs an event loop in this thread, and Django's ORM must still work
    # here (fixtures, the test's own queries): allowed while the browser runs, then restored.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Settings) -> None:
    # Passwords are hashed for every member made and every sign-in; speed is not tested here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def neutral_page(route: Route) -> None:
    route.fulfill(body=NEUTRAL_PAGE, content_type="text/html; charset=utf-8")


def new_context(browser: Browser, base_url: str, *, javascript: bool = True) -> BrowserContext:
    context = browser.new_context(
        viewport=PHONE, base_url=base_url, locale="en-CA", java_script_enabled=javascript
    )
    context.route(f"{EXIT_URL}**", neutral_page)
    context.route(f"{BEFORE_URL}**", neutral_page)
    context.set_default_timeout(8000)
    return context


def settle_and_close(context: BrowserContext) -> None:
    """Close a context once its pages' requests are answered: a page script still syncing or
    polling would otherwise hold an SQLite table while the test database is flushed after
    the test ("database table is locked"), and the next test would start with its rows."""
    for open_page in context.pages:
        with contextlib.suppress(PlaywrightError):  # still busy after 5 s: close anyway
            open_page.wait_for_load_state("networkidle", timeout=5000)
    context.close()


@pytest.fixture
def page(browser: Browser, settings: Settings, live_server: LiveServer) -> Iterator[Page]:
    settings.HARBOUR_QUICK_EXIT_URL = EXIT_URL
    context = new_context(browser, live_server.url)
    yield context.new_page()
    settle_and_close(context)


@pytest.fixture
def nojs_page(browser: Browser, settings: Settings, live_server: LiveServer) -> Iterator[Page]:
    settings.HARBOUR_QUICK_EXIT_URL = EXIT_URL
    context = new_context(browser, live_server.url, javascript=False)
    yield context.new_page()
    settle_and_close(context)


def screenshots(page: Page, name: str) -> None:
    """Full-page screenshots at phone and desktop size; the page is left at phone size."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)


def check(page: Page, name: str) -> None:
    """axe-core finds no serious or critical violation on the page; keep screenshots of it."""
    results = AXE.run(page)
    bad = [
        f"  {v['id']} ({v['impact']}): {v['help']}\n"
        + "".join(f"    at {' '.join(map(str, node['target']))}\n" for node in v["nodes"][:5])
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert not bad, f"axe-core on {name} ({page.url}):\n" + "".join(bad)
    screenshots(page, name)


def lang(page: Page) -> str | None:
    return page.locator("html").get_attribute("lang")


def log_in(page: Page, email: str, secret: str | None = None) -> None:
    """Email and password through the real form, then the authenticator code if asked."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    if secret:
        expect(page.locator("h1")).to_have_text("Two-factor authentication")
        page.get_by_label("Authenticator code").fill(totp_code(secret))
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
