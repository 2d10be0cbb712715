"""Attack: read the server's logs and learn who looked for help where, and which check-in,
invitation or mentoring link was used, from which address."""

from __future__ import annotations

import io
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

TOKEN = "Tok3nAbCdEfGhIjKlMnOpQrStUvWxYz12"  # the shape of secrets.token_urlsafe(24)
NEAR = "44.2312,-76.4860"
FORWARDED = "203.0.113.9"
AGENT = "Attacker-Agent/1.0"
LEAKS = (TOKEN, "44.2312", "76.486", FORWARDED, AGENT)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> int:
    request = urllib.request.Request(  # noqa: S310 (a local server)
        url,
        headers={
            "X-Forwarded-For": FORWARDED,
            "Referer": f"http://127.0.0.1/checkin/s/{TOKEN}/?near={NEAR}",
            "User-Agent": AGENT,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_harbour_serve_logs_no_address_query_or_token(tmp_path: Path):
    # given `harbour serve` as an operator runs it (gunicorn, its access log on stdout)
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "HARBOUR_ENV"}
    }
    env.update(HARBOUR_VAR_DIR=str(tmp_path), HARBOUR_ENV="development", WEB_CONCURRENCY="1")
    out = (tmp_path / "out.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "harbour.cli", "serve", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        # when a person searches near where they are, opens a check-in link and an invitation
        # (an empty database: the pages fail, which Django's error log reports too)
        base = f"http://127.0.0.1:{port}"
        statuses = [
            _get(f"{base}/find/?near={NEAR}"),
            _get(f"{base}/checkin/s/{TOKEN}/"),
            _get(f"{base}/org/invitation/{TOKEN}/"),
            _get(f"{base}/mentoring/m/{TOKEN}/?near={NEAR}"),
        ]
        assert all(status >= 200 for status in statuses)
        time.sleep(1)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        out.close()
    logged = (tmp_path / "out.log").read_text()
    access = [line for line in logged.splitlines() if '"GET ' in line]
    # then the access log has one line a request, each without the address, query or token
    assert len(access) == 4, logged[-3000:]
    assert [line.split('"')[1] for line in access] == [
        "GET /find/ HTTP/1.1",
        "GET /checkin/s/…/ HTTP/1.1",
        "GET /org/invitation/…/ HTTP/1.1",
        "GET /mentoring/m/…/ HTTP/1.1",
    ]
    assert not [line for line in access if "127.0.0.1" in line]
    # and nothing anywhere in the output holds a leak (Django's error log included)
    assert "Internal Server Error: /checkin/s/…/" in logged
    assert [leak for leak in LEAKS if leak in logged] == []


def test_djangos_request_log_through_harbours_handler_has_no_token(client, db):
    # given every stream handler Harbour's LOGGING gives the root and Django's loggers
    handlers = {
        h
        for name in ("", "django", "django.request")
        for h in logging.getLogger(name).handlers
        if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
    }
    buffer = io.StringIO()
    previous = {h: h.setStream(buffer) for h in handlers}
    try:
        # when a responder link that does not exist is opened
        response = client.get(f"/checkin/r/{TOKEN}/?near={NEAR}", REMOTE_ADDR=FORWARDED)
    finally:
        for h, stream in previous.items():
            h.setStream(stream)  # type: ignore[arg-type]
    # then the "Not Found" warning names the page, not the link
    assert response.status_code == 404
    logged = buffer.getvalue()
    assert "Not Found: /checkin/r/…/" in logged
    assert [leak for leak in LEAKS if leak in logged] == []


@pytest.mark.parametrize(
    ("path", "cleaned"),
    [
        (f"/checkin/s/{TOKEN}/stop/", "/checkin/s/…/stop/"),
        (
            "/accounts/password/reset/key/3f2a9c-abc123def456abc123/",
            "/accounts/password/reset/key/…/",
        ),
        ("/accounts/confirm-email/MQ:1tXyZa:AbCdEf/", "/accounts/confirm-email/…/"),
        ("/alerts/unsubscribe/abcdefghijklmnopqrstuvwxyzabcdef/", "/alerts/unsubscribe/…/"),
        (f"/find/?near={NEAR}", "/find/"),
        ("/org/harm-reduction-kingston/members/", "/org/harm-reduction-kingston/members/"),
    ],
)
def test_paths_are_cleaned(path: str, cleaned: str):
    from harbour.core.logs import clean_path

    assert clean_path(path) == cleaned
