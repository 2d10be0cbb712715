"""A staff member's home (/org/, where sign-in lands): what needs them now, for their own
organizations and only what their role can act on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from harbour.accounts import home
from harbour.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_after() -> Iterator[None]:
    # a French page leaves French active in this thread: the next test starts in English
    yield
    translation.activate("en")


@pytest.fixture
def filled(org_a, make_member, make_needs) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    author = make_member(org_a, Role.COORDINATOR, email="author@org-a.example.org")
    return {"author": author, **make_needs(org_a, author)}


def sections(user: Any) -> dict[str, home.Section]:
    (found,) = home.for_actor(user)
    return {s.key: s for s in found.sections}


def test_a_coordinator_sees_each_thing_that_needs_them_with_its_count(
    filled, org_a, make_member
) -> None:
    coordinator = make_member(org_a, Role.COORDINATOR)
    found = sections(coordinator)
    assert {k: s.count for k, s in found.items()} == {
        "alerts": 1,
        "checkins": 1,
        "signals": 2,  # one burst seen by four methods, and another area
        "referrals": 1,
        "refills": 1,
        "stock": 1,
    }
    burst = found["signals"].items
    assert [(i.text.split(",")[0], i.text.split(": ", 1)[1]) for i in burst] == [
        ("K7K", "seen by 1 method (Events in 24 hours (fixed threshold))"),
        (
            "K7L",
            "seen by 4 methods (EARS C1, EARS C2, Bayesian Poisson-gamma (small counts), "
            "Space-time cluster scan)",
        ),
    ]
    assert burst[1].url == reverse(
        "surveillance-staff:signal", args=[org_a.slug, filled["signals"][0].pk]
    )
    assert found["alerts"].items[0].text == "Green pills"
    assert found["stock"].items[0].text == "Van: 1 nasal naloxone kit left"
    assert found["checkins"].url == reverse("checkins-staff:board", args=[org_a.slug])


def test_the_author_of_an_alert_is_not_asked_to_approve_it(filled) -> None:
    assert "alerts" not in sections(filled["author"])


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.VIEWER, set()),
        (Role.PEER_WORKER, {"checkins", "referrals", "refills"}),
        (Role.OUTREACH_WORKER, {"checkins", "referrals", "refills", "stock"}),
        (Role.COORDINATOR, {"alerts", "checkins", "signals", "referrals", "refills", "stock"}),
    ],
)
def test_a_section_shows_only_to_a_role_that_can_act_on_it(
    filled, org_a, make_member, role, expected
) -> None:
    assert set(sections(make_member(org_a, role))) == expected


def test_nothing_to_do_says_so_and_offers_the_everyday_pages(
    org_a, make_member, staff_client
) -> None:
    worker = make_member(org_a, Role.PEER_WORKER)
    client = staff_client(worker)
    page = client.get(reverse("accounts:dashboard"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Nothing needs you right now." in text
    assert reverse("outreach-staff:log", args=[org_a.slug]) in text
    # no link to a page this role cannot open
    assert reverse("alerts-staff:list", args=[org_a.slug]) not in text
    client.cookies["django_language"] = "fr"
    page = client.get(reverse("accounts:dashboard"))
    assert "Rien ne vous attend pour l’instant." in page.content.decode()


def test_the_home_page_lists_the_sections_in_french(filled, org_a, make_member, staff_client):
    coordinator = make_member(org_a, Role.COORDINATOR)
    client = staff_client(coordinator)
    client.cookies["django_language"] = "fr"
    text = client.get(reverse("accounts:dashboard")).content.decode()
    assert "1 alerte attend une deuxième personne" in text
    assert "1 trousse de naloxone nasale" in text


def test_sign_in_lands_on_the_home(settings) -> None:
    assert reverse(settings.LOGIN_REDIRECT_URL) == reverse("accounts:dashboard") == "/org/"


def test_the_same_burst_seen_for_the_city_and_the_whole_community_is_one_item(
    filled, org_a, make_member
) -> None:
    """The K7L burst also lifts Kingston's and the whole community's counts: those signals
    join the K7L item ("also seen in ..."); a community signal of other days stays its own."""
    from datetime import timedelta

    from django.utils import timezone

    from harbour.surveillance.models import Level, Method, Signal

    now = timezone.now()
    for level, area in [(Level.CITY, "Kingston"), (Level.COMMUNITY, "")]:
        Signal.objects.create(
            organization=org_a, method=Method.EARS_C3, level=level, area=area,
            period_start=now - timedelta(hours=20), period_end=now, observed=12,
        )  # fmt: skip
    Signal.objects.create(
        organization=org_a, method=Method.EARS_C3, level=Level.COMMUNITY, area="",
        period_start=now - timedelta(days=30), period_end=now - timedelta(days=29), observed=7,
    )  # fmt: skip
    coordinator = make_member(org_a, Role.COORDINATOR)
    found = sections(coordinator)["signals"]
    assert found.count == 3  # K7L (with Kingston and the community), K7K, last month's
    k7l = next(i.text for i in found.items if i.text.startswith("K7L"))
    assert "seen by 5 methods" in k7l
    assert k7l.endswith("; also seen in Kingston, Whole community")
    assert sum(i.text.startswith("Whole community") for i in found.items) == 1
