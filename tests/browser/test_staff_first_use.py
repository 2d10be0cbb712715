"""What first-time staff ran into, checked in a browser on a phone (390x844) and a desktop
(1280x800), in English and French, axe-core clean: the sample date in French, opening,
correcting and showing a sample's code; adding time and the dispatcher board; the audit trail
in words with its filters; and joining from an invitation straight into TOTP set-up."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from django.utils import timezone
from playwright.sync_api import Page, expect

from harbour.accounts.models import Organization, User
from harbour.core.roles import Role

from ..conftest import totp_code
from .conftest import BROWSER, DESKTOP, PHONE, check, log_in

pytestmark = BROWSER


def check_both(page: Page, name: str) -> None:
    """axe-core on the phone and on the desktop (screenshots of both are kept by check)."""
    check(page, name)
    page.set_viewport_size(DESKTOP)
    check(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)


def to_french(page: Page) -> None:
    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")


def test_a_sample_in_french_opened_corrected_and_its_code_shown(
    page: Page, org_a: Organization, make_member: Callable[..., User], enable_totp: Callable
) -> None:
    from harbour.drugcheck import services
    from harbour.drugcheck.models import Sample

    worker = make_member(org_a, Role.PEER_WORKER)
    log_in(page, worker.email, enable_totp(worker))
    page.goto(f"/org/{org_a.slug}/drugcheck/")
    to_french(page)
    # the date is filled in, in French too (a browser date field takes ISO only)
    today = timezone.localdate().isoformat()
    expect(page.locator("#id_collected_on")).to_have_value(today)
    page.locator("#id_site").fill("Site principal")
    page.locator("#id_fentanyl_strip").select_option("positive")
    page.get_by_role("button", name="Enregistrer l’échantillon").click()
    sample = Sample.objects.get()
    expect(page.locator(".notice .sample-code")).to_have_text(sample.display_code)
    check_both(page, "drugcheck-recorded-fr")

    # show the code to the person: large, with where to look it up, nothing else
    page.get_by_role("link", name="Montrer ce code à la personne").click()
    expect(page.locator("h1")).to_have_text("Votre code d’échantillon")
    expect(page.locator(".sample-code-large")).to_have_text(sample.display_code)
    expect(page.locator(".lookup-url")).to_contain_text("/drugcheck/result/")
    expect(page.locator("main")).not_to_contain_text("Site principal")
    box = page.locator(".sample-code-large").bounding_box()
    assert box is not None and box["width"] <= 390  # fits the phone without scrolling sideways
    check_both(page, "drugcheck-show-code-fr")

    # the recent samples list opens the sample; a correction needs a reason
    page.goto(f"/org/{org_a.slug}/drugcheck/")
    page.get_by_role("link", name=sample.display_code).click()
    expect(page.locator("h1")).to_have_text(f"Échantillon {sample.display_code}")
    expect(page.locator("#id_collected_on")).to_have_value(today)
    check_both(page, "drugcheck-sample-fr")
    page.locator("#id_colour").fill("blanc")
    page.get_by_role("button", name="Enregistrer la correction").click()
    expect(page.locator(".has-error")).to_have_count(1)
    page.locator("#id_reason").fill("couleur oubliée")
    page.get_by_role("button", name="Enregistrer la correction").click()
    expect(page.get_by_text("Correction enregistrée.")).to_be_visible()
    sample.refresh_from_db()
    assert sample.colour == "blanc" and sample.collected_on == date.fromisoformat(today)

    # and in English, dates read unambiguously
    page.get_by_role("button", name="English").click()
    expect(page.locator(".facts").first).to_contain_text(timezone.localdate().strftime("%-d %b %Y"))
    check_both(page, "drugcheck-sample-en")
    page.get_by_role("link", name="Show this code to the person").click()
    check_both(page, "drugcheck-show-code-en")
    assert services.released_month(sample.collected_on) is None


def test_the_dispatcher_sees_how_late_and_reveals_phone_and_address(
    page: Page, org_a: Organization, make_member: Callable[..., User], enable_totp: Callable
) -> None:
    from harbour.checkins import services
    from harbour.checkins.models import Program, Session, State
    from harbour.core.models import AuditEvent

    program = Program.objects.create(organization=org_a, is_default=True, areas=" K7L ")
    session = services.start(
        services.Start(alias="Sam", phone="613 555 0142", minutes=10,
                       address="12 Princess St, apt 3", access_notes="buzz 3", fsa="K7L"),
        program=program,
    )  # fmt: skip
    now = timezone.now()
    Session.objects.filter(pk=session.pk).update(
        state=State.PROMPTED, prompted_at=now - timedelta(minutes=4, seconds=10),
        due_at=now + timedelta(minutes=5),
    )  # fmt: skip
    dispatcher = make_member(org_a, Role.PEER_WORKER)
    log_in(page, dispatcher.email, enable_totp(dispatcher))
    page.goto(f"/org/{org_a.slug}/checkins/")
    card = page.locator(f"#s-{session.pk}")
    expect(card.locator(".overdue-by")).to_have_text(re.compile(r"^Overdue by [45] min$"))
    expect(card).not_to_contain_text("Princess")
    check_both(page, "checkin-board-hidden")
    card.get_by_role("button", name="Show phone and address").click()
    call = page.locator(f"#s-{session.pk}").get_by_role("link", name="Call +16135550142")
    expect(call).to_have_attribute("href", "tel:+16135550142")
    expect(page.locator(f"#s-{session.pk}")).to_contain_text("12 Princess St, apt 3")
    check_both(page, "checkin-board-revealed")
    assert AuditEvent.objects.filter(action="checkin-contact-viewed").count() == 1
    to_french(page)
    card = page.locator(f"#s-{session.pk}")
    expect(card.locator(".overdue-by")).to_have_text(re.compile(r"^En retard de [45] min$"))
    expect(card.get_by_role("link", name="Appeler le +16135550142")).to_be_visible()
    check_both(page, "checkin-board-fr")


def test_the_audit_trail_in_words_filtered_by_person_and_dates(
    page: Page, org_a: Organization, admin_a: User, make_member: Callable[..., User],
    enable_totp: Callable,
) -> None:  # fmt: skip
    from harbour.accounts import services
    from harbour.accounts.models import Membership

    worker = make_member(org_a, Role.PEER_WORKER)
    worker.display_name = "Robin"
    worker.save()
    services.member_role_change(
        membership=Membership.objects.get(user=worker), role=Role.COORDINATOR, actor=admin_a
    )
    log_in(page, admin_a.email, enable_totp(admin_a))
    page.goto(f"/org/{org_a.slug}/audit/")
    row = page.locator("tbody tr", has_text="Member role changed").first
    expect(row).to_contain_text("Robin")
    expect(row).to_contain_text("Peer worker")
    expect(page.locator("tbody")).not_to_contain_text("[")
    check_both(page, "audit-en")
    page.get_by_label("Who").select_option(label=admin_a.email)
    today = timezone.localdate().isoformat()
    page.get_by_label("From").fill(today)
    page.get_by_label("To", exact=True).fill(today)
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"actor=user%3A\d+&date_from=" + today))
    expect(page.locator("tbody tr").first).to_contain_text(admin_a.email)
    check_both(page, "audit-filtered-en")
    to_french(page)
    expect(page.get_by_label("Qui")).to_be_visible()
    expect(page.locator("tbody tr").first).to_contain_text(today)
    check_both(page, "audit-filtered-fr")


def test_an_invitee_chooses_a_password_then_sets_up_totp_with_a_link_to_the_app(
    page: Page, org_a: Organization, admin_a: User
) -> None:
    from harbour.accounts import services

    _invitation, token = services.member_invite(
        organization=org_a, email="new@example.org", role="peer_worker", actor=admin_a
    )
    from django.urls import reverse

    page.goto(reverse("accounts:invitation-link", args=[token]))
    expect(page.locator("h1")).to_have_text(f"Join {org_a.name}")
    page.locator("#id_password1").fill("a-long-pass-phrase")
    page.locator("#id_password2").fill("a-long-pass-phrase")
    page.get_by_role("button", name="Create account and join").click()
    # straight to the set-up: the password just chosen is not asked for again
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    link = page.get_by_role("link", name="Open in authenticator app")
    href = link.get_attribute("href") or ""
    secret = page.get_by_label("Authenticator secret").input_value()
    assert href.startswith("otpauth://totp/") and f"secret={secret}" in href
    check_both(page, "invitation-totp-en")
    to_french(page)
    expect(
        page.get_by_role("link", name="Ouvrir dans l’application d’authentification")
    ).to_be_visible()
    # each showing of the page makes a new key (allauth): the link carries the one shown
    secret = page.get_by_label("Clé secrète de l’authentificateur").input_value()
    french_link = page.get_by_role("link", name="Ouvrir dans l’application d’authentification")
    assert f"secret={secret}" in (french_link.get_attribute("href") or "")
    check_both(page, "invitation-totp-fr")
    page.get_by_label("Code d’authentification").fill(totp_code(secret))
    page.get_by_role("button", name="Activer l’authentification à deux facteurs").click()
    expect(page.get_by_text("Clé secrète de l’authentificateur")).to_have_count(0)
    # the new member reaches their organization's pages: the second factor was passed
    page.goto(f"/org/{org_a.slug}/")
    expect(page).to_have_url(re.compile(rf"/org/{org_a.slug}/$"))
    expect(page.locator("h1")).to_have_text(org_a.name_fr or org_a.name)
    from allauth.mfa.models import Authenticator

    assert Authenticator.objects.filter(user__email="new@example.org", type="totp").exists()
