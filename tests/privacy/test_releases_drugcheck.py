"""Attacks on the public drug-checking board (issue 16): subtract the shown months from the
total, find the day and site of a small town's samples, move a date filter by one day, poll the
page as samples come in. The board is a release per closed month, never added up across months;
each sample's result is published with its month and region only, as drug-checking services
publish results, so the month's counts (counts of those results) are exact, not a pretence of
suppression: what protects people is that nothing finer than a closed month is ever shown."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.utils.formats import date_format
from lxml import html

from harbour.core.roles import Role
from harbour.drugcheck import services

pytestmark = pytest.mark.django_db

# the release due on 10 January 2027 covers December 2026 (a week's lag)
RELEASE_DAY = datetime(2027, 1, 10, 17, 0, tzinfo=UTC)


def add(org: Any, day: date, n: int, *, city: str = "Kingston", site: str = "Main site",
        fsa: str = "K7L", strips: dict[str, str] | None = None) -> None:  # fmt: skip
    vocabulary = services.Vocabulary()
    for _ in range(n):
        services.sample_create(
            organization=org,
            data=services.SampleIn(
                collected_on=day,
                site=site,
                city=city,
                fsa=fsa,
                expected="down",
                strips=strips or {"fentanyl-strip": "positive"},
            ),
            actor=None,
            vocabulary=vocabulary,
        )


def publish(run_tasks: Callable[[], None], at: datetime) -> None:
    """The scheduler's hourly job, on the real worker, at ``at``."""
    from harbour.core.tasks import make_releases

    with time_machine.travel(at, tick=False):
        make_releases.enqueue()
        run_tasks()


def publish_monthly(run_tasks: Callable[[], None], first: date, last: date) -> None:
    """The scheduler running all along: on the 10th of each month from ``first`` to ``last``."""
    day = first
    while day <= last:
        publish(run_tasks, datetime(day.year, day.month, 10, 17, 0, tzinfo=UTC))
        day = (day + timedelta(days=32)).replace(day=1)


def page(client: Any, **params: str) -> Any:
    response = client.get("/drugcheck/", params)
    assert response.status_code == 200
    return html.fromstring(response.content.decode())


def fact(doc: Any, label: str) -> str:
    found = doc.xpath(f"//dt[normalize-space()='{label}']/following-sibling::dd[1]")
    return found[0].text_content().strip() if found else ""


def months(doc: Any) -> dict[str, str]:
    """The month-by-month table as the reader sees it: month -> samples."""
    rows = doc.xpath("//table[.//th[normalize-space()='Month']]/tbody/tr")
    return {r.xpath("./th")[0].text_content().strip(): r.xpath("./td")[0].text_content().strip()
            for r in rows}  # fmt: skip


def test_subtracting_the_shown_months_from_the_total_recovers_no_month(client, org_a, run_tasks):
    # given samples in the second half of 2026, a single one in December, and the scheduler
    # publishing every month
    for month, n in zip(range(6, 13), (13, 29, 24, 14, 19, 20, 1), strict=True):
        add(org_a, date(2026, month, 10), n)
    publish_monthly(run_tasks, date(2026, 1, 1), date(2027, 1, 1))
    # when the attacker subtracts every shown month from the shown total
    doc = page(client)
    total, shown = fact(doc, "Samples checked"), months(doc)
    hidden = [m for m, v in shown.items() if not v.isdigit()]
    recovered = (
        {hidden[0]: int(total) - sum(int(v) for v in shown.values() if v.isdigit())}
        if total.isdigit() and len(hidden) == 1
        else {}
    )
    # then nothing is hidden to recover: each month is published on its own, as it closed (its
    # results are public), and no total over the months is offered (the figures are December's)
    assert recovered == {}
    assert total == "1"
    assert "120" not in doc.text_content()
    assert shown == {
        "January 2026": "0", "February 2026": "0", "March 2026": "0", "April 2026": "0",
        "May 2026": "0", "June 2026": "13", "July 2026": "29", "August 2026": "24",
        "September 2026": "14", "October 2026": "19", "November 2026": "20",
        "December 2026": "1",
    }  # fmt: skip


def test_a_small_towns_samples_show_no_day_site_or_postal_area(client, org_a, run_tasks):
    # given a busy city, and two samples checked in a small town on one day at one site
    add(org_a, date(2026, 10, 3), 30)
    day = date(2026, 10, 14)
    add(org_a, day, 2, city="Smallville", site="Smallville Health Hut", fsa="K0K")
    publish(run_tasks, datetime(2026, 11, 10, 17, 0, tzinfo=UTC))
    # when the attacker asks for the small town only, and reads every result of every month
    filtered = page(client, city="Smallville", date_from="2026-10-14", date_to="2026-10-14")
    docs = [filtered, page(client)]
    for value in page(client).xpath("//select[@name='month']/option/@value"):
        docs.append(page(client, month=value))
    text = " ".join(d.text_content() for d in docs)
    # then the two results are published, as results are, with their month and region only:
    # never the day, the site or the postal area that would tie them to who came that day
    assert text.count("Smallville") >= 3  # the region table and the two results
    assert "October 2026" in text
    for leak in (date_format(day, "DATE_FORMAT"), "2026-10-14", "Oct. 14", "14 Oct",
                 "Smallville Health Hut", "Main site", "K0K", "K7L"):  # fmt: skip
        assert leak not in text, leak
    # and no filter finer than a month exists: the page asked for the small town on one day
    # is the whole board of the month
    assert fact(filtered, "Samples checked") == "32"
    regions = {
        r.xpath("./th")[0].text_content().strip(): r.xpath("./td")[0].text_content().strip()
        for r in filtered.xpath("//table[@id='board-regions']/tbody/tr")
    }
    # (the counts are those of the results published: exact, hiding them would be a pretence)
    assert regions == {"Kingston": "30", "Smallville": "2"}


def test_moving_a_date_filter_by_one_day_shows_nothing_new(client, org_a, run_tasks):
    # given 88 samples up to 15 October and 2 on 16 October
    add(org_a, date(2026, 10, 1), 48)
    add(org_a, date(2026, 10, 15), 40)
    add(org_a, date(2026, 10, 16), 2)
    add(org_a, date(2026, 11, 20), 25)
    publish_monthly(run_tasks, date(2026, 11, 1), date(2026, 12, 1))
    # when the attacker moves the end of the period by one day
    before = fact(page(client, date_to="2026-10-15"), "Samples checked")
    after = fact(page(client, date_to="2026-10-16"), "Samples checked")
    # then both are the board as released (November's figures): the difference tells
    # nothing about 16 October
    assert (before, after) == ("25", "25")
    assert (
        months(page(client, date_from="2026-10-16", date_to="2026-10-16"))["October 2026"] == "90"
    )


def test_polling_the_board_as_samples_come_in_shows_no_change_until_the_month_is_released(
    client, org_a, make_member, run_tasks
):
    # given a board released on 10 January
    add(org_a, date(2026, 12, 1), 20)
    publish(run_tasks, RELEASE_DAY)
    seen = page(client)
    snapshot = (fact(seen, "Samples checked"), months(seen))
    # when a site records a sample on 12 January and the attacker polls the board all month
    worker = make_member(org_a, Role.PEER_WORKER)
    with time_machine.travel(datetime(2027, 1, 12, 15, 0, tzinfo=UTC), tick=False):
        services.sample_record(
            actor=worker,
            organization=org_a,
            data=services.SampleIn(collected_on=date(2027, 1, 12), site="Main site",
                                   city="Kingston", expected="down"),
        )  # fmt: skip
    polls = []
    for hours in range(0, 24 * 26, 13):
        publish(run_tasks, datetime(2027, 1, 12, 15, 0, tzinfo=UTC) + timedelta(hours=hours))
        doc = page(client)
        polls.append((fact(doc, "Samples checked"), months(doc)))
    # then every poll shows the same figures, until January is released on 8 February
    assert set(map(repr, polls)) == {repr(snapshot)}
    assert snapshot[0] == "20"
    publish(run_tasks, datetime(2027, 2, 8, 12, 0, tzinfo=UTC))
    released = page(client)
    assert fact(released, "Samples checked") == "1"
    assert months(released) == {"December 2026": "20", "January 2027": "1"}
