"""Duplicate listings: the finder, the merge (ids and history kept), dismissal, one result per
place in search, the staff page and the commands."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from harbour.core.models import AuditAction, AuditEvent
from harbour.core.roles import Role
from harbour.directory import duplicates, hsds, merge, selectors
from harbour.directory import services as ds
from harbour.directory.models import (
    Address,
    DirectoryOrganization,
    Location,
    MergedId,
    NotDuplicate,
    Phone,
    Service,
    ServiceAtLocation,
    SuggestedEdit,
)

pytestmark = pytest.mark.django_db


def listing(
    provider: str,
    name: str,
    address: str,
    postal: str,
    phone: str = "",
    *,
    owner: Any = None,
    lat: float = 44.2312,
    lng: float = -76.4860,
    **fields: Any,
) -> Service:
    """One row of an imported spreadsheet: its own provider, service, place and phone."""
    org = DirectoryOrganization.objects.create(name_en=provider, owner=owner)
    service = Service.objects.create(organization=org, name_en=name, **fields)
    location = Location.objects.create(organization=org, latitude=lat, longitude=lng)
    Address.objects.create(
        location=location, address_1=address, city="Kingston", state_province="ON",
        postal_code=postal,
    )  # fmt: skip
    if phone:
        Phone.objects.create(service=service, number=phone)
    sal = ServiceAtLocation.objects.create(service=service, location=location)
    ds.opening_rows_rebuild(service_at_locations=[sal])
    ds.service_reindex(services=[service])
    return service


@pytest.fixture
def kingston(org_a):  # type: ignore[no-untyped-def]
    """Kingston-like rows: the same places entered twice with "St"/"Street", case, accents and
    phone formats, and look-alikes that are not duplicates."""
    chc = "Kingston Community Health Centres"
    rows = {
        "street": listing(chc, "Street Health Centre", "235 Wellington St", "K7K 0B5",
                          "613-549-1440", owner=org_a, description_en="Drop-in health care."),
        "street2": listing(chc.upper(), "Street health centre", "235 Wellington Street.",
                           "K7K0B5", "(613) 549-1440", owner=org_a, url="https://kchc.ca"),
        "street3": listing(f"{chc} Inc.", "Street Health Centre", "400 Elliott Ave", "K7K 6M9",
                           "+1 613 549 1440", owner=org_a, lat=44.25, lng=-76.5),
        "dental": listing(chc, "Dental Clinic", "235 Wellington St", "K7K 0B5",
                          "613-549-1440", owner=org_a),
        "youth": listing("Kingston Youth Shelter", "Street Health Centre", "235 Wellington St",
                         "K7K 0B5", "613-555-0101", owner=org_a),
        "marie": listing("Résidence Sainte-Marie", "Hébergement d'urgence", "Suite 4, 12 King St E",
                         "K7L 2Z9", owner=org_a, lat=44.23, lng=-76.48),
        "marie2": listing("residence sainte marie", "Hebergement d’urgence", "12 King Street East",
                          "K7L 2Z9", owner=org_a, lat=44.23, lng=-76.48),
        "other_city": listing("Résidence Sainte-Marie", "Hébergement d'urgence", "12 King St E",
                              "M5V 1A1", owner=org_a, lat=43.6, lng=-79.4),
    }  # fmt: skip
    return rows


def _ids(group: duplicates.Group) -> set[Any]:
    return set(group.ids)


# --- normalization and the finder ---------------------------------------------------------------


def test_normalization_folds_street_types_units_accents_and_phones():
    assert duplicates.normalize_street("235 Wellington Street.") == "235 wellington st"
    assert duplicates.normalize_street("Suite 4, 12 King St E") == "12 king st e"
    assert duplicates.normalize_street("200-12 King Street East") == "12 king st e"
    assert duplicates.normalize_street("12, rue King Est") == "12 st king e"
    assert duplicates.normalize_name("The Résidence Sainte-Marie Inc.") == "residence sainte marie"
    assert duplicates.normalize_phone("+1 (613) 549-1440") == "6135491440"
    assert duplicates.normalize_phone("613.549.1440 ext 2") == "6135491440"
    assert duplicates.normalize_phone("911") == ""
    assert duplicates.token_set_ratio("kingston health", "kingston health centres") == 1.0


def test_finder_groups_the_same_place_entered_twice_with_its_reasons(kingston):
    found = duplicates.groups()
    by_ids = {frozenset(g.ids): g for g in found}
    street = frozenset(kingston[k].pk for k in ("street", "street2", "street3"))
    marie = frozenset(kingston[k].pk for k in ("marie", "marie2"))
    assert set(by_ids) == {street, marie}
    # street and street2 share the address and the phone; street3 only the phone
    assert by_ids[street].reasons == ["address", "phone"]
    assert by_ids[street].reason_labels == ["same name and address", "same name and phone number"]
    assert by_ids[marie].reasons == ["address"]
    assert duplicates.total(found) == 3
    pairs = duplicates.candidate_pairs(duplicates.listings())
    key = duplicates._pair(kingston["street"].pk, kingston["street3"].pk)
    assert pairs[key] == {"phone"}
    # the same provider's other service at the address, and another provider, are not candidates
    flagged = {i for g in found for i in g.ids}
    assert not flagged & {kingston["dental"].pk, kingston["youth"].pk, kingston["other_city"].pk}


def test_finder_only_compares_within_blocks(kingston, monkeypatch):
    compared: list[int] = []
    original = duplicates._compare

    def counting(block, reason, out):  # type: ignore[no-untyped-def]
        compared.append(len(block))
        original(block, reason, out)

    monkeypatch.setattr(duplicates, "_compare", counting)
    duplicates.groups()
    # 8 listings: never one block of all of them
    assert max(compared) <= 4


def test_a_dismissed_group_is_not_suggested_again(kingston, org_a, make_member):
    coordinator = make_member(org_a, Role.COORDINATOR)
    pair = [kingston["marie"], kingston["marie2"]]
    assert merge.duplicates_dismiss(actor=coordinator, services=pair) == 1
    assert merge.duplicates_dismiss(actor=coordinator, services=pair) == 0
    assert NotDuplicate.objects.count() == 1
    assert {frozenset(g.ids) for g in duplicates.groups()} == {
        frozenset(kingston[k].pk for k in ("street", "street2", "street3"))
    }
    event = AuditEvent.objects.filter(action=AuditAction.DIRECTORY_DUPLICATE_DISMISS).first()
    assert event is not None and event.organization_id == org_a.pk
    assert event.metadata["services"] == sorted(str(s.pk) for s in pair)


# --- merge --------------------------------------------------------------------------------------


def test_merge_fills_blanks_keeps_old_ids_and_history(kingston, org_a, make_member, client):
    coordinator = make_member(org_a, Role.COORDINATOR)
    keep, twin, far = kingston["street"], kingston["street2"], kingston["street3"]
    SuggestedEdit.objects.create(service=twin, field="hours", message="Closed Sundays now.")
    twin_sal = twin.service_at_locations.get()
    twin_phone = twin.phones.get()
    far_sal = far.service_at_locations.get()
    merge.service_merge(actor=coordinator, survivor=keep, others=[twin, far])
    keep.refresh_from_db()
    # its own text stays; what it lacked comes from the others
    assert keep.description_en == "Drop-in health care."
    assert keep.url == "https://kchc.ca"
    assert not Service.objects.filter(pk__in=[twin.pk, far.pk]).exists()
    # the other place moved to it; the copy of its own place and phone did not
    assert set(keep.service_at_locations.values_list("pk", flat=True)) == {
        keep.service_at_locations.order_by("created_at").first().pk,  # type: ignore[union-attr]
        far_sal.pk,
    }
    assert keep.phones.count() == 1
    assert SuggestedEdit.objects.get().service_id == keep.pk
    aliases = dict(MergedId.objects.values_list("old_id", "new_id"))
    assert aliases[twin.pk] == keep.pk and aliases[far.pk] == keep.pk
    assert aliases[twin_sal.pk] == keep.service_at_locations.exclude(pk=far_sal.pk).get().pk
    assert aliases[twin_phone.pk] == keep.phones.get().pk
    event = AuditEvent.objects.get(action=AuditAction.DIRECTORY_SERVICE_MERGE)
    assert event.actor_id == coordinator.pk and event.organization_id == org_a.pk
    assert event.metadata["merged"] == [str(twin.pk), str(far.pk)]
    assert "url" in event.metadata["filled"]
    # the old ids lead to the survivor: public page and HSDS API
    page = client.get(reverse("directory:service", args=[twin.pk]) + "?print=1")
    assert page.status_code == 301
    assert page["Location"] == reverse("directory:service", args=[keep.pk]) + "?print=1"
    api = client.get(f"/api/hsds/services/{far.pk}?lang=fr")
    assert api.status_code == 301
    assert api["Location"] == f"/api/hsds/services/{keep.pk}?lang=fr"
    assert client.get(api["Location"]).json()["id"] == str(keep.pk)
    # the search index knows the survivor at both places and nothing of the others
    found = selectors.search(selectors.SearchQuery(q="street health"), now=timezone.now())
    assert sorted(str(h.sal.service_id) for h in found.hits) == sorted(
        [str(keep.pk), str(keep.pk), str(kingston["youth"].pk)]
    )
    assert {frozenset(g.ids) for g in duplicates.groups()} == {
        frozenset([kingston["marie"].pk, kingston["marie2"].pk])
    }


def test_reimport_of_a_source_with_the_old_ids_updates_the_survivor(
    kingston, org_a, make_member, tmp_path
):
    coordinator = make_member(org_a, Role.COORDINATOR)
    out = tmp_path / "kingston"
    hsds.export_tabular(out)
    before = Service.objects.count()
    keep, twin = kingston["marie"], kingston["marie2"]
    merge.service_merge(actor=coordinator, survivor=keep, others=[twin])
    assert Service.objects.count() == before - 1
    # the source still has both rows, and twin's row now has a fee the survivor lacks
    path = out / "services.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    for row in rows:
        if row["id"] == str(twin.pk):
            row["fees_description"] = "Free"
            row["name"] = "A new name that is ignored"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    report = hsds.import_tabular(out)
    assert Service.objects.count() == before - 1
    assert not Service.objects.filter(pk=twin.pk).exists()
    keep.refresh_from_db()
    assert keep.fees_description_en == "Free"
    assert keep.name_en == "Hébergement d'urgence"
    assert keep.service_at_locations.count() == 1
    assert any("merged into others" in w for w in report.warnings)
    # and a second time nothing changes
    again = hsds.import_tabular(out)
    assert again.created == {} and again.updated == {}
    keep.refresh_from_db()
    assert keep.fees_description_en == "Free"  # its own row's blank does not erase it


def test_merge_refuses_other_organizations_and_viewers(kingston, org_a, org_b, make_member):
    viewer = make_member(org_a, Role.VIEWER)
    foreign = listing("Kingston Community Health Centres", "Street Health Centre",
                      "235 Wellington St", "K7K 0B5", owner=org_b)  # fmt: skip
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        merge.service_merge(actor=viewer, survivor=kingston["street"], others=[kingston["street2"]])
    coordinator = make_member(org_a, Role.COORDINATOR)
    with pytest.raises(ValidationError):
        merge.service_merge(actor=coordinator, survivor=kingston["street"], others=[foreign])
    with pytest.raises(ValidationError):
        merge.service_merge(actor=coordinator, survivor=kingston["street"], others=[])
    assert Service.objects.filter(pk=foreign.pk).exists()
    assert not MergedId.objects.exists()


# --- search: one result per place ---------------------------------------------------------------


def test_search_shows_one_result_per_place_before_any_merge(kingston):
    Service.objects.filter(pk=kingston["marie2"].pk).update(assured_date=timezone.localdate())
    found = selectors.search(selectors.SearchQuery(q="hebergement"), now=timezone.now())
    # marie and marie2 are one place: the verified one is shown; other_city is elsewhere
    assert sorted(str(h.sal.service_id) for h in found.hits) == sorted(
        [str(kingston["marie2"].pk), str(kingston["other_city"].pk)]
    )
    assert found.total == 2
    street = selectors.search(selectors.SearchQuery(q="street health"), now=timezone.now())
    # street/street2 are one place; street3 (another address) and the shelter stay
    assert found.total == 2 and street.total == 3
    shown = {h.sal.service_id for h in street.hits}
    assert kingston["youth"].pk in shown and kingston["street3"].pk in shown
    assert len(shown & {kingston["street"].pk, kingston["street2"].pk}) == 1


# --- staff page ---------------------------------------------------------------------------------


def test_staff_page_lists_groups_and_merges_after_confirmation(
    kingston, org_a, make_member, staff_client
):
    client = staff_client(make_member(org_a, Role.COORDINATOR))
    url = reverse("directory-staff:duplicates", args=[org_a.slug])
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Same name and address, same name and phone number" in text
    assert text.count('name="keep"') == 5
    keep, twin = kingston["marie"], kingston["marie2"]
    confirm_url = reverse("directory-staff:merge", args=[org_a.slug])
    confirm = client.get(confirm_url, {"ids": [keep.pk, twin.pk], "keep": twin.pk})
    assert confirm.status_code == 200
    assert "Merged into it and removed (1)" in confirm.content.decode()
    assert Service.objects.filter(pk=keep.pk).exists()  # nothing happens before the POST
    done = client.post(confirm_url, {"ids": [keep.pk, twin.pk], "keep": twin.pk})
    assert done.status_code == 302
    assert not Service.objects.filter(pk=keep.pk).exists()
    assert MergedId.objects.get(old_id=keep.pk).new_id == twin.pk
    dismissed = client.post(
        reverse("directory-staff:dismiss", args=[org_a.slug]),
        {"ids": [kingston[k].pk for k in ("street", "street2", "street3")]},
    )
    assert dismissed.status_code == 302
    assert NotDuplicate.objects.count() == 3
    assert "No possible duplicates among your listings." in client.get(url).content.decode()


def test_viewers_do_not_get_the_staff_page(kingston, org_a, make_member, staff_client):
    client = staff_client(make_member(org_a, Role.VIEWER))
    assert client.get(reverse("directory-staff:duplicates", args=[org_a.slug])).status_code == 403


# --- commands -----------------------------------------------------------------------------------


def test_find_duplicates_command_lists_groups_and_writes_csv(kingston, tmp_path):
    out, target = io.StringIO(), tmp_path / "dupes.csv"
    call_command("find-duplicates", "--csv", str(target), stdout=out)
    text = out.getvalue()
    assert "2 group(s) of likely duplicates, 3 listing(s) a merge would remove" in text
    assert "[maintained by org-a]" in text
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert len(rows) == 5
    assert {r["reasons"] for r in rows} == {"address; phone", "address"}


def test_import_warns_of_likely_duplicates(kingston, tmp_path):
    out_dir = tmp_path / "kingston"
    hsds.export_tabular(out_dir)
    out, err = io.StringIO(), io.StringIO()
    call_command("import-hsds", str(out_dir), stdout=out, stderr=err)
    assert (
        "warning: 3 listing(s) look like duplicates of others (2 group(s)): list them with "
        "`harbour find-duplicates`" in err.getvalue()
    )
