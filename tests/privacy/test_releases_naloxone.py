"""Attacks on the naloxone figures: "naloxone used" minus "reversals", new + returning beside
their total, and polling the public page for a change. Public figures are stored releases of
whole closed months; the version to share is one whole ended month; both are suppressed with
every sum their figures make, so none of these works."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from harbour.core.releases import make_due
from harbour.core.roles import Role
from harbour.outreach import services

pytestmark = pytest.mark.django_db
LOCAL = ZoneInfo("America/Toronto")
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=LOCAL)
OCTOBER = datetime(2026, 10, 20, 12, 0, tzinfo=LOCAL)


def kit_used(day: date, outcome: str) -> None:
    services.kit_use_report(
        report_id=str(uuid.uuid4()), used_on=day, fsa="K7L", doses=1, outcome=outcome
    )


def figures(html: str) -> dict[str, list[str]]:
    """Every figure on the page by its code, as an attacker reads it (one value a column)."""
    found: dict[str, list[str]] = {}
    for code, body in re.findall(r'data-figure="([a-z-]+)">(.*?)</(?:dd|tr)>', html, re.S):
        found[code] = re.findall(r"<(?:td|dd)[^>]*>([^<]*)</", f"<dd>{body}</dd>")
        found[code] = [v for v in found[code] if v.strip()] or [body.strip()]
    return found


def revealed(total: str, part: str) -> int | None:
    """What total - part gives away, when both are shown and the difference is 1 to 4."""
    if total.isdigit() and part.isdigit() and 0 < int(total) - int(part) < 5:
        return int(total) - int(part)
    return None


def test_naloxone_used_minus_reversals_never_gives_the_deaths_away(client):
    # given twenty "I used a kit" reports in October: eighteen people lived, two died
    with time_machine.travel(OCTOBER, tick=False):
        for n in range(20):
            kit_used(date(2026, 10, 1 + n), "recovered" if n < 18 else "deceased")
    # when the releases due in December are made and an attacker reads /naloxone/
    with time_machine.travel(NOW, tick=False):
        make_due()
        shown = figures(client.get("/naloxone/").content.decode())
    # then the month of October is there, with naloxone used 20, but "reversals" is hidden as
    # a complement ("x"): on the live page 20 - 18 told everyone that two people died
    assert "20" in shown["naloxone-used"]
    assert not [
        d
        for used, rev in zip(shown["naloxone-used"], shown["reversals"], strict=True)
        if (d := revealed(used, rev))
    ]
    assert shown["reversals"][shown["naloxone-used"].index("20")] == "x"


def test_new_and_returning_beside_their_total_never_give_a_small_count_away(
    make_org, make_member, staff_client
):
    # given an outreach team that met 17 new people and 3 returning ones in October
    org = make_org("kingston-outreach")
    coordinator = make_member(org, Role.COORDINATOR)
    van = services.team_save(actor=coordinator, organization=org, name="Van", fsa="K7L")
    records = [(5, 1), (5, 1), (5, 1), (2, 0)]
    with time_machine.travel(OCTOBER, tick=False):
        stored = services.encounters_record(
            actor=coordinator,
            organization=org,
            records=[
                {"id": str(uuid.uuid4()), "team": str(van.pk), "fsa": "K7L",
                 "people_new": new, "people_returning": back}
                for new, back in records
            ],
        )  # fmt: skip
    assert all(r.status == "stored" for r in stored), stored
    # when a coordinator makes the version to share of October for a funder
    with time_machine.travel(NOW, tick=False):
        client = staff_client(coordinator)
        page = client.get(
            f"/org/{org.slug}/outreach/report/",
            {"first": "2026-10-01", "last": "2026-10-31", "shared": "on"},
        ).content.decode()
    shown = figures(page)
    people, new, back = shown["people"][0], shown["people-new"][0], shown["people-returning"][0]
    # then the returning 3 is "<5", and neither people - new nor people - returning gives a
    # count 1-4 (the old version showed 20 and 17 beside "<5")
    assert back == "&lt;5"
    assert revealed(people, new) is None and revealed(people, back) is None
    assert "x" in (people, new)


def test_polling_the_public_page_for_a_day_shows_no_change(client):
    # given six kit reports in October and November, and the releases due today made
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        for n in range(6):
            kit_used(date(2026, 10, 5) + timedelta(days=9 * n), "recovered")
    with time_machine.travel(NOW, tick=False):
        make_due()
        before = client.get("/naloxone/").content.decode()
        # when one more person reports using a kit today
        kit_used(NOW.date(), "recovered")
    # then polling the page every two hours for a day (the scheduler running each hour, the
    # date changing at midnight) shows the same figures: the live page moved at once
    for hours in range(1, 25, 2):
        with time_machine.travel(NOW + timedelta(hours=hours), tick=False):
            make_due()
            assert figures(client.get("/naloxone/").content.decode()) == figures(before)


def test_the_public_month_minus_one_organizations_version_to_share_reveals_nothing(
    client, make_org, make_member, staff_client
):
    # given two outreach organizations in October: A gave 30 naloxone kits, B gave 3
    given = {}
    for slug, kits in (("org-a", 30), ("org-b", 3)):
        org = make_org(slug)
        coordinator = make_member(org, Role.COORDINATOR)
        van = services.team_save(actor=coordinator, organization=org, name="Van", fsa="K7L")
        with time_machine.travel(OCTOBER - timedelta(days=5), tick=False):
            services.stock_receive(
                actor=coordinator, team=van, supply="naloxone-nasal",
                quantity=kits, lot="L1", expires_on=date(2028, 1, 1),
            )  # fmt: skip
        with time_machine.travel(OCTOBER, tick=False):
            stored = services.encounters_record(
                actor=coordinator,
                organization=org,
                records=[
                    {"id": str(uuid.uuid4()), "team": str(van.pk), "fsa": "K7L",
                     "people_new": 1, "supplies": {"naloxone-nasal": 1}}
                    for _ in range(kits)
                ],
            )  # fmt: skip
        assert all(r.status == "stored" for r in stored), stored
        given[slug] = (org, coordinator)
    # when A's funder holds A's version to share of October and reads the public page
    org_a, coordinator_a = given["org-a"]
    with time_machine.travel(NOW, tick=False):
        make_due()
        public = figures(client.get("/naloxone/").content.decode())
        shared = figures(
            staff_client(coordinator_a)
            .get(
                f"/org/{org_a.slug}/outreach/report/",
                {"first": "2026-10-01", "last": "2026-10-31", "shared": "on"},
            )
            .content.decode()
        )
    # then A's 30 is there, but the public October figure is hidden ("x"), since 33 - 30
    # would give B's 3 away
    assert shared["naloxone-given"] == ["30"]
    october = public["naloxone-given"][-1]
    assert revealed(october, shared["naloxone-given"][0]) is None
    assert october == "x"
