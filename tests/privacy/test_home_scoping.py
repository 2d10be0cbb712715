"""Attack: a coordinator of one organization reads another's work through the staff home
(/org/). The home lists only the reader's own organizations: none of the other's alerts,
check-ins, signals, referrals, refill requests or stock, and no count of them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from harbour.accounts import home
from harbour.core.roles import Role

pytestmark = pytest.mark.django_db


def test_a_coordinator_of_a_sees_nothing_of_b(org_a, org_b, make_member, make_needs, staff_client):
    author_b = make_member(org_b, Role.COORDINATOR, email="author@org-b.example.org")
    make_needs(org_b, author_b, tag="B")
    coordinator_a = make_member(org_a, Role.COORDINATOR)
    # B is full of work; A has none
    (own,) = home.for_actor(coordinator_a)
    assert (own.org, own.sections) == (org_a, [])
    text = staff_client(coordinator_a).get(reverse("accounts:dashboard")).content.decode()
    assert "Nothing needs you right now." in text
    for leak in ("Green pills", "K7LB", "K7KB", "Van B", org_b.name, org_b.slug, "Robin"):
        assert leak not in text
    # and B's coordinator does see it all (the data is there)
    other = make_member(org_b, Role.COORDINATOR)
    (theirs,) = home.for_actor(other)
    assert {s.key for s in theirs.sections} == {
        "alerts", "checkins", "signals", "referrals", "refills", "stock",
    }  # fmt: skip


def test_a_member_of_both_sees_each_only_where_their_role_allows(
    org_a, org_b, make_member, make_needs
):
    author_b = make_member(org_b, Role.COORDINATOR, email="author@org-b.example.org")
    make_needs(org_b, author_b, tag="B")
    user = make_member(org_a, Role.COORDINATOR)
    from harbour.accounts import services

    services.membership_set(organization=org_b, user=user, role=Role.VIEWER)
    homes = {h.org.slug: {s.key for s in h.sections} for h in home.for_actor(user)}
    assert homes == {org_a.slug: set(), org_b.slug: set()}
