"""Shared fixtures: organizations, a member of each role, sign-in helpers, the task worker."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from django.core.management import call_command

from harbour.accounts import services
from harbour.accounts.models import Organization, OrganizationType, User
from harbour.core.roles import Role

os.environ.setdefault("HARBOUR_ENV", "test")

PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    # Rate limits live in the cache; every test starts with none used.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def make_org(db: None) -> Callable[..., Organization]:
    def make(slug: str = "org-a", **kwargs: str) -> Organization:
        return services.organization_create(
            name_en=kwargs.pop("name_en", f"{slug} services"),
            name_fr=kwargs.pop("name_fr", f"services {slug}"),
            type=kwargs.pop("type", OrganizationType.HARM_REDUCTION_SITE),
            slug=slug,
            **kwargs,
        )

    return make


@pytest.fixture
def make_member(db: None) -> Callable[..., User]:
    def make(org: Organization, role: str = Role.COORDINATOR, email: str = "") -> User:
        user = User.objects.create_user(
            email=email or f"{role}@{org.slug}.example.org", password=PASSWORD
        )
        services.membership_set(organization=org, user=user, role=role)
        return user

    return make


@pytest.fixture
def org_a(make_org: Callable[..., Organization]) -> Organization:
    return make_org("org-a")


@pytest.fixture
def org_b(make_org: Callable[..., Organization]) -> Organization:
    return make_org("org-b")


@pytest.fixture
def admin_a(org_a: Organization, make_member: Callable[..., User]) -> User:
    return make_member(org_a, Role.ORG_ADMIN)


@pytest.fixture
def run_tasks(db: None, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Run every queued task with the real worker, then return (``harbour worker --batch``).

    Inside a test's transaction Django's ``close_old_connections`` would close the
    connection (autocommit is off), so it is disabled here, as Django's test client does."""
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run() -> None:
        call_command("worker", batch=True, startup_delay=False, verbosity=0)

    return run


@pytest.fixture
def mfa_off(settings) -> None:  # type: ignore[no-untyped-def]
    """Demo mode for demo accounts only; for tests that are not about MFA, mark users as demo."""
    settings.DEMO_MODE = True


def totp_code(secret: str) -> str:
    """The current code an authenticator app would show for ``secret``."""
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret, counter))


@pytest.fixture
def enable_totp(db: None) -> Callable[[User], str]:
    """Turn on TOTP for a user as the set-up page would; returns the secret."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    def enable(user: User) -> str:
        secret = generate_totp_secret()
        TOTP.activate(user, secret)
        return secret

    return enable


@pytest.fixture
def staff_client(client, enable_totp):  # type: ignore[no-untyped-def]
    """A test client signed in as ``user`` with two-factor authentication set up."""

    def sign_in(user: User):  # type: ignore[no-untyped-def]
        enable_totp(user)
        client.force_login(user)
        return client

    return sign_in
