"""Merging and dismissing duplicate listings is scoped to the organization that maintains them:
a coordinator of organization A can neither see, merge nor dismiss organization B's listings,
whatever ids they put in the request, and a refused attempt changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from harbour.core.models import AuditAction, AuditEvent
from harbour.core.roles import Role
from harbour.directory import duplicates
from harbour.directory.models import (
    Address,
    DirectoryOrganization,
    Location,
    MergedId,
    NotDuplicate,
    Phone,
    Service,
    ServiceAtLocation,
)

pytestmark = pytest.mark.django_db


def _listing(owner, name: str = "Street Health Centre") -> Service:  # type: ignore[no-untyped-def]
    org = DirectoryOrganization.objects.create(name_en="Kingston CHC", owner=owner)
    service = Service.objects.create(organization=org, name_en=name)
    location = Location.objects.create(organization=org, latitude=44.23, longitude=-76.49)
    Address.objects.create(
        location=location, address_1="235 Wellington St", city="Kingston",
        state_province="ON", postal_code="K7K 0B5",
    )  # fmt: skip
    Phone.objects.create(service=service, number="613-549-1440")
    ServiceAtLocation.objects.create(service=service, location=location)
    return service


@pytest.fixture
def setup(org_a, org_b, make_member, staff_client):  # type: ignore[no-untyped-def]
    a1, a2 = _listing(org_a), _listing(org_a)
    b1, b2 = _listing(org_b), _listing(org_b)
    client = staff_client(make_member(org_a, Role.COORDINATOR))
    return client, (a1, a2), (b1, b2)


def _untouched(*services: Service) -> None:
    assert Service.objects.filter(pk__in=[s.pk for s in services]).count() == len(services)
    assert not MergedId.objects.exists()
    assert not NotDuplicate.objects.exists()
    assert not AuditEvent.objects.filter(
        action__in=[AuditAction.DIRECTORY_SERVICE_MERGE, AuditAction.DIRECTORY_DUPLICATE_DISMISS]
    ).exists()


def test_the_page_shows_only_the_own_organizations_listings(setup, org_a, org_b):
    client, (a1, a2), (b1, b2) = setup
    # across organizations the finder sees all four as one place
    assert {frozenset(g.ids) for g in duplicates.groups()} == {
        frozenset([a1.pk, a2.pk, b1.pk, b2.pk])
    }
    page = client.get(reverse("directory-staff:duplicates", args=[org_a.slug])).content.decode()
    assert str(a1.pk) in page and str(a2.pk) in page
    assert str(b1.pk) not in page and str(b2.pk) not in page
    # and B's page is not A's to read
    assert client.get(reverse("directory-staff:duplicates", args=[org_b.slug])).status_code == 404


def test_merging_the_other_organizations_listings_is_refused(setup, org_a, org_b):
    client, (a1, a2), (b1, b2) = setup
    url_a = reverse("directory-staff:merge", args=[org_a.slug])
    url_b = reverse("directory-staff:merge", args=[org_b.slug])
    attempts = [
        (url_b, {"ids": [b1.pk, b2.pk], "keep": b1.pk}),  # B's page
        (url_a, {"ids": [b1.pk, b2.pk], "keep": b1.pk}),  # B's ids on A's page
        (url_a, {"ids": [a1.pk, b1.pk], "keep": a1.pk}),  # B's listing folded into A's
        (url_a, {"ids": [b1.pk, a1.pk], "keep": b1.pk}),  # A's listing folded into B's
    ]
    for url, data in attempts:
        assert client.get(url, data).status_code == 404
        assert client.post(url, data).status_code == 404
    _untouched(a1, a2, b1, b2)
    # the confirmation of a refused merge shows nothing of B
    assert (
        "Kingston" not in client.get(url_a, {"ids": [a1.pk, b1.pk], "keep": a1.pk}).content.decode()
    )


def test_dismissing_the_other_organizations_listings_is_refused(setup, org_a, org_b):
    client, (a1, a2), (b1, b2) = setup
    for slug, ids in ((org_b.slug, [b1.pk, b2.pk]), (org_a.slug, [b1.pk, b2.pk]),
                      (org_a.slug, [a1.pk, b1.pk])):  # fmt: skip
        response = client.post(reverse("directory-staff:dismiss", args=[slug]), {"ids": ids})
        assert response.status_code == 404
    _untouched(a1, a2, b1, b2)


def test_a_viewer_of_the_organization_cannot_merge(org_a, make_member, staff_client):
    a1, a2 = _listing(org_a), _listing(org_a)
    client = staff_client(make_member(org_a, Role.VIEWER))
    url = reverse("directory-staff:merge", args=[org_a.slug])
    assert client.post(url, {"ids": [a1.pk, a2.pk], "keep": a1.pk}).status_code == 403
    _untouched(a1, a2)


def test_unmaintained_listings_are_nobodys_to_merge(org_a, make_member, staff_client):
    """Imported listings no organization maintains: no staff member may merge them (the
    operator's ``find-duplicates`` lists them)."""
    n1, n2 = _listing(None), _listing(None)
    client = staff_client(make_member(org_a, Role.ORG_ADMIN))
    url = reverse("directory-staff:merge", args=[org_a.slug])
    assert client.post(url, {"ids": [n1.pk, n2.pk], "keep": n1.pk}).status_code == 404
    _untouched(n1, n2)
