"""A coordinator removes an encounter or overdose response entered in error: stock goes back to
its lots, the report and spike detection forget it, a phone cannot send it again, and the
change is in the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from harbour.core.models import AuditAction, AuditEvent
from harbour.core.roles import Role
from harbour.outreach import selectors, services
from harbour.outreach.models import (
    Distribution,
    Encounter,
    OverdoseResponse,
    RemovedRecord,
    StockMovement,
)
from harbour.surveillance.models import OverdoseEvent

from .conftest import encounter, on_hand, response

pytestmark = pytest.mark.django_db


def test_an_encounter_entered_in_error_is_removed_and_its_stock_returned(
    org, worker, coordinator, stocked
):
    # given an encounter that gave 3 nasal kits (2 from the lot expiring first) and 10 syringes
    sent = encounter(stocked, supplies={"naloxone-nasal": 3, "syringes": 10})
    services.encounters_record(actor=worker, organization=org, records=[sent])
    assert on_hand(stocked, "naloxone-nasal") == {"SOON1": 0, "LATE1": 2}
    today = timezone.localdate()
    before = services_report(coordinator, org, today)
    assert (before.encounters, before.naloxone_nasal, given(before, "syringes")) == (1, 3, 10)
    # when the coordinator removes it, saying why
    removed = services.record_remove(
        actor=coordinator,
        organization=org,
        kind="encounter",
        record_id=sent["id"],
        reason="  logged twice by   the van ",
    )
    # then the record and what it gave are gone, each lot has its kits back, and the ledger
    # says so in two corrections next to the original movements
    assert removed.reason == "logged twice by the van"
    assert Encounter.objects.count() == 0 and Distribution.objects.count() == 0
    assert on_hand(stocked, "naloxone-nasal") == {"SOON1": 2, "LATE1": 3}
    assert on_hand(stocked, "syringes") == {"": 200}
    corrections = StockMovement.objects.filter(kind="adjustment").order_by("supply", "lot")
    assert [(m.supply, m.lot, m.change) for m in corrections] == [
        ("naloxone-nasal", "LATE1", 1),
        ("naloxone-nasal", "SOON1", 2),
        ("syringes", "", 10),
    ]
    assert all(m.note == "Entered in error: logged twice by the van" for m in corrections)
    after = services_report(coordinator, org, today)
    assert (after.encounters, after.naloxone_nasal, given(after, "syringes")) == (0, 0, 0)
    # and the phone that sends it again is told it was received, and nothing is stored
    again = services.encounters_record(actor=worker, organization=org, records=[sent])
    assert again[0].status == "duplicate"
    assert Encounter.objects.count() == 0
    assert on_hand(stocked, "naloxone-nasal") == {"SOON1": 2, "LATE1": 3}
    event = AuditEvent.objects.get(action=AuditAction.OUTREACH_RECORD_REMOVE)
    assert (event.actor_id, event.organization_id) == (coordinator.pk, org.pk)
    assert event.metadata["kind"] == "encounter"
    assert event.metadata["returned"] == {"naloxone-nasal": 3, "syringes": 10}


def services_report(actor, org, day):  # type: ignore[no-untyped-def]
    return selectors.report(actor, organization=org, first=day - timedelta(days=7), last=day)


def given(report, supply: str) -> int:  # type: ignore[no-untyped-def]
    return sum(n for code, _label, n in report.supplies if code == supply)


def test_a_response_entered_in_error_leaves_detection_and_returns_its_kits(
    org, worker, coordinator, stocked
):
    sent = response(stocked, kits_nasal=2)
    services.responses_record(actor=worker, organization=org, records=[sent])
    assert OverdoseEvent.objects.get().excluded is False
    assert on_hand(stocked, "naloxone-nasal") == {"SOON1": 0, "LATE1": 3}
    services.record_remove(
        actor=coordinator, organization=org, kind="response", record_id=sent["id"], reason="test"
    )
    assert OverdoseResponse.objects.count() == 0
    assert OverdoseEvent.objects.get().excluded is True
    assert on_hand(stocked, "naloxone-nasal") == {"SOON1": 2, "LATE1": 3}
    assert services.responses_record(actor=worker, organization=org, records=[sent])[0].status == (
        "duplicate"
    )
    assert OverdoseResponse.objects.count() == 0


def test_only_a_coordinator_of_the_organization_removes_and_only_with_a_reason(
    org, worker, coordinator, stocked, make_org, make_member
):
    sent = encounter(stocked, supplies={"syringes": 5})
    services.encounters_record(actor=worker, organization=org, records=[sent])
    with pytest.raises(PermissionDenied):
        services.record_remove(
            actor=worker, organization=org, kind="encounter", record_id=sent["id"], reason="x"
        )
    other = make_org("elsewhere")
    stranger = make_member(other, Role.COORDINATOR)
    with pytest.raises(ValidationError, match="no such record"):
        services.record_remove(
            actor=stranger, organization=other, kind="encounter", record_id=sent["id"], reason="x"
        )
    with pytest.raises(ValidationError, match="no such record"):
        services.record_remove(
            actor=coordinator,
            organization=org,
            kind="encounter",
            record_id="not-a-uuid",
            reason="x",
        )
    with pytest.raises(ValidationError) as caught:
        services.record_remove(
            actor=coordinator, organization=org, kind="encounter", record_id=sent["id"], reason=" "
        )
    assert caught.value.message_dict == {"reason": ["Say what was wrong with it."]}
    assert Encounter.objects.count() == 1 and RemovedRecord.objects.count() == 0
    assert on_hand(stocked, "syringes") == {"": 195}


def test_the_records_page_lets_a_coordinator_remove_one_and_no_one_else(
    org, worker, coordinator, stocked, make_org, make_member, client, enable_totp
):
    sent = encounter(stocked, supplies={"syringes": 5})
    services.encounters_record(actor=worker, organization=org, records=[sent])
    url = f"/org/{org.slug}/outreach/records/encounter/{sent['id']}/remove/"
    # a peer worker sees the records without the link, and cannot open the page
    enable_totp(worker)
    client.force_login(worker)
    assert url not in client.get(f"/org/{org.slug}/outreach/records/").content.decode()
    assert client.get(url).status_code == 403
    # nor can another organization's coordinator
    other = make_org("elsewhere")
    stranger = make_member(other, Role.COORDINATOR)
    enable_totp(stranger)
    client.force_login(stranger)
    assert client.get(url).status_code == 404
    assert (
        client.get(f"/org/{other.slug}/outreach/records/encounter/{sent['id']}/remove/").status_code
        == 404
    )
    # the coordinator follows the link; without a reason the form says what is missing
    enable_totp(coordinator)
    client.force_login(coordinator)
    assert url in client.get(f"/org/{org.slug}/outreach/records/").content.decode()
    page = client.get(url)
    assert page.status_code == 200 and "Remove a record entered in error" in page.content.decode()
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 200 and "This field is required." in refused.content.decode()
    assert Encounter.objects.count() == 1
    # with one, the record is removed and the page says its supplies are back
    done = client.post(url, {"reason": "wrong team"}, follow=True)
    assert done.redirect_chain[-1][0] == f"/org/{org.slug}/outreach/records/"
    assert "Removed. Its supplies are back in stock." in done.content.decode()
    assert Encounter.objects.count() == 0
    assert on_hand(stocked, "syringes") == {"": 200}
    assert client.get(url).status_code == 404
    # a French coordinator reads the page and its errors in French
    again = encounter(stocked, supplies={"syringes": 1})
    services.encounters_record(actor=worker, organization=org, records=[again])
    client.cookies["django_language"] = "fr"
    try:
        french = client.post(
            f"/org/{org.slug}/outreach/records/encounter/{again['id']}/remove/", {"reason": " "}
        )
    finally:
        translation.deactivate()  # the request left French active for the tests that follow
    text = french.content.decode()
    assert "Retirer un enregistrement saisi par erreur" in text
    assert "Ce champ est obligatoire." in text
