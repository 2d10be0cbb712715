"""Referrals in a real browser, on a phone: an outreach worker records a client and their
consent and refers them from a directory listing to a recovery centre; the centre's staff
accept, write, complete; the sender sees each step; revoking consent hides the details; another
organization gets 404 everywhere; the gap report shows the flow with suppression."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from harbour.accounts.models import Organization, User
from harbour.core.roles import Role

from .conftest import BROWSER, check, log_in, new_context, screenshots

pytestmark = BROWSER


def _listing(centre: Organization):  # type: ignore[no-untyped-def]
    from harbour.directory import services as ds
    from harbour.directory.models import (
        Address,
        DirectoryOrganization,
        Location,
        Service,
        ServiceAtLocation,
    )

    ds.taxonomy_load_harbour()
    provider = DirectoryOrganization.objects.create(name_en="Bayview", owner=centre)
    service = Service.objects.create(
        organization=provider, name_en="Day recovery program", name_fr="Programme de jour"
    )
    location = Location.objects.create(organization=provider, latitude=44.24, longitude=-76.5)
    Address.objects.create(
        location=location, address_1="2 King St", city="Kingston", state_province="ON",
        postal_code="K7K 1A1",
    )  # fmt: skip
    ServiceAtLocation.objects.create(service=service, location=location)
    ds.service_set_terms(service=service, codes=["recovery.recovery-centres"])
    return service


def test_referral_with_consent_from_listing_to_completion_on_a_phone(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    make_org: Callable[..., Organization],
    make_member: Callable[..., User],
    enable_totp: Callable[[User], str],
) -> None:
    from harbour.referrals.models import Client, Referral

    outreach = make_org("outreach-team", name_en="Lighthouse Outreach", province="ON")
    centre = make_org("bayview", name_en="Bayview Recovery Centre", province="ON")
    stranger = make_org("elsewhere", name_en="Elsewhere Services", province="ON")
    worker = make_member(outreach, Role.OUTREACH_WORKER)
    staff = make_member(centre, Role.COORDINATOR)
    outsider = make_member(stranger, Role.ORG_ADMIN)
    service = _listing(centre)

    # the outreach worker records a client: pseudonymous, reached through the phone
    log_in(page, worker.email, enable_totp(worker))
    page.goto(f"/org/{outreach.slug}/referrals/clients/new/")
    expect(page.locator("h1")).to_have_text("Record a client")
    page.get_by_role("button", name="Record the client").click()
    expect(page.locator(".has-error")).not_to_have_count(0)
    check(page, "referrals-client-new-error")
    page.get_by_label("Alias or preferred name").fill("Robin")
    page.get_by_label("Phone call or text").check()
    page.get_by_label("Phone", exact=True).fill("613 555 0142")
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Record the client").click()
    expect(page.locator("h1")).to_contain_text("Robin")
    person = Client.objects.get()

    # and their consent to share with the recovery centre
    page.get_by_role("link", name="Record consent").click()
    check(page, "referrals-consent")
    page.get_by_label("Bayview Recovery Centre").check()
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_text("Consent recorded.")).to_be_visible()
    check(page, "referrals-client")

    # then refers them from the centre's listing in the directory
    page.goto(f"/find/service/{service.pk}/")
    page.get_by_role("link", name="Refer someone").click()
    expect(page.locator("h1")).to_have_text("New referral")
    page.get_by_label("Who is being referred").select_option(f"{person.pk}")
    page.get_by_label("What they need").fill("A day program, mornings")
    check(page, "referrals-new")
    page.get_by_role("button", name="Send the referral").click()
    expect(page.locator("#referral-status")).to_have_text("Sent, waiting for them")
    check(page, "referrals-sender")
    referral = Referral.objects.get()
    sender_url = page.url

    # the centre's staff, on their own phone, find it in their queue and accept it
    context = new_context(browser, live_server.url)
    centre_page = context.new_page()
    log_in(centre_page, staff.email, enable_totp(staff))
    centre_page.goto(f"/org/{centre.slug}/referrals/")
    expect(centre_page.get_by_role("link", name=referral.reference)).to_be_visible()
    check(centre_page, "referrals-inbound")
    centre_page.get_by_role("link", name=referral.reference).click()
    panel = centre_page.locator(".client-panel")
    expect(panel).to_contain_text("Robin")
    expect(panel).to_contain_text("A day program, mornings")
    centre_page.get_by_role("button", name="Accept", exact=True).click()
    expect(centre_page.locator("#referral-status")).to_have_text("Accepted")
    centre_page.get_by_label("Write to both organizations").fill("Robin can start Monday at 10.")
    centre_page.get_by_role("button", name="Send the message").click()
    expect(centre_page.get_by_text("Message sent to both organizations.")).to_be_visible()
    centre_page.get_by_label("Add an internal note").fill("Bed 4 kept for them")
    centre_page.get_by_role("button", name="Save the note").click()
    centre_page.get_by_role("button", name="Start: first contact made").click()
    centre_page.get_by_role("button", name="Completed: they got help").click()
    expect(centre_page.locator("#referral-status")).to_have_text("Completed: got help")
    check(centre_page, "referrals-receiver")

    # the sender sees each step and the message, not the centre's note
    page.goto(sender_url)
    timeline = page.locator(".timeline")
    for step in ("Sent, waiting for them", "Accepted", "In progress", "Completed: got help"):
        expect(timeline).to_contain_text(step)
    expect(page.get_by_text("Robin can start Monday at 10.")).to_be_visible()
    expect(page.get_by_text("Bed 4 kept for them")).to_have_count(0)

    # the person withdraws their consent: the centre no longer sees their details
    page.goto(f"/org/{outreach.slug}/referrals/clients/{person.pk}/")
    page.get_by_role("button", name="Revoke this consent").click()
    expect(page.get_by_text("Consent revoked.")).to_be_visible()
    centre_page.reload()
    expect(panel).to_contain_text("the person revoked their consent")
    expect(panel).not_to_contain_text("Robin")
    expect(centre_page.locator("#referral-status")).to_have_text("Completed: got help")
    check(centre_page, "referrals-revoked")

    # another organization gets 404 on every referral URL and API
    other_context = new_context(browser, live_server.url)
    other = other_context.new_page()
    log_in(other, outsider.email, enable_totp(outsider))
    for url in (
        f"/org/{outreach.slug}/referrals/",
        f"/org/{outreach.slug}/referrals/r/{referral.pk}/",
        f"/org/{centre.slug}/referrals/r/{referral.pk}/",
        f"/org/{stranger.slug}/referrals/r/{referral.pk}/",
        f"/org/{stranger.slug}/referrals/r/{referral.pk}/fhir.json",
        f"/org/{outreach.slug}/referrals/clients/{person.pk}/",
    ):
        response = other.goto(url)
        assert response is not None and response.status == 404, url
    for url in (f"/api/v1/referrals/{referral.pk}", f"/api/v1/referrals/{referral.pk}/fhir"):
        api = other.request.get(url)
        assert (api.status, api.json()["code"]) == (404, "not_found"), url
    other_context.close()

    # the gap report shows the flow, small numbers suppressed, once the month is released
    from harbour.core import releases

    today = timezone.localdate()
    index = today.year * 12 + (today.month - 1) // 3 * 3 + 3  # the quarter's end
    quarter_end = datetime(index // 12, index % 12 + 1, 1, 12, tzinfo=UTC)
    releases.make_due(now=quarter_end + timedelta(days=8))
    centre_page.goto(f"/org/{centre.slug}/referrals/gaps/")
    table = centre_page.locator(".gap-table")
    expect(table).to_contain_text("Recovery")
    expect(centre_page.locator("#gap-total")).to_have_text("<5")
    check(centre_page, "referrals-gaps")
    centre_page.get_by_role("button", name="Français").click()
    expect(centre_page.locator("h1")).to_have_text("Lacunes de services")
    check(centre_page, "referrals-gaps-fr")
    centre_page.goto(f"/org/{centre.slug}/referrals/r/{referral.pk}/")
    check(centre_page, "referrals-receiver-fr")
    context.close()


def test_a_person_asks_a_listing_to_contact_them_without_javascript(
    page: Page, nojs_page: Page, make_org: Callable[..., Organization]
) -> None:
    from harbour.referrals.models import Referral

    centre = make_org("bayview", name_en="Bayview Recovery Centre", province="ON")
    service = _listing(centre)
    # axe-core needs JavaScript: the page is checked with it, then used without it
    page.goto(f"/referrals/contact-me/{service.pk}/")
    check(page, "referrals-contact-me")
    page = nojs_page
    page.goto(f"/find/service/{service.pk}/")
    page.get_by_role("link", name="Ask them to contact me").click()
    expect(page.locator("h1")).to_have_text("Ask them to contact you")
    page.get_by_label("What should they call you?").fill("Jo")
    page.get_by_label("Phone number").fill("613 555 0177")
    page.get_by_role("button", name="Send my request").click()
    expect(page.locator(".has-error")).to_have_count(1)  # consent not ticked
    screenshots(page, "referrals-contact-me-error")
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="Send my request").click()
    expect(page.locator("h1")).to_have_text("Request sent")
    screenshots(page, "referrals-contact-me-sent")
    assert Referral.objects.get().source == "self"
