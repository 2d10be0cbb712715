"""Outreach pages with the test client: plain forms (no JavaScript), staff scoping (another
organization's staff get 404), stock, naloxone, refills, the report and its CSV against the
records, small-cell suppression where figures leave the organization, the public form."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from harbour.core.models import AuditEvent
from harbour.core.releases import make_due
from harbour.core.roles import Role
from harbour.outreach import selectors, services
from harbour.outreach.models import (
    Distribution,
    Encounter,
    KitUseReport,
    OverdoseResponse,
    Spot,
    StockLevel,
    Team,
    TrainingSession,
)

from .conftest import encounter, on_hand, response

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_worker(staff_client, worker):  # type: ignore[no-untyped-def]
    return staff_client(worker)


@pytest.fixture
def as_coordinator(staff_client, coordinator):  # type: ignore[no-untyped-def]
    return staff_client(coordinator)


def form_data(team, **fields):  # type: ignore[no-untyped-def]
    data = {
        "id": str(uuid.uuid4()),
        "team": str(team.pk),
        "spot": "",
        "fsa": "K7L",
        "people_new": "0",
        "people_returning": "1",
        "naloxone_recipient": "pwud",
        "naloxone_trained": "on",
    }
    data.update(fields)
    return data


# --- the street forms without JavaScript -------------------------------------------------------


def test_an_encounter_logged_with_a_plain_form_is_stored_once_even_if_posted_twice(
    as_worker, org, stocked
):
    # given the form, as a phone without JavaScript gets it
    page = as_worker.get(f"/org/{org.slug}/outreach/log/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="supply-naloxone-nasal"' in html and 'data-offline="encounter"' in html
    assert (
        '<link rel="manifest" href="/org/kingston-outreach/outreach/manifest.webmanifest?lang=en">'
        in html
    )
    # when it is posted twice (a double tap on a slow connection)
    data = form_data(
        stocked,
        **{"supply-naloxone-nasal": "2", "supply-syringes": "10", "services": ["wound-care"]},
    )
    first = as_worker.post(f"/org/{org.slug}/outreach/log/", data)
    second = as_worker.post(f"/org/{org.slug}/outreach/log/", data, follow=True)
    # then one encounter, the supplies deducted once
    assert first.status_code == 302 and first["Location"] == f"/org/{org.slug}/outreach/log/"
    assert "Encounter saved." in second.content.decode()
    assert Encounter.objects.count() == 1
    stored = Encounter.objects.get()
    assert (stored.people_returning, stored.services, stored.recorded_by.email) == (
        1,
        " wound-care ",
        "peer_worker@kingston-outreach.example.org",
    )
    assert sum(on_hand(stocked, "naloxone-nasal").values()) == 3
    # and the next form starts from the same team and area; "same as last time" brings supplies
    again = as_worker.get(f"/org/{org.slug}/outreach/log/?repeat=1").context["form"]
    assert (again.initial["team"], again.initial["fsa"], again.initial["supply-syringes"]) == (
        str(stocked.pk),
        "K7L",
        10,
    )


def test_a_refused_encounter_shows_each_error_at_its_field_and_keeps_what_was_typed(
    as_worker, org, stocked
):
    data = form_data(stocked, fsa="", people_returning="0", **{"supply-naloxone-nasal": "9"})
    page = as_worker.post(f"/org/{org.slug}/outreach/log/", data)
    assert page.status_code == 200
    form = page.context["form"]
    assert form.errors == {
        "fsa": ["Give the postal area (like K7L) or choose a named spot."],
        "people_new": ["Count at least one person (new or returning)."],
    }
    assert 'value="9"' in page.content.decode()
    short = as_worker.post(
        f"/org/{org.slug}/outreach/log/", form_data(stocked, **{"supply-naloxone-nasal": "9"})
    )
    assert short.context["form"].errors == {
        "supply-naloxone-nasal": [
            "Not enough Naloxone kits, nasal in the stock of Van: 9 given, 5 left. "
            "Record a receipt or a transfer first."
        ]
    }
    assert Encounter.objects.count() == 0


def test_an_overdose_response_from_the_plain_form(as_worker, org, stocked):
    data = {
        "id": str(uuid.uuid4()),
        "team": str(stocked.pk),
        "fsa": "K7K",
        "naloxone_doses": "3",
        "route": "nasal",
        "kits_nasal": "2",
        "breathing": "slow",
        "outcome": "transported",
        "substances": ["fentanyl", "benzodiazepines"],
    }
    sent = as_worker.post(f"/org/{org.slug}/outreach/overdose/", data, follow=True)
    assert "Overdose response saved." in sent.content.decode()
    stored = OverdoseResponse.objects.get()
    assert (stored.naloxone_doses, stored.outcome, stored.substances) == (
        3,
        "transported",
        " fentanyl benzodiazepines ",
    )
    assert sum(on_hand(stocked, "naloxone-nasal").values()) == 3
    missing = as_worker.post(
        f"/org/{org.slug}/outreach/overdose/", {**data, "id": str(uuid.uuid4()), "outcome": ""}
    )
    assert missing.context["form"].errors == {"outcome": ["What was the outcome?"]}


def test_the_forms_are_in_french_for_a_french_worker(as_worker, org, stocked):
    as_worker.cookies["django_language"] = "fr"
    page = as_worker.get(f"/org/{org.slug}/outreach/log/").content.decode()
    assert "<h1>Consigner une rencontre</h1>" in page
    assert "Trousses de naloxone, nasales" in page


def test_no_team_yet_says_what_to_do(as_coordinator, org):
    page = as_coordinator.get(f"/org/{org.slug}/outreach/log/")
    assert "No team or site yet" in page.content.decode()


# --- scoping ----------------------------------------------------------------------------------


STAFF_PAGES = [
    "",
    "log/",
    "overdose/",
    "records/",
    "status.json",
    "stock/",
    "naloxone/",
    "refills/",
    "report/",
    "report.csv",
    "settings/",
]


@pytest.mark.parametrize("page", STAFF_PAGES)
def test_another_organizations_staff_get_404_on_every_page(
    page, org, van, make_org, make_member, staff_client
):
    stranger = make_member(make_org("elsewhere"), Role.ORG_ADMIN)
    client = staff_client(stranger)
    assert client.get(f"/org/{org.slug}/outreach/{page}").status_code == 404


def test_roles_below_what_a_page_needs_are_refused(org, van, make_member, staff_client):
    viewer = staff_client(make_member(org, Role.VIEWER))
    assert viewer.get(f"/org/{org.slug}/outreach/log/").status_code == 403
    assert viewer.get(f"/org/{org.slug}/outreach/report/").status_code == 200
    peer = staff_client(make_member(org, Role.PEER_WORKER, email="p@example.org"))
    assert peer.get(f"/org/{org.slug}/outreach/settings/").status_code == 403
    refused = peer.post(
        f"/org/{org.slug}/outreach/stock/",
        {"action": "receipt", "team": str(van.pk), "supply": "condoms", "quantity": "10"},
    )
    assert refused.status_code == 403
    assert StockLevel.objects.count() == 0


def test_another_organizations_stock_lot_and_refill_are_404(
    org, stocked, make_org, make_member, staff_client
):
    other = make_org("elsewhere")
    stranger = staff_client(make_member(other, Role.ORG_ADMIN))
    level = StockLevel.objects.filter(team=stocked).first()
    assert stranger.get(f"/org/{other.slug}/outreach/stock/{level.pk}/").status_code == 404
    services.program_update(
        actor=org.memberships.get(role=Role.COORDINATOR).user,
        organization=org,
        tracked=[],
        areas=["K7L"],
        expiry_warning_days=60,
        cover_weeks=4,
        low_stock_weeks=1,
    )
    report, _new = services.kit_use_report(
        used_on=timezone.localdate(),
        fsa="K7L",
        doses=1,
        outcome="recovered",
        want_refill=True,
        contact="a@b.org",
    )
    answer = stranger.post(f"/org/{other.slug}/outreach/refills/{report.pk}/done/")
    assert answer.status_code == 404
    assert KitUseReport.objects.get().refill_status == "open"


# --- stock and naloxone pages -----------------------------------------------------------------


def test_stock_page_receipts_transfers_and_a_correction(as_coordinator, org, stocked, site):
    page = as_coordinator.get(f"/org/{org.slug}/outreach/stock/")
    groups = {team.name: rows for team, rows, _empty in page.context["groups"]}
    nasal = next(r for r in groups["Van"] if r.supply == "naloxone-nasal")
    assert (nasal.on_hand, [x.lot for x in nasal.lots]) == (5, ["SOON1", "LATE1"])
    assert nasal.lots[0].expiring is True
    received = as_coordinator.post(
        f"/org/{org.slug}/outreach/stock/",
        {
            "action": "receipt",
            "team": str(site.pk),
            "supply": "condoms",
            "quantity": "144",
            "note": "health unit",
        },
    )
    assert received.status_code == 302
    moved = as_coordinator.post(
        f"/org/{org.slug}/outreach/stock/",
        {
            "action": "transfer",
            "from_team": str(site.pk),
            "to_team": str(stocked.pk),
            "supply": "condoms",
            "quantity": "44",
        },
    )
    assert moved.status_code == 302
    assert (on_hand(site, "condoms"), on_hand(stocked, "condoms")) == ({"": 100}, {"": 44})
    refused = as_coordinator.post(
        f"/org/{org.slug}/outreach/stock/",
        {"action": "receipt", "team": str(site.pk), "supply": "naloxone-nasal", "quantity": "5"},
    )
    assert refused.context["receipt"].errors == {
        "lot": ["Naloxone needs its lot number (on the box)."],
        "expires_on": ["Naloxone needs its expiry date (on the box)."],
    }
    level = StockLevel.objects.get(team=site, supply="condoms")
    corrected = as_coordinator.post(
        f"/org/{org.slug}/outreach/stock/{level.pk}/", {"counted": "90"}
    )
    assert corrected.status_code == 302 and on_hand(site, "condoms") == {"": 90}
    assert AuditEvent.objects.filter(action="outreach-stock-change").count() == 7  # 4 + 3 here


def test_order_suggestion_on_the_stock_page_follows_the_last_four_weeks(
    as_coordinator, worker, org, stocked
):
    services.encounters_record(
        actor=worker, organization=org, records=[encounter(stocked, supplies={"syringes": 120})]
    )
    page = as_coordinator.get(f"/org/{org.slug}/outreach/stock/")
    row = next(r for _t, rows, _e in page.context["groups"] for r in rows if r.supply == "syringes")
    # 120 used in 4 weeks, 4 weeks of cover: 120 needed, 80 on hand
    assert (row.on_hand, row.used, row.suggestion, row.low) == (80, 120, 40, False)


def test_naloxone_page_records_kits_and_a_training(as_worker, org, stocked):
    kits = as_worker.post(
        f"/org/{org.slug}/outreach/naloxone/",
        {
            "action": "kits",
            "team": str(stocked.pk),
            "supply": "naloxone-nasal",
            "quantity": "2",
            "recipient": "family-friend",
            "trained": "on",
        },
    )
    assert kits.status_code == 302
    training = as_worker.post(
        f"/org/{org.slug}/outreach/naloxone/",
        {
            "action": "training",
            "team": str(stocked.pk),
            "held_on": timezone.localdate().isoformat(),
            "people_trained": "8",
            "audience": "staff",
            "kits_given": "1",
            "supply": "naloxone-nasal",
        },
    )
    assert training.status_code == 302
    assert TrainingSession.objects.get().people_trained == 8
    page = as_worker.get(f"/org/{org.slug}/outreach/naloxone/")
    assert (page.context["figures"].naloxone_given, page.context["figures"].people_trained) == (
        3,
        8,
    )


# --- refills ----------------------------------------------------------------------------------


def test_refill_requests_show_the_contact_to_the_organization_and_erase_it_when_done(
    as_coordinator, coordinator, org
):
    services.program_update(
        actor=coordinator,
        organization=org,
        tracked=[],
        areas=["K7L"],
        expiry_warning_days=60,
        cover_weeks=4,
        low_stock_weeks=1,
    )
    report, _new = services.kit_use_report(
        used_on=timezone.localdate(),
        fsa="K7L",
        doses=2,
        outcome="ems",
        want_refill=True,
        contact="613-555-0199",
    )
    page = as_coordinator.get(f"/org/{org.slug}/outreach/refills/").content.decode()
    assert "+16135550199" in page
    done = as_coordinator.post(f"/org/{org.slug}/outreach/refills/{report.pk}/done/")
    assert done.status_code == 302
    report.refresh_from_db()
    assert (report.refill_status, report.contact) == ("done", "")


# --- the report -------------------------------------------------------------------------------


def _records(worker, org, team):  # type: ignore[no-untyped-def]
    services.encounters_record(
        actor=worker,
        organization=org,
        records=[
            encounter(
                team,
                people_new=2,
                people_returning=1,
                supplies={"naloxone-nasal": 2, "syringes": 30},
                services=["wound-care"],
            ),
            encounter(
                team,
                people_new=0,
                people_returning=4,
                supplies={"syringes": 20, "food-water": 6},
                naloxone_recipient="family-friend",
            ),
            encounter(
                team, people_new=1, supplies={"naloxone-nasal": 1}, client_code="AB12", consent=True
            ),
        ],
    )
    services.responses_record(
        actor=worker,
        organization=org,
        records=[
            response(team, outcome="recovered"),
            response(team, outcome="transported"),
            response(team, outcome="deceased", naloxone_doses=0, route="none"),
        ],
    )


def test_the_report_and_its_csv_match_the_records(
    as_coordinator, worker, coordinator, org, stocked
):
    # given three encounters, three responses and an anonymous reversal report in our area
    _records(worker, org, stocked)
    services.program_update(
        actor=coordinator,
        organization=org,
        tracked=list(services.DEFAULT_TRACKED),
        areas=["K7L"],
        expiry_warning_days=60,
        cover_weeks=4,
        low_stock_weeks=1,
    )
    services.kit_use_report(used_on=timezone.localdate(), fsa="K7L", doses=1, outcome="recovered")
    today = timezone.localdate()
    query = {"first": (today - timedelta(days=6)).isoformat(), "last": today.isoformat()}
    # when the coordinator opens the report and downloads the CSV
    page = as_coordinator.get(f"/org/{org.slug}/outreach/report/", query)
    exported = as_coordinator.get(f"/org/{org.slug}/outreach/report.csv", query)
    # then the figures are the records' exact counts
    figures = {f.code: f.cell.value for f in page.context["r"].headline}
    assert figures | {} == {
        "encounters": 3,
        "people": 8,
        "people-new": 3,
        "people-returning": 5,
        "unique-clients": 1,
        "naloxone-given": 3,
        "naloxone-trained": 0,
        "trainings": 0,
        "people-trained": 0,
        "responses": 3,
        "responses-naloxone": 2,
        "doses": 4,
        "kit-reports": 1,
        "naloxone-used": 3,
        "reversals": 3,
        "refills-asked": 0,
        "referrals": 0,
    }
    supplies = {f.code: f.cell.value for f in page.context["r"].supplies if f.cell.value}
    assert supplies == {"naloxone-nasal": 3, "syringes": 50, "food-water": 6}
    assert Distribution.objects.filter(supply="syringes").count() == 2
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    assert rows[0] == ["section", "item", "label", "value"]
    values = {(r[0], r[1]): r[3] for r in rows[1:]}
    assert values[("figures", "encounters")] == "3"
    assert values[("figures", "reversals")] == "3"
    assert values[("supplies", "syringes")] == "50"
    assert values[("supplies", "total")] == "59"
    assert values[("outcomes", "deceased")] == "1"
    assert values[("naloxone-recipients", "family-friend")] == "0"
    assert exported["Content-Disposition"].startswith(
        'attachment; filename="outreach-kingston-outreach-'
    )
    assert AuditEvent.objects.filter(action="outreach-report-export").count() == 1
    assert 'class="chart"' in page.content.decode()


def test_the_shared_version_is_one_ended_month_suppressed_as_a_whole(
    staff_client, coordinator, worker, org, stocked
):
    _records(worker, org, stocked)
    today = timezone.localdate()
    query = {"first": today.isoformat(), "last": today.isoformat(), "shared": "on"}
    # while this month is still going on, the version to share is the month before
    client = staff_client(coordinator)
    page = client.get(f"/org/{org.slug}/outreach/report/", query)
    before = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    assert page.context["first"] == before
    assert {f.code: str(f.cell) for f in page.context["r"].headline}["encounters"] == "0"
    # once it has ended, it is this whole month, without weeks
    with time_machine.travel(timezone.now() + timedelta(days=40)):
        client.force_login(coordinator)
        page = client.get(f"/org/{org.slug}/outreach/report/", query)
        assert page.context["first"] == today.replace(day=1)
        assert (page.context["last"] + timedelta(days=1)).day == 1
        assert page.context["r"].weeks == []
        figures = {f.code: str(f.cell) for f in page.context["r"].headline}
        # 3 new people is small: the 5 returning is hidden with it ("x"), not shown beside 8
        assert (figures["encounters"], figures["people"], figures["naloxone-given"]) == (
            "<5",
            "8",
            "<5",
        )
        assert (figures["people-new"], figures["people-returning"]) == ("<5", "x")
        supplies = {f.code: str(f.cell) for f in page.context["r"].supplies}
        # 3 naloxone is small; the next smallest non-zero (6 food or water) is hidden with it
        assert (supplies["naloxone-nasal"], supplies["food-water"], supplies["syringes"]) == (
            "<5",
            "x",
            "50",
        )
        rows = list(
            csv.reader(
                io.StringIO(
                    client.get(f"/org/{org.slug}/outreach/report.csv", query).content.decode()
                )
            )
        )
    values = {(r[0], r[1]): r[3] for r in rows[1:]}
    assert values[("figures", "encounters")] == "<5" and values[("supplies", "syringes")] == "50"
    assert values[("figures", "people-returning")] == "x"
    assert not [r for r in rows if r[0].startswith("week-")]


def test_a_wrong_period_is_said_and_the_default_is_shown(as_coordinator, org):
    page = as_coordinator.get(
        f"/org/{org.slug}/outreach/report/", {"first": "2026-05-01", "last": "2026-04-01"}
    )
    assert page.context["form"].errors == {"last": ["The end comes before the start."]}
    assert page.context["last"] == timezone.localdate()


def test_the_dashboard_panel_counts_the_period(worker, coordinator, org, stocked):
    from harbour.surveillance.selectors import panels

    _records(worker, org, stocked)
    today = timezone.localdate()
    found = [
        p
        for p in panels(coordinator, org, today - timedelta(days=6), today)
        if p.title == "Outreach and naloxone"
    ]
    assert len(found) == 1
    assert found[0].figures == [
        ("encounters", "3"),
        ("people engaged", "8"),
        ("naloxone kits given", "3"),
        ("reversals reported", "2"),
    ]
    assert found[0].link.startswith(f"/org/{org.slug}/outreach/report/?first=")
    assert (
        selectors.panel(coordinator, org, today - timedelta(days=60), today - timedelta(days=30))
        is None
    )


# --- public -----------------------------------------------------------------------------------


def test_the_public_naloxone_page_shows_only_released_months(client, worker, org, stocked):
    _records(worker, org, stocked)
    # before any release, the page says so, and computes nothing live
    page = client.get("/naloxone/")
    assert "The first release of these figures is not out yet." in page.content.decode()
    assert page.context["naloxone"].releases == []
    # once this month has ended and two weeks have passed, its release is made and shown
    with time_machine.travel(timezone.now() + timedelta(days=50)):
        make_due()
        page = client.get("/naloxone/")
    shown = page.context["naloxone"]
    assert len(shown.releases) == 3  # this month and the two before, side by side
    month = [r.period_start for r in shown.releases].index(timezone.localdate().replace(day=1))
    figures = {code: values[month] for code, _label, values in shown.rows}
    assert figures == {
        "naloxone-given": "<5",
        "people-trained": "0",
        "kit-reports": "0",
        "naloxone-used": "<5",
        "reversals": "<5",
    }
    assert "Figures for " in page.content.decode()


def test_anyone_can_report_using_a_kit_without_an_account_and_a_bot_keeps_nothing(
    client, coordinator, org
):
    services.program_update(
        actor=coordinator,
        organization=org,
        tracked=[],
        areas=["K7L"],
        expiry_warning_days=60,
        cover_weeks=4,
        low_stock_weeks=1,
    )
    form = client.get("/naloxone/used/")
    report_id = str(form.context["form"].initial["id"])
    data = {
        "id": report_id,
        "used_on": timezone.localdate().isoformat(),
        "fsa": "K7L",
        "kit_kind": "nasal",
        "doses": "2",
        "outcome": "recovered",
        "ems_came": "no",
        "want_refill": "on",
        "contact": "",
    }
    sent = client.post("/naloxone/used/", data)
    twice = client.post("/naloxone/used/", data)
    assert "Thank you" in sent.content.decode() and twice.status_code == 200
    report = KitUseReport.objects.get()
    assert (str(report.pk), report.organization_id, report.refill_status, report.contact) == (
        report_id,
        org.pk,
        "open",
        "",
    )
    bot = client.post(
        "/naloxone/used/", {**data, "id": str(uuid.uuid4()), "website": "http://spam"}
    )
    assert bot.status_code == 200 and KitUseReport.objects.count() == 1
    wrong = client.post(
        "/naloxone/used/", {**data, "id": str(uuid.uuid4()), "fsa": "nowhere", "doses": "50"}
    )
    assert wrong.context["form"].errors == {
        "fsa": [
            "“NOWHERE” is not a Canadian postal area: use the first three characters, like K7L."
        ],
        "doses": ["Doses must be between 1 and 20."],
    }


def test_the_kit_use_form_is_rate_limited_by_valid_reports_only(client):
    """Invalid attempts (the person is still fixing the form) never count; the same report
    sent again and again (a new id each time) is refused after 3 with the form as typed and
    the real wait; another person on the same Wi-Fi still gets through."""
    from django.core.cache import cache

    cache.clear()
    data = {
        "used_on": timezone.localdate().isoformat(),
        "doses": "1",
        "outcome": "recovered",
        "kit_kind": "nasal",
        "ems_came": "no",
    }
    invalid = [
        client.post("/naloxone/used/", {**data, "id": str(uuid.uuid4()), "used_on": "soon"})
        for _ in range(6)
    ]
    assert {r.status_code for r in invalid} == {200}
    # refused by the service's own rules (doses out of range): not counted either
    refused = [
        client.post("/naloxone/used/", {**data, "id": str(uuid.uuid4()), "doses": "50"})
        for _ in range(4)
    ]
    assert {r.status_code for r in refused} == {200}
    assert "Doses must be between 1 and 20." in refused[-1].content.decode()
    codes = [
        client.post("/naloxone/used/", {**data, "id": str(uuid.uuid4())}).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    limited = client.post("/naloxone/used/", {**data, "id": str(uuid.uuid4())})
    assert limited["Retry-After"].isdigit()
    page = limited.content.decode()
    assert "Try again in" in page
    assert 'value="recovered" id="id_outcome_0" required checked' in page  # as typed
    other = client.post("/naloxone/used/", {**data, "id": str(uuid.uuid4()), "doses": "2"})
    assert other.status_code == 200


# --- settings, the service worker and the manifest --------------------------------------------


def test_settings_add_teams_spots_and_referral_choices(as_coordinator, org):
    from harbour.directory.models import DirectoryOrganization, Location, Service, ServiceAtLocation
    from harbour.directory.services import service_reindex

    assert (
        as_coordinator.post(
            f"/org/{org.slug}/outreach/settings/",
            {"action": "team", "name": "Night van", "kind": "team", "fsa": "k7l"},
        ).status_code
        == 302
    )
    assert Team.objects.get().fsa == "K7L"
    clash = as_coordinator.post(
        f"/org/{org.slug}/outreach/settings/",
        {"action": "team", "name": "night VAN", "kind": "team"},
    )
    assert clash.context["team_form"].errors == {
        "name": ["There is already a team or site with this name."]
    }
    as_coordinator.post(
        f"/org/{org.slug}/outreach/settings/", {"action": "spot", "name": "Bridge", "fsa": "K7K"}
    )
    assert list(Spot.objects.values_list("name", "fsa")) == [("Bridge", "K7K")]
    saved = as_coordinator.post(
        f"/org/{org.slug}/outreach/settings/",
        {
            "action": "program",
            "tracked": ["naloxone-nasal", "syringes"],
            "areas": "K7L, K7K",
            "expiry_warning_days": "90",
            "cover_weeks": "6",
            "low_stock_weeks": "2",
        },
    )
    assert saved.status_code == 302
    program = services.program_for(org)
    assert (program.tracked, program.areas, program.cover_weeks) == (
        " naloxone-nasal syringes ",
        " K7L K7K ",
        6,
    )
    owner = DirectoryOrganization.objects.create(name="Street Health")
    service = Service.objects.create(organization=owner, name="Street Health wound clinic")
    place = Location.objects.create(
        organization=owner, name="Clinic", latitude=44.23, longitude=-76.48
    )
    ServiceAtLocation.objects.create(service=service, location=place)
    service_reindex(services=[service])
    found = as_coordinator.get(f"/org/{org.slug}/outreach/settings/", {"q": "wound"})
    assert found.context["found"] == [(str(service.pk), "Street Health wound clinic")]
    as_coordinator.post(
        f"/org/{org.slug}/outreach/settings/", {"action": "referral-add", "id": str(service.pk)}
    )
    log = as_coordinator.get(f"/org/{org.slug}/outreach/log/")
    assert log.context["form"].fields["referrals"].choices == [
        (str(service.pk), "Street Health wound clinic")
    ]


def test_the_service_worker_and_manifest_make_the_street_app_installable(client, org):
    worker = client.get(f"/org/{org.slug}/outreach/sw.js")
    assert worker.status_code == 200
    assert worker["Content-Type"] == "text/javascript; charset=utf-8"
    assert worker["Cache-Control"] == "no-store, private"  # every /org/ answer (NoStoreMiddleware)
    body = worker.content.decode()
    base = f"/org/{org.slug}/outreach/"
    assert f'["{base}", "{base}log/", "{base}overdose/"]' in body
    manifest = client.get(f"/org/{org.slug}/outreach/manifest.webmanifest?lang=fr")
    assert manifest["Content-Type"] == "application/manifest+json"
    data = manifest.json()
    assert (data["start_url"], data["scope"], data["display"], data["lang"]) == (
        f"/org/{org.slug}/outreach/log/",
        f"/org/{org.slug}/outreach/",
        "standalone",
        "fr",
    )
