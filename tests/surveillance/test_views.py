"""Coordinators' pages and the public summary: scoped to the organization, counts 1–4 never
published, CSV equal to the records."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from harbour.core.releases import make_due
from harbour.core.roles import Role
from harbour.surveillance import services
from harbour.surveillance.models import DetectionSettings, Method, Signal, SignalStatus, Source
from harbour.surveillance.services import EventIn

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)


def add(org, hours_ago: float, fsa: str, ref: str) -> None:  # type: ignore[no-untyped-def]
    services.event_record(
        organization=org,
        data=EventIn(occurred_at=NOW - timedelta(hours=hours_ago), source=Source.EMS,
                     source_ref=ref, fsa=fsa),
    )  # fmt: skip


@pytest.fixture
def burst(make_org):  # type: ignore[no-untyped-def]
    """An organization with a calm month in K7K and six events in K7L today, detected."""
    org = make_org("kingston-hu")
    DetectionSettings.objects.create(
        organization=org, areas="K7L K7K", methods=[Method.POISSON_GAMMA], share_publicly=True
    )
    for day in range(2, 60, 3):
        add(org, 24 * day + 5, "K7K", f"h:{day}")
    for hour in range(6):
        add(org, hour + 0.5, "K7L", f"b:{hour}")
    services.detect(organization=org, now=NOW)
    return org


@time_machine.travel(NOW, tick=False)
def test_the_dashboard_shows_the_signal_and_its_chart(burst, make_member, staff_client):
    client = staff_client(make_member(burst, Role.VIEWER))
    page = client.get(f"/org/{burst.slug}/surveillance/").content.decode()
    assert "new signals" in page
    assert "K7L" in page and "<svg" in page
    assert 'aria-labelledby="timeline-title"' in page
    # a viewer sees, but gets no buttons to act
    signal = Signal.objects.get(level="fsa")
    detail = client.get(f"/org/{burst.slug}/surveillance/signals/{signal.pk}/").content.decode()
    assert "Make a drug alert draft" not in detail
    assert (
        client.post(
            f"/org/{burst.slug}/surveillance/signals/{signal.pk}/dismiss/", {"reason": "x"}
        ).status_code
        == 403
    )


@time_machine.travel(NOW, tick=False)
def test_another_organization_gets_404_everywhere(burst, make_org, make_member, staff_client):
    other = make_org("other-org")
    client = staff_client(make_member(other, Role.ORG_ADMIN))
    signal = Signal.objects.filter(organization=burst).first()
    assert signal is not None
    base = f"/org/{burst.slug}/surveillance"
    for url in [f"{base}/", f"{base}/area/", f"{base}/settings/", f"{base}/report/",
                f"{base}/export/counts.csv", f"{base}/export/signals.csv",
                f"{base}/signals/{signal.pk}/"]:  # fmt: skip
        assert client.get(url).status_code == 404, url
    assert client.post(f"{base}/signals/{signal.pk}/alert/").status_code == 404
    # and their own organization's pages do not show the other's signal
    own = client.get(f"/org/{other.slug}/surveillance/signals/{signal.pk}/")
    assert own.status_code == 404
    assert Signal.objects.get(pk=signal.pk).status == SignalStatus.NEW


@time_machine.travel(NOW, tick=False)
def test_dismiss_from_the_page_needs_a_reason(burst, make_member, staff_client):
    client = staff_client(make_member(burst, Role.COORDINATOR))
    signal = Signal.objects.filter(level="fsa").first()
    assert signal is not None
    url = f"/org/{burst.slug}/surveillance/signals/{signal.pk}/dismiss/"
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 400
    assert "This field is required." in refused.content.decode()
    done = client.post(url, {"reason": "training exercise"})
    assert done.status_code == 302
    signal.refresh_from_db()
    assert signal.status == SignalStatus.DISMISSED


@time_machine.travel(NOW, tick=False)
def test_the_alert_button_makes_a_draft(burst, make_member, staff_client):
    client = staff_client(make_member(burst, Role.COORDINATOR))
    signal = Signal.objects.filter(level="fsa").first()
    assert signal is not None
    response = client.post(f"/org/{burst.slug}/surveillance/signals/{signal.pk}/alert/")
    signal.refresh_from_db()
    assert signal.status == SignalStatus.ALERTED and signal.alert is not None
    # straight to the draft's review page, to check it (its times are local) and send it on
    assert response.status_code == 302
    assert response["Location"] == f"/org/{burst.slug}/alerts/{signal.alert_id}/"


@time_machine.travel(NOW, tick=False)
def test_settings_errors_are_in_the_persons_language(burst, make_member, staff_client):
    client = staff_client(make_member(burst, Role.COORDINATOR))
    url = f"/org/{burst.slug}/surveillance/settings/"
    data = {
        "enabled": "on", "areas": "K7L Kingston", "methods": ["poisson_gamma"],
        "count_threshold": "3", "min_events": "2", "alpha": "0.01", "scan_days": "3",
    }  # fmt: skip
    english = client.post(url, data)
    assert "Kingston is not a postal area (e.g. K7L)." in english.content.decode()
    client.cookies["django_language"] = "fr"
    french = client.post(url, {**data, "alpha": "5"})
    assert "Entre 0,0001 et 0,2, p. ex. 0,01." in french.content.decode()
    saved = client.post(url, {**data, "areas": "K7L K7M"})
    assert saved.status_code == 302
    assert DetectionSettings.objects.get(organization=burst).areas == "K7L K7M"


@time_machine.travel(NOW, tick=False)
def test_the_csv_export_matches_the_records(burst, make_member, staff_client):
    client = staff_client(make_member(burst, Role.VIEWER))
    response = client.get(f"/org/{burst.slug}/surveillance/export/counts.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 90
    assert rows[-1]["date"] == "2026-11-30" and rows[-1]["events"] == "6"
    assert sum(int(r["events"]) for r in rows) == 6 + sum(
        1 for day in range(2, 60, 3) if (NOW - timedelta(hours=24 * day + 5)).date()
        >= datetime(2026, 9, 2).date()
    )  # fmt: skip
    assert rows[-1]["flagged"] == "1"
    signals = client.get(f"/org/{burst.slug}/surveillance/export/signals.csv").content.decode()
    parsed = list(csv.DictReader(io.StringIO(signals)))
    assert {(r["level"], r["area"], r["observed"]) for r in parsed} == {
        (s.level, s.area, str(s.observed)) for s in Signal.objects.filter(organization=burst)
    }


@time_machine.travel(NOW, tick=False)
def test_the_report_page_is_printable_with_the_period(burst, make_member, staff_client):
    client = staff_client(make_member(burst, Role.VIEWER))
    page = client.get(
        f"/org/{burst.slug}/surveillance/report/?date_from=2026-11-01&date_to=2026-11-30"
    ).content.decode()
    assert "From 1 Nov 2026 to 30 Nov 2026" in page
    assert 'class="no-print"' in page
    bad = client.get(
        f"/org/{burst.slug}/surveillance/report/?date_from=2026-12-01&date_to=2026-11-01"
    )
    assert "The start is after the end." in bad.content.decode()


def _published_numbers(html: str) -> list[str]:
    table = html[html.index("<table") : html.index("</table>")]
    return re.findall(r"<td>([^<]*)</td>", table)


def test_the_public_page_says_plainly_before_the_first_release(burst, client):
    # the events are there, but no release has been made: nothing is computed live
    html = client.get("/trends/").content.decode()
    assert "The first release of these figures is not out yet." in html
    assert "K7L" not in html and "K7K" not in html


@time_machine.travel(NOW, tick=False)
def test_the_public_page_never_shows_a_count_from_1_to_4(burst, make_org, client):
    # given two events in K7P, and a second organization that does not share, with a busy area
    add(burst, 24 * 15, "K7P", "small:1")
    add(burst, 24 * 16, "K7P", "small:2")
    private = make_org("private-org")
    for n in range(9):
        add(private, 24 * 15 + n, "K7M", f"p:{n}")
    # when the releases due are made and anyone opens the public page
    made = [r for r in make_due() if r.kind == "trends"]
    # blocks of four whole weeks, the newest closed a week ago or more
    assert [(r.period_start.isoformat(), r.period_end.isoformat()) for r in made] == [
        ("2026-10-26", "2026-11-23")
    ]
    html = client.get("/trends/").content.decode()
    numbers = _published_numbers(html)
    # then no published cell is 1 to 4, small ones are "<5", and the private area is absent
    assert numbers, "the table is there"
    assert not [n for n in numbers if n in {"1", "2", "3", "4"}]
    assert "&lt;5" in numbers
    assert "K7M" not in html
    assert "K7L" not in html  # today's six events wait for their block to close
    assert "Figures for 26 Oct 2026 to 22 Nov 2026, published 30 Nov 2026." in html
    rows = dict(re.findall(r'<th scope="row">(K7[A-Z]|All areas)</th>(.*?)</tr>', html, re.S))
    table = {k: re.findall(r"<td>([^<]*)</td>", v) for k, v in rows.items()}
    # K7P's 2 is hidden; in its block, K7K's count is hidden with it ("x": not small), so the
    # block's total cannot give the 2 away
    assert table["K7P"] == ["0", "0", "&lt;5"]
    assert table["K7K"][2] == "x"
    assert table["All areas"][2].isdigit()
    for column in range(3):
        hidden = sum(table[k][column] in ("&lt;5", "x") for k in table if k != "All areas")
        assert hidden != 1


def test_the_public_page_shows_phac_figures(client):
    services.published_import(text=services.shipped_harms())
    html = client.get("/trends/?region=Ontario").content.decode()
    assert "Apparent opioid toxicity deaths by quarter, Ontario (PHAC)" in html
    assert "Open Government Licence" in html
    french = client.get("/trends/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'lang="fr"' in french
