"""Attack: get past a rate limit (on anonymous reports, searches, sign-in) by spreading requests
over the server's processes, or by sending a new X-Forwarded-For with each request."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache.backends.db import DatabaseCache
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory

from harbour.core import ratelimit

SCRIPT = """
import django
django.setup()
from django.core.management import call_command
from django.db import connection
call_command("createcachetable", verbosity=0)
from harbour.core.ratelimit import hit
import time
window = int(time.time() // 3600)
print(window, sum(hit("attack", "one-client", 10, 3600) for _ in range(10)))
"""


def test_two_processes_share_one_limit(tmp_path: Path):
    # given two web processes of one development install (no Redis)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "HARBOUR_ENV", "REDIS_URL", "HARBOUR_TEST_SQLITE"}
    }
    env.update(
        HARBOUR_ENV="development",
        HARBOUR_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="harbour.settings",
    )
    call = [sys.executable, "-c", SCRIPT]
    for _attempt in range(2):
        # when one client sends 10 requests to each, against a limit of 10 an hour
        first = subprocess.run(call, env=env, capture_output=True, text=True, timeout=300)
        second = subprocess.run(call, env=env, capture_output=True, text=True, timeout=300)
        assert first.returncode == 0, first.stderr[-2000:]
        assert second.returncode == 0, second.stderr[-2000:]
        (window_1, allowed_1), (window_2, allowed_2) = (
            map(int, run.stdout.split()[-2:]) for run in (first, second)
        )
        if window_1 == window_2:
            break  # (an hour boundary between the two runs starts a new window: try again)
    # then the first process lets 10 through and the second none
    assert (window_1, [allowed_1, allowed_2]) == (window_2, [10, 0])


@pytest.mark.django_db
def test_two_cache_clients_on_the_database_share_one_limit(settings, monkeypatch):
    # given the database cache, as a deployment without Redis has it, and two clients of it
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "harbour_cache",
        }
    }
    call_command("createcachetable", verbosity=0)
    one, two = DatabaseCache("harbour_cache", {}), DatabaseCache("harbour_cache", {})
    allowed = 0
    # when 20 requests alternate between them, against a limit of 10
    for n in range(20):
        monkeypatch.setattr(ratelimit, "cache", one if n % 2 else two)
        allowed += ratelimit.hit("attack", "one-client", 10, 3600)
    # then 10 pass
    assert allowed == 10
    # and the counters (hashed addresses) are deleted once expired, by the pruning job
    from harbour.core.tasks import prune_task_results

    one.set("rl:attack:other-client:1", 1, timeout=-1)  # a counter whose window is over
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM harbour_cache")
        assert cursor.fetchone()[0] == 2  # the live counter and the expired one
    prune_task_results.call()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM harbour_cache")
        assert cursor.fetchone()[0] == 1


def test_a_forged_forwarded_for_does_not_reset_the_limit(settings):
    # given a production server that faces the internet (no proxy configured)
    settings.PRODUCTION = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXIES = []
    factory = RequestFactory()
    # when one client sends 15 requests, each claiming another address
    answers = [
        ratelimit.limited(
            factory.get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=f"10.1.2.{n}"),
            "attack",
            10,
            3600,
        )
        for n in range(15)
    ]
    # then the limit holds after 10
    assert answers == [False] * 10 + [True] * 5


def test_behind_a_trusted_proxy_the_forwarded_client_counts(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    factory = RequestFactory()

    def address(remote: str, forwarded: str) -> str:
        request = factory.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
        return ratelimit.client_address(request)

    # the proxy appends the address it saw; what the client wrote before it is not believed
    assert address("10.0.0.1", "203.0.113.5") == "203.0.113.5"
    assert address("10.0.0.1", "1.2.3.4, 203.0.113.5, 10.0.0.2") == "203.0.113.5"
    # a client that is not the proxy cannot choose its address
    assert address("198.51.100.7", "203.0.113.5") == "198.51.100.7"
