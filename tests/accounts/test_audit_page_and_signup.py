"""The audit trail in words, filtered by person and dates; and signing up from an invitation
straight into setting up TOTP, with a link that opens the authenticator app."""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.urls import reverse

from harbour.accounts import services
from harbour.accounts.models import Membership
from harbour.core import audit
from harbour.core.models import AuditAction
from harbour.core.roles import Role
from harbour.drugcheck import services as drugcheck

from ..conftest import totp_code  # type: ignore[import-not-found]

pytestmark = pytest.mark.django_db


def named(make_member, org, role, name):  # type: ignore[no-untyped-def]
    user = make_member(org, role, email=f"{name.lower().replace(' ', '.')}@{org.slug}.example.org")
    user.display_name = name
    user.save(update_fields=["display_name"])
    return user


def test_audit_details_read_as_words_not_ids_or_lists(
    org_a, org_b, admin_a, make_member, staff_client
):
    worker = named(make_member, org_a, Role.PEER_WORKER, "Robin")
    membership = Membership.objects.get(user=worker, organization=org_a)
    services.member_role_change(membership=membership, role=Role.COORDINATOR, actor=admin_a)
    sample = drugcheck.sample_record(
        actor=worker, organization=org_a,
        data=drugcheck.SampleIn(collected_on=date(2026, 11, 20), site="Main",
                                strips={"fentanyl-strip": "positive", "benzo-strip": "negative"}),
    )  # fmt: skip
    outsider = named(make_member, org_b, Role.ORG_ADMIN, "Elsewhere person")
    other_sample = drugcheck.sample_record(
        actor=outsider, organization=org_b,
        data=drugcheck.SampleIn(collected_on=date(2026, 11, 20), site="Other"),
    )  # fmt: skip
    # an event of org A that mentions another organization's sample and user by id
    audit.record(
        action=AuditAction.DRUGCHECK_IMPORT, actor=admin_a, organization=org_a,
        metadata={"sample": str(other_sample.pk), "user": outsider.pk, "published": True},
    )  # fmt: skip
    page = staff_client(admin_a).get(reverse("accounts:audit", args=[org_a.slug]))
    text = page.content.decode()
    assert "<dt>Role</dt><dd>Coordinator</dd>" not in text  # "from"/"to" say which
    assert "<dt>Member</dt><dd>Robin</dd>" in text
    # (PostgreSQL's jsonb keeps no key order: each pair on its own)
    assert "<dt>From</dt><dd>Peer worker</dd>" in text and "<dt>To</dt><dd>Coordinator</dd>" in text
    assert "<dt>Tests</dt><dd>benzo-strip, fentanyl-strip</dd>" in text
    assert f"Sample: {sample.display_code}" in text
    assert "[" not in text.split("<tbody")[1].split("</tbody>")[0]
    assert str(membership.pk) not in text and str(sample.pk) not in text
    # another organization's things and people are not named, only shortened
    assert other_sample.display_code not in text and "Elsewhere person" not in text
    assert f"#{str(other_sample.pk)[:8]}" in text
    assert f"former member (account {outsider.pk})" in text
    assert "<dt>Already published</dt><dd>yes</dd>" in text
    assert "<dt>Type</dt><dd>Harm-reduction site</dd>" in text


def test_the_audit_trail_filters_by_person_and_dates(
    org_a, org_b, admin_a, make_member, staff_client
):
    robin = named(make_member, org_a, Role.COORDINATOR, "Robin")
    sam = named(make_member, org_a, Role.COORDINATOR, "Sam")
    stranger = named(make_member, org_b, Role.ORG_ADMIN, "Stranger")
    for who, day in ((robin, 3), (robin, 12), (sam, 12), (stranger, 12)):
        with time_machine.travel(datetime(2026, 2, day, 15, 0, tzinfo=UTC), tick=False):
            audit.record(
                action=AuditAction.ALERT_SETTINGS, actor=who,
                organization=org_b if who is stranger else org_a, metadata={"day": day},
            )  # fmt: skip
    client = staff_client(admin_a)
    url = reverse("accounts:audit", args=[org_a.slug])
    page = client.get(url).content.decode()
    # the person filter offers the organization's own actors, never another's
    assert f'<option value="user:{robin.pk}">Robin</option>' in page
    assert "Stranger" not in page

    def days(**params: str) -> list[int]:
        response = client.get(url, {"action": "alert-settings", **params})
        return [row.event.metadata["day"] for row in response.context["rows"]]

    assert days() == [12, 12, 3]
    assert days(actor=f"user:{robin.pk}") == [12, 3]
    # someone of another organization is not a choice: the form says so, their events stay out
    refused = client.get(url, {"action": "alert-settings", "actor": f"user:{stranger.pk}"})
    assert "Select a valid choice." in refused.content.decode()
    assert {r.event.organization_id for r in refused.context["rows"]} == {org_a.pk}
    assert "Stranger" not in refused.content.decode()
    assert days(date_from="2026-02-10") == [12, 12]
    assert days(date_to="2026-02-03") == [3]
    assert days(actor=f"user:{robin.pk}", date_from="2026-02-01", date_to="2026-02-04") == [3]
    wrong = client.get(url, {"date_from": "2026-02-12", "date_to": "2026-02-01"})
    assert "The end date is before the start date." in wrong.content.decode()
    # dates read unambiguously in both languages
    assert "2026-02-12" in client.get(url).content.decode()
    client.cookies["django_language"] = "fr"
    french = client.get(url, {"actor": f"user:{robin.pk}"}).content.decode()
    assert "Qui" in french and "Du" in french and "2026-02-03" in french


def test_an_invitee_sets_up_totp_without_typing_the_password_again(client, org_a, admin_a):
    _inv, token = services.member_invite(
        organization=org_a, email="new@example.org", role="peer_worker", actor=admin_a
    )
    client.get(reverse("accounts:invitation-link", args=[token]))
    joined = client.post(
        reverse("accounts:invitation"),
        {"password1": "a-long-pass-phrase", "password2": "a-long-pass-phrase"},
    )
    assert joined.status_code == 302
    assert client.get(joined["Location"])["Location"] == reverse("mfa_activate_totp")
    # straight to the set-up page: no "enter your password again"
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    body = page.content.decode()
    secret = page.context["form"].secret
    link = page.context["totp_url"]
    assert link.startswith("otpauth://totp/")
    assert parse_qs(urlparse(link).query)["secret"] == [secret]
    assert f'href="{link.replace("&", "&amp;")}"' in body and "Open in authenticator app" in body
    done = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert done.status_code == 302
    assert client.get(f"/org/{org_a.slug}/").status_code == 200
    from allauth.mfa.models import Authenticator

    assert Authenticator.objects.filter(user__email="new@example.org", type="totp").exists()


def test_a_password_sign_in_is_still_asked_again_before_totp_is_added(client, org_a, make_member):
    from ..conftest import PASSWORD  # type: ignore[import-not-found]

    user = make_member(org_a, Role.VIEWER)
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert client.get(reverse("mfa_activate_totp")).status_code == 302
