"""The demo outreach data: plausible, consistent with the ledger, and loaded once."""

from __future__ import annotations

import pytest
from django.db.models import Sum
from django.utils import timezone

from harbour.demo import data
from harbour.demo import outreach as demo
from harbour.outreach import selectors
from harbour.outreach.models import (
    Encounter,
    KitUseReport,
    OverdoseResponse,
    Program,
    StockLevel,
    StockMovement,
    Team,
)

pytestmark = pytest.mark.django_db


def test_demo_outreach_is_loaded_once_and_its_stock_adds_up():
    # given the demo organizations and staff
    data.load()
    # when the outreach demo is loaded twice
    first = demo.load()
    second = demo.load()
    # then three months of encounters for two organizations, once
    assert first == Encounter.objects.count() and first > 900
    assert second == 0
    assert set(Team.objects.values_list("organization__slug", flat=True)) == {
        "demo-lighthouse",
        "demo-riverside",
    }
    assert OverdoseResponse.objects.count() > 10
    assert KitUseReport.objects.count() == 8
    # and every balance is the sum of its movements, none below zero
    for level in StockLevel.objects.all():
        moved = StockMovement.objects.filter(
            team=level.team, supply=level.supply, lot=level.lot
        ).aggregate(n=Sum("change"))["n"]
        assert moved == level.quantity >= 0
    # and the demo shows something to act on: a lot about to expire, and low benzo strips
    assert StockLevel.objects.filter(lot="DEMO-SOON", quantity=12).exists()
    program = Program.objects.get(organization__slug="demo-lighthouse")
    low = {r.supply for r in selectors.stock_rows(program, today=timezone.localdate()) if r.low}
    assert "strips-benzo" in low
