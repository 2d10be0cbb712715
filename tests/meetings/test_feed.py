"""The Meeting Guide feed out (/meetings/feed.json): the spec's field rules, every field Harbour
holds, timezone always, and a round trip through the importer."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from harbour.meetings import feedspec, services
from harbour.meetings.models import Meeting

pytestmark = pytest.mark.django_db

FULL = {
    "name": "Sunday Serenity",
    "slug": "sunday-serenity-14",
    "day": [0, 3],
    "time": "18:00",
    "end_time": "19:30",
    "timezone": "America/Toronto",
    "types": ["O", "T", "LGBTQ", "ZZ-LOCAL"],
    "notes": "Ring buzzer. Meeting is on the 2nd floor.\nCoffee at 5:30.",
    "location": "Alano Club",
    "location_notes": "Side entrance.",
    "address": "123 Main Street",
    "city": "Kingston",
    "state": "ON",
    "postal_code": "K7L 1A1",
    "country": "CA",
    "latitude": 44.23051,
    "longitude": -76.48102,
    "approximate": "no",
    "regions": ["Kingston", "Downtown"],
    "group": "The Serenity Group",
    "group_notes": "Business meeting on the first Sunday.",
    "conference_url": "https://zoom.us/j/123456789",
    "conference_url_notes": "Passcode 1234",
    "conference_phone": "+16135550123,,123456789#",
    "conference_phone_notes": "Meeting ID 123 456 789",
    "venmo": "@SerenityGroup",
    "square": "$SerenityGroup",
    "paypal": "SerenityGroup",
    "homegroup_online": "serenity",
    "url": "https://district.example.org/meetings/sunday-serenity",
    "feedback_emails": ["updates@district.example.org"],
}
SPEC_FIELDS = set(FULL) | {"feedback_url", "updated", "entity", "entity_location", "fellowship"}


@pytest.fixture
def listed(org_a, add_meeting):  # type: ignore[no-untyped-def]
    org_a.city, org_a.province = "Kingston", "ON"
    org_a.save()
    add_meeting(org_a, **FULL)
    add_meeting(org_a, slug="by-appointment", name="Call first", city="Kingston")
    add_meeting(org_a, slug="na-online", name="Clean Online", fellowship="na", day=2,
                time="20:00", types=["NA-BT"], conference_url="https://meet.example/na",
                formatted_address="Kingston, ON, Canada")  # fmt: skip
    return org_a


def get_feed(client, **params):  # type: ignore[no-untyped-def]
    response = client.get(reverse("meetings:feed"), params)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return response, json.loads(response.content)


def test_the_feed_holds_every_field_we_hold_and_passes_the_spec_rules(client, listed):
    # when the feed is read
    response, items = get_feed(client)
    # then it is a valid Meeting Guide feed
    assert feedspec.validate_feed(items) == []
    assert response["Access-Control-Allow-Origin"] == "*"
    by_slug = {item["slug"]: item for item in items}
    assert list(by_slug) == ["by-appointment", "na-online", "sunday-serenity-14"]
    full = by_slug["sunday-serenity-14"]
    # every field the listing has, with the spec's names and formats
    assert set(full) == SPEC_FIELDS
    for name, value in FULL.items():
        assert full[name] == value, name
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", full["updated"])
    assert full["feedback_url"] == "http://127.0.0.1:8000/meetings/sunday-serenity-14/suggest/"
    assert (full["entity"], full["entity_location"]) == (listed.name_en, "Kingston, ON")
    assert full["fellowship"] == "aa"
    # timezone is always there; a meeting by appointment has no day or time
    appointment = by_slug["by-appointment"]
    assert appointment["timezone"] == "America/Toronto"
    assert "day" not in appointment and "time" not in appointment
    assert appointment["url"] == "http://127.0.0.1:8000/meetings/by-appointment/"
    # a fellowship's own term goes out with the spec code it maps to
    assert by_slug["na-online"]["types"] == ["NA-BT", "LIT"]
    assert by_slug["na-online"]["day"] == 2


def test_the_feed_round_trips_through_the_importer(client, listed):
    _response, items = get_feed(client)
    # when the feed is imported again by the same organization: nothing changed
    report = services.import_meetings(organization=listed, items=items)
    assert report.summary() == "meeting: 0 new, 0 changed, 3 unchanged"
    assert report.errors == []
    # when it is imported into an empty Harbour, the feed it gives is the same
    before = {m.slug: m.listing() for m in Meeting.objects.all()}
    Meeting.objects.all().delete()
    report = services.import_meetings(organization=listed, items=items)
    assert report.summary() == "meeting: 3 new, 0 changed, 0 unchanged"
    assert {m.slug: m.listing() for m in Meeting.objects.all()} == before
    _response, again = get_feed(client)
    strip = [{k: v for k, v in item.items() if k != "updated"} for item in items]
    assert [{k: v for k, v in item.items() if k != "updated"} for item in again] == strip


def test_filters_archived_meetings_and_inactive_organizations(client, listed, org_b, add_meeting):
    add_meeting(org_b, slug="elsewhere", name="Elsewhere", day=1, time="10:00")
    _r, items = get_feed(client)
    assert len(items) == 4
    _r, items = get_feed(client, org=listed.slug)
    assert len(items) == 3
    _r, items = get_feed(client, fellowship="na")
    assert [i["slug"] for i in items] == ["na-online"]
    Meeting.objects.filter(slug="na-online").update(archived_at="2026-01-01T00:00:00Z")
    org_b.is_active = False
    org_b.save()
    _r, items = get_feed(client)
    assert [i["slug"] for i in items] == ["by-appointment", "sunday-serenity-14"]


def test_readers_can_skip_an_unchanged_feed_and_see_a_change_at_once(client, listed):
    response, _items = get_feed(client)
    etag = response["ETag"]
    again = client.get(reverse("meetings:feed"), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    meeting = Meeting.objects.get(slug="by-appointment")
    meeting.name = "Call first, please"
    meeting.save()
    changed = client.get(reverse("meetings:feed"), HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert "Call first, please" in changed.content.decode()


def test_the_strict_validator_catches_what_the_spec_forbids():
    assert feedspec.validate_feed({"name": "x"}) == ["the feed must be a JSON array of meetings"]
    problems = feedspec.validate_feed(
        [
            {"name": "A", "slug": "a", "day": 1, "time": "7pm", "timezone": "EST"},
            {"name": "B", "slug": "a", "updated": "yesterday", "approximate": True},
            {"name": "", "slug": "c d", "entity_email": "x@example.org", "notes": "<b>hi</b>"},
        ]
    )
    assert problems == [
        "item [0], timezone: 'EST' is not an IANA time zone (e.g. America/Toronto)",
        "item [0], time: not HH:MM",
        "item [1]: slug 'a' repeats item [0]",
        "item [1], updated: not YYYY-MM-DD HH:MM:SS",
        'item [1], approximate: not "yes" or "no"',
        "item [2]: entity fields without entity",
        "item [2], notes: holds HTML",
        "item [2], name: required",
        "item [2], slug: not URL-safe or longer than 64",
    ]
