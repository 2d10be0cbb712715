"""The retention setting and "erase this client now" on the staff pages."""

from __future__ import annotations

import pytest

from harbour.core.models import AuditAction, AuditEvent
from harbour.core.roles import Role
from harbour.referrals import services
from harbour.referrals.models import Client, Referral, ReferralPolicy

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(client_of, consent, worker, centre, listing):  # type: ignore[no-untyped-def]
    client = client_of()
    consent(client, centre)
    return services.referral_create(
        actor=worker, client=client, service=listing(), needs="Detox bed", send=True
    )


def test_a_coordinator_erases_a_client_from_their_page(
    sent, outreach, worker, make_member, staff_client
):
    page = f"/org/{outreach.slug}/referrals/clients/{sent.client_id}/"
    erase = page + "erase/"
    # a peer worker sees no erase form and is refused
    peer = staff_client(worker)
    assert "Erase this client now" not in peer.get(page).content.decode()
    assert peer.post(erase, {"reason": "person-asked", "confirm": "on"}).status_code == 403
    # a coordinator without confirming erases nothing
    web = staff_client(make_member(outreach, Role.COORDINATOR))
    html = web.get(page).content.decode()
    assert "Erase this client now" in html and "365 days after their last referral" in html
    text = web.post(erase, {"reason": "person-asked"}, follow=True).content.decode()
    assert "nothing was erased" in text
    assert Client.objects.get(pk=sent.client_id).alias == "Robin"
    # confirmed: erased, the page says so, the referral stays as a shell
    text = web.post(erase, {"reason": "person-asked", "confirm": "on"}, follow=True)
    html = text.content.decode()
    assert "Details erased" in html and "Robin" not in html and "+16135550142" not in html
    assert Referral.objects.get(pk=sent.pk).needs == ""
    event = AuditEvent.objects.get(action=AuditAction.REFERRAL_CLIENT_ERASE)
    assert event.metadata["reason"] == "person-asked"
    # the list shows the erased client without an alias, and editing is refused
    listing_html = web.get(f"/org/{outreach.slug}/referrals/clients/").content.decode()
    assert "Details erased" in listing_html


def test_org_admins_set_the_retention_within_bounds(outreach, make_member, staff_client):
    url = f"/org/{outreach.slug}/referrals/clients/retention/"
    coordinator = staff_client(make_member(outreach, Role.COORDINATOR))
    assert coordinator.get(url).status_code == 403
    web = staff_client(make_member(outreach, Role.ORG_ADMIN))
    assert "365" in web.get(url).content.decode()
    assert web.post(url, {"retention_days": "10"}).status_code == 200  # refused, form again
    assert not ReferralPolicy.objects.exists()
    response = web.post(url, {"retention_days": "90"}, follow=True)
    assert "90 days after their last referral closed" in response.content.decode()
    assert ReferralPolicy.objects.get(organization=outreach).retention_days == 90
    event = AuditEvent.objects.get(action=AuditAction.REFERRAL_POLICY_CHANGE)
    assert event.metadata == {"retention_days": 90, "before": 365}
