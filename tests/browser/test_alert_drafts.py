"""An alert's whole draft life in a browser, on a phone and a desktop, checked by axe-core:
written in English and French, previewed as each channel sends it, changed, submitted; the
author waits for a second person; the approver (in French) sees both languages and how many
people it reaches, and confirms before it goes out. A draft thrown away leaves the list."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from harbour.accounts.models import Organization, User
from harbour.alerts import services
from harbour.alerts.models import Alert
from harbour.core.roles import Role
from harbour.notify.models import Message

from .conftest import AXE, BROWSER, DESKTOP, PHONE, check, log_in, new_context

pytestmark = BROWSER


def check_both(page: Page, name: str) -> None:
    """axe-core at phone size (``check``, with screenshots) and at desktop size."""
    check(page, name)
    page.set_viewport_size(DESKTOP)
    bad = [v["id"] for v in AXE.run(page).response["violations"]
           if v["impact"] in {"serious", "critical"}]  # fmt: skip
    page.set_viewport_size(PHONE)
    assert not bad, f"axe-core on {name} at desktop size: {bad}"


def test_a_draft_is_written_in_both_languages_previewed_and_approved_by_a_second_person(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    org_a: Organization,
    make_member: Callable[..., User],
    enable_totp: Callable[[User], str],
) -> None:
    services.subscribe_sms(phone="613-555-0101", areas=["K7L"], lang="fr")
    services.subscribe_sms(phone="613-555-0102", areas=["K7L"], lang="en")
    services.subscribe_sms(phone="613-555-0103", areas=["V6A"], lang="en")  # not reached
    writer = make_member(org_a, Role.COORDINATOR, email="writer@example.org")
    approver = make_member(org_a, Role.COORDINATOR, email="approver@example.org")
    log_in(page, writer.email, enable_totp(writer))
    # the writer drafts it in English and French, every public text
    page.goto(f"/org/{org_a.slug}/alerts/")
    page.get_by_label("Title (English)").fill("Green powder sold as down")
    page.get_by_label("Title (French)").fill("Poudre verte vendue comme du down")
    page.get_by_label("What people should know (English)").fill("It holds medetomidine.")
    page.get_by_label("What people should know (French)").fill("Elle contient de la médétomidine.")
    page.get_by_label("What it looks like, packaging (English)").fill("Green powder")
    page.get_by_label("What it looks like, packaging (French)").fill("Poudre verte")
    page.get_by_label("Postal areas").fill("K7L")
    page.get_by_label("Area, in words (English)").fill("Downtown Kingston")
    page.get_by_label("Area, in words (French)").fill("Centre-ville de Kingston")
    page.get_by_role("button", name="Save draft").click()
    # then sees it as each channel will send it, in both languages, and whom it reaches
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    english = page.locator("section[lang=en]")
    french = page.locator("section[lang=fr]")
    expect(english).to_contain_text("Harbour drug alert: Green powder sold as down.")
    expect(english).to_contain_text("GSM-7")
    expect(french).to_contain_text("Poudre verte vendue comme du down")
    expect(french).to_contain_text("UCS-2")
    expect(french).to_contain_text("Centre-ville de Kingston")
    expect(page.get_by_text("It will reach 2 subscribers:")).to_be_visible()
    check_both(page, "alert-draft-review")
    # changes it
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Area, in words (French)")).to_have_value("Centre-ville de Kingston")
    page.get_by_label("Title (English)").fill("Green powder: medetomidine")
    check_both(page, "alert-draft-edit")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("h1")).to_contain_text("Green powder: medetomidine")
    # and submits it: they cannot approve their own, and are told why
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_text("Waiting for a second person").first).to_be_visible()
    expect(page.get_by_role("button", name="Approve and send…")).to_have_count(0)
    page.goto(f"/org/{org_a.slug}/alerts/")
    expect(page.locator("p.status", has_text="Waiting for a second person")).to_be_visible()
    expect(page.get_by_role("link", name="Review and approve")).to_have_count(0)
    check_both(page, "alert-list-author")

    # a second coordinator, in French, reviews both languages and the count, then confirms
    context = new_context(browser, live_server.url)
    second = context.new_page()
    log_in(second, approver.email, enable_totp(approver))
    context.add_cookies([{"name": "django_language", "value": "fr", "url": live_server.url}])
    second.goto(f"/org/{org_a.slug}/alerts/")
    second.get_by_role("link", name="Relire et approuver").click()
    expect(second.locator("section[lang=en]")).to_contain_text("Green powder: medetomidine")
    expect(second.locator("section[lang=fr]")).to_contain_text("Poudre verte vendue")
    expect(second.get_by_text("Elle joindra 2 personnes abonnées :")).to_be_visible()
    check_both(second, "alert-review-approver-fr")
    second.get_by_role("button", name="Approuver et envoyer…").click()
    expect(second.locator("h1")).to_have_text("Envoyer cette alerte maintenant?")
    check_both(second, "alert-confirm-fr")
    alert = Alert.objects.get()
    assert alert.status == "pending" and Message.objects.count() == 0
    second.get_by_role("button", name="Oui, l’envoyer à 2 personnes abonnées").click()
    expect(second.get_by_text("Approuvée : l’alerte est publiée")).to_be_visible()
    alert.refresh_from_db()
    assert alert.status == "published" and alert.approved_by == approver
    assert Message.objects.filter(channel="sms").count() == 2
    context.close()


def test_a_draft_is_thrown_away(
    page: Page, org_a: Organization, make_member: Callable[..., User],
    enable_totp: Callable[[User], str],
) -> None:  # fmt: skip
    writer = make_member(org_a, Role.OUTREACH_WORKER)
    log_in(page, writer.email, enable_totp(writer))
    page.goto(f"/org/{org_a.slug}/alerts/")
    page.get_by_label("Title (English)").fill("Mistake")
    page.get_by_label("What people should know (English)").fill("Written by mistake.")
    page.get_by_label("Area, in words (English)").fill("Kingston")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("button", name="Discard the draft").click()
    expect(page.get_by_text("Draft discarded.")).to_be_visible()
    expect(page.get_by_role("link", name="Mistake")).to_have_count(0)
    check_both(page, "alert-discarded")
    assert Alert.objects.get().status == "discarded"
