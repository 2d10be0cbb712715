"""Attack: with a stolen staff session, change the account's email to the attacker's address
(then reset the password from it, and own the account), without the owner ever knowing."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import reverse

from harbour.accounts.models import User
from harbour.core.roles import Role

pytestmark = pytest.mark.django_db

ATTACKER = "attacker@example.net"


@pytest.mark.parametrize("totp", [True, False], ids=["with-totp", "before-totp-set-up"])
def test_a_new_email_takes_effect_only_once_confirmed_and_the_old_address_is_told(
    totp, client, org_a, make_member, staff_client, run_tasks
):
    # given a signed-in staff member (the attacker holds the session), with two-factor
    # authentication or still on their way to setting it up
    user = make_member(org_a, Role.COORDINATOR)
    owner = user.email
    if totp:
        client = staff_client(user)
    else:
        client.force_login(user)
    # when the attacker adds their address and makes it the primary one
    added = client.post(reverse("account_email"), {"action_add": "", "email": ATTACKER})
    assert added.status_code == 302
    client.post(reverse("account_email"), {"action_primary": "", "email": ATTACKER})
    # then the account still has the owner's address
    user.refresh_from_db()
    assert user.email == owner
    # and a password reset asked for the attacker's address sends nothing
    client.post(reverse("account_reset_password"), {"email": ATTACKER})
    run_tasks()
    assert [m.to for m in mail.outbox] == [[ATTACKER]]
    confirmation = mail.outbox[0]
    assert "confirm" in confirmation.subject.lower()
    assert "password/reset" not in confirmation.body
    # when the new address's owner confirms it (here: the attacker reading their own mail)
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", confirmation.body)
    assert link is not None
    path = urlsplit(link.group(0)).path
    assert client.get(path).status_code == 200
    assert client.post(path).status_code == 302
    run_tasks()
    # then it takes effect, and the old address is told
    user.refresh_from_db()
    assert user.email == ATTACKER
    told = [m for m in mail.outbox if m.to == [owner]]
    assert len(told) == 1
    assert ATTACKER in told[0].body and owner in told[0].body


def test_accounts_are_made_with_their_address_confirmed(org_a, make_member):
    from allauth.account.models import EmailAddress

    user = make_member(org_a, Role.VIEWER)
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.verified, address.primary) == (user.email, True, True)
    assert User.objects.get(pk=user.pk).email == address.email
