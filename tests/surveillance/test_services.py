"""The overdose event store, CSV import, detection runs and what coordinators do with signals,
on the real database, with the real outbox and detection library."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from harbour.alerts import services as alerts
from harbour.alerts.models import Alert, AlertPolicy, ReportKind
from harbour.core.models import AuditEvent
from harbour.core.roles import Role
from harbour.notify.models import Message
from harbour.surveillance import services
from harbour.surveillance.models import (
    DetectionSettings,
    Level,
    Method,
    OverdoseEvent,
    PublishedSeries,
    Signal,
    SignalStatus,
    Source,
)
from harbour.surveillance.services import EventIn

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parents[1] / "data" / "surveillance"
NOW = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)


def event(org, hours_ago: float, fsa: str = "K7L", ref: str = "", **kwargs):  # type: ignore[no-untyped-def]
    data = EventIn(
        occurred_at=NOW - timedelta(hours=hours_ago),
        source=kwargs.pop("source", Source.OUTREACH),
        source_ref=ref or f"t:{fsa}:{hours_ago}:{kwargs.get('city', '')}",
        fsa=fsa,
        **kwargs,
    )
    return services.event_record(organization=org, data=data)[0]


@pytest.fixture
def watched(make_org):  # type: ignore[no-untyped-def]
    org = make_org("kingston-hu")
    DetectionSettings.objects.create(
        organization=org, areas="K7L K7K K7M K7P", methods=[Method.POISSON_GAMMA,
        Method.EARS_C2, Method.COUNT_24H], min_events=2, count_threshold=3,
    )  # fmt: skip
    return org


def quiet_history(org, days: int = 90) -> None:  # type: ignore[no-untyped-def]
    """One event every third day in K7K for ``days`` days (a calm baseline)."""
    for day in range(2, days, 3):
        event(org, 24 * day + 5, fsa="K7K", ref=f"h:{day}")


# --- the store --------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_an_event_keeps_only_a_coarse_area_and_is_stored_once(org_a):
    # given an event known by its exact position
    data = EventIn(
        occurred_at=NOW - timedelta(hours=1), source=Source.OUTREACH, source_ref="enc:1",
        lat=44.2931, lng=-76.4312, fatal=False, naloxone_given=True,
        substances=["Fentanyl", "  fentanyl ", "Xylazine"],
    )  # fmt: skip
    # when it is recorded twice (a retry)
    first, created = services.event_record(organization=org_a, data=data)
    again, created_again = services.event_record(organization=org_a, data=data)
    # then one row, with the nearest postal area and its H3 cell, and no coordinates anywhere
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk and OverdoseEvent.objects.count() == 1
    assert first.fsa == "K7L" and first.province == "ON"
    assert first.h3_cell == "872b9da76ffffff"
    assert first.substances == ["fentanyl", "xylazine"]
    fields = {f.name for f in OverdoseEvent._meta.get_fields()}
    assert not fields & {"lat", "lng", "latitude", "longitude", "position"}


@time_machine.travel(NOW, tick=False)
def test_bad_events_are_refused_with_the_fields_named(org_a):
    def refuse(**kwargs):  # type: ignore[no-untyped-def]
        values = {"occurred_at": NOW, "source": Source.OUTREACH, "source_ref": "x", "fsa": "K7L"}
        with pytest.raises(ValidationError) as error:
            services.event_record(organization=org_a, data=EventIn(**{**values, **kwargs}))
        return error.value.message_dict

    assert refuse(occurred_at=NOW + timedelta(hours=2)) == {
        "occurred_at": ["The time is in the future."]
    }
    assert refuse(fsa="ZZZ") == {"fsa": ["'ZZZ' is not a Canadian postal code."]}
    assert refuse(fsa="") == {"fsa": ["Give a postal area or a position."]}
    assert refuse(fsa="", lat=95.0, lng=10.0) == {
        "position": ["Latitude must be -90 to 90 and longitude -180 to 180."]
    }
    assert refuse(source="tv") == {"source": ["Unknown source 'tv'."]}
    assert OverdoseEvent.objects.count() == 0


@time_machine.travel(NOW, tick=False)
def test_an_anonymous_overdose_report_counts_once_reviewed_and_never_when_dismissed(
    watched, make_member
):
    # given the watching organization reviews K7L's community reports
    AlertPolicy.objects.create(organization=watched, report_areas=" K7L ")
    coordinator = make_member(watched, Role.COORDINATOR)
    # and an anonymous report of an overdose, one of bad dope, and a second overdose report
    report = alerts.report_create(
        kind=ReportKind.OVERDOSE, what_happened="my friend fell out after purple down", fsa="k7l",
        sold_as="purple down",
    )  # fmt: skip
    alerts.report_create(kind=ReportKind.BAD_DOPE, what_happened="tastes like chemicals", fsa="K7L")
    spam = alerts.report_create(
        kind=ReportKind.OVERDOSE, what_happened="ten people fell out at once", fsa="K7L"
    )
    assert report is not None and spam is not None
    assert report.organization == watched
    # then nothing counts before a coordinator of the area looked at it
    assert OverdoseEvent.objects.count() == 0
    assert list(services.visible_events(watched)) == []
    # when the coordinator confirms the first, only it is an event, with no organization
    alerts.report_confirm(report=report, actor=coordinator, organization=watched)
    stored = OverdoseEvent.objects.get()
    assert (stored.source, stored.organization, stored.fsa) == (
        Source.ANONYMOUS_REPORT,
        None,
        "K7L",
    )
    assert stored.substances == ["purple down"]
    assert list(services.visible_events(watched)) == [stored]
    # and a report dismissed as spam never counts
    alerts.report_dismiss(report=spam, actor=coordinator, organization=watched)
    assert list(services.visible_events(watched)) == [stored]
    assert OverdoseEvent.objects.count() == 1


# --- import -----------------------------------------------------------------------------------

CSV_OK = """Incident,When,Postal,Outcome,Narcan,Drugs
A-1,2026-11-28 21:15,K7L 3N6,non-fatal,yes,fentanyl;benzo
A-2,2026-11-29,K7K,fatal,no,
A-3,2026-11-29T02:00:00-05:00,k7m,,unknown,carfentanil
"""
MAP = "id=Incident,date=When,fsa=Postal,fatal=Outcome,naloxone=Narcan,substances=Drugs"


@time_machine.travel(NOW, tick=False)
def test_import_with_a_mapping_and_again_changes_nothing(org_a):
    # when a file of three events is imported twice
    mapping = services.parse_mapping(MAP)
    first = services.events_import(organization=org_a, text=CSV_OK, mapping=mapping,
                                   source=Source.EMS)  # fmt: skip
    second = services.events_import(organization=org_a, text=CSV_OK, mapping=mapping,
                                    source=Source.EMS)  # fmt: skip
    # then three events, then none new
    assert (first.rows, first.created, first.already) == (3, 3, 0)
    assert (second.created, second.already) == (0, 3)
    rows = {e.fsa: e for e in OverdoseEvent.objects.all()}
    assert set(rows) == {"K7L", "K7K", "K7M"}
    assert rows["K7L"].fatal is False and rows["K7L"].naloxone_given is True
    assert rows["K7L"].substances == ["benzo", "fentanyl"]
    assert rows["K7K"].fatal is True and rows["K7K"].occurred_at.hour == 17  # noon Toronto
    assert rows["K7M"].fatal is None and rows["K7M"].naloxone_given is None
    assert rows["K7M"].occurred_at == datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
    assert {e.source for e in rows.values()} == {Source.EMS}
    # the second import wrote nothing, so it has nothing to audit
    assert AuditEvent.objects.filter(action="surveillance-import").count() == 1


@time_machine.travel(NOW, tick=False)
def test_rows_without_an_id_are_kept_apart_and_recognised_again(org_a):
    text = "day,fsa\n2026-11-20,K7L\n2026-11-20,K7L\n2026-11-21,K7K\n"
    mapping = services.parse_mapping("date=day,fsa=fsa")
    assert services.events_import(organization=org_a, text=text, mapping=mapping).created == 3
    assert services.events_import(organization=org_a, text=text, mapping=mapping).created == 0
    assert OverdoseEvent.objects.filter(fsa="K7L").count() == 2


@time_machine.travel(NOW, tick=False)
def test_times_with_any_offset_python_reads_are_stored_in_utc(org_a):
    # "+18:20" is an offset Python accepts and PostgreSQL refuses (±15:59 at most)
    text = "day,fsa\n2026-11-20T10:00:00+18:20,K7L\n"
    mapping = services.parse_mapping("date=day,fsa=fsa")
    assert services.events_import(organization=org_a, text=text, mapping=mapping).created == 1
    assert OverdoseEvent.objects.get().occurred_at == datetime(2026, 11, 19, 15, 40, tzinfo=UTC)


@time_machine.travel(NOW, tick=False)
def test_a_bad_file_is_refused_whole_with_line_numbers(org_a):
    text = (
        "Incident,When,Postal,Outcome,Narcan,Drugs\n"
        "B-1,2026-11-28,K7L,fatal,yes,\n"
        "B-2,28/11/2026,K7L,fatal,yes,\n"
        "B-3,2026-11-28,Kingston,maybe,yes,\n"
        "B-4,2027-01-01,K7L,no,si,\n"
    )
    with pytest.raises(services.ImportError_) as error:
        services.events_import(organization=org_a, text=text, mapping=services.parse_mapping(MAP),
                               filename="ems.csv")  # fmt: skip
    assert error.value.errors == [
        "ems.csv:3: column 'When' (date): '28/11/2026' is not a date like 2026-11-30 or "
        "2026-11-30 21:15",
        "ems.csv:4: column 'Outcome' (fatal): 'maybe' is not yes or no",
        "ems.csv:5: column 'Narcan' (naloxone): 'si' is not yes or no",
    ]
    # the postal code of line 4 is wrong too, but a row stops at its first bad cell type;
    # fixing those rows shows it
    fixed = text.replace("28/11/2026", "2026-11-28").replace("maybe", "fatal").replace("si", "1")
    with pytest.raises(services.ImportError_) as error:
        services.events_import(organization=org_a, text=fixed,
                               mapping=services.parse_mapping(MAP), filename="ems.csv")  # fmt: skip
    assert error.value.errors == [
        "ems.csv:4: column 'Postal' (fsa): 'Kingston' is not a Canadian postal code.",
        "ems.csv:5: column 'When' (date): The time is in the future.",
    ]
    assert OverdoseEvent.objects.count() == 0


def test_a_mapping_that_does_not_fit_the_file_names_the_columns(org_a):
    with pytest.raises(services.ImportError_) as error:
        services.parse_mapping("date=When,postal=Postal")
    assert error.value.errors == [
        "--map: unknown field 'postal' (fields: date, time, fsa, lat, lng, city, region, fatal, "
        "naloxone, substances, source, id)"
    ]
    with pytest.raises(services.ImportError_) as error:
        services.parse_mapping("fsa=Postal")
    assert error.value.errors == ["--map: date=<column> is required"]
    with pytest.raises(services.ImportError_) as error:
        services.events_import(
            organization=org_a, text=CSV_OK, filename="ems.csv",
            mapping=services.parse_mapping("date=Date,fsa=Postal"),
        )  # fmt: skip
    assert error.value.errors == [
        "ems.csv:1: the file has no column 'Date' (mapped to date); its columns are "
        "'Incident', 'When', 'Postal', 'Outcome', 'Narcan', 'Drugs'"
    ]


@time_machine.travel(NOW, tick=False)
def test_the_import_command(tmp_path, org_a, capsys):
    path = tmp_path / "ems.csv"
    path.write_text(CSV_OK, encoding="utf-8")
    call_command("import-events", str(path), "--org", org_a.slug, "--map", MAP, "--source",
                 "ems", "--dry-run")  # fmt: skip
    out = capsys.readouterr().out
    assert "dry run, nothing written: event: 3 new, 0 changed, 0 unchanged" in out
    assert OverdoseEvent.objects.count() == 0
    call_command("import-events", str(path), "--org", org_a.slug, "--map", MAP)
    assert OverdoseEvent.objects.count() == 3
    with pytest.raises(CommandError, match="import failed: 1 problem"):
        call_command(
            "import-events", str(path), "--org", org_a.slug, "--map", "date=Nope,fsa=Postal"
        )
    with pytest.raises(CommandError, match="no organization"):
        call_command("import-events", str(path), "--org", "nobody", "--map", MAP)


def test_phac_harms_are_loaded_with_suppressed_values_missing():
    # given the excerpt: 35 quarterly overall numbers among yearly and disaggregated rows
    text = (DATA / "harms_excerpt.csv").read_text(encoding="utf-8-sig")
    # when it is loaded
    assert services.published_import(text=text) == 35
    # then the quarters are there, and "n/a" / "Suppr." are missing values, not zeros
    q1 = PublishedSeries.objects.get(substance="Opioids", harm="Deaths", region="Canada",
                                     period="2016 Q1", unit="Number")  # fmt: skip
    assert q1.value == 669 and str(q1.period_start) == "2016-01-01"
    missing = PublishedSeries.objects.filter(region="Prince Edward Island", value__isnull=True)
    assert missing.count() == 5
    # and the copy shipped with Harbour loads whole
    assert services.published_import(text=services.shipped_harms()) == 3428


# --- detection --------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_an_injected_burst_makes_one_signal_and_coordinators_are_told(watched, make_member):
    # given a calm history, and coordinators (one reads French)
    coordinator = make_member(watched, Role.COORDINATOR)
    french = make_member(watched, Role.ORG_ADMIN)
    french.preferred_language = "fr"
    french.save()
    viewer = make_member(watched, Role.VIEWER)
    quiet_history(watched)
    assert services.detect(organization=watched, now=NOW) == []
    # when six overdoses happen in K7L within a few hours
    for hour in range(6):
        event(watched, hour + 0.5, fsa="K7L", ref=f"burst:{hour}")
    found = services.detect(organization=watched, now=NOW)
    # then the postal area, its city-less community and the 24-hour rule flag it
    keys = {(s.method, s.level, s.area) for s in found}
    assert (Method.POISSON_GAMMA, Level.FSA, "K7L") in keys
    assert (Method.COUNT_24H, Level.FSA, "K7L") in keys
    assert (Method.POISSON_GAMMA, Level.COMMUNITY, "") in keys
    assert all(s.area in {"K7L", ""} for s in found)
    k7l = Signal.objects.get(method=Method.POISSON_GAMMA, level=Level.FSA, area="K7L")
    assert k7l.observed == 6 and k7l.expected == pytest.approx(0.5 / 28, abs=1e-9)
    # and each coordinator (not the viewer) got one email, in their language
    mails = {m.recipient: m for m in Message.objects.filter(channel="email")}
    assert set(mails) == {coordinator.email, french.email}
    assert viewer.email not in mails
    assert "more overdose events than usual" in mails[coordinator.email].body
    assert "plus d’événements de surdose que d’habitude" in mails[french.email].body
    # when the run repeats an hour later with the spike still there, nothing new is raised
    later = NOW + timedelta(hours=1)
    assert services.detect(organization=watched, now=later) == []
    assert Message.objects.filter(channel="email").count() == 2


@time_machine.travel(NOW, tick=False)
def test_two_events_in_a_day_are_below_the_fixed_threshold(watched):
    event(watched, 1, ref="a")
    event(watched, 3, ref="b")
    found = services.find_signals(
        events=list(services.visible_events(watched).values_list(
            "occurred_at", "fsa", "city", "health_region")),
        now=NOW, options=services.settings_for(watched),
    )  # fmt: skip
    assert [f for f in found if f.method == Method.COUNT_24H] == []
    event(watched, 20, ref="c")
    found = services.find_signals(
        events=list(services.visible_events(watched).values_list(
            "occurred_at", "fsa", "city", "health_region")),
        now=NOW, options=services.settings_for(watched),
    )  # fmt: skip
    window = [f for f in found if f.method == Method.COUNT_24H]
    assert [(f.area, f.observed) for f in window] == [("K7L", 3)]


@time_machine.travel(NOW, tick=False)
def test_a_cluster_of_neighbouring_areas_is_found_by_the_scan(make_org):
    # given eight weeks of events spread over Kingston's areas, then a burst in K7L and K7K
    org = make_org("scan-org")
    options = DetectionSettings.objects.create(
        organization=org, methods=[Method.SCAN], scan_days=2, min_events=2
    )
    areas = ["K7L", "K7K", "K7M", "K7P", "K0H", "K0K"]
    for day in range(3, 56):
        for i, fsa in enumerate(areas):
            if (day + i) % 4 == 0:
                event(org, 24 * day + 3, fsa=fsa, ref=f"bg:{day}:{fsa}")
    for n in range(8):
        event(org, 2 + n, fsa="K7L" if n % 2 else "K7K", ref=f"cl:{n}")
    # when the scan runs
    rows = list(OverdoseEvent.objects.values_list("occurred_at", "fsa", "city", "health_region"))
    found = services.find_signals(events=rows, now=NOW, options=options)
    # then one cluster holding the two areas, significant
    assert len(found) == 1
    cluster = found[0]
    assert cluster.level == Level.CLUSTER and set(cluster.area.split()) >= {"K7L", "K7K"}
    assert cluster.pvalue is not None and cluster.pvalue <= 0.05
    assert cluster.observed >= 8


@time_machine.travel(NOW, tick=False)
def test_no_history_is_not_an_error_and_farrington_waits_for_five_years(make_org):
    org = make_org("new-org")
    options = DetectionSettings.objects.create(
        organization=org, methods=[m.value for m in Method], areas="K7L"
    )
    assert services.detect(organization=org, now=NOW) == []
    event(org, 1, ref="only")
    event(org, 2, ref="second")
    found = services.find_signals(
        events=list(OverdoseEvent.objects.values_list("occurred_at", "fsa", "city",
                                                      "health_region")),
        now=NOW, options=options,
    )  # fmt: skip
    # Farrington needs five years of history and the 24-hour rule three events: nothing from
    # them; EARS on a baseline of zeros flags any count (its known weakness on sparse series,
    # hence the Bayesian method by default), as do the others at this level
    methods = {f.method for f in found}
    assert Method.FARRINGTON not in methods and Method.COUNT_24H not in methods
    assert methods == {Method.EARS_C1, Method.EARS_C2, Method.EARS_C3, Method.POISSON_GAMMA}


@time_machine.travel(NOW, tick=False)
def test_a_signal_becomes_an_alert_draft_in_one_click_and_only_once(watched, make_member):
    coordinator = make_member(watched, Role.COORDINATOR)
    quiet_history(watched)
    for hour in range(6):
        event(watched, hour + 0.5, ref=f"burst:{hour}")
    services.detect(organization=watched, now=NOW)
    signal = Signal.objects.get(method=Method.POISSON_GAMMA, level=Level.FSA)
    # when a coordinator turns it into an alert draft
    alert = services.signal_to_alert(signal=signal, actor=coordinator)
    # then a draft of the organization for K7L, in both languages, still to be reviewed
    assert alert.status == "draft" and alert.organization == watched
    assert alert.areas == " K7L "
    assert alert.title_en == "More overdoses than usual: K7L"
    assert alert.title_fr == "Plus de surdoses que d’habitude : K7L"
    signal.refresh_from_db()
    assert (signal.status, signal.alert) == (SignalStatus.ALERTED, alert)
    assert AuditEvent.objects.filter(action="signal-alert", object_id=str(signal.pk)).exists()
    # and a second click makes nothing more
    with pytest.raises(ValidationError):
        services.signal_to_alert(signal=signal, actor=coordinator)
    assert Alert.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_dismissing_needs_a_reason_and_a_coordinator(watched, make_member, org_b):
    quiet_history(watched)
    for hour in range(6):
        event(watched, hour + 0.5, ref=f"burst:{hour}")
    services.detect(organization=watched, now=NOW)
    signal = Signal.objects.filter(level=Level.FSA).first()
    assert signal is not None
    viewer = make_member(watched, Role.VIEWER)
    stranger = make_member(org_b, Role.ORG_ADMIN)
    coordinator = make_member(watched, Role.COORDINATOR)
    with pytest.raises(PermissionDenied):
        services.signal_dismiss(signal=signal, actor=viewer, reason="seen")
    with pytest.raises(Exception) as error:
        services.signal_dismiss(signal=signal, actor=stranger, reason="seen")
    assert error.typename == "Http404"
    with pytest.raises(ValidationError):
        services.signal_dismiss(signal=signal, actor=coordinator, reason="   ")
    done = services.signal_dismiss(signal=signal, actor=coordinator, reason="entered twice")
    assert (done.status, done.dismissed_reason) == (SignalStatus.DISMISSED, "entered twice")
    event_row = AuditEvent.objects.get(action="signal-dismiss")
    assert event_row.actor == coordinator and event_row.object_id == str(signal.pk)


@time_machine.travel(NOW, tick=False)
def test_settings_refuse_unknown_areas_and_are_audited(org_a, make_member):
    coordinator = make_member(org_a, Role.COORDINATOR)
    with pytest.raises(ValidationError) as error:
        services.settings_update(organization=org_a, actor=coordinator, areas="K7L Kingston")
    assert error.value.message_dict == {"areas": ["Kingston is not a postal area (e.g. K7L)."]}
    saved = services.settings_update(
        organization=org_a, actor=coordinator, areas="k7l, K7K k7l", methods=[Method.EARS_C1]
    )
    assert saved.areas == "K7L K7K" and saved.method_list() == [Method.EARS_C1]
    assert AuditEvent.objects.filter(action="surveillance-settings").count() == 1


@time_machine.travel(NOW, tick=False)
def test_the_detect_command_runs_every_enabled_organization(watched, make_org, capsys):
    quiet_history(watched)
    for hour in range(6):
        event(watched, hour + 0.5, ref=f"burst:{hour}")
    off = make_org("off-org")
    DetectionSettings.objects.create(organization=off, enabled=False)
    for hour in range(6):
        event(off, hour + 0.5, ref=f"off:{hour}")
    call_command("detect-signals")
    out = capsys.readouterr().out
    assert Signal.objects.filter(organization=off).count() == 0
    assert f"{Signal.objects.filter(organization=watched).count()} new signal(s)" in out
    call_command("detect-signals", "--org", watched.slug)
    assert "0 new signal(s)" in capsys.readouterr().out


@time_machine.travel(NOW, tick=False)
def test_a_city_holding_the_same_events_as_the_community_is_not_signalled_twice(watched):
    # given every event in Kingston, with its city named
    quiet_history(watched)
    for hour in range(6):
        event(watched, hour + 0.5, ref=f"burst:{hour}", city="Kingston")
    OverdoseEvent.objects.update(city="Kingston")
    # when detection runs
    found = services.detect(organization=watched, now=NOW)
    # then the city stands for the whole community (same events): no community signal
    levels = {(s.method, s.level, s.area) for s in found}
    assert (Method.POISSON_GAMMA, Level.CITY, "Kingston") in levels
    assert not [s for s in found if s.level == Level.COMMUNITY]


def test_cdc_counts_load_and_a_short_real_series_gives_not_enough_history(tmp_path, capsys):
    import numpy as np

    from harbour.surveillance import detection

    # given the CDC excerpt (5 jurisdictions, 3 indicators, 12-month-ending counts by month)
    path = DATA / "cdc_vsrr_excerpt.csv"
    call_command("import-harms", str(path), "--format", "cdc")
    assert "405 published figures loaded" in capsys.readouterr().out
    us = list(
        PublishedSeries.objects.filter(
            publisher="cdc", region="United States", substance="Number of Drug Overdose Deaths"
        ).order_by("period_start")
    )
    assert (len(us), us[0].period, us[0].value, us[-1].period) == (45, "2015-01", 47523, "2018-09")
    counts = np.array([row.value for row in us])
    # when Farrington is asked for the newest month of 45 (it needs five years of history)
    result = detection.farrington_flexible(counts, freq=12, range=[44])
    # then "not enough history": no bound, no alarm, no error
    assert np.isnan(result.upperbound[44]) and not result.alarm.any()
    # and EARS C1 has bounds once seven months of baseline exist
    ears = detection.ears(counts, method="C1")
    assert np.isnan(ears.upperbound[:7]).all() and np.isfinite(ears.upperbound[7:]).all()
    with pytest.raises(CommandError, match="needs the CSV file"):
        call_command("import-harms", "--format", "cdc")
