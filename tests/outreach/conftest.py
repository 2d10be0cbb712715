"""Outreach fixtures: an organization with a mobile team, a site, a named spot and stock."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from harbour.accounts.models import Organization, User
from harbour.core.roles import Role
from harbour.outreach import services
from harbour.outreach.models import Spot, Team


@pytest.fixture
def org(make_org: Callable[..., Organization]) -> Organization:
    return make_org("kingston-outreach")


@pytest.fixture
def coordinator(org: Organization, make_member: Callable[..., User]) -> User:
    return make_member(org, Role.COORDINATOR)


@pytest.fixture
def worker(org: Organization, make_member: Callable[..., User]) -> User:
    return make_member(org, Role.PEER_WORKER)


@pytest.fixture
def van(org: Organization, coordinator: User) -> Team:
    return services.team_save(actor=coordinator, organization=org, name="Van", fsa="K7L")


@pytest.fixture
def site(org: Organization, coordinator: User) -> Team:
    return services.team_save(
        actor=coordinator, organization=org, name="Drop-in", kind="site", fsa="K7K"
    )


@pytest.fixture
def park(org: Organization, coordinator: User) -> Spot:
    return services.spot_save(actor=coordinator, organization=org, name="Skeleton Park", fsa="K7K")


@pytest.fixture
def stocked(van: Team, coordinator: User) -> Team:
    """The van with two lots of nasal naloxone (the sooner one expiring first), strips and
    syringes."""
    soon = timezone.localdate() + timedelta(days=40)
    later = timezone.localdate() + timedelta(days=400)
    services.stock_receive(
        actor=coordinator,
        team=van,
        supply="naloxone-nasal",
        quantity=3,
        lot="LATE1",
        expires_on=later,
    )
    services.stock_receive(
        actor=coordinator,
        team=van,
        supply="naloxone-nasal",
        quantity=2,
        lot="SOON1",
        expires_on=soon,
    )
    services.stock_receive(actor=coordinator, team=van, supply="strips-fentanyl", quantity=50)
    services.stock_receive(actor=coordinator, team=van, supply="syringes", quantity=200)
    return van


def encounter(team: Team, **fields: Any) -> dict[str, Any]:
    """An encounter as a device sends it."""
    return {
        "id": str(uuid.uuid4()),
        "team": str(team.pk),
        "fsa": "K7L",
        "people_new": 1,
        "people_returning": 0,
        **fields,
    }


def response(team: Team, **fields: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "team": str(team.pk),
        "fsa": "K7L",
        "naloxone_doses": 2,
        "route": "nasal",
        "outcome": "recovered",
        **fields,
    }


def on_hand(team: Team, supply: str) -> dict[str, int]:
    from harbour.outreach.models import StockLevel

    return dict(StockLevel.objects.filter(team=team, supply=supply).values_list("lot", "quantity"))
