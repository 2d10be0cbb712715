"""The `harbour` command as a person runs it: production guards, deploy checks, demo data."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from harbour.accounts.models import Membership, Organization, User

HARBOUR = [sys.executable, "-m", "harbour.cli"]


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
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
        }
    }
    base["HARBOUR_VAR_DIR"] = str(tmp_path)
    base.update(env)
    return subprocess.run(
        HARBOUR + args, env=base, capture_output=True, text=True, timeout=120, check=False
    )


def test_production_refuses_to_start_without_secret_key_or_hosts(tmp_path):
    no_key = run(["check"], tmp_path, HARBOUR_ENV="production", ALLOWED_HOSTS="h.example.org")
    assert no_key.returncode == 2
    assert "HARBOUR_ENV=production needs SECRET_KEY" in no_key.stderr
    no_hosts = run(
        ["check"], tmp_path, HARBOUR_ENV="production", SECRET_KEY=secrets.token_urlsafe(64)
    )
    assert no_hosts.returncode == 2
    assert "HARBOUR_ENV=production needs ALLOWED_HOSTS" in no_hosts.stderr


def test_check_deploy_is_clean_in_production_mode(tmp_path):
    from cryptography.fernet import Fernet

    production = {
        "HARBOUR_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "harbour.example.org",
    }
    # without their own field-encryption keys it refuses to start (tests/privacy has more)
    without_keys = run(["check", "--deploy", "--fail-level", "WARNING"], tmp_path, **production)
    assert without_keys.returncode == 2
    assert "HARBOUR_ENV=production needs HARBOUR_FIELD_KEYS" in without_keys.stderr
    result = run(
        ["check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        **production,
        HARBOUR_FIELD_KEYS=Fernet.generate_key().decode(),
        HARBOUR_BLIND_INDEX_KEY=secrets.token_urlsafe(32),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def recipe_exports() -> str:
    """The ``export`` lines of README's production recipe, exactly as written."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Production with PostgreSQL and Redis", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    return "\n".join(line for line in block.splitlines() if line.startswith("export "))


def test_readme_production_recipe_gives_a_clean_deploy_check(tmp_path):
    # given the environment README's production recipe sets, and nothing else of Harbour's
    exports = recipe_exports()
    for key in ("HARBOUR_ENV=production", "SECRET_KEY=", "ALLOWED_HOSTS=", "HARBOUR_FIELD_KEYS=",
                "HARBOUR_BLIND_INDEX_KEY="):  # fmt: skip
        assert key in exports
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HARBOUR_", "DJANGO_", "NOTIFY_", "TWILIO_", "EMAIL_"))
        and k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"}
    }
    env["HARBOUR_VAR_DIR"] = str(tmp_path)
    command = " ".join([sys.executable, "-m", "harbour.cli", "check", "--deploy",
                        "--fail-level", "WARNING"])  # fmt: skip
    # when the recipe's lines are run by a shell, then the check
    result = subprocess.run(
        ["bash", "-ec", f"{exports}\n{command}"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    # then it is clean: no error, no warning
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    # and the field keys it made are real Fernet keys
    from cryptography.fernet import Fernet

    keys = subprocess.run(
        ["bash", "-ec", f'{exports}\nprintf %s "$HARBOUR_FIELD_KEYS"'],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert Fernet(keys.encode()).decrypt(Fernet(keys.encode()).encrypt(b"x")) == b"x"


def test_development_mode_generates_and_keeps_a_secret_key(tmp_path):
    first = run(["check"], tmp_path)
    assert first.returncode == 0, first.stderr
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50
    run(["check"], tmp_path)
    assert (tmp_path / "secret_key").read_text() == key
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_help_lists_harbours_commands(tmp_path):
    result = run(["help"], tmp_path)
    for command in ("serve", "worker", "demo", "createorg", "backup", "restore"):
        assert f"    {command}\n" in result.stdout, command
    serve = run(["serve", "--help"], tmp_path)
    assert "gunicorn" in serve.stdout and "--with-worker" in serve.stdout


@pytest.mark.django_db
def test_demo_is_idempotent_and_prints_logins(capsys):
    call_command("demo")
    first = capsys.readouterr().out
    call_command("demo")
    assert Organization.objects.filter(slug__startswith="demo-").count() == 4
    assert {o.city for o in Organization.objects.all()} == {
        "Kingston",
        "Montréal",
        "Haliburton County",
    }
    assert User.objects.filter(is_demo=True).count() == 14
    assert Membership.objects.count() == 14
    assert "coordinator@lighthouse.demo.harbour.test" in first
    assert "password for every demo account: harbour-demo-2026" in first
    roles = set(
        Membership.objects.filter(organization__slug="demo-lighthouse").values_list(
            "role", flat=True
        )
    )
    assert roles == {"viewer", "peer_worker", "outreach_worker", "coordinator", "org_admin"}
    from harbour.alerts.models import Alert
    from harbour.drugcheck.models import Sample

    assert Sample.objects.filter(source="demo").count() == 120  # loaded once
    assert sorted(Alert.objects.values_list("status", flat=True)) == ["pending", "published"]
    assert "Alerts: 2 new fictional alerts" in first


@pytest.mark.django_db
def test_createorg_invites_the_first_admin(capsys):
    call_command(
        "createorg",
        "Harbour House",
        "--name-fr",
        "Maison du Port",
        "--type",
        "community_organization",
        "--admin-email",
        "boss@example.org",
    )
    out = capsys.readouterr().out
    org = Organization.objects.get(slug="harbour-house")
    assert org.name_fr == "Maison du Port"
    assert "invited boss@example.org as org admin: http://127.0.0.1:8000/org/invitation/" in out


@pytest.mark.django_db
def test_createorg_with_a_bad_type_exits_with_a_reason(tmp_path):
    result = run(["createorg", "X", "--type", "bank"], tmp_path)
    assert result.returncode == 2
    assert "invalid choice: 'bank'" in result.stderr


@pytest.mark.django_db
def test_database_connections_are_tuned_for_short_queries():
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW jit")
            assert cursor.fetchone()[0] == "off"
        else:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] in {"wal", "memory"}  # in-memory test databases
            cursor.execute("PRAGMA cache_size")
            assert cursor.fetchone()[0] == -32000
            cursor.execute("PRAGMA foreign_keys")
            assert cursor.fetchone()[0] == 1
