"""Outreach in a real browser on a phone-sized screen: a worker goes offline, logs three
encounters and an overdose response (the forms open from the service worker, the records wait
in IndexedDB), comes back online, and the server holds each exactly once with the stock
deducted; a record the server refuses stays on the phone with its reason until fixed; a session
that ends keeps the records until the worker signs in again; an anonymous "I used a kit" report
appears in the naloxone figures; the report page and its CSV match the records."""

from __future__ import annotations

import csv
import io
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from harbour.accounts.models import Organization, User
from harbour.core.roles import Role

from .conftest import BROWSER, check, log_in, new_context, screenshots

pytestmark = BROWSER


@pytest.fixture
def street(org_a: Organization, make_member: Callable[..., User]) -> dict[str, Any]:
    from harbour.outreach import services

    coordinator = make_member(org_a, Role.COORDINATOR)
    services.program_update(
        actor=coordinator,
        organization=org_a,
        tracked=list(services.DEFAULT_TRACKED),
        areas=["K7L", "K7K"],
        expiry_warning_days=60,
        cover_weeks=4,
        low_stock_weeks=1,
    )
    van = services.team_save(actor=coordinator, organization=org_a, name="Van", fsa="K7L")
    park = services.spot_save(
        actor=coordinator, organization=org_a, name="Skeleton Park", fsa="K7K"
    )
    services.stock_receive(
        actor=coordinator,
        team=van,
        supply="naloxone-nasal",
        quantity=6,
        lot="NX1",
        expires_on=timezone.localdate() + timedelta(days=300),
    )
    services.stock_receive(actor=coordinator, team=van, supply="syringes", quantity=100)
    return {"org": org_a, "van": van, "park": park, "coordinator": coordinator}


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def controlled(page: Page) -> None:
    """Wait until the street app's service worker controls the page and has kept the forms
    (polled with evaluate: the strict CSP forbids the eval that wait_for_function needs)."""
    kept = """async () => {
        if (!navigator.serviceWorker || !navigator.serviceWorker.controller) return false;
        const scope = (await navigator.serviceWorker.ready).scope;
        for (const name of await caches.keys()) {
          const cache = await caches.open(name);
          if (await cache.match(new URL('overdose/', scope).pathname)) return true;
        }
        return false; }"""
    assert wait_for(lambda: bool(page.evaluate(kept)), timeout=15)


def stock(team: Any, supply: str) -> int:
    from harbour.outreach.models import StockLevel

    return sum(
        StockLevel.objects.filter(team=team, supply=supply).values_list("quantity", flat=True)
    )


def test_offline_encounters_and_an_overdose_response_reach_the_server_once_with_stock_deducted(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    street: dict[str, Any],
    make_member: Callable[..., User],
    enable_totp: Callable[[User], str],
) -> None:
    from harbour.outreach.models import Distribution, Encounter, OverdoseResponse
    from harbour.surveillance.models import OverdoseEvent

    org, van = street["org"], street["van"]
    worker = make_member(org, Role.PEER_WORKER)
    log_in(page, worker.email, enable_totp(worker))
    base = f"/org/{org.slug}/outreach/"

    # online: the worker opens the street app once; its service worker keeps the forms
    page.goto(base)
    expect(page.locator("h1")).to_contain_text("Outreach")
    controlled(page)
    check(page, "outreach-home")
    page.goto(base + "log/")
    expect(page.get_by_role("heading", name="Log an encounter")).to_be_visible()
    check(page, "outreach-log")

    # offline: three encounters
    page.context.set_offline(True)
    page.get_by_label("Postal area", exact=True).fill("K7L")
    page.get_by_role("button", name="One more: Naloxone kits, nasal").click()
    page.get_by_role("button", name="One more: Naloxone kits, nasal").click()
    page.get_by_label("Syringes", exact=True).fill("20")
    page.get_by_label("Family member or friend").check()
    page.get_by_label("Wound care", exact=True).check()
    page.get_by_role("spinbutton", name="Returning people").fill("1")
    page.get_by_role("button", name="Save encounter").click()
    outbox = page.locator("[data-outbox-count]")
    expect(outbox).to_have_text("1 record not yet sent. It is saved on this phone.")
    expect(page.locator("[data-outbox-state]")).to_have_text(
        "Saved on this phone. It will be sent when you are back online."
    )
    # the next one keeps the area; "same as last time" brings back the supplies
    expect(page.get_by_label("Postal area", exact=True)).to_have_value("K7L")
    page.get_by_role("link", name="Same as last time").click()
    expect(page.get_by_label("Syringes", exact=True)).to_have_value("20")
    page.get_by_label("Syringes", exact=True).fill("10")
    page.get_by_role("spinbutton", name="Returning people").fill("1")
    page.get_by_role("button", name="Save encounter").click()
    expect(outbox).to_have_text("2 records not yet sent. They are saved on this phone.")
    page.get_by_label("Named spot").select_option(label="Skeleton Park (K7K)")
    page.get_by_label("Postal area", exact=True).fill("")
    page.get_by_role("button", name="One more: New people").click()
    page.get_by_role("button", name="Save encounter").click()
    expect(outbox).to_have_text("3 records not yet sent. They are saved on this phone.")
    check(page, "outreach-log-offline")

    # still offline: the overdose form opens from the phone, and a response is logged
    page.get_by_role("link", name="Overdose response", exact=True).click()
    expect(page.get_by_role("heading", name="Overdose response")).to_be_visible()
    page.get_by_label("Postal area", exact=True).fill("K7K")
    page.get_by_label("Naloxone doses given", exact=True).fill("2")
    page.get_by_label("Nasal kits used from our stock", exact=True).fill("1")
    page.get_by_label("Not breathing").check()
    page.get_by_label("EMS attended").check()
    page.get_by_label("Fentanyl or another opioid").check()
    check(page, "outreach-overdose-offline")
    page.get_by_role("button", name="Save overdose response").click()
    expect(outbox).to_have_text("4 records not yet sent. They are saved on this phone.")
    assert Encounter.objects.count() == 0 and OverdoseResponse.objects.count() == 0
    queued = page.evaluate(
        """() => new Promise(done => { const r = indexedDB.open('harbour-outreach', 1);
             r.onsuccess = () => {
               const g = r.result.transaction('records').objectStore('records').getAll();
               g.onsuccess = () => done(g.result); }; })"""
    )
    assert sorted(q["kind"] for q in queued) == ["encounter", "encounter", "encounter", "response"]
    # a page that was never kept on the phone says so: the network really is gone
    page.goto(base + "stock/")
    expect(
        page.get_by_text("You are offline and this page was not saved on this phone.")
    ).to_be_visible()
    page.goto(base + "log/")
    expect(outbox).to_have_text("4 records not yet sent. They are saved on this phone.")

    # back online: everything is sent, once
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("[data-outbox]")).to_be_hidden(timeout=15000)
    assert wait_for(
        lambda: Encounter.objects.count() == 3 and OverdoseResponse.objects.count() == 1
    )
    by_area = sorted((e.fsa, e.people, e.spot_id is not None) for e in Encounter.objects.all())
    # "+1 new" on a fresh form is one person (returning starts at 0)
    assert by_area == [("K7K", 1, True), ("K7L", 1, False), ("K7L", 1, False)]
    assert sorted(Distribution.objects.values_list("supply", "quantity")) == [
        ("naloxone-nasal", 2),
        ("naloxone-nasal", 2),
        ("syringes", 10),
        ("syringes", 20),
    ]
    assert Distribution.objects.filter(recipient="family-friend").count() == 2
    # 6 nasal kits - 4 given - 1 used in the response; 100 syringes - 30
    assert (stock(van, "naloxone-nasal"), stock(van, "syringes")) == (1, 70)
    assert OverdoseEvent.objects.get().fsa == "K7K"

    # an answer lost on the way: the phone sends the same records again; nothing is doubled
    page.evaluate(
        """(records) => new Promise(done => { const r = indexedDB.open('harbour-outreach', 1);
             r.onsuccess = () => { const t = r.result.transaction('records', 'readwrite');
               records.forEach(x => t.objectStore('records').put(x));
               t.oncomplete = () => done(); }; })""",
        queued,
    )
    page.reload()
    expect(page.locator("[data-outbox]")).to_be_hidden(timeout=15000)
    assert Encounter.objects.count() == 3 and OverdoseResponse.objects.count() == 1
    assert OverdoseEvent.objects.count() == 1
    assert (stock(van, "naloxone-nasal"), stock(van, "syringes")) == (1, 70)


def test_a_refused_record_stays_on_the_phone_with_its_reason_until_it_is_fixed(
    page: Page,
    street: dict[str, Any],
    make_member: Callable[..., User],
    enable_totp: Callable[[User], str],
) -> None:
    from harbour.outreach.models import Encounter

    org, van = street["org"], street["van"]
    worker = make_member(org, Role.OUTREACH_WORKER)
    log_in(page, worker.email, enable_totp(worker))
    page.goto(f"/org/{org.slug}/outreach/log/")
    controlled(page)
    page.context.set_offline(True)
    # more naloxone than the van holds (6)
    page.get_by_label("Postal area", exact=True).fill("K7L")
    page.get_by_label("Naloxone kits, nasal", exact=True).fill("9")
    page.get_by_role("spinbutton", name="Returning people").fill("1")
    page.get_by_role("button", name="Save encounter").click()
    expect(page.locator("[data-outbox-count]")).to_have_text(
        "1 record not yet sent. It is saved on this phone."
    )
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    rejected = page.locator("[data-outbox-rejected] li")
    reason = (
        "Not enough Naloxone kits, nasal in the stock of Van: 9 given, 6 left. "
        "Record a receipt or a transfer first."
    )
    expect(rejected).to_contain_text(reason, timeout=15000)
    check(page, "outreach-rejected")
    # it survives a reload (it is kept on the phone, not dropped)
    page.reload()
    expect(rejected).to_contain_text(reason)
    assert Encounter.objects.count() == 0
    # the worker fixes it: the form comes back with the reason at the field
    rejected.get_by_role("link", name="Fix").click()
    expect(page.get_by_label("Naloxone kits, nasal", exact=True)).to_have_value("9")
    expect(page.locator(".count-field .js-error")).to_have_text(reason)
    page.get_by_label("Naloxone kits, nasal", exact=True).fill("3")
    page.get_by_role("button", name="Save encounter").click()
    expect(page.locator("[data-outbox-state]")).to_have_text("Saved and sent.", timeout=15000)
    assert wait_for(lambda: Encounter.objects.count() == 1)
    assert stock(van, "naloxone-nasal") == 3


def test_a_session_that_ended_keeps_the_records_until_the_worker_signs_in_again(
    page: Page,
    live_server: LiveServer,
    street: dict[str, Any],
    make_member: Callable[..., User],
    enable_totp: Callable[[User], str],
) -> None:
    from harbour.outreach.models import Encounter

    org = street["org"]
    worker = make_member(org, Role.PEER_WORKER)
    log_in(page, worker.email, enable_totp(worker))
    page.goto(f"/org/{org.slug}/outreach/log/")
    controlled(page)
    page.context.set_offline(True)
    page.get_by_label("Postal area", exact=True).fill("K7L")
    page.get_by_role("spinbutton", name="Returning people").fill("1")
    page.get_by_role("button", name="Save encounter").click()
    expect(page.locator("[data-outbox-count]")).to_have_text(
        "1 record not yet sent. It is saved on this phone."
    )
    # the 12-hour session ends while the phone is offline
    page.context.clear_cookies()
    page.context.set_offline(False)
    page.get_by_role("button", name="Send now").click()
    expect(page.locator("[data-outbox-state]")).to_have_text(
        "Signed out: sign in again to send. Nothing is lost: the records stay on this phone."
    )
    expect(page.get_by_role("link", name="Sign in again")).to_be_visible()
    assert Encounter.objects.count() == 0
    # signing in again brings the worker back, and the record goes (a new session is made
    # directly: the same authenticator code cannot be used twice within its 30 seconds)
    from django.test import Client

    again = Client()
    again.force_login(worker)
    page.context.add_cookies(
        [{"name": "sessionid", "value": again.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"/org/{org.slug}/outreach/")
    expect(page.locator("[data-outbox]")).to_be_hidden(timeout=15000)
    assert wait_for(lambda: Encounter.objects.count() == 1)


def test_an_anonymous_reversal_report_counts_and_the_report_and_csv_match_the_records(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    street: dict[str, Any],
    make_member: Callable[..., User],
    enable_totp: Callable[[User], str],
) -> None:
    from harbour.outreach import services
    from harbour.outreach.models import KitUseReport

    org, van, coordinator = street["org"], street["van"], street["coordinator"]
    worker = make_member(org, Role.PEER_WORKER)
    services.encounters_record(
        actor=worker,
        organization=org,
        records=[
            {
                "id": "6b1f8b52-0000-4000-8000-000000000001",
                "team": str(van.pk),
                "fsa": "K7L",
                "people_new": 2,
                "people_returning": 3,
                "supplies": {"naloxone-nasal": 2, "syringes": 40},
            },
        ],
    )

    # someone who used a kit tells us from the public site, on their phone, in French
    public = new_context(browser, live_server.url)
    person = public.new_page()
    person.goto("/naloxone/")
    check(person, "naloxone-public")
    person.get_by_role("link", name="I used a naloxone kit").click()
    check(person, "naloxone-kit-used")
    person.get_by_role("button", name="Français").click()
    expect(person.locator("h1")).to_have_text("J’ai utilisé une trousse de naloxone")
    check(person, "naloxone-kit-used-fr")
    person.get_by_label("Où (zone postale)").fill("K7L")
    person.get_by_label("Combien de doses avez-vous données\u00a0?", exact=True).fill("2")
    person.get_by_label("Elle s’est réveillée ou a recommencé à respirer").check()
    person.get_by_label("J’aimerais une nouvelle trousse").check()
    person.get_by_role("button", name="Envoyer").click()
    expect(person.locator("h1")).to_have_text("Merci")
    public.close()
    report = KitUseReport.objects.get()
    assert (report.fsa, report.organization_id, report.outcome, report.refill_status) == (
        "K7L",
        org.pk,
        "recovered",
        "open",
    )

    # the coordinator's report counts it among the reversals, and the CSV says the same
    log_in(page, coordinator.email, enable_totp(coordinator))
    page.goto(f"/org/{org.slug}/outreach/report/")
    figures = page.locator(".figures-table")
    expect(figures.locator("[data-figure=encounters] td")).to_have_text("1")
    expect(figures.locator("[data-figure=people] td")).to_have_text("5")
    expect(figures.locator("[data-figure=naloxone-given] td")).to_have_text("2")
    expect(figures.locator("[data-figure=kit-reports] td")).to_have_text("1")
    expect(figures.locator("[data-figure=reversals] td")).to_have_text("1")
    expect(page.locator("[data-supply=syringes] td")).to_have_text("40")
    check(page, "outreach-report")
    exported = page.request.get(f"/org/{org.slug}/outreach/report.csv")
    rows = {(r[0], r[1]): r[3] for r in csv.reader(io.StringIO(exported.text()))}
    assert (
        rows[("figures", "encounters")],
        rows[("figures", "people")],
        rows[("figures", "reversals")],
        rows[("supplies", "syringes")],
    ) == ("1", "5", "1", "40")
    # the version to share is one whole month that has ended (today's records wait for it)
    page.get_by_label("Version to share outside the organization (numbers under 5 hidden)").check()
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("The version to share covers one whole calendar month")).to_be_visible()
    expect(figures.locator("[data-figure=encounters] td")).to_have_text("0")
    # the refill request waits for the team
    page.goto(f"/org/{org.slug}/outreach/refills/")
    expect(page.locator("article.refill")).to_contain_text("K7L")
    check(page, "outreach-refills")
    page.get_by_role("button", name="Kit given or offered: done").click()
    expect(page.get_by_text("Marked done. Any contact detail was erased.")).to_be_visible()


def test_stock_naloxone_and_settings_pages_on_a_phone(
    page: Page, street: dict[str, Any], enable_totp: Callable[[User], str]
) -> None:
    org, coordinator = street["org"], street["coordinator"]
    log_in(page, coordinator.email, enable_totp(coordinator))
    page.goto(f"/org/{org.slug}/outreach/stock/")
    page.locator(".stock-all > summary").click()
    expect(page.get_by_role("heading", name="Van")).to_be_visible()
    check(page, "outreach-stock")
    page.goto(f"/org/{org.slug}/outreach/naloxone/")
    check(page, "outreach-naloxone")
    page.goto(f"/org/{org.slug}/outreach/settings/")
    check(page, "outreach-settings")
    # an encounter entered in error: the coordinator removes it from the records page
    from harbour.outreach import services
    from harbour.outreach.models import Encounter, StockLevel

    record = {"id": str(uuid.uuid4()), "team": str(street["van"].pk), "fsa": "K7L",
              "people_new": 1, "supplies": {"syringes": 10}}  # fmt: skip
    services.encounters_record(actor=coordinator, organization=org, records=[record])
    page.goto(f"/org/{org.slug}/outreach/records/")
    check(page, "outreach-records")
    page.get_by_role("link", name="Entered in error?").click()
    expect(page.locator("h1")).to_have_text("Remove a record entered in error")
    page.get_by_label("What was wrong with it").fill("Logged twice")
    check(page, "outreach-remove")
    page.get_by_role("button", name="Remove it").click()
    expect(page.get_by_text("Removed. Its supplies are back in stock.")).to_be_visible()
    assert not Encounter.objects.filter(pk=record["id"]).exists()
    assert StockLevel.objects.get(team=street["van"], supply="syringes").quantity == 100
    page.goto(f"/org/{org.slug}/outreach/log/")
    page.get_by_role("button", name="Français").click()
    expect(page.locator("h1")).to_have_text("Consigner une rencontre")
    check(page, "outreach-log-fr")


def test_without_javascript_the_street_forms_post_as_plain_forms(
    nojs_page: Page,
    street: dict[str, Any],
    make_member: Callable[..., User],
    enable_totp: Callable[[User], str],
) -> None:
    from harbour.outreach.models import Encounter

    org, van = street["org"], street["van"]
    worker = make_member(org, Role.PEER_WORKER)
    page = nojs_page
    log_in(page, worker.email, enable_totp(worker))
    page.goto(f"/org/{org.slug}/outreach/log/")
    # no + and - buttons, no "use my location", no outbox: just the fields
    expect(page.get_by_role("button", name="One more: Syringes")).to_be_hidden()
    expect(page.get_by_role("button", name="Use my location")).to_be_hidden()
    expect(page.locator("[data-outbox]")).to_be_hidden()
    screenshots(page, "outreach-log-nojs")  # axe-core needs JavaScript: checked with it above
    page.get_by_label("Postal area", exact=True).fill("K7M")
    page.get_by_label("Syringes", exact=True).fill("600")
    page.get_by_label("Returning people", exact=True).fill("1")
    page.get_by_role("button", name="Save encounter").click()
    expect(page.locator(".count-field.has-error")).to_contain_text(
        "Syringes must be between 0 and 500."
    )
    page.get_by_label("Syringes", exact=True).fill("15")
    page.get_by_role("button", name="Save encounter").click()
    expect(page.get_by_text("Encounter saved.")).to_be_visible()
    assert list(Encounter.objects.values_list("fsa", flat=True)) == ["K7M"]
    assert stock(van, "syringes") == 85


@pytest.mark.parametrize(
    ("language", "title", "exit_name", "back"),
    [
        ("en", "You are offline", "Quick exit", "Log an encounter"),
        ("fr", "Vous êtes hors ligne", "Quitter rapidement", "Consigner une rencontre"),
    ],
)
def test_the_offline_fallback_is_a_harbour_page_in_the_workers_language_with_quick_exit(
    page: Page,
    live_server: LiveServer,
    street: dict[str, Any],
    make_member: Callable[..., User],
    enable_totp: Callable[[User], str],
    language: str,
    title: str,
    exit_name: str,
    back: str,
) -> None:
    org = street["org"]
    worker = make_member(org, Role.PEER_WORKER)
    log_in(page, worker.email, enable_totp(worker))
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    base = f"/org/{org.slug}/outreach/"
    page.goto(base)
    controlled(page)
    page.context.set_offline(True)
    page.goto(base + "stock/")  # never kept on the phone
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    assert page.locator("html").get_attribute("lang") == language
    expect(page.get_by_role("link", name=exit_name)).to_be_visible()
    expect(page.get_by_role("link", name=back)).to_have_attribute("href", base + "log/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    check(page, f"outreach-offline-fallback-{language}")
    page.context.set_offline(False)
