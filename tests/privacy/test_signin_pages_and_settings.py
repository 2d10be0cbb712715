"""Attacks on what pages and settings give away: a shared computer's browser cache keeping a
staff page or a check-in link's page, the health check telling anyone about the workers, and a
production server whose encryption keys fall with SECRET_KEY."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from harbour.accounts import services
from harbour.core.roles import Role
from harbour.core.tasks import heartbeat

pytestmark = pytest.mark.django_db


def test_private_pages_are_never_stored(client, org_a, admin_a, staff_client):
    # anonymous pages reached by a secret link, the sign-in page, a form's thank-you page
    anonymous = {
        "/checkin/s/Tok3nAbCdEfGhIjKlMnOpQrStUvWxYz12/": client.get(
            "/checkin/s/Tok3nAbCdEfGhIjKlMnOpQrStUvWxYz12/"
        ),
        "/mentoring/m/Tok3nAbCdEfGhIjKlMnOpQrStUvWxYz12/": client.get(
            "/mentoring/m/Tok3nAbCdEfGhIjKlMnOpQrStUvWxYz12/"
        ),
        "/accounts/login/": client.get(reverse("account_login")),
        "POST /alerts/report/": client.post("/alerts/report/", {}),
    }
    for name, response in anonymous.items():
        assert response["Cache-Control"] == "no-store, private", name
    # every page a signed-in staff member sees
    staff = staff_client(admin_a)
    for path in (f"/org/{org_a.slug}/", f"/org/{org_a.slug}/members/", "/", "/find/"):
        assert staff.get(path)["Cache-Control"] == "no-store, private", path
    # a public page to an anonymous visitor may be kept
    from django.test import Client

    assert "no-store" not in Client().get("/find/").get("Cache-Control", "")


def test_health_tells_anonymous_callers_only_ok_or_stale(client, org_a, admin_a, run_tasks):
    # when anyone asks
    before = client.get("/api/v1/health")
    heartbeat.enqueue()
    run_tasks()
    after = client.get("/api/v1/health")
    # then a word, nothing about versions, databases, workers or check-ins
    assert before.status_code == 200 and before.json() == {"status": "stale"}
    assert after.json() == {"status": "ok"}
    # and an organization's API key gets the details
    key = services.api_key_create(organization=org_a, name="monitor", actor=admin_a).secret
    details = client.get("/api/v1/health", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert details["database"] == "ok" and details["worker"]["status"] == "ok"
    assert details["version"]


@pytest.mark.parametrize("role", [Role.VIEWER])
def test_health_details_for_staff_sessions(role, client, org_a, make_member, staff_client):
    staff = staff_client(make_member(org_a, role))
    assert set(staff.get("/api/v1/health").json()) >= {"status", "version", "database", "worker"}


def _check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "HARBOUR_ENV",
            "DATABASE_URL",
            "DJANGO_SETTINGS_MODULE",
            "HARBOUR_FIELD_KEYS",
            "HARBOUR_BLIND_INDEX_KEY",
        }
    }
    base.update(HARBOUR_VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "-m", "harbour.cli", "check"],
        env=base,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_production_refuses_to_start_with_keys_derived_from_secret_key(tmp_path: Path):
    from cryptography.fernet import Fernet

    production = {
        "HARBOUR_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "harbour.example.org",
    }
    without = _check(tmp_path, **production)
    assert without.returncode == 2
    assert "HARBOUR_ENV=production needs HARBOUR_FIELD_KEYS" in without.stderr
    bad = _check(
        tmp_path,
        **production,
        HARBOUR_FIELD_KEYS="not-a-key",
        HARBOUR_BLIND_INDEX_KEY=secrets.token_urlsafe(32),
    )
    assert bad.returncode == 2 and "not a Fernet key" in bad.stderr
    good = _check(
        tmp_path,
        **production,
        HARBOUR_FIELD_KEYS=Fernet.generate_key().decode(),
        HARBOUR_BLIND_INDEX_KEY=secrets.token_urlsafe(32),
    )
    assert good.returncode == 0, good.stderr[-2000:]
