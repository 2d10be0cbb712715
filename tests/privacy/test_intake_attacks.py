"""Attacks on public intake (issue 16): anonymous community reports, mentoring requests, alert
photos and web-push endpoints. Each test is the attack, run against the real database, the real
task queue and the real web views; only the network edge (Twilio) is a local stub."""

from __future__ import annotations

import io
import struct
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from PIL import Image

from harbour.alerts import services as alerts
from harbour.alerts.models import Alert, AlertPolicy, CommunityReport, Subscription
from harbour.core.roles import Role
from harbour.mentoring import services as mentoring
from harbour.mentoring.models import MentorRequest, Program
from harbour.notify.models import Message
from harbour.notify.services import inbound_reply_key
from harbour.surveillance import tasks as surveillance_tasks
from harbour.surveillance.models import DetectionSettings, Method, OverdoseEvent, Signal, Source

pytestmark = pytest.mark.django_db

KINGSTON_OVERDOSE = {
    "kind": "overdose",
    "sold_as": "purple down",
    "what_happened": "My friend went blue behind the Princess St shelter, naloxone twice.",
    "city": "Kingston",
    "fsa": "K7L",
    "website": "",
}


@pytest.fixture
def kingston(make_org):  # type: ignore[no-untyped-def]
    org = make_org("kingston")
    AlertPolicy.objects.create(organization=org, report_areas=" K7L K7K ")
    return org


@pytest.fixture
def montreal(make_org):  # type: ignore[no-untyped-def]
    org = make_org("montreal")
    AlertPolicy.objects.create(organization=org, report_areas=" H2X H2L ")
    return org


# --- 1. a report is seen and reviewed only by the organization serving its area --------------


def test_a_montreal_coordinator_cannot_list_see_or_dismiss_a_kingston_report(
    client, staff_client, kingston, montreal, make_member
):
    # given an anonymous overdose report from Kingston (K7L), sent on the public form
    assert client.post("/alerts/report/", KINGSTON_OVERDOSE).status_code == 200
    report = CommunityReport.objects.get()
    # and a coordinator in Montréal (an organization admin, even)
    mtl = make_member(montreal, Role.ORG_ADMIN, email="mtl@example.org")
    attacker = staff_client(mtl)
    # when they list their reports, the Kingston one is not there
    queue = attacker.get(f"/org/{montreal.slug}/alerts/reports/")
    assert queue.status_code == 200
    assert "Princess St" not in queue.content.decode()
    assert str(report.pk) not in queue.content.decode()
    # and every action on it by id is a 404, leaving it as it was
    for action in ("dismiss", "confirm", "alert"):
        answer = attacker.post(f"/org/{montreal.slug}/alerts/reports/{report.pk}/{action}/")
        assert answer.status_code == 404
    # the service itself refuses, whatever the view
    with pytest.raises(PermissionDenied):
        alerts.report_dismiss(report=report, actor=mtl, organization=montreal)
    report.refresh_from_db()
    assert (report.status, report.reviewed_by, report.alert) == ("new", None, None)
    assert Alert.objects.count() == 0
    # then the Kingston coordinator sees it and may act on it
    kgn = staff_client(make_member(kingston, Role.COORDINATOR, email="kgn@example.org"))
    assert "Princess St" in kgn.get(f"/org/{kingston.slug}/alerts/reports/").content.decode()
    assert kgn.post(f"/org/{kingston.slug}/alerts/reports/{report.pk}/dismiss/").status_code == 302
    report.refresh_from_db()
    assert report.status == "dismissed"


def test_a_report_from_an_area_nobody_serves_waits_for_nobody_until_an_admin_claims_the_area(
    client, staff_client, kingston, montreal, make_member
):
    # given reports from an area nobody lists (K0H) and with no area at all
    sent = client.post(
        "/alerts/report/", {**KINGSTON_OVERDOSE, "fsa": "K0H", "what_happened": "A" * 9}
    )
    client.post("/alerts/report/", {**KINGSTON_OVERDOSE, "fsa": "", "what_happened": "B" * 9})
    # then no coordinator anywhere sees them
    for org in (kingston, montreal):
        coordinator = make_member(org, Role.COORDINATOR, email=f"c@{org.slug}.org")
        page = staff_client(coordinator).get(f"/org/{org.slug}/alerts/reports/").content.decode()
        assert "AAAAAAAAA" not in page and "BBBBBBBBB" not in page
        assert alerts.report_queue(coordinator, organization=org).count() == 0
    assert CommunityReport.objects.filter(organization__isnull=True).count() == 2
    # and the person who sent it was told so plainly
    assert "No local team on Harbour reads reports from that area yet" in sent.content.decode()
    # when Kingston's admin claims K0H, the waiting K0H report comes to Kingston only
    admin = make_member(kingston, Role.ORG_ADMIN, email="admin@kingston.org")
    staff_client(admin).post(f"/org/{kingston.slug}/alerts/reports/", {"areas": "K7L K7K K0H"})
    assert list(
        CommunityReport.objects.filter(fsa="K0H").values_list("organization", flat=True)
    ) == [kingston.pk]
    assert CommunityReport.objects.get(fsa="").organization is None


# --- 2. a mentoring request goes only to a program serving the person's area ------------------


def test_a_montreal_mentoring_request_never_lands_in_kingston(client, kingston, make_member):
    # given Kingston's mentoring program, which serves K7L and K7K only
    make_member(kingston, Role.COORDINATOR, email="coord@kingston.org")
    program = Program.objects.create(organization=kingston, areas=" K7L K7K ")
    ask = {
        "alias": "Lou", "channel": "sms", "contact": "514 555 0181", "language": "fr",
        "pathway": "harm_reduction", "online": "on", "in_person": "on", "fsa": "H2X",
        "consent": "on", "program": str(program.pk),
    }  # fmt: skip
    # when someone in Montréal (H2X) posts the full form, naming Kingston's program
    answer = client.post("/mentoring/ask/", ask)
    # then nothing is kept, and the page says plainly that nobody serves H2X, with other help
    assert MentorRequest.objects.count() == 0
    text = answer.content.decode()
    assert "No mentoring program on Harbour serves H2X yet." in text
    assert 'href="tel:988"' in text and "/find/?near=H2X" in text
    assert "Your request is with the coordinator" not in text
    # and asking first for the area says so before any personal detail is asked
    first = client.get("/mentoring/ask/", {"fsa": "h2x"}).content.decode()
    assert "No mentoring program on Harbour serves H2X yet." in first
    assert 'name="contact"' not in first and 'name="program"' not in first
    # the service itself refuses a request from an area the program does not serve
    with pytest.raises(ValidationError) as error:
        mentoring.request_create(
            organization=kingston,
            data=mentoring.RequestData(
                alias="Lou", channel="sms", contact="514 555 0181", languages=["fr"], fsa="H2X"
            ),
        )
    assert list(error.value.message_dict) == ["fsa"]
    assert MentorRequest.objects.count() == 0
    # while from K7L the same form reaches Kingston
    client.post("/mentoring/ask/", {**ask, "fsa": "K7L", "contact": "613 555 0181"})
    assert list(MentorRequest.objects.values_list("organization", "fsa")) == [(kingston.pk, "K7L")]


# --- 3. fake overdose reports make no spike and no figure until reviewed -----------------------


def test_twenty_fake_overdose_reports_raise_no_signal_and_count_nowhere_until_reviewed(
    client, staff_client, kingston, make_member, run_tasks
):
    # given Kingston watches K7L for spikes (3 events in 24 hours raise a signal)
    DetectionSettings.objects.create(
        organization=kingston, areas="K7L K7K", methods=[Method.COUNT_24H], count_threshold=3,
        min_events=2,
    )  # fmt: skip
    # when an attacker posts 20 fake overdose reports for K7L from 20 addresses
    for n in range(20):
        client.post(
            "/alerts/report/",
            {**KINGSTON_OVERDOSE, "what_happened": f"overdose number {n} at the park"},
            REMOTE_ADDR=f"198.51.100.{n + 1}",
        )
    assert CommunityReport.objects.filter(kind="overdose", fsa="K7L").count() == 20
    # and the hourly detection runs on the real task queue
    surveillance_tasks.detect_all.enqueue()
    run_tasks()
    # then the event store holds none of them and no signal is raised
    assert OverdoseEvent.objects.filter(source=Source.ANONYMOUS_REPORT).count() == 0
    assert Signal.objects.count() == 0
    # when a Kingston coordinator confirms three (and dismisses one), those three count
    coordinator = make_member(kingston, Role.COORDINATOR, email="c@kingston.org")
    staff = staff_client(coordinator)
    reports = list(CommunityReport.objects.order_by("what_happened"))
    for report in reports[:3]:
        staff.post(f"/org/{kingston.slug}/alerts/reports/{report.pk}/confirm/")
    staff.post(f"/org/{kingston.slug}/alerts/reports/{reports[3].pk}/dismiss/")
    counted = OverdoseEvent.objects.filter(source=Source.ANONYMOUS_REPORT, excluded=False)
    assert sorted(counted.values_list("source_ref", flat=True)) == sorted(
        f"report:{r.pk}" for r in reports[:3]
    )
    surveillance_tasks.detect_all.enqueue()
    run_tasks()
    assert Signal.objects.filter(organization=kingston).exists()


# --- 4. a texted report cannot be joined to its acknowledgement by time ------------------------


def _times(row: models.Model) -> list[datetime]:
    return [
        getattr(row, f.attname)
        for f in row._meta.concrete_fields
        if isinstance(f, models.DateTimeField) and getattr(row, f.attname) is not None
    ]


def test_a_texted_report_cannot_be_joined_to_its_acknowledgement_by_time(sms_in, kingston):
    # given a text at 14:23:45 UTC, the clock running
    with time_machine.travel(datetime(2026, 11, 24, 14, 23, 45, 123456, tzinfo=UTC), tick=True):
        sms_in("REPORT grey fent, people out cold fast, K7L", "SM1")
    report = CommunityReport.objects.get(source="sms")
    reply = Message.objects.get(idempotency_key=inbound_reply_key("SM1"))
    # then no stored time of the report is within an hour of any time of the acknowledgement
    # (or of any other message row: the inbound text, if kept)
    report_times = _times(report)
    assert report_times  # created_at, updated_at
    message_times = [t for m in Message.objects.all() for t in _times(m)]
    assert _times(reply)
    for stored in report_times:
        for other in message_times:
            assert abs(stored - other) > timedelta(hours=1), (stored, other)
    # the report keeps the day only (its start, in Harbour's time zone)
    day = datetime(2026, 11, 24, tzinfo=ZoneInfo(settings.TIME_ZONE))
    assert report.created_at == day == report.updated_at


# --- 5. an alert photo keeps nothing but its pixels ---------------------------------------------

SECRET = b"SECRET meet me at 12 Princess St, unit 4, 613-555-0199"


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _booby_trapped_jpeg() -> bytes:
    tags = Image.Exif()
    tags[0x010F], tags[0x0110] = "Google", "Pixel 7 serial 1A2B3C"
    tags[0x8825] = {1: "N", 2: (44.0, 13.0, 52.32), 3: "W", 4: (76.0, 29.0, 9.6)}
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (120, 40, 160)).save(out, format="JPEG", exif=tags)
    data = out.getvalue()
    # a private APP9 segment and a comment just before the frame header, and the secret (and a
    # whole second JPEG) appended after the end of the image data
    sof = data.index(b"\xff\xdb")
    hidden = _segment(0xE9, SECRET) + _segment(0xFE, SECRET)
    return data[:sof] + hidden + data[sof:] + SECRET + data


def test_an_alert_photo_keeps_no_byte_of_what_was_hidden_in_it(
    client, staff_client, make_org, make_member
):
    org = make_org("kingston")
    worker = make_member(org, Role.OUTREACH_WORKER, email="w@kingston.org")
    photo = _booby_trapped_jpeg()
    assert SECRET in photo and b"Pixel 7" in photo
    # when it is uploaded with a draft alert
    answer = staff_client(worker).post(
        f"/org/{org.slug}/alerts/",
        {"title_en": "Purple down", "body_en": "Very strong.", "severity": "Severe",
         "areas": "K7L", "area_description_en": "Downtown", "valid_days": "3",
         "photo": SimpleUploadedFile("IMG_0042.jpg", photo, content_type="image/jpeg"),
         "photo_alt_en": "Purple chunks in a baggie"},
    )  # fmt: skip
    assert answer.status_code == 302
    alert = Alert.objects.get()
    stored = bytes(alert.photo)
    # then none of it is stored: not the secret, not the phone, not the position
    for needle in (SECRET[:20], b"Princess", b"Pixel 7", b"Google", b"Exif"):
        assert needle not in stored, needle
    assert stored.count(b"\xff\xd8") == 1  # no second picture
    kept = Image.open(io.BytesIO(stored))
    assert kept.size == (320, 240) and not kept.getexif() and "comment" not in kept.info
    assert (alert.photo_width, alert.photo_height) == (320, 240)


def test_a_decompression_bomb_is_refused_before_it_is_decoded(staff_client, make_org, make_member):
    org = make_org("kingston")
    worker = make_member(org, Role.OUTREACH_WORKER, email="w@kingston.org")
    out = io.BytesIO()
    Image.new("1", (7000, 7000)).save(out, format="PNG")  # 49 million pixels in a few kB
    bomb = out.getvalue()
    assert len(bomb) < 100_000
    alert = alerts.alert_draft(
        actor=worker, organization=org, title_en="x", body_en="y", areas=["K7L"],
        area_description_en="z", valid_until=datetime.now(UTC) + timedelta(days=1),
    )  # fmt: skip
    with pytest.raises(ValidationError) as error:
        alerts.alert_photo_set(alert=alert, actor=worker, data=bomb, alt_en="nothing")
    assert error.value.message_dict == {
        "photo": ["The photo is too big: at most 8000 pixels a side and 40 million pixels in all."]
    }


# --- 6. web push cannot be aimed at Harbour's own network (SSRF) --------------------------------


def test_a_push_subscription_cannot_aim_harbour_at_an_internal_address(client):
    keys = {"p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM", "auth": "tBHItJI5svbpez7KI4CCXg"}  # fmt: skip  # noqa: E501

    sent = iter(range(1, 255))

    def subscribe(endpoint: str) -> int:  # from many addresses: the rate limit is not the defence
        body = {"subscription": {"endpoint": endpoint, "keys": keys}, "areas": "K7L"}
        return client.post(
            "/alerts/push/subscribe/", body, content_type="application/json",
            REMOTE_ADDR=f"198.51.100.{next(sent)}",
        ).status_code  # fmt: skip

    for endpoint in (
        "https://127.0.0.1/push",
        "https://169.254.169.254/latest/meta-data/iam/",
        "https://[::1]/push",
        "https://10.0.0.5:8443/admin",
        "https://2130706433/push",  # 127.0.0.1 as one number
        "https://localhost/push",
        "https://db.internal/push",
        "https://fcm.googleapis.com.attacker.example/push",
        "https://attacker.example/fcm.googleapis.com/",
        "https://fcm.googleapis.com@10.0.0.1/push",
        "https://fcm.googleapis.com:8080/push",
        "https://notify.windows.com.attacker.example/w",
    ):
        assert subscribe(endpoint) == 400, endpoint
    assert Subscription.objects.filter(channel="push").count() == 0
    # the browsers' own push services are fine
    for endpoint in (
        "https://fcm.googleapis.com/fcm/send/abc:def",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
        "https://web.push.apple.com/QGm2Zq",
        "https://wns2-by3p.notify.windows.com/w/?token=BQYAAA",
    ):
        assert subscribe(endpoint) == 201, endpoint
    assert Subscription.objects.filter(channel="push").count() == 4


# --- 7. a mentoring link's token leaves the address bar at once ---------------------------------


def test_a_mentoring_link_token_is_not_kept_in_any_address(client, kingston, make_member):
    coordinator = make_member(kingston, Role.COORDINATOR, email="c@kingston.org")
    Program.objects.create(organization=kingston, areas=" K7L ")
    mentor = mentoring.mentor_save(
        actor=coordinator, organization=kingston,
        data=mentoring.MentorData(alias="Jordan", channel="sms", contact="+16135550171",
                                  languages=["en"], pathways=["harm_reduction"], identities=[]),
    )  # fmt: skip
    request = mentoring.request_create(
        organization=kingston,
        data=mentoring.RequestData(alias="River", channel="sms", contact="+16135550181",
                                   languages=["en"], fsa="K7L"),
    )  # fmt: skip
    match = mentoring.match_propose(actor=coordinator, request=request, mentor=mentor)
    token = mentoring.link_token(match, "mentee")
    link = f"/mentoring/m/{token}/"
    # when the person opens the link from their text message
    opened = client.get(link)
    # then the answer is only a redirect to an address without the token
    assert opened.status_code == 302 and token not in opened["Location"]
    assert opened["Cache-Control"] == "no-store, private"
    page = client.get(opened["Location"])
    assert page.status_code == 200 and "Jordan" in page.content.decode()
    assert token not in page.content.decode()  # no form, link or script carries it
    # and no session row in the database keeps it either (only which match and side)
    from django.contrib.sessions.models import Session

    assert Session.objects.exists()
    for row in Session.objects.all():
        assert token not in row.session_data and token not in str(row.get_decoded())
    # the form on the page answers without the token in any address
    client.post(opened["Location"], {"action": "accept"})
    match.refresh_from_db()
    assert match.mentee_consent_at is not None
    # and that address is worth nothing to anyone else (a log reader, a Referer)
    client.logout()
    client.cookies.clear()
    assert client.get(opened["Location"]).status_code == 404
    # while the link in the message still works
    again = client.get(link)
    assert again.status_code == 302 and client.get(again["Location"]).status_code == 200
