"""Erasing a client now, and choosing how long client details are kept, in a real browser on a
phone, checked with axe-core in both languages."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from harbour.accounts.models import Organization, User
from harbour.core.roles import Role

from .conftest import BROWSER, check, log_in

pytestmark = BROWSER


def test_a_coordinator_erases_a_client_and_an_admin_sets_the_retention(
    page: Page,
    make_org: Callable[..., Organization],
    make_member: Callable[..., User],
    enable_totp: Callable[[User], str],
) -> None:
    from harbour.referrals import services
    from harbour.referrals.models import Client

    org = make_org("outreach-team", name_en="Lighthouse Outreach", province="ON")
    admin = make_member(org, Role.ORG_ADMIN)
    client = services.client_create(
        actor=admin,
        organization=org,
        data=services.ClientData(alias="Robin", contact_method="phone", phone="613 555 0142"),
    )
    log_in(page, admin.email, enable_totp(admin))
    # the retention, within bounds
    page.goto(f"/org/{org.slug}/referrals/clients/")
    expect(page.get_by_text("erased 365 days after their last referral closed")).to_be_visible()
    page.get_by_role("link", name="Change").click()
    check(page, "referrals-retention")
    page.get_by_label("Days a client's details are kept").fill("180")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("erased 180 days after their last referral closed")).to_be_visible()
    # erase one client now, with a reason and a confirmation
    page.goto(f"/org/{org.slug}/referrals/clients/{client.pk}/")
    check(page, "referrals-client-erase")
    page.get_by_label("Why").select_option("person-asked")
    page.get_by_label("I understand this cannot be undone").check()
    page.get_by_role("button", name="Erase this client now").click()
    expect(page.locator("h1")).to_contain_text("Details erased")
    expect(page.get_by_text("613")).to_have_count(0)
    check(page, "referrals-client-erased")
    page.get_by_role("button", name="Français").click()
    expect(page.locator("h1")).to_contain_text("Détails effacés")
    check(page, "referrals-client-erased-fr")
    assert Client.objects.get(pk=client.pk).erased_at is not None
