"""Attack: sign in with a password only, for an account that has TOTP set up, and reach a staff
page, the admin site or the API anyway."""

from __future__ import annotations

import pytest
from django.urls import reverse

from harbour.accounts.models import User
from harbour.core.roles import Role

from ..conftest import PASSWORD, totp_code  # type: ignore[import-not-found]

pytestmark = pytest.mark.django_db


def test_admin_login_with_a_password_only_reaches_no_admin_page(client, enable_totp):
    # given a superuser with TOTP set up
    boss = User.objects.create_superuser(email="root@example.org", password=PASSWORD)
    enable_totp(boss)
    # when the attacker posts the password to Django's admin sign-in form
    posted = client.post(
        "/admin/login/?next=/admin/", {"username": boss.email, "password": PASSWORD}
    )
    # then the admin's own form is gone: sign-in goes through allauth (code step, rate limits)
    assert posted.status_code == 302
    assert posted["Location"] == "/accounts/login/?next=/admin/"
    for path in ("/admin/", "/admin/accounts/user/"):
        admin_page = client.get(path, follow=True)
        assert admin_page.redirect_chain[-1][0].startswith("/accounts/login/"), path
        assert "Django administration" not in admin_page.content.decode()


def test_password_only_session_of_a_totp_user_reaches_no_staff_page(
    client, org_a, make_member, enable_totp
):
    # given a coordinator with TOTP, who is also Django staff (so the admin form accepted them)
    user = make_member(org_a, Role.COORDINATOR)
    user.is_staff = True
    user.save()
    secret = enable_totp(user)
    # when the attacker signs in with the password alone at allauth's page, then jumps
    step = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert step["Location"] == reverse("mfa_authenticate")
    assert client.get(f"/org/{org_a.slug}/").status_code == 302
    # and when they get a session some other way that checks the password only (as Django's
    # admin form did: a session with the user in it and no second factor)
    client.login(email=user.email, password=PASSWORD)
    staff = client.get(f"/org/{org_a.slug}/")
    api = client.get("/api/v1/me")
    remove_totp = client.get(reverse("mfa_deactivate_totp"))
    admin_page = client.get("/admin/", follow=True)
    # then no staff page, no API, no way to take the authenticator off, no admin
    assert staff.status_code == 302
    assert staff["Location"] == f"{reverse('mfa_reauthenticate')}?next=%2Forg%2F{org_a.slug}%2F"
    assert api.status_code == 401
    assert remove_totp.status_code == 302
    assert remove_totp["Location"] == reverse("mfa_reauthenticate")
    assert "Django administration" not in admin_page.content.decode()
    # until the code is entered in this session
    code = client.post(reverse("mfa_reauthenticate"), {"code": totp_code(secret)})
    assert code.status_code == 302
    assert client.get(f"/org/{org_a.slug}/").status_code == 200
    assert client.get("/api/v1/me").status_code == 200


def test_setting_up_totp_counts_as_this_sessions_second_factor(client, org_a, make_member):
    user = make_member(org_a, Role.VIEWER)
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert client.get(f"/org/{org_a.slug}/")["Location"] == reverse("mfa_activate_totp")
    # allauth asks for the password again before an authenticator is added
    assert client.get(reverse("mfa_activate_totp")).status_code == 302
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    done = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert done.status_code == 302
    assert client.get(f"/org/{org_a.slug}/").status_code == 200
