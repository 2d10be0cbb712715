"""Harbour's pages in a real browser (foundation, find help, drug checking, alerts, check-ins)."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect
from pytest_django.live_server_helper import LiveServer

from harbour.accounts.models import Organization, User
from harbour.core.roles import Role

from ..conftest import PASSWORD, totp_code
from .conftest import (
    BEFORE_URL,
    BROWSER,
    EXIT_URL,
    H1_EN,
    H1_FR,
    check,
    lang,
    log_in,
    new_context,
    screenshots,
)

pytestmark = BROWSER

# --- Language -----------------------------------------------------------------------------------


def test_language_switch_to_french_is_remembered_and_switches_back(page: Page) -> None:
    page.goto("/")
    expect(page.locator("h1")).to_have_text(H1_EN)
    assert lang(page) == "en"
    check(page, "home-en")

    page.get_by_role("button", name="Français").click()
    expect(page.locator("h1")).to_have_text(H1_FR)
    assert lang(page) == "fr"
    assert urlsplit(page.url).path == "/"
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies["django_language"] == "fr"
    expect(page.get_by_role("link", name="Quitter rapidement")).to_be_visible()
    check(page, "home-fr")

    # remembered on the next load of the same page and on another page
    page.reload()
    expect(page.locator("h1")).to_have_text(H1_FR)
    page.goto("/accounts/login/")
    assert lang(page) == "fr"
    expect(page.locator("h1")).to_have_text("Connexion du personnel")

    # switching back stays on the same page, in English, and is remembered too
    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("Staff sign in")
    assert lang(page) == "en"
    assert page.url.endswith("/accounts/login/")
    page.goto("/")
    expect(page.locator("h1")).to_have_text(H1_EN)
    expect(page.get_by_role("button", name="Français")).to_be_visible()


def test_unknown_language_cookie_shows_english(page: Page, live_server: LiveServer) -> None:
    page.context.add_cookies([{"name": "django_language", "value": "de", "url": live_server.url}])
    page.goto("/")
    assert lang(page) == "en"
    expect(page.locator("h1")).to_have_text(H1_EN)
    expect(page.get_by_role("button", name="Français")).to_be_visible()


def test_french_browser_gets_french_without_a_cookie(
    browser: Browser, live_server: LiveServer
) -> None:
    context = browser.new_context(base_url=live_server.url, locale="fr-CA")
    page = context.new_page()
    page.goto("/")
    assert lang(page) == "fr"
    expect(page.locator("h1")).to_have_text(H1_FR)
    context.close()


# --- Quick exit ---------------------------------------------------------------------------------


def test_quick_exit_replaces_harbour_in_the_history(page: Page, live_server: LiveServer) -> None:
    page.goto(BEFORE_URL)
    page.goto("/")
    exit_link = page.get_by_role("link", name="Quick exit")
    assert exit_link.get_attribute("href") == EXIT_URL
    exit_link.click()
    page.wait_for_url(EXIT_URL)
    expect(page.get_by_text("Sunny, 21°C")).to_be_visible()
    # Back goes to the page before Harbour: Harbour's page was replaced, not left behind.
    page.go_back()
    assert page.url == BEFORE_URL
    assert not page.url.startswith(live_server.url)
    page.go_forward()
    assert page.url == EXIT_URL


def test_escape_twice_exits_but_not_once(page: Page) -> None:
    page.goto("/")
    expect(page.locator("h1")).to_have_text(H1_EN)
    # Two presses further apart than 800 ms do nothing.
    page.keyboard.press("Escape")
    page.wait_for_timeout(900)
    page.keyboard.press("Escape")
    page.wait_for_timeout(200)
    expect(page.locator("h1")).to_have_text(H1_EN)
    # A third press within 800 ms of the second one leaves.
    page.keyboard.press("Escape")
    page.wait_for_url(EXIT_URL)
    expect(page.get_by_text("Sunny, 21°C")).to_be_visible()


# --- Staff sign-in ------------------------------------------------------------------------------


def test_coordinator_signs_in_with_totp_and_sees_only_their_organization(
    page: Page,
    org_a: Organization,
    org_b: Organization,
    make_member: Callable[..., User],
    enable_totp: Callable[[User], str],
) -> None:
    user = make_member(org_a, Role.COORDINATOR)
    make_member(org_b, Role.ORG_ADMIN)
    secret = enable_totp(user)

    page.goto("/accounts/login/")
    expect(page.locator("h1")).to_have_text("Staff sign in")
    check(page, "login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()

    # the second stage asks for the code; the person is not signed in yet
    expect(page.locator("h1")).to_have_text("Two-factor authentication")
    assert page.url.endswith("/accounts/2fa/authenticate/")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    check(page, "mfa-code")

    wrong = "000000" if totp_code(secret) != "000000" else "111111"
    page.get_by_label("Authenticator code").fill(wrong)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("Incorrect code.")
    code_field = page.get_by_label("Authenticator code")
    expect(code_field).to_have_attribute("aria-invalid", "true")
    expect(code_field).to_have_accessible_description("Incorrect code.")
    check(page, "mfa-code-error")

    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("h1")).to_have_text("What needs you now")
    assert page.url.endswith("/org/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.goto("/org/")
    expect(page.get_by_role("link", name="org-a services")).to_be_visible()
    expect(page.get_by_text("org-b services")).to_have_count(0)
    expect(page.locator(".tiles > li")).to_have_count(1)
    check(page, "dashboard")

    page.get_by_role("link", name="org-a services").click()
    expect(page.locator("h1")).to_have_text("org-a services")
    expect(page.locator(".facts")).to_contain_text("Coordinator")
    check(page, "organization")

    response = page.goto("/org/org-b/")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Page not found")
    expect(page.get_by_text("org-b services")).to_have_count(0)
    check(page, "not-found")


def test_staff_without_totp_are_sent_to_set_it_up(
    page: Page, org_a: Organization, make_member: Callable[..., User]
) -> None:
    user = make_member(org_a, Role.OUTREACH_WORKER)
    log_in(page, user.email)
    # allauth asks for the password again before any change to two-factor authentication
    page.wait_for_url("**/accounts/reauthenticate/**")
    expect(page.get_by_text("Staff accounts must use two-factor authentication.")).to_be_visible()
    check(page, "reauthenticate")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    expect(page.get_by_label("Authenticator secret")).not_to_have_value("")
    check(page, "mfa-setup")
    # every other staff page sends them back here until it is done
    page.goto("/org/org-a/")
    assert page.url.endswith("/accounts/2fa/totp/activate/")


def test_admin_pages_work_and_are_accessible(
    page: Page, org_a: Organization, admin_a: User, enable_totp: Callable[[User], str]
) -> None:
    log_in(page, admin_a.email, enable_totp(admin_a))

    page.goto("/org/org-a/members/")
    page.get_by_label("Email address").fill("new.person@example.org")
    page.get_by_role("combobox", name="Role", exact=True).select_option(label="Outreach worker")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to new.person@example.org.")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="new.person@example.org")).to_contain_text(
        "Outreach worker"
    )
    expect(page.get_by_role("combobox", name=f"Role of {admin_a.email}")).to_have_value(
        Role.ORG_ADMIN
    )
    check(page, "members")

    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_text("No API keys yet.")).to_be_visible()
    page.get_by_role("textbox", name="Name", exact=True).fill("Drug-checking lab upload")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("heading", name="Copy this key now")).to_be_visible()
    assert (page.locator("code.secret").text_content() or "").startswith("hbk_")
    expect(page.get_by_role("cell", name="Drug-checking lab upload", exact=True)).to_be_visible()
    check(page, "api-keys")

    page.get_by_role("link", name="Audit trail").click()
    events = page.get_by_role("region", name="Audit events, newest first")
    expect(events).to_contain_text("API key created")
    expect(events).to_contain_text("Member invited")
    check(page, "audit")


# --- Without JavaScript -------------------------------------------------------------------------


def test_works_without_javascript(
    nojs_page: Page,
    org_a: Organization,
    make_member: Callable[..., User],
    enable_totp: Callable[[User], str],
) -> None:
    page = nojs_page
    page.goto("/")
    expect(page.locator("h1")).to_have_text(H1_EN)
    # quick exit is a plain link: it still leaves, though the page stays in the history
    page.get_by_role("link", name="Quick exit").click()
    page.wait_for_url(EXIT_URL)
    page.go_back()
    page.get_by_role("button", name="Français").click()
    expect(page.locator("h1")).to_have_text(H1_FR)
    assert lang(page) == "fr"
    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text(H1_EN)
    assert lang(page) == "en"
    screenshots(page, "home-nojs")

    user = make_member(org_a, Role.VIEWER)
    log_in(page, user.email, enable_totp(user))
    expect(page.locator("h1")).to_have_text("What needs you now")
    expect(page.get_by_role("link", name="org-a services")).to_be_visible()


# --- Find help ----------------------------------------------------------------------------------


@pytest.fixture
def directory(db: None) -> None:
    from harbour.demo.directory import load

    load()


def test_search_by_postal_code_with_open_now_and_detail_page(page: Page, directory: None) -> None:
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

    def tile(route: Route) -> None:
        tiles.append(route.request.url)
        route.fulfill(status=204)

    page.context.route("https://tile.openstreetmap.org/**", tile)
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


def test_french_search_and_unknown_postal_code(page: Page, directory: None) -> None:
    page.goto("/")
    page.get_by_role("button", name="Français").click()
    expect(page.locator("h1")).to_have_text(H1_FR)
    page.goto("/find/?q=d%C3%A9sintox&near=Z9Z")
    expect(page.get_by_text("Nous ne connaissons pas le code postal")).to_be_visible()
    expect(page.get_by_role("link", name="Lits de gestion du sevrage (démo)")).to_be_visible()
    check(page, "search-fr")


# --- Drug checking ------------------------------------------------------------------------------


@pytest.fixture
def drugcheck(db: None) -> None:
    from harbour.demo.data import load as load_orgs
    from harbour.demo.drugcheck import load

    load_orgs()
    load()
    from datetime import timedelta

    from django.utils import timezone

    from harbour.core import releases

    # the board serves the release made a week after last month closed
    releases.make_due(now=timezone.now() + timedelta(days=8))


def test_results_board_and_lookup_by_code(page: Page, drugcheck: None) -> None:
    from harbour.drugcheck.models import Sample

    page.goto("/")
    page.get_by_role("link", name="Drug checking").click()
    expect(page.locator("h1")).to_have_text("What drug checking is finding")
    expect(page.locator("svg.chart")).to_be_visible()
    expect(page.get_by_text("Figures for ")).to_be_visible()
    check(page, "drugcheck-board")
    months = page.get_by_label("Month", exact=True)
    earlier = months.locator("option").nth(1).get_attribute("value")
    assert earlier is not None
    months.select_option(earlier)
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("Samples checked")).to_be_visible()
    assert f"month={earlier}" in page.url
    expect(page.locator("#results ~ article").first).to_be_visible()
    sample = Sample.objects.filter(components__substance__code="bromazolam").first()
    assert sample is not None
    page.get_by_role("link", name="Look up your result by code").click()
    page.get_by_label("Sample code").fill(sample.display_code.lower())
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("heading", name=f"Result for {sample.display_code}")).to_be_visible()
    expect(page.get_by_text("bromazolam").first).to_be_visible()
    assert sample.code not in page.url  # the code is posted, never in the address
    check(page, "drugcheck-result")
    page.get_by_role("button", name="Français").click()
    expect(page.locator("h1")).to_have_text("Consulter votre résultat")
    page.get_by_label("Code de l’échantillon").fill("ZZZZ-ZZZZ-ZZ")
    page.get_by_role("button", name="Consulter").click()
    expect(page.get_by_text("Aucun résultat pour ce code.")).to_be_visible()
    check(page, "drugcheck-result-fr")


# --- Drug alerts --------------------------------------------------------------------------------


def test_alert_pages_and_email_subscription(page: Page, drugcheck: None) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from harbour.alerts import services
    from harbour.alerts.models import AlertPolicy, Subscription

    org = Organization.objects.get(slug="demo-lighthouse")
    AlertPolicy.objects.create(organization=org, second_approval=False)
    admin = User.objects.get(email="admin@lighthouse.demo.harbour.test")
    alert = services.alert_draft(
        actor=admin,
        organization=org,
        title_en="Medetomidine in down",
        title_fr="Médétomidine dans le down",
        body_en="Long sedation and slow heart rate. Stay with people after they use.",
        body_fr="Sédation longue et cœur lent. Restez avec les gens après la consommation.",
        areas=["K7L", "K7K"],
        area_description_en="Downtown Kingston",
        area_description_fr="Centre-ville de Kingston",
        valid_until=timezone.now() + timedelta(days=5),
    )
    services.alert_submit(alert=alert, actor=admin)
    page.goto("/")
    page.get_by_role("link", name="Alerts").click()
    expect(page.locator("h1")).to_have_text("Drug alerts")
    check(page, "alerts-list")
    page.get_by_role("link", name="Medetomidine in down").click()
    expect(page.locator("h1")).to_have_text("Medetomidine in down")
    check(page, "alert-detail")
    page.get_by_role("button", name="Français").click()
    expect(page.locator("h1")).to_have_text("Médétomidine dans le down")
    check(page, "alert-detail-fr")
    page.get_by_role("button", name="English").click()
    page.goto("/alerts/subscribe/")
    page.get_by_label("Email").fill("sam@example.org")
    page.get_by_label("Postal areas").fill("K7L, Kingston")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_text("is not a postal area")).to_be_visible()
    check(page, "alerts-subscribe-error")
    page.get_by_label("Postal areas").fill("K7L")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.locator("h1")).to_have_text("Check your email")
    assert Subscription.objects.filter(confirmed=False).count() == 1


def test_anonymous_report_form_is_accessible(page: Page) -> None:
    page.goto("/alerts/report/")
    expect(page.locator("h1")).to_have_text("Report bad drugs, a bad reaction or an overdose")
    page.get_by_label("Bad dope: something is off with the drugs").check()
    page.get_by_label("Effects, what happened").fill("no")
    page.get_by_role("button", name="Send the report").click()
    expect(page.locator(".has-error")).to_have_count(1)
    check(page, "alerts-report-error")
    page.get_by_label("Effects, what happened").fill("Blue pills, two people very sedated.")
    page.get_by_role("button", name="Send the report").click()
    expect(page.locator("h1")).to_have_text("Thank you")


# --- Never use alone ----------------------------------------------------------------------------


def _due_now(session_id: object) -> None:
    """Skip the wait: the session's next step is due now; the worker's step runs."""
    from django.utils import timezone

    from harbour.checkins import services
    from harbour.checkins.models import Session

    Session.objects.filter(pk=session_id).update(due_at=timezone.now())
    assert services.advance_due() == 1


def test_check_in_from_start_to_responder_outcome_on_a_phone(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    org_a: Organization,
    make_member: Callable[..., User],
    enable_totp: Callable[[User], str],
) -> None:
    from datetime import date

    from harbour.checkins.models import Callout, Program, Responder, Session, State
    from harbour.checkins.services import phone_index

    Program.objects.create(organization=org_a, is_default=True, areas=" K7L ")
    Responder.objects.create(
        organization=org_a, alias="Jo", phone="+16135550161", on_call=True,
        phone_index=phone_index("+16135550161"), naloxone_trained_until=date(2030, 1, 1),
    )  # fmt: skip

    # the person starts a check-in on their phone
    page.goto("/checkin/")
    expect(page.locator("h1")).to_have_text("Never use alone")
    check(page, "checkin-start")
    page.get_by_label("What should we call you?").fill("Sam")
    page.get_by_label("Your mobile number").fill("613 555 01")
    page.get_by_role("button", name="Start my check-in").click()
    expect(page.locator(".has-error")).to_have_count(1)
    check(page, "checkin-start-error")
    page.get_by_label("Your mobile number").fill("613 555 0142")
    page.get_by_label("Check on me in").select_option("15")
    page.get_by_label("Where are you?").fill("12 Princess St, apt 3")
    page.get_by_label("How to get in").fill("buzz 3")
    page.get_by_label("Postal area").fill("K7L")
    page.get_by_role("button", name="Start my check-in").click()
    expect(page.locator("h1")).to_have_text("Check-in for Sam")
    expect(page.locator("[data-due]")).to_have_text(re.compile(r"^1[45]:\d\d$"))
    check(page, "checkin-session")
    session = Session.objects.get()
    assert session.minutes == 15 and session.state == State.ACTIVE
    assert session.token not in page.url  # the page's address carries no token

    # a number typed on the web is confirmed with the code texted to it
    from harbour.notify.models import Message

    started = Message.objects.get(idempotency_key=f"checkin:{session.pk}:started").body
    code = re.search(r"\b(\d{6})\b", started).group(1)  # type: ignore[union-attr]
    page.get_by_label("The code we texted you").fill(code)
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.get_by_text("Your number is confirmed.")).to_be_visible()

    # the timer runs out, no answer: the prompt, then the responders are called
    _due_now(session.pk)
    page.reload()
    expect(page.get_by_text("Your time is up. Are you all right?")).to_be_visible()
    _due_now(session.pk)
    callout = Callout.objects.get(session=session)

    # the responder opens the link from their text, on their phone
    context = new_context(browser, live_server.url)
    responder = context.new_page()
    responder.goto(f"/checkin/r/{callout.token}/")
    expect(responder.locator("h1")).to_have_text("Call-out: Sam")
    assert callout.token not in responder.url
    expect(responder.locator(".facts")).to_contain_text("12 Princess St, apt 3")
    check(responder, "checkin-callout")
    responder.get_by_role("button", name="I am going").click()
    expect(responder.get_by_role("button", name="I am there")).to_be_visible()
    page.reload()
    expect(page.get_by_text("Someone is on the way.")).to_be_visible()
    responder.get_by_role("button", name="I am there").click()
    responder.get_by_label("I gave naloxone").check()
    responder.get_by_role("button", name="Record and close").click()
    expect(responder.locator(".has-error")).to_have_count(1)
    responder.get_by_label("Doses of naloxone given").fill("2")
    responder.get_by_role("button", name="Record and close").click()
    expect(responder.get_by_text("Recorded. Thank you for going.")).to_be_visible()
    check(responder, "checkin-debrief")
    responder.get_by_label("Shaken").check()
    responder.get_by_role("button", name="Send").click()
    expect(responder.get_by_text("Thank you for answering.")).to_be_visible()
    context.close()
    session.refresh_from_db()
    assert session.state == State.ENDED and session.outcome == "naloxone"
    assert session.naloxone_doses == 2

    # a dispatcher sees a session nobody could reach, loudly, and closes it in one click
    other = Session.objects.create(
        program=session.program, alias="Lee", phone="+16135550143", minutes=10,
        started_at=session.started_at, state=State.DISPATCH,
    )  # fmt: skip
    dispatcher = make_member(org_a, Role.PEER_WORKER)
    log_in(page, dispatcher.email, enable_totp(dispatcher))
    page.goto(f"/org/{org_a.slug}/checkins/")
    expect(page.locator(".session-dispatch")).to_contain_text("Lee")
    check(page, "checkin-dispatcher")
    page.locator(".session-dispatch").get_by_role("button", name="Reached by phone").click()
    expect(page.get_by_text("Session closed.")).to_be_visible()
    other.refresh_from_db()
    assert other.state == State.ENDED and other.outcome == "phone"
