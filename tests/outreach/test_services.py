"""Outreach services on the real database: encounters and overdose responses from devices
(idempotent, checked one by one, stock deducted first lot to expire first and never below
zero), stock receipts, transfers and corrections, naloxone kits and training, anonymous
kit-use reports and refills, stock notices through the real outbox and SMTP, purges."""

from __future__ import annotations

from datetime import timedelta
from datetime import timezone as dt_timezone

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone, translation

from harbour.core.models import AuditEvent
from harbour.core.roles import Role
from harbour.notify import services as notify
from harbour.notify.models import Message
from harbour.outreach import services
from harbour.outreach.models import (
    Distribution,
    Encounter,
    EncounterReferral,
    KitUseReport,
    OverdoseResponse,
    StockLevel,
    StockMovement,
    StockNotice,
    TrainingSession,
)
from harbour.surveillance.models import OverdoseEvent, Source

from .conftest import encounter, on_hand, response

pytestmark = pytest.mark.django_db


def record(actor, org, *records, via="sync"):  # type: ignore[no-untyped-def]
    return services.encounters_record(actor=actor, organization=org, records=list(records), via=via)


def ledger_matches_levels() -> bool:
    """Each balance is the sum of its movements."""
    sums = {
        (row["team_id"], row["supply"], row["lot"]): row["total"]
        for row in StockMovement.objects.values("team_id", "supply", "lot").annotate(
            total=Sum("change")
        )
    }
    levels = {(x.team_id, x.supply, x.lot): x.quantity for x in StockLevel.objects.all()}
    return sums == levels


# --- encounters -------------------------------------------------------------------------------


def test_a_batch_is_stored_once_and_a_retry_changes_nothing(org, worker, stocked, park):
    # given three encounters from a device: supplies, a named spot, a client code with consent
    first = encounter(
        stocked,
        supplies={"naloxone-nasal": 3, "syringes": 20},
        naloxone_recipient="family-friend",
        naloxone_trained=True,
    )
    second = encounter(
        stocked,
        fsa="",
        spot=str(park.pk),
        people_new=0,
        people_returning=2,
        services=["wound-care", "housing-help"],
    )
    third = encounter(stocked, client_code="mk84", consent=True, notes="Asked  about   detox")
    # when it is sent, and the same batch again (the answer was lost)
    results = record(worker, org, first, second, third)
    again = record(worker, org, first, second, third)
    # then each is stored once; the retry answers "duplicate" and stores nothing
    assert [r.status for r in results] == ["stored", "stored", "stored"]
    assert [r.status for r in again] == ["duplicate", "duplicate", "duplicate"]
    assert Encounter.objects.count() == 3
    stored = Encounter.objects.get(pk=second["id"])
    assert (stored.fsa, stored.spot_id, stored.people, stored.services) == (
        "K7K",
        park.pk,
        2,
        " wound-care housing-help ",
    )
    coded = Encounter.objects.get(pk=third["id"])
    assert (
        coded.client_code == "MK84" and coded.consent is True and len(coded.client_code_index) == 40
    )
    assert coded.notes == "Asked about detox"
    # and the supplies were deducted once: the lot that expires first went first
    assert on_hand(stocked, "naloxone-nasal") == {"SOON1": 0, "LATE1": 2}
    assert on_hand(stocked, "syringes") == {"": 180}
    naloxone = Distribution.objects.get(supply="naloxone-nasal")
    assert (naloxone.quantity, naloxone.recipient, naloxone.trained) == (3, "family-friend", True)
    assert Distribution.objects.get(supply="syringes").recipient == ""
    assert ledger_matches_levels()
    # and one audit event per batch that stored something, none for the pure retry
    events = AuditEvent.objects.filter(action="outreach-encounters-record")
    assert [e.metadata for e in events] == [
        {"via": "sync", "stored": 3, "duplicate": 0, "rejected": 0}
    ]


def test_a_wrong_record_is_rejected_with_the_reason_and_the_others_are_kept(org, worker, stocked):
    # given a batch with one good record and several wrong ones
    good = encounter(stocked, supplies={"syringes": 5})
    future = encounter(stocked, occurred_at=(timezone.now() + timedelta(hours=2)).isoformat())
    old = encounter(stocked, occurred_at=(timezone.now() - timedelta(days=400)).isoformat())
    crowd = encounter(stocked, people_new=51)
    nobody = encounter(stocked, people_new=0, people_returning=0)
    unknown = encounter(stocked, supplies={"crack-pipes-xl": 2})
    too_many = encounter(stocked, supplies={"syringes": 501})
    no_area = encounter(stocked, fsa="")
    not_fsa = encounter(stocked, fsa="ZZZ")
    name = encounter(stocked, client_code="Sam", consent=True)
    no_consent = encounter(stocked, client_code="SJ77")
    # when
    results = record(
        worker,
        org,
        good,
        future,
        old,
        crowd,
        nobody,
        unknown,
        too_many,
        no_area,
        not_fsa,
        name,
        no_consent,
    )
    # then only the good one is stored, and each other says what is wrong and where
    assert [r.status for r in results] == ["stored"] + ["rejected"] * 10
    assert Encounter.objects.count() == 1
    errors = [r.errors for r in results[1:]]
    assert errors == [
        {"occurred_at": ["The time is in the future."]},
        {"occurred_at": ["This is more than a year ago."]},
        {"people_new": ["New people must be between 0 and 50."]},
        {"people_new": ["Count at least one person (new or returning)."]},
        {"supplies": ["Unknown supply type “crack-pipes-xl”."]},
        {"supply-syringes": ["Syringes must be between 0 and 500."]},
        {"fsa": ["Give the postal area (like K7L) or choose a named spot."]},
        {"fsa": ["“ZZZ” is not a Canadian postal area: use the first three characters, like K7L."]},
        {
            "client_code": [
                "A client code is 3 to 16 letters and numbers with at least one number "
                "(like MK84), never a name."
            ]
        },
        {"consent": ["Ask first: a client code is kept only with the person’s consent."]},
    ]
    assert results[1].detail == "The time is in the future."
    assert on_hand(stocked, "syringes") == {"": 195}


def test_errors_come_in_the_workers_language(org, worker, stocked):
    # given a worker whose phone is in French
    with translation.override("fr"):
        # when a wrong record is sent
        result = record(worker, org, encounter(stocked, people_new=80))[0]
    # then the reason is in French
    assert result.errors == {
        "people_new": ["Nouvelles personnes\u00a0: il faut un nombre entre 0 et 50."]
    }


def test_stock_never_goes_below_zero_the_record_is_refused_and_nothing_is_deducted(
    org, worker, coordinator, stocked
):
    # given 5 nasal kits in the van
    first = encounter(stocked, supplies={"naloxone-nasal": 4, "syringes": 10})
    second = encounter(stocked, supplies={"naloxone-nasal": 2, "syringes": 10})
    # when two encounters in one batch would take 6
    results = record(worker, org, first, second)
    # then the second is refused with the stock left, and none of its supplies are deducted
    assert [r.status for r in results] == ["stored", "rejected"]
    assert results[1].errors == {
        "supplies": [
            "Not enough Naloxone kits, nasal in the stock of Van: 2 given, 1 left. "
            "Record a receipt or a transfer first."
        ]
    }
    assert sum(on_hand(stocked, "naloxone-nasal").values()) == 1
    assert on_hand(stocked, "syringes") == {"": 190}
    assert ledger_matches_levels()
    # and once the stock is received, the same record (same id) goes through
    services.stock_receive(
        actor=coordinator,
        team=stocked,
        supply="naloxone-nasal",
        quantity=10,
        lot="NEW2",
        expires_on=timezone.localdate() + timedelta(days=300),
    )
    assert record(worker, org, second)[0].status == "stored"


def test_untracked_supplies_are_counted_but_not_deducted(org, worker, van):
    # given food and warm clothing are not kept in stock by default
    result = record(worker, org, encounter(van, supplies={"food-water": 3, "warm-clothing": 1}))
    assert result[0].status == "stored"
    assert dict(Distribution.objects.values_list("supply", "quantity")) == {
        "food-water": 3,
        "warm-clothing": 1,
    }
    assert StockMovement.objects.count() == 0


def test_records_of_another_organization_are_refused(org, worker, stocked, make_org, make_member):
    # given a team of another organization and a record id already used there
    other = make_org("other-org")
    stranger = make_member(other, Role.COORDINATOR)
    theirs = services.team_save(actor=stranger, organization=other, name="Their van")
    mine = encounter(stocked)
    assert record(worker, org, mine)[0].status == "stored"
    # when their worker sends our id, or we send their team
    clash = record(stranger, other, {**encounter(theirs), "id": mine["id"]})[0]
    wrong_team = record(worker, org, encounter(theirs))[0]
    # then neither is stored
    assert (clash.status, clash.errors) == ("rejected", {"id": ["This record id is already used."]})
    assert wrong_team.errors == {
        "team": ["This team or site is not one of your organization’s active ones."]
    }
    assert Encounter.objects.count() == 1
    # and someone with no role here cannot record at all
    from django.http import Http404

    with pytest.raises(Http404):
        record(stranger, org, encounter(stocked))


def test_a_viewer_cannot_record(org, stocked, make_member):
    from django.core.exceptions import PermissionDenied

    viewer = make_member(org, Role.VIEWER)
    with pytest.raises(PermissionDenied):
        record(viewer, org, encounter(stocked))


def test_referrals_and_device_position_rounded_to_about_100_m(org, worker, van):
    from harbour.directory.models import DirectoryOrganization, Service

    owner = DirectoryOrganization.objects.create(name="Street Health")
    service = Service.objects.create(organization=owner, name="Street Health wound clinic")
    # when an encounter with a referral and only a device position is sent
    sent = encounter(van, fsa="", lat=44.295934, lng=-76.428712, referrals=[str(service.pk)])
    assert record(worker, org, sent)[0].status == "stored"
    # then the position is kept to three decimals and the postal area found from it
    stored = Encounter.objects.get(pk=sent["id"])
    assert (stored.lat, stored.lng, stored.fsa) == (44.296, -76.429, "K7L")
    assert list(EncounterReferral.objects.values_list("service_name", flat=True)) == [
        "Street Health wound clinic"
    ]
    unknown = record(
        worker, org, encounter(van, referrals=["8a8d9c2e-1111-4111-8111-111111111111"])
    )
    assert unknown[0].errors == {
        "referrals": ["Unknown directory service “8a8d9c2e-1111-4111-8111-111111111111”."]
    }


# --- overdose responses -----------------------------------------------------------------------


def test_an_overdose_response_becomes_one_surveillance_event_and_uses_stock(org, worker, stocked):
    # given a response with two nasal kits used from the van's stock
    sent = response(
        stocked,
        kits_nasal=2,
        substances=["fentanyl", "xylazine", "unknown"],
        breathing="none",
        oxygen=True,
        outcome="ems",
    )
    # when it is sent twice
    first = services.responses_record(actor=worker, organization=org, records=[sent])
    second = services.responses_record(actor=worker, organization=org, records=[sent])
    # then it is stored once, with one overdose event (postal area only), and stock deducted
    assert [first[0].status, second[0].status] == ["stored", "duplicate"]
    stored = OverdoseResponse.objects.get()
    event = OverdoseEvent.objects.get()
    assert stored.surveillance_event == event.pk
    assert (event.source, event.source_ref, event.fsa, event.organization_id) == (
        Source.OUTREACH,
        f"outreach:{stored.pk}",
        "K7L",
        org.pk,
    )
    assert (event.fatal, event.naloxone_given, event.substances) == (
        False,
        True,
        ["fentanyl", "xylazine"],
    )
    assert on_hand(stocked, "naloxone-nasal") == {"SOON1": 0, "LATE1": 3}
    assert StockMovement.objects.filter(kind="response").count() == 1


def test_a_response_needs_an_outcome_and_a_way_the_naloxone_was_given(org, worker, stocked):
    results = services.responses_record(
        actor=worker,
        organization=org,
        records=[
            response(stocked, outcome=""),
            response(stocked, route="none"),
            response(stocked, naloxone_doses=25),
            response(stocked, kits_nasal=9),
        ],
    )
    assert [r.errors for r in results] == [
        {"outcome": ["What was the outcome?"]},
        {"route": ["How was the naloxone given?"]},
        {"naloxone_doses": ["Naloxone doses must be between 0 and 20."]},
        {
            "kits": [
                "Not enough Naloxone kits, nasal in the stock of Van: 9 given, 5 left. "
                "Record a receipt or a transfer first."
            ]
        },
    ]
    assert OverdoseResponse.objects.count() == 0 and OverdoseEvent.objects.count() == 0


def test_a_death_is_recorded_as_fatal(org, worker, van):
    services.responses_record(
        actor=worker,
        organization=org,
        records=[response(van, outcome="deceased", naloxone_doses=0)],
    )
    event = OverdoseEvent.objects.get()
    assert (event.fatal, event.naloxone_given) == (True, False)
    # the helper sends the default route "nasal": without a dose it means no naloxone
    assert OverdoseResponse.objects.get().route == "none"


# --- stock ------------------------------------------------------------------------------------


def test_naloxone_receipts_need_a_lot_and_an_expiry_in_the_future(coordinator, van):
    with pytest.raises(ValidationError) as missing:
        services.stock_receive(
            actor=coordinator, team=van, supply="naloxone-injectable", quantity=5
        )
    assert missing.value.message_dict == {
        "lot": ["Naloxone needs its lot number (on the box)."],
        "expires_on": ["Naloxone needs its expiry date (on the box)."],
    }
    with pytest.raises(ValidationError) as expired:
        services.stock_receive(
            actor=coordinator,
            team=van,
            supply="naloxone-injectable",
            quantity=5,
            lot="X1",
            expires_on=timezone.localdate(),
        )
    assert expired.value.message_dict == {"expires_on": ["This lot has already expired."]}
    with pytest.raises(ValidationError) as untracked:
        services.stock_receive(actor=coordinator, team=van, supply="food-water", quantity=5)
    assert untracked.value.message_dict == {
        "supply": ["Food or water is not kept in stock: turn it on in the outreach settings first."]
    }
    with pytest.raises(ValidationError) as zero:
        services.stock_receive(actor=coordinator, team=van, supply="condoms", quantity=0)
    assert zero.value.message_dict == {"quantity": ["Quantity must be between 1 and 100000."]}
    assert StockMovement.objects.count() == 0


def test_a_transfer_moves_lots_first_expiring_first_and_never_more_than_there_is(
    coordinator, stocked, site
):
    # when 3 nasal kits go from the van to the site
    services.stock_transfer(
        actor=coordinator, from_team=stocked, to_team=site, supply="naloxone-nasal", quantity=3
    )
    # then the 2 of the soon lot and 1 of the later lot moved, with their expiry dates
    assert on_hand(stocked, "naloxone-nasal") == {"SOON1": 0, "LATE1": 2}
    assert on_hand(site, "naloxone-nasal") == {"SOON1": 2, "LATE1": 1}
    moved = StockLevel.objects.get(team=site, lot="SOON1")
    assert moved.expires_on == StockLevel.objects.get(team=stocked, lot="SOON1").expires_on
    # and 3 more cannot go: 2 are left
    with pytest.raises(ValidationError) as refused:
        services.stock_transfer(
            actor=coordinator, from_team=stocked, to_team=site, supply="naloxone-nasal", quantity=3
        )
    assert refused.value.message_dict["quantity"] == [
        "Not enough Naloxone kits, nasal in the stock of Van: 3 given, 2 left. "
        "Record a receipt or a transfer first."
    ]
    assert ledger_matches_levels()


def test_a_coordinator_corrects_a_count_or_throws_expired_kits_away(coordinator, stocked):
    soon = StockLevel.objects.get(team=stocked, lot="SOON1")
    services.stock_correct(actor=coordinator, level=soon, thrown_away=2, note="expired")
    assert on_hand(stocked, "naloxone-nasal") == {"SOON1": 0, "LATE1": 3}
    strips = StockLevel.objects.get(team=stocked, supply="strips-fentanyl")
    services.stock_correct(actor=coordinator, level=strips, counted=42)
    assert on_hand(stocked, "strips-fentanyl") == {"": 42}
    with pytest.raises(ValidationError):
        services.stock_correct(actor=coordinator, level=strips, thrown_away=43)
    assert [m.kind for m in StockMovement.objects.filter(kind__in=["disposal", "adjustment"])] == [
        "adjustment",
        "disposal",
    ]
    assert ledger_matches_levels()


def test_a_peer_worker_cannot_correct_stock(org, stocked, make_member):
    from django.core.exceptions import PermissionDenied

    peer = make_member(org, Role.PEER_WORKER, email="peer2@example.org")
    with pytest.raises(PermissionDenied):
        services.stock_correct(actor=peer, level=StockLevel.objects.first(), counted=1)


# --- naloxone at sites and trainings ----------------------------------------------------------


def test_kits_given_at_a_site_and_at_a_training_count_and_use_stock(coordinator, worker, stocked):
    services.kits_give(
        actor=worker,
        team=stocked,
        supply="naloxone-nasal",
        quantity=1,
        recipient="staff",
        trained=False,
    )
    session = services.training_record(
        actor=worker,
        team=stocked,
        held_on=timezone.localdate(),
        people_trained=12,
        audience="family-friend",
        kits_given=3,
    )
    assert TrainingSession.objects.get().people_trained == 12
    given = list(
        Distribution.objects.order_by("quantity").values_list(
            "quantity", "recipient", "trained", "training"
        )
    )
    assert given == [(1, "staff", False, None), (3, "family-friend", True, session.pk)]
    assert sum(on_hand(stocked, "naloxone-nasal").values()) == 1
    with pytest.raises(ValidationError) as short:
        services.kits_give(
            actor=worker,
            team=stocked,
            supply="naloxone-nasal",
            quantity=2,
            recipient="pwud",
            trained=True,
        )
    assert "1 left" in short.value.messages[0]
    with pytest.raises(ValidationError) as future:
        services.training_record(
            actor=worker,
            team=stocked,
            held_on=timezone.localdate() + timedelta(days=1),
            people_trained=3,
            audience="pwud",
        )
    assert future.value.message_dict == {"held_on": ["The date is in the future."]}


# --- anonymous kit-use reports ----------------------------------------------------------------


def test_a_kit_use_report_is_routed_counted_and_becomes_an_anonymous_event(
    org, coordinator, smtp, settings
):
    # given our program serves K7L
    services.program_update(
        actor=coordinator,
        organization=org,
        tracked=[],
        areas=["K7L", "K7K"],
        expiry_warning_days=60,
        cover_weeks=4,
        low_stock_weeks=1,
    )
    coordinator.preferred_language = "fr"
    coordinator.save()
    # when someone reports a reversal in K7L and asks for a refill, twice (a double submit)
    report, new = services.kit_use_report(
        report_id="0e5c3a4e-4b8c-4c55-9d0e-111111111111",
        used_on=timezone.localdate(),
        fsa="k7l",
        doses=2,
        outcome="recovered",
        ems_came="no",
        kit_kind="nasal",
        want_refill=True,
        contact="613 555 0142",
    )
    again, new_again = services.kit_use_report(
        report_id="0e5c3a4e-4b8c-4c55-9d0e-111111111111",
        used_on=timezone.localdate(),
        fsa="K7L",
        doses=2,
        outcome="recovered",
        want_refill=True,
    )
    # then one report, routed to us, with the contact encrypted and a purge date
    assert (new, new_again, again.pk) == (True, False, report.pk)
    assert (report.organization_id, report.fsa, report.refill_status) == (org.pk, "K7L", "open")
    assert report.contact == "+16135550142" and report.contact_purge_at is not None
    # and an anonymous event for detection (no organization: it was not recorded by staff)
    event = OverdoseEvent.objects.get()
    assert (event.source, event.source_ref, event.organization_id, event.fatal) == (
        Source.ANONYMOUS_REPORT,
        f"kit-use:{report.pk}",
        None,
        False,
    )
    # and the coordinator is emailed in French, without the contact detail, through the outbox
    message = Message.objects.get()
    assert message.idempotency_key == f"outreach:refill:{report.pk}:user:{coordinator.pk}"
    while notify.deliver_due(limit=50):
        pass
    assert len(smtp.messages) == 1
    body = smtp.messages[0].get_payload(decode=True).decode()
    assert "Quelqu’un a utilisé une trousse de naloxone à K7L" in body
    assert "555" not in body


def test_a_report_from_an_area_nobody_serves_waits_to_be_taken(
    org, coordinator, make_org, make_member
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
    # a nearby area goes to the nearest program; a far one to nobody
    near, _ = services.kit_use_report(
        used_on=timezone.localdate(), fsa="K7M", doses=1, outcome="ems", want_refill=True
    )
    far, _ = services.kit_use_report(
        used_on=timezone.localdate(), fsa="V6A", doses=1, outcome="transported", want_refill=True
    )
    assert near.organization_id == org.pk and far.organization_id is None
    other = make_org("vancouver-org")
    vancouver = make_member(other, Role.COORDINATOR)
    services.program_for(other)
    services.refill_claim(actor=vancouver, organization=other, report=far)
    with pytest.raises(ValidationError):
        services.refill_claim(actor=coordinator, organization=org, report=far)
    far.refresh_from_db()
    assert far.organization_id == other.pk
    services.refill_done(actor=vancouver, report=far)
    far.refresh_from_db()
    assert (far.refill_status, far.contact) == ("done", "")


def test_a_kit_use_report_is_checked(org):
    with pytest.raises(ValidationError) as wrong:
        services.kit_use_report(
            used_on=timezone.localdate() + timedelta(days=2),
            fsa="12",
            doses=0,
            outcome="maybe",
            want_refill=True,
            contact="call me",
        )
    assert wrong.value.message_dict == {
        "used_on": ["The date is in the future."],
        "fsa": ["“12” is not a Canadian postal area: use the first three characters, like K7L."],
        "doses": ["Doses must be between 1 and 20."],
        "outcome": ["What happened?"],
        "contact": ["Give a phone number or an email address, or leave it empty."],
    }
    assert KitUseReport.objects.count() == 0


def test_spam_stops_counting_in_detection(org, coordinator):
    services.program_update(
        actor=coordinator,
        organization=org,
        tracked=[],
        areas=["K7L"],
        expiry_warning_days=60,
        cover_weeks=4,
        low_stock_weeks=1,
    )
    report, _ = services.kit_use_report(
        used_on=timezone.localdate(),
        fsa="K7L",
        doses=1,
        outcome="recovered",
        want_refill=True,
        contact="a@b.org",
    )
    services.kit_use_exclude(actor=coordinator, report=report)
    report.refresh_from_db()
    assert (report.excluded, report.contact, report.refill_status) == (True, "", "")
    assert OverdoseEvent.objects.get().excluded is True


# --- stock notices and purges ------------------------------------------------------------------


def test_low_stock_and_expiring_naloxone_are_told_once_a_day_per_item(
    org, coordinator, worker, stocked, smtp
):
    # given a week of heavy use of strips (45 of 50 given) and a lot expiring in 40 days
    record(worker, org, encounter(stocked, supplies={"strips-fentanyl": 45}))
    now = timezone.now()
    # when the periodic job runs twice the same day
    first = services.stock_notices(now=now)
    second = services.stock_notices(now=now + timedelta(hours=1))
    # then the coordinator (and the admin-level roles) got one message, once
    assert (first, second) == (1, 0)
    items = sorted(StockNotice.objects.values_list("item", flat=True))
    assert items == [
        f"expiry:{stocked.pk}:naloxone-nasal:SOON1",
        f"low:{stocked.pk}:strips-fentanyl",
    ]
    message = Message.objects.get(idempotency_key__startswith="outreach:stock:")
    assert "Low stock: Van has 5 fentanyl test strips left" in message.body
    assert "Expiring: Van, Naloxone kits, nasal lot SOON1 (2)" in message.body
    # and the next day the same items are told again
    assert services.stock_notices(now=now + timedelta(days=1)) == 1


def test_purge_erases_old_positions_and_refill_contacts(org, worker, van):
    old = encounter(
        van, lat=44.23, lng=-76.49, occurred_at=(timezone.now() - timedelta(days=31)).isoformat()
    )
    fresh = encounter(van, lat=44.23, lng=-76.49)
    record(worker, org, old, fresh)
    report, _ = services.kit_use_report(
        used_on=timezone.localdate(),
        fsa="K7L",
        doses=1,
        outcome="recovered",
        want_refill=True,
        contact="a@b.org",
    )
    KitUseReport.objects.filter(pk=report.pk).update(
        contact_purge_at=timezone.now() - timedelta(seconds=1)
    )
    assert services.purge() == {"contacts": 1, "positions": 1, "notes": 0}
    assert Encounter.objects.get(pk=old["id"]).lat is None
    assert Encounter.objects.get(pk=fresh["id"]).lat == 44.23
    assert KitUseReport.objects.get().contact == ""


def test_the_worker_runs_the_periodic_stock_notices_and_purge(
    org, coordinator, worker, stocked, run_tasks
):
    from harbour.core import schedule
    from harbour.outreach.tasks import purge, stock_notices

    # given both jobs are registered with the scheduler, and a lot expires within 60 days
    names = {job.name: job.every for job in schedule.jobs()}
    assert (names["outreach.stock-notices"], names["outreach.purge"]) == (
        timedelta(hours=1),
        timedelta(hours=6),
    )
    # when the real worker runs them
    stock_notices.enqueue()
    purge.enqueue()
    run_tasks()
    # then the coordinator's notice is in the outbox
    assert Message.objects.filter(idempotency_key__startswith="outreach:stock:").count() == 1


def test_a_phone_clock_with_an_offset_postgresql_refuses_is_stored_in_utc(org, worker, van):
    # Python reads "+18:20" (any offset under a day); PostgreSQL takes ±15:59 at most
    moment = (timezone.now() - timedelta(hours=1)).astimezone(
        dt_timezone(timedelta(hours=18, minutes=20))
    )
    sent = encounter(van, occurred_at=moment.isoformat())
    assert services.encounters_record(actor=worker, organization=org, records=[sent])[0].status == (
        "stored"
    )
    assert Encounter.objects.get().occurred_at == moment
