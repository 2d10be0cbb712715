"""Attacks on /trends/: watching it for a change after one overdose, subtracting shown figures
from shown totals, and reading "<5" on a cell that is not small. The page serves stored
releases of whole closed blocks of weeks, suppressed jointly, so none of them works."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from harbour.alerts import services as alerts
from harbour.alerts.models import ReportKind
from harbour.core.releases import make_due
from harbour.core.roles import Role
from harbour.outreach import services as outreach
from harbour.surveillance import services
from harbour.surveillance.models import DetectionSettings, OverdoseEvent, Source
from harbour.surveillance.services import EventIn

pytestmark = pytest.mark.django_db
LOCAL = ZoneInfo("America/Toronto")
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=LOCAL)  # a Wednesday
MONDAY = datetime(2026, 11, 30, 12, 0, tzinfo=LOCAL)  # the Monday of NOW's week


@pytest.fixture
def sharing(make_org):  # type: ignore[no-untyped-def]
    org = make_org("kingston-hu")
    DetectionSettings.objects.create(organization=org, areas="K7L", share_publicly=True)
    return org


def add(org, when: datetime, fsa: str, ref: str) -> None:  # type: ignore[no-untyped-def]
    services.event_record(
        organization=org,
        data=EventIn(occurred_at=when, source=Source.EMS, source_ref=ref, fsa=fsa),
    )


def figures(client) -> str:  # type: ignore[no-untyped-def]
    """Everything the page publishes about local overdoses (not the national PHAC series)."""
    html = client.get("/trends/").content.decode()
    return html[html.index('<main id="main"') : html.index('id="canada-heading"')]


def table(html: str) -> dict[str, list[str]]:
    rows = re.findall(r'<th scope="row">([^<]+)</th>(.*?)</tr>', html, re.S)
    return {name: re.findall(r"<td>([^<]*)</td>", cells) for name, cells in rows}


def bars(html: str) -> list[int | None]:
    """The weekly chart as an attacker reads it: a number per shown week, None if hidden."""
    chart = html[html.index('id="weeks-title"') :]
    chart = chart[: chart.index("</svg>")]
    out: list[int | None] = []
    for shown, _hidden in re.findall(
        r"<title>\d{4}-\d\d-\d\d: (\d+)</title>|text-anchor=\"middle\">(&lt;5|x)</text>", chart
    ):
        out.append(int(shown) if shown else None)
    return out


def test_one_anonymous_report_changes_nothing_public_until_its_block_is_released(
    sharing, client, make_member
):
    # given nine overdoses in K7L over the last weeks, and the releases due today made
    for n in range(9):
        add(sharing, MONDAY - timedelta(days=2 + 3 * n), "K7L", f"k7l:{n}")
    with time_machine.travel(NOW, tick=False):
        make_due()
        before = figures(client)
    # when someone reports one overdose in K7L, anonymously,
    with time_machine.travel(NOW, tick=False):
        report = alerts.report_create(
            kind=ReportKind.OVERDOSE, what_happened="my friend went down at the park", fsa="K7L"
        )
    assert report is not None
    # and an outreach team of the sharing organization records an overdose it responded to
    coordinator = make_member(sharing, Role.COORDINATOR)
    van = outreach.team_save(actor=coordinator, organization=sharing, name="Van", fsa="K7L")
    with time_machine.travel(NOW + timedelta(minutes=30), tick=False):
        stored = outreach.responses_record(
            actor=coordinator,
            organization=sharing,
            records=[
                {"id": str(uuid.uuid4()), "team": str(van.pk), "fsa": "K7L",
                 "naloxone_doses": 2, "route": "nasal", "outcome": "recovered"}
            ],
        )  # fmt: skip
    assert [r.status for r in stored] == ["stored"]
    assert OverdoseEvent.objects.filter(source=Source.OUTREACH, fsa="K7L").count() == 1
    # then an attacker polling the page every two hours for a day, while the scheduler runs
    # every hour, sees exactly the same figures (on the live page, K7L's count and "this
    # week" went up by one at once)
    for hours in range(1, 25, 2):
        with time_machine.travel(NOW + timedelta(hours=hours), tick=False):
            make_due()
            assert figures(client) == before
    # and the report shows only once the block of weeks holding it has closed, a week has
    # passed, and that block's release is made: as part of the block's count
    later = NOW
    while True:
        later += timedelta(days=1)
        with time_machine.travel(later, tick=False):
            if [r for r in make_due() if r.kind == "trends"]:
                break
    assert later - NOW >= timedelta(days=7 + 5)  # never before the week's end plus the lag
    with time_machine.travel(later, tick=False):
        after = table(figures(client))
    # K7L's block now holds two of the nine earlier events, the report and the outreach
    # response: four, "<5"
    assert after["K7L"][-1] == "&lt;5"
    assert later.date() == date(2026, 12, 28)  # the block 23 Nov - 20 Dec, a week after


def test_a_cell_hidden_only_to_protect_another_is_marked_x_not_small(sharing, client):
    # given, in one released block, 30 overdoses in K7L and 3 in K7K
    block_day = MONDAY - timedelta(weeks=6)
    for n in range(30):
        add(sharing, block_day + timedelta(hours=n), "K7L", f"l:{n}")
    for n in range(3):
        add(sharing, block_day + timedelta(hours=40 + n), "K7K", f"k:{n}")
    with time_machine.travel(NOW, tick=False):
        make_due()
        shown = table(figures(client))
    # then the 3 is "<5", and the 30 is hidden (the total minus it would give the 3) as "x":
    # never "<5", which would tell a reader that K7L had fewer than five
    k7l = [c for c in shown["K7L"] if c != "0"]
    k7k = [c for c in shown["K7K"] if c != "0"]
    assert k7l == ["x"]
    assert k7k == ["&lt;5"]
    assert "33" in shown["All areas"]


def test_subtracting_the_weekly_bars_from_a_published_total_reveals_nothing(sharing, client):
    # given 10 overdoses a week in K7L for the last four weeks, and 3 in K7P six weeks ago
    for week in range(4):
        for n in range(10):
            add(sharing, MONDAY - timedelta(weeks=week, hours=2 + n), "K7L", f"l:{week}:{n}")
    for n in range(3):
        add(sharing, MONDAY - timedelta(weeks=6, hours=-1 - n), "K7P", f"p:{n}")
    with time_machine.travel(NOW, tick=False):
        make_due()
        html = figures(client)
    # when an attacker takes every run of weekly bars with one hidden bar, and subtracts the
    # shown bars from every total the page publishes for all areas
    weekly = bars(html)
    assert [v for v in weekly if v] == [10, 10]  # the newest block: two weeks of ten
    totals = [int(t) for t in table(html)["All areas"] if t.isdigit()]
    found = set()
    for i in range(len(weekly)):
        for j in range(i + 1, len(weekly) + 1):
            run = weekly[i:j]
            if run.count(None) == 1:
                for total in totals:
                    rest = total - sum(v for v in run if v is not None)
                    if 0 < rest < 5:
                        found.add(rest)
    # then no small count comes out (on the live page, 43 - 4 × 10 gave K7P's 3)
    assert 3 not in found
    assert not [n for row in table(html).values() for n in row if n in {"1", "2", "3", "4"}]
