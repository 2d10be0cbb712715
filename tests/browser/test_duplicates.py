"""Duplicate listings in a real browser: a coordinator merges a group on a desktop screen (and
the old link leads to the kept listing), and a person searching on a phone sees a place
entered twice once. axe-core clean, English and French."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from harbour.accounts.models import Organization, User
from harbour.core.roles import Role

from .conftest import BROWSER, DESKTOP, check, log_in

pytestmark = BROWSER


def _listing(owner: Any, provider: str, name: str, address: str, phone: str) -> Any:
    from harbour.directory import services as ds
    from harbour.directory.models import (
        Address,
        DirectoryOrganization,
        Location,
        Phone,
        Service,
        ServiceAtLocation,
    )

    org = DirectoryOrganization.objects.create(name_en=provider, owner=owner)
    service = Service.objects.create(organization=org, name_en=name, name_fr=name)
    location = Location.objects.create(organization=org, latitude=44.2312, longitude=-76.486)
    Address.objects.create(
        location=location, address_1=address, city="Kingston", state_province="ON",
        postal_code="K7K 0B5",
    )  # fmt: skip
    Phone.objects.create(service=service, number=phone)
    sal = ServiceAtLocation.objects.create(service=service, location=location)
    ds.opening_rows_rebuild(service_at_locations=[sal])
    ds.service_reindex(services=[service])
    return service


def test_a_coordinator_merges_duplicates_on_a_desktop(
    page: Page,
    make_org: Callable[..., Organization],
    make_member: Callable[..., User],
    enable_totp: Callable[[User], str],
) -> None:
    from harbour.directory.models import MergedId, Service

    org = make_org("kchc", name_en="Kingston Community Health", province="ON")
    coordinator = make_member(org, Role.COORDINATOR)
    first = _listing(org, "Kingston CHC", "Street Health Centre", "235 Wellington St",
                     "613-549-1440")  # fmt: skip
    second = _listing(org, "KINGSTON CHC", "Street health centre", "235 Wellington Street",
                      "(613) 549-1440")  # fmt: skip
    page.set_viewport_size(DESKTOP)
    log_in(page, coordinator.email, enable_totp(coordinator))
    page.goto(f"/org/{org.slug}/directory/duplicates/")
    page.set_viewport_size(DESKTOP)
    expect(page.locator("h1")).to_contain_text("Possible duplicates")
    expect(page.get_by_role("heading", name="Group 1")).to_contain_text(
        "Same name and address, same name and phone number"
    )
    check(page, "directory-duplicates")
    page.set_viewport_size(DESKTOP)
    # keep the second one
    page.get_by_role("radio", name="(613) 549-1440").check()
    page.get_by_role("button", name="Merge…").click()
    expect(page.locator("h1")).to_contain_text("Merge listings")
    expect(page.get_by_text("Merged into it and removed (1)")).to_be_visible()
    check(page, "directory-duplicates-merge")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name="Merge", exact=True).click()
    expect(page.get_by_text("1 listing was merged into “Street health centre”.")).to_be_visible()
    expect(page.get_by_text("No possible duplicates among your listings.")).to_be_visible()
    assert not Service.objects.filter(pk=first.pk).exists()
    assert MergedId.objects.get(old_id=first.pk).new_id == second.pk
    # the old public link leads to the kept listing
    page.goto(f"/find/service/{first.pk}/")
    assert page.url.endswith(f"/find/service/{second.pk}/")
    expect(page.locator("h1")).to_contain_text("Street health centre")
    # in French
    page.goto(f"/org/{org.slug}/directory/duplicates/")
    page.get_by_role("button", name="Français").click()
    expect(page.locator("h1")).to_contain_text("Doublons possibles")
    check(page, "directory-duplicates-fr")


def test_a_place_entered_twice_is_one_result_on_a_phone(page: Page) -> None:
    _listing(None, "Kingston CHC", "Street Health Centre", "235 Wellington St", "613-549-1440")
    _listing(None, "KINGSTON CHC", "Street health centre", "235 Wellington Street.",
             "(613) 549-1440")  # fmt: skip
    _listing(None, "Kingston Youth Shelter", "Street Health Centre", "235 Wellington St",
             "613-555-0101")  # fmt: skip
    page.goto("/find/?q=street+health")
    results = page.locator("li.result")
    expect(results).to_have_count(2)
    expect(results.filter(has_text="Street Health Centre")).to_have_count(2)
    check(page, "directory-search-one-per-place")
