"""Attacks on alert drafts: another organization's staff, a viewer, or nobody signed in cannot
see a draft's review page (its texts and how many subscribers it reaches), change it, discard
it, or send it; the review page shows counts, never an address; a discarded draft is public
nowhere."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from harbour.alerts import services
from harbour.alerts.models import Alert
from harbour.core.roles import Role

pytestmark = pytest.mark.django_db


def _draft(org, actor):  # type: ignore[no-untyped-def]
    return services.alert_draft(
        actor=actor, organization=org, title_en="Secret draft", body_en="Not out yet.",
        areas=["K7L"], area_description_en="Kingston",
        valid_until=timezone.now() + timedelta(days=2),
    )  # fmt: skip


def test_strangers_and_viewers_get_nothing_of_a_draft(
    client, staff_client, org_a, org_b, make_member
):  # type: ignore[no-untyped-def]
    services.subscribe_sms(phone="613-555-0199", areas=["K7L"])
    writer = make_member(org_a, Role.COORDINATOR)
    alert = _draft(org_a, writer)
    base = f"/org/{org_a.slug}/alerts/{alert.pk}/"
    # nobody signed in: sent to sign in
    assert client.get(base).status_code == 302
    assert client.post(f"{base}discard/").status_code == 302
    # an admin of another organization, through either organization's address
    stranger = staff_client(make_member(org_b, Role.ORG_ADMIN, email="s@example.org"))
    for url in (base, f"{base}edit/", f"/org/{org_b.slug}/alerts/{alert.pk}/"):
        assert stranger.get(url).status_code == 404
    for action in ("discard", "submit", "approve", "publish"):
        assert stranger.post(f"{base}{action}/", {"confirm": "yes"}).status_code == 404
        assert (
            stranger.post(
                f"/org/{org_b.slug}/alerts/{alert.pk}/{action}/", {"confirm": "yes"}
            ).status_code
            == 404
        )
    # a viewer of the same organization (below outreach workers)
    viewer = staff_client(make_member(org_a, Role.VIEWER, email="v@example.org"))
    assert viewer.get(base).status_code in (403, 404)
    assert viewer.post(f"{base}discard/").status_code in (403, 404)
    alert.refresh_from_db()
    assert alert.status == "draft" and alert.title_en == "Secret draft"


def test_the_review_page_counts_subscribers_and_shows_no_address(staff_client, org_a, make_member):  # type: ignore[no-untyped-def]
    services.subscribe_sms(phone="613-555-0199", areas=["K7L"])
    writer = make_member(org_a, Role.COORDINATOR)
    alert = _draft(org_a, writer)
    page = staff_client(writer).get(f"/org/{org_a.slug}/alerts/{alert.pk}/").content.decode()
    assert "It will reach 1 subscriber:" in page
    assert "555-0199" not in page and "5550199" not in page


def test_a_discarded_draft_is_public_nowhere(client, org_a, make_member):  # type: ignore[no-untyped-def]
    writer = make_member(org_a, Role.COORDINATOR)
    alert = _draft(org_a, writer)
    services.alert_discard(alert=alert, actor=writer)
    assert client.get(f"/alerts/{alert.pk}/").status_code == 404
    assert client.get(f"/alerts/{alert.pk}/cap.xml").status_code == 404
    assert "Secret draft" not in client.get("/alerts/feed.json").content.decode()
    assert Alert.objects.get().status == "discarded"
