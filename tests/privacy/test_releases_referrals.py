"""Attacks on the cross-organization service-gap report (issue 16): difference two periods it
offers ("90 days" against "12 months") to recover a hidden count, and poll it by the second to
see a referral cross the edge of a sliding window. The report is a release per closed quarter
(the quarter and its months, suppressed jointly), made once; quarters never overlap."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import combinations
from typing import Any

import pytest
import time_machine
from lxml import html

from harbour.core.roles import Role
from harbour.referrals import services
from harbour.referrals.models import ContactMethod, Referral

pytestmark = pytest.mark.django_db

# the release due on 10 January 2027 covers the referrals sent in October-December 2026
RELEASE_DAY = datetime(2027, 1, 10, 17, 0, tzinfo=UTC)
QUARTERS = ((2026, 4), (2026, 7), (2026, 10), (2027, 1))
QUARTER_DAYS = [datetime(y, m, 10, 17, 0, tzinfo=UTC) for y, m in QUARTERS]
COLUMNS = ["completed", "no_capacity", "declined_other", "open", "other"]


@pytest.fixture
def setting(make_org, make_member, staff_client):  # type: ignore[no-untyped-def]
    """A sender, a receiver, a client, and the receiver's coordinator signed in."""
    outreach = make_org("outreach-team", city="Kingston", province="ON")
    centre = make_org("recovery-centre", city="Kingston", province="ON")
    worker = make_member(outreach, Role.OUTREACH_WORKER)
    coordinator = make_member(centre, Role.COORDINATOR)
    person = services.client_create(
        actor=worker,
        organization=outreach,
        data=services.ClientData(alias="Robin", contact_method=ContactMethod.PHONE,
                                 phone="613 555 0142", language="fr"),
    )  # fmt: skip
    web = staff_client(coordinator)

    def add(sent: datetime, n: int, status: str, reason: str = "", area: str = "K7K") -> None:
        for _ in range(n):
            Referral.objects.create(
                client=person, sender=outreach, receiver=centre, service_type="recovery",
                area=area, status=status, reason_code=reason, sent_at=sent,
                accepted_at=sent + timedelta(hours=20) if status != "declined" else None,
            )  # fmt: skip

    def get(at: datetime, **params: str) -> Any:
        with time_machine.travel(at, tick=False):
            web.force_login(coordinator)  # a session lasts 12 hours
            response = web.get(f"/org/{centre.slug}/referrals/gaps/", params)
        assert response.status_code == 200
        return html.fromstring(response.content.decode())

    return add, get


def publish(run_tasks: Callable[[], None], at: datetime) -> None:
    """The scheduler's hourly job, on the real worker, at ``at``."""
    from harbour.core.tasks import make_releases

    with time_machine.travel(at, tick=False):
        make_releases.enqueue()
        run_tasks()


def table(doc: Any) -> dict[str, str]:
    """The outcomes table as shown: (type or "*", column or "total") -> figure."""
    out = {}
    for row in doc.xpath("//table[contains(@class, 'gap-table')]/tbody/tr"):
        cells = [td.text_content().strip() for td in row.xpath("./td")]
        out["recovery:total"] = cells[0]
        out.update({f"recovery:{c}": v for c, v in zip(COLUMNS, cells[1:6], strict=True)})
    for row in doc.xpath("//table[contains(@class, 'gap-table')]/tfoot/tr"):
        cells = [td.text_content().strip() for td in row.xpath("./td")]
        out["*:total"] = cells[0]
        out.update({f"*:{c}": v for c, v in zip(COLUMNS, cells[1:6], strict=True)})
    return out


def nested(a: str, b: str) -> bool:
    """Whether one period holds the other: windows of days all end now, so the longer holds
    the shorter; a release's months are inside its quarter."""
    return "/" not in a or a.split("/")[0] == b.split("/")[0]


def test_differencing_two_periods_of_the_report_recovers_no_hidden_count(setting, run_tasks):
    add, get = setting
    # given 10 completed and 8 open referrals sent in November, and in August 2 completed
    # and 6 declined for lack of capacity; the scheduler running all year
    add(datetime(2026, 11, 5, 15, 0, tzinfo=UTC), 10, "completed")
    add(datetime(2026, 11, 6, 15, 0, tzinfo=UTC), 8, "accepted")
    add(datetime(2026, 8, 5, 15, 0, tzinfo=UTC), 2, "completed")
    add(datetime(2026, 8, 6, 15, 0, tzinfo=UTC), 6, "declined", "no_capacity")
    for day in QUARTER_DAYS:
        publish(run_tasks, day)
    # when the attacker reads every period the report offers and subtracts each figure of a
    # period from the same figure of a period holding it, and a whole from its shown parts
    at = RELEASE_DAY + timedelta(days=1)
    first = get(at)
    offered = first.xpath("//select[@name='period']/option/@value")
    tables = {p: table(get(at, period=p)) for p in offered}
    recovered = {
        (a, b, key): abs(int(tables[a][key]) - int(tables[b][key]))
        for a, b in combinations(offered, 2)
        if nested(a, b)
        for key in tables[a]
        if tables[a][key].isdigit() and tables[b].get(key, "").isdigit()
        and 0 < abs(int(tables[a][key]) - int(tables[b][key])) < 5
    }  # fmt: skip
    for whole in [p for p in offered if p.endswith("/all")]:
        parts = [p for p in offered if nested(whole, p) and p != whole]
        for key, value in tables[whole].items():
            hidden = [p for p in parts if not tables[p][key].isdigit()]
            if value.isdigit() and len(hidden) == 1:
                rest = sum(int(tables[p][key]) for p in parts if p not in hidden)
                recovered[(whole, hidden[0], key)] = int(value) - rest
    # then no hidden count is recovered: the August "2 completed" stays hidden
    assert recovered == {}
    # the report offers the last quarters and their months, never overlapping windows of days
    assert offered == [f"{end}/{key}" for end in ("2027-01-01", "2026-10-01", "2026-07-01",
                                                  "2026-04-01")
                       for key in ("all", "p1", "p2", "p3")]  # fmt: skip
    labels = [o.text_content() for o in first.xpath("//select[@name='period']/option")]
    assert labels[:8] == ["October 2026 – December 2026 (the quarter)", "October 2026",
                          "November 2026", "December 2026",
                          "July 2026 – September 2026 (the quarter)", "July 2026",
                          "August 2026", "September 2026"]  # fmt: skip
    assert "Figures for October 2026 – December 2026, published" in first.text_content()
    # and the small count reads "<5", those hidden only to protect it "x"
    august, summer = tables["2026-10-01/p2"], tables["2026-10-01/all"]
    assert (august["recovery:completed"], august["recovery:no_capacity"]) == ("<5", "x")
    assert (summer["recovery:completed"], summer["recovery:no_capacity"]) == ("<5", "x")
    assert (summer["recovery:total"], tables["2027-01-01/all"]["recovery:total"]) == ("8", "18")


def test_polling_the_report_by_the_second_sees_no_referral_cross_a_window(setting, run_tasks):
    add, get = setting
    # given 30 referrals over 2026, one of them sent at 10:00:00 UTC on 20 January 2026
    for month in range(1, 13):
        add(datetime(2026, month, 12, 15, 0, tzinfo=UTC), 2, "completed")
    add(datetime(2026, 3, 3, 15, 0, tzinfo=UTC), 5, "accepted")
    sent = datetime(2026, 1, 20, 10, 0, 0, tzinfo=UTC)
    add(sent, 1, "completed")
    for day in QUARTER_DAYS:
        publish(run_tasks, day)
    # when the attacker polls the report a second before and a second after a year since
    # that referral, and across the day, in its default view and in its first quarter's
    year = timedelta(days=365)
    polls = [
        (table(get(sent + year + timedelta(seconds=s))),
         table(get(sent + year + timedelta(seconds=s), period="2026-04-01/all")))
        for s in (-1, 1, 3600, 6 * 3600)
    ]  # fmt: skip
    # then every poll is the same release: no referral's time can be read off it
    assert all(p == polls[0] for p in polls)
    assert (polls[0][0]["*:total"], polls[0][1]["*:total"]) == ("6", "12")
