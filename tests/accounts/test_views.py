from __future__ import annotations

import pytest
from django.urls import reverse

from harbour.accounts.models import Membership
from harbour.core.models import AuditAction, AuditEvent
from harbour.core.roles import Role

from ..conftest import PASSWORD, totp_code  # type: ignore[import-not-found]

pytestmark = pytest.mark.django_db

ORG_PAGES = ["accounts:organization", "accounts:members", "accounts:api-keys", "accounts:audit"]


@pytest.mark.parametrize("role", Role.values)
def test_another_organizations_pages_answer_404_for_every_role(
    role, org_a, org_b, make_member, staff_client
):
    # given a member of org A with this role, and an admin in org B
    user = make_member(org_a, role)
    make_member(org_b, Role.ORG_ADMIN)
    client = staff_client(user)
    # when / then
    for name in ORG_PAGES:
        response = client.get(reverse(name, args=[org_b.slug]))
        assert response.status_code == 404, name
        assert b"Page not found" in response.content
    own = client.get(reverse("accounts:organization", args=[org_a.slug]))
    assert own.status_code == 200
    assert b"org-b services" not in client.get(reverse("accounts:dashboard")).content


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.ORG_ADMIN])
def test_admin_pages_are_forbidden_below_org_admin(role, org_a, make_member, staff_client):
    client = staff_client(make_member(org_a, role))
    for name in ORG_PAGES[1:]:
        assert client.get(reverse(name, args=[org_a.slug])).status_code == 403, name


def test_anonymous_visitors_are_sent_to_sign_in(client, org_a):
    response = client.get(reverse("accounts:members", args=[org_a.slug]))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_staff_without_totp_must_set_it_up_first(client, org_a, make_member):
    # given
    user = make_member(org_a, Role.COORDINATOR)
    client.force_login(user)
    # when
    response = client.get(reverse("accounts:dashboard"))
    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_demo_accounts_skip_totp_only_in_demo_mode(client, settings, org_a, make_member):
    user = make_member(org_a, Role.COORDINATOR)
    user.is_demo = True
    user.save()
    client.force_login(user)
    settings.DEMO_MODE = False
    assert client.get(reverse("accounts:dashboard")).status_code == 302
    settings.DEMO_MODE = True
    assert client.get(reverse("accounts:dashboard")).status_code == 200


def test_sign_in_with_password_then_totp(client, org_a, make_member, enable_totp):
    # given
    user = make_member(org_a, Role.COORDINATOR)
    secret = enable_totp(user)
    # when: the password step
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    # then: the code step
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    assert "Incorrect code." in wrong.content.decode()
    right = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert right.status_code == 302
    assert client.get(reverse("accounts:dashboard")).status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN, actor=user).count() == 1


def test_wrong_mfa_code_is_explained_in_french(client, org_a, make_member, enable_totp):
    user = make_member(org_a, Role.COORDINATOR)
    enable_totp(user)
    client.cookies["django_language"] = "fr"
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert "Code incorrect." in wrong.content.decode()


def test_failed_logins_are_audited_and_rate_limited_per_account(client, org_a, make_member):
    user = make_member(org_a, Role.COORDINATOR)
    for _ in range(5):
        response = client.post(
            reverse("account_login"), {"login": user.email, "password": "wrong-one"}
        )
        assert response.status_code == 200
        assert (
            "The email address and/or password you specified are not correct."
            in response.content.decode()
        )
    blocked = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert "Too many failed login attempts. Try again later." in blocked.content.decode()
    failures = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED)
    assert failures.count() == 5
    assert failures.first().metadata == {"account": user.pk}
    assert failures.first().actor_label == "anonymous"


def test_failed_logins_are_rate_limited_per_address(client, settings):
    for n in range(10):
        client.post(reverse("account_login"), {"login": f"nobody{n}@example.org", "password": "x"})
    blocked = client.post(
        reverse("account_login"), {"login": "someone@example.org", "password": "x"}
    )
    assert "Too many failed login attempts. Try again later." in blocked.content.decode()
    failures = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED)
    assert failures.count() == 10
    assert all(event.metadata == {"account": "unknown"} for event in failures)


def test_admin_invites_through_the_members_page(org_a, admin_a, staff_client, run_tasks):
    from django.core import mail

    client = staff_client(admin_a)
    bad = client.post(
        reverse("accounts:members", args=[org_a.slug]), {"email": "not-an-email", "role": "viewer"}
    )
    assert bad.status_code == 400
    assert "Enter a valid email address." in bad.content.decode()
    ok = client.post(
        reverse("accounts:members", args=[org_a.slug]),
        {"email": "pw@example.org", "role": "peer_worker"},
    )
    assert ok.status_code == 302
    run_tasks()
    assert mail.outbox[0].to == ["pw@example.org"]


def test_invitation_page_creates_the_account_and_joins(client, org_a, admin_a):
    from harbour.accounts import services

    _inv, token = services.member_invite(
        organization=org_a, email="pw@example.org", role="peer_worker", actor=admin_a
    )
    link = reverse("accounts:invitation-link", args=[token])
    # the link's token is kept in the session; the page itself has no token in its URL
    first = client.get(link)
    url = reverse("accounts:invitation")
    assert first.status_code == 302 and first["Location"] == url == "/org/invitation/"
    page = client.get(url)
    assert page.status_code == 200
    assert "Choose a password to create your account." in page.content.decode()
    mismatch = client.post(url, {"password1": "a-long-pass-phrase", "password2": "another-phrase"})
    assert mismatch.status_code == 400
    assert "The two passwords are not the same." in mismatch.content.decode()
    joined = client.post(
        url, {"password1": "a-long-pass-phrase", "password2": "a-long-pass-phrase"}
    )
    assert joined.status_code == 302
    assert Membership.objects.get(user__email="pw@example.org").role == "peer_worker"
    # the new staff member must now set up two-factor authentication
    assert client.get(joined["Location"])["Location"] == reverse("mfa_activate_totp")
    client.logout()
    reused = client.get(link, follow=True)
    assert reused.status_code == 404
    assert "already been used" in reused.content.decode()


def test_unknown_invitation_token_gets_a_clear_page(client):
    response = client.get(reverse("accounts:invitation-link", args=["made-up"]), follow=True)
    assert response.status_code == 404
    assert "This invitation link is not valid." in response.content.decode()


def test_role_change_and_remove_from_the_members_page(org_a, admin_a, make_member, staff_client):
    peer = make_member(org_a, Role.PEER_WORKER)
    membership = Membership.objects.get(user=peer)
    client = staff_client(admin_a)
    client.post(
        reverse("accounts:member-role", args=[org_a.slug, membership.id]), {"role": "coordinator"}
    )
    membership.refresh_from_db()
    assert membership.role == "coordinator"
    last_admin = Membership.objects.get(user=admin_a)
    response = client.post(
        reverse("accounts:member-remove", args=[org_a.slug, last_admin.id]), follow=True
    )
    assert "An organization needs at least one admin." in response.content.decode()
    client.post(reverse("accounts:member-remove", args=[org_a.slug, membership.id]))
    assert not Membership.objects.filter(pk=membership.id).exists()


def test_api_key_is_shown_once_and_audit_page_lists_it(org_a, admin_a, staff_client):
    client = staff_client(admin_a)
    created = client.post(
        reverse("accounts:api-keys", args=[org_a.slug]), {"name": "lab", "role": "viewer"}
    )
    body = created.content.decode()
    assert "Copy this key now" in body and "hbk_" in body
    again = client.get(reverse("accounts:api-keys", args=[org_a.slug])).content.decode()
    assert "Copy this key now" not in again
    audit = client.get(reverse("accounts:audit", args=[org_a.slug]), {"action": "api-key-create"})
    assert "<td>API key created</td>" in audit.content.decode()
    assert "<td>Organization created</td>" not in audit.content.decode()


def test_unknown_language_falls_back_to_english(client):
    client.cookies["django_language"] = "de"
    body = client.get("/", HTTP_ACCEPT_LANGUAGE="xx").content.decode()
    assert '<html lang="en">' in body
    assert "The opposite of addiction is connection." in body


def test_language_switch_is_remembered(client):
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert response.cookies["django_language"].value == "fr"
    body = client.get("/").content.decode()
    assert '<html lang="fr">' in body
    bogus = client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert "django_language" not in bogus.cookies or bogus.cookies["django_language"].value != "xx"


def test_password_reset_by_email(client, org_a, make_member, run_tasks):
    import re

    from django.core import mail

    user = make_member(org_a, Role.VIEWER)
    sent = client.post(reverse("account_reset_password"), {"email": user.email})
    assert sent.status_code == 302
    run_tasks()
    assert mail.outbox[0].to == [user.email]
    assert mail.outbox[0].subject == "Harbour: Password Reset Email"
    assert mail.outbox[0].body.startswith("Hello from Harbour.")
    # the worker writes the link on HARBOUR_BASE_URL, never on the request's Host header
    link = re.search(
        r"http://127.0.0.1:8000(/accounts/password/reset/key/\S+)", mail.outbox[0].body
    )
    assert link is not None
    form = client.get(link.group(1), follow=True)
    action = form.redirect_chain[-1][0] if form.redirect_chain else link.group(1)
    done = client.post(
        action, {"password1": "a-brand-new-phrase", "password2": "a-brand-new-phrase"}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-brand-new-phrase")
    assert AuditEvent.objects.filter(action=AuditAction.PASSWORD_RESET, actor=user).exists()


def test_password_reset_for_an_unknown_address_reveals_nothing(client, run_tasks):
    from django.core import mail

    response = client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    run_tasks()
    # the same answer as for a real account, and no email to a stranger's address
    assert response["Location"] == reverse("account_reset_password_done")
    assert mail.outbox == []


def test_a_signed_in_member_without_admin_rights_is_refused_the_admin_site_not_looped(
    client, admin_a, enable_totp
):
    # given an org admin (not Django staff) signed in with their second factor
    enable_totp(admin_a)
    client.force_login(admin_a)
    # when they open the admin site
    response = client.get("/admin/", follow=True)
    # then they are told no (403), once, instead of being sent round the sign-in page forever
    assert response.status_code == 403
    assert response.redirect_chain == [("/admin/login/?next=/admin/", 302)]
