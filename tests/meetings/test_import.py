"""Importing a Meeting Guide feed: everything checked first with item-numbered errors naming the
field, all or nothing, unknown type codes kept and reported, and change detection (a re-import
writes only what changed and says created / updated / unchanged / removed)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from harbour.core.models import AuditAction, AuditEvent
from harbour.meetings import services
from harbour.meetings.models import Meeting

pytestmark = pytest.mark.django_db


def run(org, items, **kwargs):  # type: ignore[no-untyped-def]
    return services.import_meetings(organization=org, items=items, **kwargs)


def test_the_tsml_fixture_imports_with_attendance_derived_as_the_spec_does(org_a, fixture_items):
    # when the three TSML UI test meetings are imported for AA
    report = run(org_a, fixture_items, fellowship="aa")
    # then all three are created, each attended as the spec derives it
    assert report.summary() == "meeting: 3 new, 0 changed, 0 unchanged"
    rows = {m.slug: m for m in Meeting.objects.all()}
    assert {s: m.attendance for s, m in rows.items()} == {
        "in-person": "in_person", "online": "online", "inactive": "inactive",
    }  # fmt: skip
    person = rows["in-person"]
    assert (person.days, person.start_minute, person.timezone) == ("0", 480, "America/Chicago")
    assert person.type_codes == ["O", "M", "X"]
    assert person.regions == ["Texas"]
    assert person.formatted_address == "123 Test St, Test City, TX 12345, USA"
    online = rows["online"]
    assert (online.conference_url, online.conference_url_notes) == (
        "https://zoom.us/j/123456789", "Meeting ID: 123456789",
    )  # fmt: skip
    event = AuditEvent.objects.get(action=AuditAction.MEETINGS_IMPORT)
    assert event.metadata["created"] == 3 and event.organization_id == org_a.pk


def test_reimporting_writes_only_what_changed(org_a, fixture_items):
    run(org_a, fixture_items, fellowship="aa")
    stamps = dict(Meeting.objects.values_list("slug", "updated_at"))
    # when the same feed comes again, with cosmetic differences only
    again = [dict(item) for item in fixture_items]
    again[0]["day"] = [0]  # the same day, as an array
    again[0]["name"] = "  In-Person   Meeting "
    again.reverse()
    report = run(org_a, again, fellowship="aa")
    # then nothing is written
    assert report.summary() == "meeting: 0 new, 0 changed, 3 unchanged"
    assert dict(Meeting.objects.values_list("slug", "updated_at")) == stamps
    # when one meeting changes and one is gone
    changed = [dict(fixture_items[0], time="08:30"), fixture_items[1]]
    report = run(org_a, changed, fellowship="aa")
    # then one is updated, one removed (archived, so a later feed can bring it back)
    assert report.summary() == "meeting: 0 new, 1 changed, 1 unchanged, 1 removed"
    assert Meeting.objects.get(slug="in-person").start_minute == 510
    assert Meeting.objects.get(slug="online").updated_at == stamps["online"]
    assert Meeting.objects.get(slug="inactive").archived_at is not None
    back = run(org_a, fixture_items, fellowship="aa")
    assert back.summary() == "meeting: 0 new, 2 changed, 1 unchanged"
    assert Meeting.objects.get(slug="inactive").archived_at is None


def test_a_feed_that_is_not_an_array_is_refused_plainly():
    for text, message in (
        ('{"meetings": []}', "the feed must be a JSON array of meetings, not an object"),
        ('"hello"', "the feed must be a JSON array of meetings, not str"),
        ("[{\"name\": 1,}]", "not JSON: Expecting property name enclosed in double quotes at "
                             "line 1, column 13"),
    ):  # fmt: skip
        with pytest.raises(services.ImportFailed) as err:
            services.parse_feed(text, source="f.json")
        assert err.value.report.errors == [f"f.json: {message}" + (
            " (a feed is an array of meetings: [{...}, {...}])" if "array" in message else ""
        )]  # fmt: skip


def test_every_problem_is_reported_by_index_slug_and_field_and_nothing_is_written(
    org_a, org_b, add_meeting
):
    # given a meeting of another organization, and a feed with many problems
    add_meeting(org_b, slug="theirs", day=1, time="10:00")
    items = [
        {"slug": "ok-1", "name": "Fine", "day": 1, "time": "19:00", "timezone": "America/Toronto"},
        {"slug": "bad-time", "name": "A", "day": 1, "time": "25:00"},
        {"slug": "bad-zone", "name": "B", "day": 1, "time": "19:00", "timezone": "Eastern"},
        {"slug": "bad-day", "name": "C", "day": 7, "time": "19:00"},
        {"slug": "ok-1", "name": "Again"},
        {"slug": "theirs", "name": "Mine now"},
        {"slug": "has space", "name": "D"},
        {"name": "No slug"},
        "not an object",
        {"slug": "half", "name": "E", "day": 2},
        {"slug": "types", "name": "F", "types": "O,D"},
        {"slug": "where", "name": "G", "latitude": 95, "longitude": -76.4},
        {"slug": "link", "name": "H", "conference_url": "zoom.us/j/1"},
        {"slug": "prog", "name": "I", "fellowship": "xx"},
    ]
    with pytest.raises(services.ImportFailed) as err:
        run(org_a, items, fellowship="aa")
    # then each problem names where it is, and nothing was written
    assert err.value.report.errors == [
        "item [1] (slug 'bad-time'), time: '25:00' is not a time in the HH:MM 24-hour format "
        "(e.g. 18:30)",
        "item [2] (slug 'bad-zone'), timezone: 'Eastern' is not an IANA time zone "
        "(e.g. America/Toronto)",
        "item [3] (slug 'bad-day'), day: 7 is not a day: use 0 (Sunday) to 6 (Saturday)",
        "item [4] (slug 'ok-1'), slug: repeats item [0]; slugs must be unique",
        "item [6] (slug 'has space'), slug: 'has space' is not URL-safe: use letters, digits "
        "and - _ . ~ only",
        "item [7], slug: required: a unique, URL-safe id such as sunday-serenity-14",
        "item [8]: is a str, not a meeting object",
        "item [9] (slug 'half'), time: a weekly meeting needs both day and time (leave both out "
        "for meetings by appointment)",
        'item [10] (slug \'types\'), types: must be an array of type codes, e.g. ["O", "D"]',
        "item [11] (slug 'where'), latitude: 95 is not a number from -90 to 90",
        "item [12] (slug 'link'), conference_url: must be a web address starting with https:// "
        "that opens the meeting",
        "item [13] (slug 'prog'), fellowship: 'xx' is not a fellowship Harbour knows (aa, "
        "alanon, circle, dharma, msth, na, peer, smart)",
        "item [5] (slug 'theirs'), slug: already used by another organization's meeting; give "
        "it a different slug",
    ]
    assert Meeting.objects.filter(organization=org_a).count() == 0
    assert not AuditEvent.objects.filter(
        action=AuditAction.MEETINGS_IMPORT, organization=org_a
    ).exists()


def test_unknown_type_codes_are_kept_and_reported(org_a):
    items = [
        {"slug": "a", "name": "A", "day": 1, "time": "19:00", "types": ["O", "ZZ", "NA-BT"]},
        {"slug": "b", "name": "B", "day": 2, "time": "19:00", "types": ["ZZ"]},
    ]
    report = run(org_a, items, fellowship="aa", default_timezone="America/Halifax")
    # NA's own term is unknown to an AA feed; ZZ to everyone: both kept, both reported
    assert Meeting.objects.get(slug="a").type_codes == ["O", "ZZ", "NA-BT"]
    assert report.unknown_types == {"ZZ": 2, "NA-BT": 1}
    lines = report.warning_lines()
    assert "timezone-assumed: 2 item(s)" in lines
    assert "  item [0] (slug 'a'), timezone: missing; America/Halifax assumed" in lines
    assert "unknown type codes kept: NA-BT (1), ZZ (2)" in lines
    assert Meeting.objects.get(slug="b").timezone == "America/Halifax"
    # the same feed again: nothing written, the unknown codes still reported
    again = run(org_a, items, fellowship="aa", default_timezone="America/Halifax")
    assert again.summary() == "meeting: 0 new, 0 changed, 2 unchanged"
    assert again.unknown_types == {"ZZ": 2, "NA-BT": 1}
    # and a fellowship's own term brings its spec code with it
    report = run(org_a, [dict(items[0], fellowship="na")], remove_missing=False)
    assert Meeting.objects.get(slug="a").type_codes == ["O", "ZZ", "NA-BT", "LIT"]
    assert report.unknown_types == {"ZZ": 1}


def test_notes_are_plain_text_and_full_names_are_flagged(org_a):
    items = [{"slug": "n", "name": "N", "day": 3, "time": "12:00",
              "notes": "<p>Ring buzzer.</p><br>Ask for John Smith at the door.",
              "contact_1_name": "Mary Jones", "contact_1_phone": "555"}]  # fmt: skip
    report = run(org_a, items, fellowship="aa", default_timezone="America/Toronto")
    assert Meeting.objects.get(slug="n").notes == "Ring buzzer. Ask for John Smith at the door."
    kinds = {p.kind: str(p) for p in report.warnings}
    assert kinds["full-name"] == (
        "item [0] (slug 'n'), notes: may hold a full name ('John Smith'): the spec asks for no "
        "last names"
    )
    assert "html-removed" in kinds
    assert kinds["contacts"].endswith("contact names, emails and phones are not imported (privacy)")
    assert "Mary" not in json.dumps(list(Meeting.objects.values()), default=str)


def test_dry_run_reports_and_writes_nothing(org_a, fixture_items):
    report = run(org_a, fixture_items, fellowship="aa", dry_run=True)
    assert report.summary() == "meeting: 3 new, 0 changed, 0 unchanged"
    assert Meeting.objects.count() == 0


def test_the_command_imports_a_url_served_on_loopback(org_a, fixture_items, feed_server):
    served, url = feed_server
    served.body = json.dumps(fixture_items).encode()
    out, err = StringIO(), StringIO()
    call_command("import-meetings", url, org=org_a.slug, fellowship="aa", stdout=out, stderr=err)
    assert out.getvalue().strip() == "meeting: 3 new, 0 changed, 0 unchanged"
    call_command("import-meetings", url, org=org_a.slug, fellowship="aa", stdout=out, stderr=err)
    assert out.getvalue().strip().endswith("meeting: 0 new, 0 changed, 3 unchanged")
    assert served.requests == 2


def test_the_command_fails_with_one_line_reasons(org_a, feed_server, tmp_path):
    served, url = feed_server
    served.status = 503
    with pytest.raises(CommandError, match="answered 503 Service Unavailable; nothing was"):
        call_command("import-meetings", url, org=org_a.slug, stderr=StringIO())
    bad = tmp_path / "bad.json"
    bad.write_text('[{"slug": "x", "name": "X", "day": 1, "time": "7pm"}]')
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import-meetings", str(bad), org=org_a.slug, fellowship="aa", stderr=err)
    assert "item [0] (slug 'x'), time: '7pm' is not a time" in err.getvalue()
    with pytest.raises(CommandError, match="no active organization"):
        call_command("import-meetings", str(bad), org="nobody")
    with pytest.raises(CommandError, match="no such file"):
        call_command("import-meetings", str(tmp_path / "none.json"), org=org_a.slug,
                     stderr=StringIO())  # fmt: skip
    with pytest.raises(CommandError, match="only http"):
        call_command("import-meetings", "ftp://example.org/x.json", org=org_a.slug,
                     stderr=StringIO())  # fmt: skip
    assert Meeting.objects.count() == 0


def test_a_meeting_edited_in_harbour_is_updated_by_the_next_import(
    org_a, fixture_items, make_member
):
    from harbour.core.roles import Role
    from harbour.meetings import feedspec
    from harbour.meetings.models import Fellowship

    run(org_a, fixture_items, fellowship="aa")
    meeting = Meeting.objects.get(slug="online")
    data = feedspec.feed_item(meeting.listing(), {}) | {"time": "09:45"}
    services.meeting_save(
        actor=make_member(org_a, Role.PEER_WORKER), organization=org_a, data=data,
        fellowship=Fellowship.objects.get(slug="aa"), meeting=meeting,
    )  # fmt: skip
    assert Meeting.objects.get(slug="online").start_minute == 585
    # the organization's feed still says 09:00: the import puts it back
    report = run(org_a, fixture_items, fellowship="aa")
    assert report.summary() == "meeting: 0 new, 1 changed, 2 unchanged"
    assert Meeting.objects.get(slug="online").start_minute == 540
