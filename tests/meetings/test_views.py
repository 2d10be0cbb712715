"""Meeting pages for the public (one meeting, its calendar, suggesting a change) and for staff
(their meetings, editing, archiving, moderating suggestions), scoped to their organization."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from harbour.core.models import AuditAction, AuditEvent
from harbour.core.roles import Role
from harbour.meetings.models import Fellowship, Meeting, MeetingSuggestion, SuggestionStatus
from harbour.notify import services as notify

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)


@pytest.fixture
def meeting(org_a, add_meeting):  # type: ignore[no-untyped-def]
    return add_meeting(
        org_a, slug="sat-hope", name="Saturday Hope", day=6, time="19:00", end_time="20:15",
        types=["O", "EN"], location="Alano Club", address="123 Main Street", city="Kingston",
        postal_code="K7L 1A1", conference_phone="+16135550100", latitude=44.23, longitude=-76.48,
    )  # fmt: skip


def deliver() -> None:
    while notify.deliver_due(limit=50):
        pass


def test_a_meeting_page_says_when_where_and_how_to_join(client, meeting):
    with time_machine.travel(NOW, tick=False):
        page = client.get(reverse("meetings:detail", args=["sat-hope"]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Saturday, 7 p.m. – 8:15 p.m." in text
    assert "Next: Today 7 p.m." in text and "in 30 min" in text
    assert "America/Toronto" not in text and "Eastern time" not in text  # the site's own zone
    assert "In person and online" in text
    assert 'href="tel:+16135550100"' in text
    assert "mlat=44.23000&amp;mlon=-76.48000" in text
    assert client.get(reverse("meetings:detail", args=["nope"])).status_code == 404


def test_a_meetings_calendar_file(client, meeting):
    with time_machine.travel(NOW, tick=False):
        ics = client.get(reverse("meetings:meeting-calendar", args=["sat-hope"]))
    text = ics.content.decode()
    assert ics["Content-Disposition"] == 'attachment; filename="sat-hope.ics"'
    assert "DTSTART;TZID=America/Toronto:20261128T190000\r\n" in text
    assert "DURATION:PT1H15M\r\n" in text and "RRULE:FREQ=WEEKLY;BYDAY=SA\r\n" in text
    assert f"UID:{meeting.pk}@harbour-meetings\r\n" in text


def test_anyone_can_suggest_a_change_and_the_owners_coordinators_moderate_it(
    client, meeting, org_a, make_member, staff_client
):
    coordinator = make_member(org_a, Role.COORDINATOR)
    make_member(org_a, Role.PEER_WORKER)
    url = reverse("meetings:suggest", args=["sat-hope"])
    # a suggestion without details says what is missing
    empty = client.post(url, {"field": "time", "message": ""})
    assert empty.status_code == 400 and "This field is required." in empty.content.decode()
    # a bot filling the hidden field is thanked and nothing is kept
    client.post(url, {"field": "time", "message": "spam", "website": "http://spam"})
    assert MeetingSuggestion.objects.count() == 0
    sent = client.post(
        url, {"field": "time", "message": "It starts at 19:30 now.", "suggested_value": "19:30",
              "contact": "sam@example.org"}, REMOTE_ADDR="203.0.113.9",
    )  # fmt: skip
    assert sent.status_code == 200
    suggestion = MeetingSuggestion.objects.get()
    assert suggestion.contact == "sam@example.org"
    assert "203.0.113.9" not in str(MeetingSuggestion.objects.values().get())
    # the coordinators are told by email, through the outbox
    deliver()
    assert [m.to for m in mail.outbox] == [[coordinator.email]]
    assert "/org/org-a/meetings/suggestions/" in mail.outbox[0].body
    # the coordinator accepts: the time is applied, with an audit event
    staff = staff_client(coordinator)
    queue = staff.get(reverse("meetings-staff:suggestions", args=[org_a.slug]))
    assert "It starts at 19:30 now." in queue.content.decode()
    staff.post(reverse("meetings-staff:review", args=[org_a.slug, suggestion.pk, "accept"]))
    meeting.refresh_from_db()
    assert meeting.start_minute == 19 * 60 + 30
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.reviewed_by) == (SuggestionStatus.ACCEPTED, coordinator)
    event = AuditEvent.objects.get(action=AuditAction.MEETING_SUGGESTION_ACCEPT)
    assert event.metadata == {"meeting": "sat-hope", "field": "time", "changed": ["start_minute"]}


def test_suggestions_are_rate_limited(client, meeting):
    url = reverse("meetings:suggest", args=["sat-hope"])
    # many people on one Wi-Fi: different notes all go through; the same note a 4th time not
    codes = [client.post(url, {"field": "other", "message": f"note {i}"}).status_code
             for i in range(6)]  # fmt: skip
    assert codes == [200] * 6
    codes = [client.post(url, {"field": "other", "message": "same"}).status_code
             for _ in range(4)]  # fmt: skip
    assert codes == [200, 200, 200, 429]
    assert MeetingSuggestion.objects.count() == 9


def test_another_organizations_staff_get_404(meeting, org_a, org_b, make_member, staff_client):
    suggestion = MeetingSuggestion.objects.create(meeting=meeting, field="other", message="x")
    stranger = staff_client(make_member(org_b, Role.ORG_ADMIN))
    for url in (
        reverse("meetings-staff:list", args=[org_a.slug]),
        reverse("meetings-staff:edit", args=[org_a.slug, meeting.pk]),
        reverse("meetings-staff:suggestions", args=[org_a.slug]),
        # their own organization's pages do not reach org A's rows either
        reverse("meetings-staff:edit", args=[org_b.slug, meeting.pk]),
    ):
        assert stranger.get(url).status_code == 404, url
    for url in (
        reverse("meetings-staff:archive", args=[org_b.slug, meeting.pk]),
        reverse("meetings-staff:review", args=[org_b.slug, suggestion.pk, "accept"]),
    ):
        assert stranger.post(url).status_code == 404, url
    meeting.refresh_from_db()
    assert meeting.archived_at is None
    # a viewer of org A may not manage meetings; a peer worker may, but not moderate
    viewer = staff_client(make_member(org_a, Role.VIEWER))
    assert viewer.get(reverse("meetings-staff:list", args=[org_a.slug])).status_code == 403


def post_meeting(client, org, **data):  # type: ignore[no-untyped-def]
    values = {
        "fellowship": str(Fellowship.objects.get(slug="na").pk), "name": "Clean Tuesdays",
        "day": ["2"], "time": "19:00", "end_time": "20:00", "timezone": "America/Toronto",
        "languages": ["EN"], "types": ["O"], "terms": ["NA-BT"], "address": "5 Demo Street",
        "city": "Kingston", "state": "ON", "postal_code": "K7L 2B2", "notes": "Coffee at 6:30.",
    }  # fmt: skip
    values.update(data)
    return client.post(reverse("meetings-staff:new", args=[org.slug]), values)


def test_staff_add_a_meeting_and_bad_input_is_explained(org_a, make_member, staff_client):
    peer = staff_client(make_member(org_a, Role.PEER_WORKER))
    # bad input: the fields are named, nothing saved
    bad = post_meeting(peer, org_a, time="7pm", notes="Ask for John Smith.", terms=["SMART-4PT"])
    text = bad.content.decode()
    assert bad.status_code == 400
    assert "“John Smith” looks like a full name." in text
    assert "“SMART-4PT” belongs to another program." in text
    assert Meeting.objects.count() == 0
    bad = post_meeting(peer, org_a, time="7pm", conference_url="zoom.us/j/1", day=[])
    text = bad.content.decode()
    assert "Write the time like 18:30 (24-hour clock)." in text
    assert "Paste a link that starts with https:// and opens the meeting." in text
    bad = post_meeting(peer, org_a, day=[])
    assert "A weekly meeting needs days and a start time" in bad.content.decode()
    # good input: saved with a slug from the name, the term's spec code, and an audit event
    done = post_meeting(peer, org_a)
    assert done.status_code == 302
    meeting = Meeting.objects.get()
    assert (meeting.slug, meeting.days, meeting.start_minute) == ("clean-tuesdays", "2", 1140)
    assert meeting.type_codes == ["O", "EN", "NA-BT", "LIT"]
    assert (meeting.attendance, meeting.country, meeting.geo_approximate) == (
        "in_person", "CA", True,
    )  # fmt: skip
    assert AuditEvent.objects.filter(action=AuditAction.MEETING_CREATE).count() == 1
    # the same name again gets the next free slug
    post_meeting(peer, org_a)
    assert sorted(Meeting.objects.values_list("slug", flat=True)) == [
        "clean-tuesdays", "clean-tuesdays-2",
    ]  # fmt: skip


def test_editing_keeps_what_the_form_does_not_show(org_a, make_member, staff_client, add_meeting):
    meeting = add_meeting(org_a, slug="imported", name="Imported", day=1, time="12:00",
                          types=["O", "ZZ"], venmo="@group", address="1 Demo St",
                          city="Kingston")  # fmt: skip
    peer = staff_client(make_member(org_a, Role.PEER_WORKER))
    page = peer.get(reverse("meetings-staff:edit", args=[org_a.slug, meeting.pk]))
    assert 'value="ZZ"' in page.content.decode()  # the unknown code is kept in "other types"
    response = peer.post(reverse("meetings-staff:edit", args=[org_a.slug, meeting.pk]), {
        "fellowship": str(meeting.fellowship_id), "name": "Imported, renamed",
        "slug": "imported", "day": ["1", "3"], "time": "12:30", "timezone": "America/Toronto",
        "types": ["O"], "other_types": "ZZ", "address": "1 Demo St", "city": "Kingston",
    })  # fmt: skip
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert (meeting.name, meeting.days, meeting.start_minute) == ("Imported, renamed", "13", 750)
    assert meeting.type_codes == ["O", "ZZ"] and meeting.venmo == "@group"
    event = AuditEvent.objects.filter(action=AuditAction.MEETING_UPDATE).get()
    assert event.metadata["fields"] == ["country", "days", "name", "start_minute"]  # CA added
    # archive and list again
    peer.post(reverse("meetings-staff:archive", args=[org_a.slug, meeting.pk]))
    assert Meeting.objects.get().archived_at is not None
    assert peer.get(reverse("meetings:detail", args=["imported"])).status_code == 404
    peer.post(reverse("meetings-staff:archive", args=[org_a.slug, meeting.pk]), {"restore": "1"})
    assert Meeting.objects.get().archived_at is None


def test_the_organization_page_links_to_meetings_and_mentoring_by_role(
    org_a, make_member, staff_client
):
    page = staff_client(make_member(org_a, Role.COORDINATOR)).get(
        reverse("accounts:organization", args=[org_a.slug])
    )
    text = page.content.decode()
    assert f'href="/org/{org_a.slug}/meetings/"' in text
    assert f'href="/org/{org_a.slug}/mentoring/"' in text
    peer_page = staff_client(make_member(org_a, Role.PEER_WORKER)).get(
        reverse("accounts:organization", args=[org_a.slug])
    )
    assert f'href="/org/{org_a.slug}/mentoring/"' not in peer_page.content.decode()
