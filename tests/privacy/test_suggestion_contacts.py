"""Attack: read the database (a stolen backup, a curious operator) for the contact details
people leave with a suggested edit to a directory listing.

A person reports that a listing is wrong and, to be called back, leaves an email and a phone
number. Whoever reads the raw tables must not find either: not while the suggestion waits,
not after it is decided, not after it is forgotten for months.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from harbour.core.roles import Role
from harbour.directory import services as ds
from harbour.directory import tasks
from harbour.directory.models import (
    DirectoryOrganization,
    Location,
    Schedule,
    Service,
    ServiceAtLocation,
    SuggestedEdit,
)

EMAIL = "sam.tremblay@example.org"
PHONE = "514-555-0177"
CONTACT = f"{EMAIL} or {PHONE} after 6 pm"


def everything_stored() -> str:
    """Every value of every row of every table, as text: what a database dump holds."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608 -- table names from the db
            for row in cursor.fetchall():
                found.append(" ".join(str(value) for value in row))
    return "\n".join(found)


@pytest.fixture
def listing(org_a: Any) -> Service:
    ds.taxonomy_load_harbour()
    provider = DirectoryOrganization.objects.create(name_en="Clinic", owner=org_a)
    service = Service.objects.create(organization=provider, name_en="Clinic", name_fr="Clinique")
    location = Location.objects.create(organization=provider, latitude=45.5, longitude=-73.6)
    Schedule.objects.create(location=location, byday="MO", opens_at=time(9), closes_at=time(17))
    sal = ServiceAtLocation.objects.create(service=service, location=location)
    ds.opening_rows_rebuild(service_at_locations=[sal])
    ds.service_reindex(services=[service])
    return service


def _suggest(client: Any, service: Service) -> SuggestedEdit:
    response = client.post(
        reverse("directory:suggest", args=[service.id]),
        {"field": "phone", "message": "The number rings out.", "contact": CONTACT},
    )
    assert response.status_code == 200
    return SuggestedEdit.objects.get()


def test_a_database_dump_holds_no_contact_while_the_suggestion_waits(
    client: Any, listing: Service, org_a: Any, make_member: Any, run_tasks: Any
) -> None:
    # given a suggestion left with an email and a phone number, and the owner told of it
    make_member(org_a, Role.COORDINATOR)
    suggestion = _suggest(client, listing)
    run_tasks()
    # when the attacker reads the raw suggestion table and then every table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT contact FROM directory_suggestededit WHERE id = %s",
            [suggestion.pk.hex if connection.vendor == "sqlite" else suggestion.pk],
        )
        (raw,) = cursor.fetchone()
    dump = everything_stored()
    # then the column holds ciphertext only, and nothing anywhere holds the email or phone
    assert raw and raw != CONTACT
    assert EMAIL not in raw and PHONE not in raw
    assert EMAIL not in dump
    assert PHONE not in dump
    assert "555-0177" not in dump
    # while the reviewing staff still read it
    assert SuggestedEdit.objects.get().contact == CONTACT


@pytest.mark.parametrize("decision", ["accept", "reject"])
def test_the_contact_is_erased_when_the_suggestion_is_decided(
    client: Any, listing: Service, org_a: Any, make_member: Any, decision: str
) -> None:
    # given a suggestion with a contact, decided by the owner's coordinator
    coordinator = make_member(org_a, Role.COORDINATOR)
    suggestion = _suggest(client, listing)
    decide = ds.suggestion_accept if decision == "accept" else ds.suggestion_reject
    decide(suggestion=suggestion, actor=coordinator, note="Thanks")
    # then the contact is gone, encrypted or not, from the row and from the whole database
    with connection.cursor() as cursor:
        cursor.execute("SELECT contact FROM directory_suggestededit")
        assert cursor.fetchall() == [("",)]
    assert SuggestedEdit.objects.get().status == (
        "accepted" if decision == "accept" else "rejected"
    )


def test_a_contact_left_undecided_is_erased_by_the_daily_task(
    client: Any, listing: Service, run_tasks: Any
) -> None:
    # given two suggestions waiting: one left 91 days ago, one yesterday
    old = _suggest(client, listing)
    SuggestedEdit.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=ds.SUGGESTION_CONTACT_DAYS + 1)
    )
    recent = ds.suggestion_create(
        service=listing, field="url", message="New site", contact="alex@example.org"
    )
    # when the periodic purge runs on the real task queue
    tasks.suggestion_contacts_purge.enqueue()
    run_tasks()
    # then the old contact is gone (the suggestion itself still waits for review) ...
    old.refresh_from_db()
    assert (old.contact, old.status, old.message) == ("", "pending", "The number rings out.")
    assert EMAIL not in everything_stored()
    # ... and the recent one is kept for the reviewer
    recent.refresh_from_db()
    assert recent.contact == "alex@example.org"


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_contacts_and_moves_confidential_entries_already_stored() -> None:
    # given a database as it was before (directory at 0009): a plaintext contact, and the
    # search entry of a confidential location at its exact position
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("directory", "0009_search_entry")])
    old = executor.loader.project_state([("directory", "0009_search_entry")]).apps
    provider = old.get_model("directory", "DirectoryOrganization").objects.create(name_en="P")
    service = old.get_model("directory", "Service").objects.create(
        organization=provider, name_en="Shelter"
    )
    old.get_model("directory", "SuggestedEdit").objects.create(
        service=service, field="phone", message="Wrong", contact=CONTACT
    )
    location = old.get_model("directory", "Location").objects.create(
        organization=provider, latitude=45.5135, longitude=-73.5603, confidential=True
    )
    old.get_model("directory", "Address").objects.create(
        location=location, address_1="10 Rue", city="Montréal", state_province="QC",
        postal_code="H2X 2B3",
    )  # fmt: skip
    sal = old.get_model("directory", "ServiceAtLocation").objects.create(
        service=service, location=location
    )
    old.get_model("directory", "SearchEntry").objects.create(
        service_at_location=sal, service=service, latitude=45.5135, longitude=-73.5603,
        grid_cell=1, timezone="America/Toronto", document=" shelter ", category_codes=" ",
        attribute_codes=" ",
    )  # fmt: skip
    # when the migrations run
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("directory"))
    # then the stored contact is ciphertext that still reads back, and the entry is moved
    with connection.cursor() as cursor:
        cursor.execute("SELECT contact FROM directory_suggestededit")
        ((raw,),) = cursor.fetchall()
        cursor.execute("SELECT latitude, longitude, area FROM directory_searchentry")
        (entry,) = cursor.fetchall()
    assert EMAIL not in raw and PHONE not in raw
    assert SuggestedEdit.objects.get().contact == CONTACT
    from harbour.core import geo

    h2x = geo.fsa_centroid("H2X")
    assert h2x is not None
    assert tuple(entry) == (h2x.lat, h2x.lng, "H2X")
