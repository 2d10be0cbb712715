"""Intake by area in a real browser, checked by axe-core: an admin claims the postal areas whose
community reports the organization reviews, a coordinator confirms one; a person outside every
mentoring program's area is told so before giving anything."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from harbour.accounts.models import Organization, User
from harbour.alerts.models import CommunityReport
from harbour.core.roles import Role
from harbour.mentoring.models import MentorRequest, Program

from .conftest import BROWSER, check

pytestmark = BROWSER


def test_an_admin_claims_areas_and_a_coordinator_confirms_a_report(
    page: Page,
    org_a: Organization,
    make_member: Callable[..., User],
    enable_totp: Callable[[User], str],
) -> None:
    from .conftest import log_in

    # a report from K7L comes in while nobody serves K7L
    page.goto("/alerts/report/")
    page.get_by_label("An overdose").check()
    page.get_by_label("Effects, what happened").fill("Went blue after one point, naloxone twice.")
    page.get_by_label("Postal area").fill("K7L")
    page.get_by_role("button", name="Send the report").click()
    expect(page.locator("h1")).to_have_text("Thank you")
    assert CommunityReport.objects.get().organization is None
    # the organization's admin claims K7L: the report comes to them
    admin = make_member(org_a, Role.ORG_ADMIN)
    log_in(page, admin.email, enable_totp(admin))
    page.goto(f"/org/{org_a.slug}/alerts/reports/")
    expect(page.get_by_text("No postal area is set")).to_be_visible()
    check(page, "alerts-reports-empty")
    page.get_by_label("Postal areas whose community reports we review").fill("K7L, K7K")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved. Reports from these areas come to you.")).to_be_visible()
    expect(page.get_by_text("Went blue after one point")).to_be_visible()
    check(page, "alerts-reports")
    page.get_by_role("button", name="Confirm: it counts").click()
    expect(page.get_by_text("Report confirmed: it now counts in the figures.")).to_be_visible()
    assert CommunityReport.objects.get().status == "confirmed"


def test_nobody_serves_the_area_is_said_before_anything_is_asked(page: Page, org_a) -> None:  # type: ignore[no-untyped-def]
    Program.objects.create(organization=org_a, areas=" K7L K7K ")
    page.goto("/mentoring/ask/")
    page.get_by_label("Your postal area").fill("H2X 1Y4")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("No mentoring program on Harbour serves H2X yet.")).to_be_visible()
    expect(page.get_by_role("link", name="Call or text 9-8-8, any time")).to_have_attribute(
        "href", "tel:988"
    )
    expect(page.get_by_label("Mobile number or email")).to_have_count(0)
    check(page, "mentoring-ask-nobody")
    assert MentorRequest.objects.count() == 0
