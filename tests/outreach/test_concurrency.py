"""Two phones sending at the same moment (separate connections, real transactions): the same
records are stored once, and stock that covers only one of them is never taken twice.

PostgreSQL only: the test database of SQLite is in memory with a shared cache, where a second
writer fails at once ("table is locked") instead of waiting as it does on Harbour's SQLite file
(WAL, busy timeout). The sync benchmark runs 50 devices at once against the SQLite file."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from harbour.outreach import services
from harbour.outreach.models import Encounter, StockLevel

from .conftest import encounter

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="two writers at once: PostgreSQL"),
]


def test_the_same_batch_sent_twice_at_once_is_stored_once_and_stock_is_not_overdrawn(
    org, worker, coordinator, van
):
    # given 4 nasal kits, and a batch that gives 2 sent by two threads at the same moment,
    # plus a second batch of its own on each thread that also wants 2
    services.stock_receive(
        actor=coordinator,
        team=van,
        supply="naloxone-nasal",
        quantity=4,
        lot="L1",
        expires_on=timezone.localdate() + timedelta(days=200),
    )
    shared = [encounter(van, supplies={"naloxone-nasal": 2})]
    own = [[encounter(van, supplies={"naloxone-nasal": 2})] for _ in range(2)]
    results: list[list[str]] = [[], []]
    start = threading.Barrier(2)

    def phone(n: int) -> None:
        try:
            start.wait()
            for batch in (shared, own[n]):
                answer = services.encounters_record(actor=worker, organization=org, records=batch)
                results[n] += [r.status for r in answer]
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=phone, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then the shared record is stored once (one thread answered "duplicate"), and of the two
    # others only one got the last kit
    assert sorted(results[0][:1] + results[1][:1]) == ["duplicate", "stored"]
    assert sorted(results[0][1:] + results[1][1:]) == ["rejected", "stored"]
    assert Encounter.objects.count() == 2
    assert StockLevel.objects.get(team=van, supply="naloxone-nasal").quantity == 0
