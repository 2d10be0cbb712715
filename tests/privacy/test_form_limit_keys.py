"""Attack: read the rate-limit counters (a cache dump) to learn who sent an anonymous report or
what it said. The counters hold keyed hashes only, and expire with their window."""

from __future__ import annotations

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db


def test_the_counters_of_an_anonymous_report_hold_no_address_and_no_words(client) -> None:
    from harbour.alerts.models import CommunityReport

    cache.clear()
    form = {"kind": "bad-dope", "what_happened": "Green pills sold as oxy, people dropping.",
            "fsa": "K7L", "city": "Kingston", "website": ""}  # fmt: skip
    assert client.post("/alerts/report/", form, REMOTE_ADDR="203.0.113.77").status_code == 200
    keys = list(cache._cache.keys())  # type: ignore[attr-defined]  # locmem in tests
    counters = [k for k in keys if ":rl:alerts-report:" in k]
    assert len(counters) == 2  # one per connection, one per content
    dump = " ".join(keys).casefold()
    for secret in ("203.0.113.77", "203-0-113", "green pills", "oxy", "kingston"):
        assert secret not in dump
    assert all(cache._expire_info[k] is not None for k in counters)  # type: ignore[attr-defined]
    stored = " ".join(str(v) for v in CommunityReport.objects.values().get().values())
    assert "203.0.113" not in stored
