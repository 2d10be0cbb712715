"""Spikes and trends in a real browser: an injected burst becomes a signal, seen on a phone by
a coordinator and turned into an alert draft; the public page in French hides small counts."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import Page, expect

from harbour.accounts.models import Organization, User
from harbour.core.releases import make_due
from harbour.core.roles import Role
from harbour.surveillance import services
from harbour.surveillance.models import DetectionSettings, Method, Signal, Source

from .conftest import BROWSER, check, log_in

pytestmark = BROWSER


def _events(org: Organization, fsa: str, hours: list[float], prefix: str) -> None:
    now = timezone.now()
    for i, hours_ago in enumerate(hours):
        services.event_record(
            organization=org,
            data=services.EventIn(occurred_at=now - timedelta(hours=hours_ago),
                                  source=Source.EMS, source_ref=f"{prefix}:{i}", fsa=fsa),
        )  # fmt: skip


def test_a_burst_becomes_a_signal_and_an_alert_draft_on_a_phone(
    page: Page,
    org_a: Organization,
    make_member: Callable[..., User],
    enable_totp: Callable[[User], str],
) -> None:
    # given a month of calm in K7K, then six overdoses in K7L this morning, and the hourly run
    DetectionSettings.objects.create(
        organization=org_a, areas="K7L K7K", methods=[Method.POISSON_GAMMA, Method.COUNT_24H],
        share_publicly=True,
    )  # fmt: skip
    _events(org_a, "K7K", [24 * d + 5 for d in range(2, 40, 3)], "calm")
    _events(org_a, "K7L", [0.5 + h for h in range(6)], "burst")
    services.detect_all()
    coordinator = make_member(org_a, Role.COORDINATOR)
    # when the coordinator opens the dashboard on their phone
    log_in(page, coordinator.email, enable_totp(coordinator))
    page.goto(f"/org/{org_a.slug}/")
    page.get_by_role("link", name="Spikes and trends").click()
    expect(page.locator("h1")).to_contain_text("Spikes and trends")
    expect(page.locator("#new-heading")).to_have_text(re.compile(r"^\d+ new signals?$"))
    expect(page.get_by_role("img", name=re.compile("Overdose events a day"))).to_be_visible()
    check(page, "surveillance-dashboard")
    # then the K7L signal opens with its chart and what to do
    page.get_by_role("link", name="K7L").first.click()
    expect(page.locator("h1")).to_contain_text("K7L")
    expect(page.locator(".facts")).to_contain_text("6")
    check(page, "surveillance-signal")
    page.get_by_role("button", name="Dismiss").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()
    check(page, "surveillance-signal-error")
    page.get_by_role("button", name="Make a drug alert draft").click()
    # and the alert draft opens on its review page, its times local, in both languages
    expect(page.get_by_text("Alert draft made.")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("More overdoses than usual: K7L")
    expect(page.locator("section[lang=fr]")).to_contain_text("Plus de surdoses que d’habitude")
    check(page, "surveillance-alert-draft")
    assert Signal.objects.filter(status="alerted").count() == 1


def test_the_public_trends_page_in_french(page: Page, org_a: Organization) -> None:
    DetectionSettings.objects.create(organization=org_a, share_publicly=True)
    # events 36 to 90 days ago: always in the three released blocks of four weeks
    _events(org_a, "K7L", [24 * d + 2 for d in range(36, 90)], "a")
    _events(org_a, "K7K", [24 * 40, 24 * 41, 24 * 60], "b")
    services.published_import(text=services.shipped_harms())
    make_due()
    page.goto("/trends/")
    page.get_by_role("button", name="Français").click()
    expect(page.locator("h1")).to_have_text("Tendances des surdoses")
    cells = page.locator("table").first.locator("td").all_inner_texts()
    assert cells and not {"1", "2", "3", "4"} & set(cells)
    assert "<5" in cells
    expect(page.get_by_role("img", name=re.compile("Décès apparemment liés"))).to_be_visible()
    check(page, "trends-fr")
    page.get_by_label("Région", exact=True).select_option("Ontario")
    page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_role("img", name=re.compile("Ontario"))).to_be_visible()
