"""Referral fixtures: an outreach organization that refers, a recovery centre that receives
(with a directory listing it owns), a third organization that must see nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from harbour.core.roles import Role
from harbour.directory import services as ds
from harbour.directory.models import (
    Address,
    DirectoryOrganization,
    Location,
    Service,
    ServiceAtLocation,
)
from harbour.referrals import services
from harbour.referrals.models import ConsentMethod, ContactMethod, Purpose, SharedField


@pytest.fixture
def outreach(make_org):  # type: ignore[no-untyped-def]
    return make_org("outreach-team", city="Kingston", province="ON")


@pytest.fixture
def centre(make_org):  # type: ignore[no-untyped-def]
    return make_org("recovery-centre", city="Kingston", province="ON")


@pytest.fixture
def stranger(make_org):  # type: ignore[no-untyped-def]
    return make_org("elsewhere", city="Ottawa", province="ON")


@pytest.fixture
def worker(outreach, make_member):  # type: ignore[no-untyped-def]
    return make_member(outreach, Role.OUTREACH_WORKER)


@pytest.fixture
def intake(centre, make_member):  # type: ignore[no-untyped-def]
    return make_member(centre, Role.PEER_WORKER)


@pytest.fixture
def centre_coordinator(centre, make_member):  # type: ignore[no-untyped-def]
    return make_member(centre, Role.COORDINATOR)


@pytest.fixture
def centre_admin(centre, make_member):  # type: ignore[no-untyped-def]
    return make_member(centre, Role.ORG_ADMIN)


@pytest.fixture
def outsider(stranger, make_member):  # type: ignore[no-untyped-def]
    return make_member(stranger, Role.ORG_ADMIN)


@pytest.fixture
def listing(db, centre) -> Callable[..., Service]:  # type: ignore[no-untyped-def]
    """A directory service owned by the recovery centre, in postal area K7K."""
    ds.taxonomy_load_harbour()

    def make(name: str = "Day recovery program", status: str = "active", **kw: Any) -> Service:
        provider = DirectoryOrganization.objects.create(
            name_en="Recovery centre", owner=kw.get("owner", centre)
        )
        service = Service.objects.create(organization=provider, name_en=name, status=status)
        location = Location.objects.create(organization=provider, latitude=44.24, longitude=-76.5)
        Address.objects.create(
            location=location, address_1="1 Main St", city="Kingston", state_province="ON",
            postal_code="K7K 1A1",
        )  # fmt: skip
        ServiceAtLocation.objects.create(service=service, location=location)
        ds.service_set_terms(service=service, codes=kw.get("codes", ["recovery.recovery-centres"]))
        return service

    return make


@pytest.fixture
def client_of(worker, outreach):  # type: ignore[no-untyped-def]
    def make(alias: str = "Robin", **kw: Any):  # type: ignore[no-untyped-def]
        data = services.ClientData(
            alias=alias,
            contact_method=kw.pop("contact_method", ContactMethod.PHONE),
            phone=kw.pop("phone", "613 555 0142"),
            language=kw.pop("language", "fr"),
            birth_year=kw.pop("birth_year", 1988),
            **kw,
        )
        return services.client_create(actor=worker, organization=outreach, data=data)

    return make


@pytest.fixture
def consent(worker):  # type: ignore[no-untyped-def]
    def make(client, *orgs, fields=None, days=90):  # type: ignore[no-untyped-def]
        return services.consent_record(
            actor=worker,
            client=client,
            organizations=list(orgs),
            fields=fields or [SharedField.ALIAS, SharedField.CONTACT, SharedField.NEEDS],
            purpose=Purpose.REFERRAL,
            method=ConsentMethod.VERBAL,
            valid_until=timezone.now() + timedelta(days=days),
        )

    return make


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):  # type: ignore[no-untyped-def]
    # members are made for every test; how passwords are hashed is not tested here
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
