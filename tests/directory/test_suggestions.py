from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from harbour.core.models import AuditAction, AuditEvent
from harbour.core.roles import Role
from harbour.directory import services as ds
from harbour.directory.models import DirectoryOrganization, Service, SuggestedEdit

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned(make_service, org_a):  # type: ignore[no-untyped-def]
    """A listing maintained by org A's staff."""
    sal = make_service("Harbour clinic", codes=("health-care",))
    DirectoryOrganization.objects.filter(pk=sal.service.organization_id).update(owner=org_a)
    return Service.objects.get(pk=sal.service_id)


def test_anyone_can_suggest_without_an_account_and_the_owner_is_told(
    client, owned, org_a, make_member, run_tasks
):
    coordinator = make_member(org_a, Role.COORDINATOR)
    make_member(org_a, Role.VIEWER)
    url = reverse("directory:suggest", args=[owned.id])
    empty = client.post(url, {"field": "phone", "message": ""})
    assert empty.status_code == 400
    assert "This field is required." in empty.content.decode()
    sent = client.post(
        url,
        {
            "field": "phone",
            "message": "The number is out of service.",
            "suggested_value": "613-555-0199",
        },
        REMOTE_ADDR="203.0.113.9",
    )
    assert sent.status_code == 200
    assert "Your suggestion was sent." in sent.content.decode()
    suggestion = SuggestedEdit.objects.get()
    assert (suggestion.field, suggestion.suggested_value, suggestion.contact) == (
        "phone",
        "613-555-0199",
        "",
    )
    # nothing in the row can hold the sender's address
    assert "203.0.113.9" not in str(SuggestedEdit.objects.values().get())
    run_tasks()
    assert [m.to for m in mail.outbox] == [[coordinator.email]]
    assert "/org/org-a/directory/suggestions/" in mail.outbox[0].body


def test_suggestions_are_rate_limited(client, owned):
    url = reverse("directory:suggest", args=[owned.id])
    # many people on one Wi-Fi: different notes all go through; the same note a 4th time not
    codes = [
        client.post(url, {"field": "other", "message": f"note {n}"}).status_code for n in range(6)
    ]
    assert codes == [200] * 6
    codes = [client.post(url, {"field": "other", "message": "same"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert SuggestedEdit.objects.count() == 9


def test_bots_filling_the_hidden_field_are_thanked_and_ignored(client, owned):
    url = reverse("directory:suggest", args=[owned.id])
    response = client.post(url, {"field": "other", "message": "buy now", "website": "http://spam"})
    assert response.status_code == 200
    assert SuggestedEdit.objects.count() == 0


def test_accepting_applies_the_change_with_an_audit_event(owned, org_a, make_member):
    coordinator = make_member(org_a, Role.COORDINATOR)
    phone = ds.suggestion_create(
        service=owned, field="phone", message="new number", suggested_value="613-555-0199"
    )
    ds.suggestion_accept(suggestion=phone, actor=coordinator)
    assert owned.phones.get().number == "613-555-0199"
    fees = ds.suggestion_create(
        service=owned, field="fees", message="it is free", suggested_value="Gratuit", language="fr"
    )
    ds.suggestion_accept(suggestion=fees, actor=coordinator)
    owned.refresh_from_db()
    assert owned.fees_description_fr == "Gratuit"
    event = (
        AuditEvent.objects.filter(action=AuditAction.DIRECTORY_SUGGESTION_ACCEPT)
        .order_by("created_at")
        .last()
    )
    assert event.organization == org_a
    assert event.metadata == {
        "service": str(owned.id),
        "field": "fees",
        "applied": "fees_description_fr",
    }
    with pytest.raises(ValidationError, match="already reviewed"):
        ds.suggestion_reject(suggestion=fees, actor=coordinator)


def test_closed_suggestion_marks_the_service_temporarily_closed_and_hides_nothing_else(
    owned, org_a, make_member
):
    coordinator = make_member(org_a, Role.COORDINATOR)
    closed = ds.suggestion_create(service=owned, field="closed", message="closed since May")
    ds.suggestion_accept(suggestion=closed, actor=coordinator)
    owned.refresh_from_db()
    assert owned.status == "temporarily closed"


def test_only_the_owners_coordinators_review(owned, org_a, org_b, make_member):
    suggestion = ds.suggestion_create(service=owned, field="other", message="x")
    with pytest.raises(PermissionDenied):
        ds.suggestion_accept(suggestion=suggestion, actor=make_member(org_a, Role.PEER_WORKER))
    with pytest.raises(Exception) as exc:
        ds.suggestion_reject(suggestion=suggestion, actor=make_member(org_b, Role.ORG_ADMIN))
    assert exc.value.__class__.__name__ == "Http404"
    suggestion.refresh_from_db()
    assert suggestion.status == "pending"


def test_staff_pages_for_listings_and_the_queue(owned, org_a, org_b, make_member, staff_client):
    client = staff_client(make_member(org_a, Role.COORDINATOR))
    ds.suggestion_create(service=owned, field="hours", message="Closed on Mondays now")
    listings = client.get(reverse("directory-staff:listings", args=[org_a.slug])).content.decode()
    assert "Harbour clinic" in listings and "Needs checking" in listings
    queue = client.get(reverse("directory-staff:suggestions", args=[org_a.slug])).content.decode()
    assert "Closed on Mondays now" in queue and "Opening hours" in queue
    suggestion = SuggestedEdit.objects.get()
    client.post(
        reverse("directory-staff:review", args=[org_a.slug, suggestion.id, "reject"]),
        {"note": "checked"},
    )
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.review_note) == ("rejected", "checked")
    # another organization's staff see none of it
    other = staff_client(make_member(org_b, Role.ORG_ADMIN))
    assert other.get(reverse("directory-staff:listings", args=[org_a.slug])).status_code == 404
    assert (
        other.get(reverse("directory-staff:edit", args=[org_b.slug, owned.id])).status_code == 404
    )


def test_staff_edit_and_verify_a_listing(client, owned, org_a, make_member, staff_client):
    coordinator = make_member(org_a, Role.COORDINATOR)
    client = staff_client(coordinator)
    url = reverse("directory-staff:edit", args=[org_a.slug, owned.id])
    page = client.get(url)
    assert page.status_code == 200
    bad = client.post(url, {"name_en": "", "status": "active"})
    assert bad.status_code == 400
    saved = client.post(
        url,
        {
            "name_en": "Harbour health clinic",
            "name_fr": "Clinique Harbour",
            "status": "active",
            "verified": "on",
        },
    )
    assert saved.status_code == 302
    owned.refresh_from_db()
    assert owned.name_fr == "Clinique Harbour"
    assert owned.assured_date == timezone.localdate()
    assert owned.assurer_email == coordinator.email
    event = AuditEvent.objects.get(action=AuditAction.DIRECTORY_SERVICE_UPDATE)
    assert "name_en" in event.metadata["fields"] and "assured_date" in event.metadata["fields"]
    # the search index follows the edit
    from harbour.directory import selectors

    found = selectors.search(selectors.SearchQuery(q="clinique"), now=timezone.now())
    assert [h.sal.service_id for h in found.hits] == [owned.id]


def test_viewers_cannot_edit(owned, org_a, make_member, staff_client):
    client = staff_client(make_member(org_a, Role.VIEWER))
    assert (
        client.get(reverse("directory-staff:edit", args=[org_a.slug, owned.id])).status_code == 403
    )


def test_stale_cut_off_is_180_days():
    today = timezone.localdate()
    assert ds.stale_before(today) == today - timedelta(days=180)


def test_weekly_notice_of_listings_that_need_checking(owned, org_a, make_member, run_tasks):
    coordinator = make_member(org_a, Role.COORDINATOR)
    Service.objects.filter(pk=owned.pk).update(
        assured_date=timezone.localdate() - timedelta(days=200)
    )
    assert ds.stale_listings_notify() == 1
    run_tasks()
    assert mail.outbox[0].to == [coordinator.email]
    assert mail.outbox[0].subject == "Harbour: 1 listing(s) need checking / fiche(s) à vérifier"
    Service.objects.filter(pk=owned.pk).update(assured_date=timezone.localdate())
    assert ds.stale_listings_notify() == 0
