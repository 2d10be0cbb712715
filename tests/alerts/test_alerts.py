"""Alerts: a dangerous sample drafts one, a second person approves, subscribers of the area get
it once in their language by text and email; feeds and CAP; subscriptions without an account."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from harbour.alerts import services
from harbour.alerts.models import Alert, AlertPolicy, Subscription
from harbour.core.models import AuditEvent
from harbour.core.roles import Role
from harbour.drugcheck import services as drugcheck
from harbour.notify import services as notify
from harbour.notify.models import Message, Status

pytestmark = pytest.mark.django_db

CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"


def dangerous_sample(org, actor):  # type: ignore[no-untyped-def]
    return drugcheck.sample_record(
        actor=actor,
        organization=org,
        data=drugcheck.SampleIn(
            collected_on=date(2026, 11, 21),
            site="Lighthouse",
            city="Kingston",
            fsa="K7L",
            expected="down",
            components=[
                drugcheck.ComponentIn(name="fentanyl", role="primary"),
                drugcheck.ComponentIn(name="bromazolam", role="trace"),
            ],
        ),
    )


def test_the_whole_path_from_sample_to_subscribers(
    org_a, make_member, run_tasks, twilio, smtp, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    peer = make_member(org_a, Role.PEER_WORKER)
    writer = make_member(org_a, Role.COORDINATOR, email="writer@example.org")
    approver = make_member(org_a, Role.COORDINATOR, email="approver@example.org")
    sms_en = services.subscribe_sms(phone="613-555-0101", areas=["K7L"], lang="en")
    sms_fr = services.subscribe_sms(phone="613-555-0102", areas=["K7L", "K7K"], lang="fr")
    elsewhere = services.subscribe_sms(phone="613-555-0103", areas=["V6A"], lang="en")
    email = services.subscribe_email(email="sam@example.org", areas=["K7L"], lang="fr")
    services.confirm_email(
        re.search(r"/alerts/confirm/([^/]+)/", Message.objects.get(channel="email").body)[1]
    )
    unconfirmed = services.subscribe_email(email="new@example.org", areas=["K7L"])
    Message.objects.all().delete()  # the confirmation emails are not what is counted here

    # given a sample sold as "down" holding fentanyl and bromazolam, Harbour drafts an alert
    sample = dangerous_sample(org_a, peer)
    alert = Alert.objects.get(source_sample=sample)
    assert alert.status == "draft" and alert.area_list == ["K7L"]
    assert "bromazolam" in alert.title_en and "fentanyl" in alert.title_en
    assert {s.code for s in alert.substances.all()} == {"fentanyl", "bromazolam"}
    assert Message.objects.count() == 0  # never published by itself

    # the writer submits; they cannot approve their own; a second coordinator can
    Alert.objects.filter(pk=alert.pk).update(created_by=writer)
    alert.refresh_from_db()
    services.alert_submit(alert=alert, actor=writer)
    with pytest.raises(PermissionDenied):
        services.alert_approve(alert=alert, actor=writer)
    with django_capture_on_commit_callbacks(execute=True):
        services.alert_approve(alert=alert, actor=approver)
    alert.refresh_from_db()
    assert alert.status == "published" and alert.approved_by == approver
    run_tasks()

    # then each subscriber of K7L gets it once, in their language
    texts = {r["form"]["To"]: r["form"]["Body"] for r in twilio.requests}
    assert sorted(texts) == ["+16135550101", "+16135550102"]
    assert texts["+16135550101"].startswith("Harbour drug alert: ")
    assert "trouvé dans" in texts["+16135550102"] and "STOP" in texts["+16135550102"]
    [received] = smtp.messages
    assert received["To"] == "sam@example.org"
    assert "/alerts/unsubscribe/" in received.get_payload()
    # mail clients get a one-click unsubscribe (RFC 8058) to the same signed link
    link = re.search(r"http://\S+/alerts/unsubscribe/\S+/", received.get_payload())[0]
    assert "".join(received["List-Unsubscribe"].split()) == f"<{link}>"  # long lines fold
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    sent = Message.objects.filter(status=Status.SENT)
    assert sent.count() == 3
    assert not Message.objects.filter(idempotency_key__contains=str(elsewhere.pk)).exists()
    assert not Message.objects.filter(idempotency_key__contains=str(unconfirmed.pk)).exists()
    # publishing again (a retry) queues nothing more
    assert services.fan_out(alert) == 0
    assert AuditEvent.objects.filter(action="alert-publish", object_id=str(alert.pk)).exists()
    assert {m.lang for m in sent} == {sms_en.lang, sms_fr.lang, email.lang} == {"en", "fr"}


def test_samples_that_hold_what_they_were_sold_as_draft_nothing(org_a, admin_a):
    drugcheck.sample_record(
        actor=admin_a,
        organization=org_a,
        data=drugcheck.SampleIn(
            collected_on=date(2026, 11, 21),
            site="Lighthouse",
            expected="fentanyl",
            components=[
                drugcheck.ComponentIn(name="fentanyl"),
                drugcheck.ComponentIn(name="caffeine"),
            ],
        ),
    )
    assert Alert.objects.count() == 0


def test_without_a_second_approval_coordinators_publish_directly(org_a, make_member):
    AlertPolicy.objects.create(organization=org_a, second_approval=False)
    coordinator = make_member(org_a, Role.COORDINATOR)
    alert = services.alert_draft(
        actor=coordinator,
        organization=org_a,
        title_en="Blue pills",
        body_en="Fake oxy with nitazenes.",
        areas=["k7l"],
        area_description_en="Kingston",
        valid_until=timezone.now() + timedelta(days=3),
    )
    services.alert_submit(alert=alert, actor=coordinator)
    alert.refresh_from_db()
    assert alert.status == "published"
    with pytest.raises(ValidationError):
        services.alert_draft(
            actor=coordinator, organization=org_a, title_en="x", body_en="y", areas=["Kingston"],
            area_description_en="K", valid_until=timezone.now() + timedelta(days=1),
        )  # fmt: skip
    outsider = make_member(org_a, Role.VIEWER)
    from django.http import Http404

    with pytest.raises(PermissionDenied):
        services.alert_withdraw(alert=alert, actor=outsider)
    with pytest.raises(Http404):
        services.alert_withdraw(alert=alert, actor=None)


def published(org, actor, **kwargs):  # type: ignore[no-untyped-def]
    AlertPolicy.objects.get_or_create(organization=org, defaults={"second_approval": False})
    alert = services.alert_draft(
        actor=actor,
        organization=org,
        title_en="Carfentanil in Kingston",
        title_fr="Carfentanil à Kingston",
        body_en="Several overdoses.",
        body_fr="Plusieurs surdoses.",
        areas=["K7L", "K7K"],
        area_description_en="Downtown Kingston",
        area_description_fr="Centre-ville de Kingston",
        valid_until=timezone.now() + timedelta(days=2),
        **kwargs,
    )
    return services.alert_submit(alert=alert, actor=actor)


CAP_XSD = Path(__file__).resolve().parents[1] / "data" / "cap" / "CAP-v1.2.xsd"


def assert_valid_cap(document: bytes) -> None:
    from lxml import etree

    schema = etree.XMLSchema(etree.parse(str(CAP_XSD)))
    parsed = etree.fromstring(document)
    assert schema.validate(parsed), [str(e) for e in schema.error_log]


def test_cap_xml_validates_against_the_cap_1_2_schema_in_both_languages(client, org_a, admin_a):
    alert = published(org_a, admin_a)
    response = client.get(f"/alerts/{alert.pk}/cap.xml")
    assert response["Content-Type"].startswith("application/cap+xml")
    assert_valid_cap(response.content)
    root = ET.fromstring(  # noqa: S314 -- Harbour's own output
        response.content
    )
    assert root.tag == f"{CAP}alert"
    order = [child.tag.removeprefix(CAP) for child in root]
    assert order == [
        "identifier", "sender", "sent", "status", "msgType", "scope", "code", "info", "info",
    ]  # fmt: skip
    # the Canadian profile (CAP-CP): its code, and in each language the same event code from its
    # event list (4 to 12 characters, no spaces)
    assert root.findtext(f"{CAP}code") == "profile:CAP-CP:0.4"
    assert root.findtext(f"{CAP}identifier") == f"urn:uuid:{alert.identifier}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d", root.findtext(f"{CAP}sent"))
    infos = root.findall(f"{CAP}info")
    assert [i.findtext(f"{CAP}language") for i in infos] == ["en-CA", "fr-CA"]
    info_order = [child.tag.removeprefix(CAP) for child in infos[1]]
    assert info_order == [
        "language", "category", "event", "responseType", "urgency", "severity", "certainty",
        "eventCode", "expires", "senderName", "headline", "description", "instruction", "web",
        "area",
    ]  # fmt: skip
    for info in infos:
        codes = [
            (code.findtext(f"{CAP}valueName"), code.findtext(f"{CAP}value"))
            for code in info.findall(f"{CAP}eventCode")
        ]
        assert codes == [("profile:CAP-CP:Event:0.4", "drugSafety")]
    assert infos[1].findtext(f"{CAP}headline") == "Carfentanil à Kingston"
    assert infos[0].findtext(f"{CAP}severity") == "Severe"
    area = infos[1].find(f"{CAP}area")
    assert area.findtext(f"{CAP}areaDesc") == "Centre-ville de Kingston"
    assert [g.findtext(f"{CAP}value") for g in area.findall(f"{CAP}geocode")] == ["K7L", "K7K"]
    services.alert_withdraw(alert=alert, actor=admin_a)
    withdrawn = ET.fromstring(  # noqa: S314 -- Harbour's own output
        client.get(f"/alerts/{alert.pk}/cap.xml").content
    )
    assert withdrawn.findtext(f"{CAP}msgType") == "Cancel"
    assert [child.tag.removeprefix(CAP) for child in withdrawn][5:8] == [
        "scope", "code", "references",
    ]  # fmt: skip
    assert_valid_cap(client.get(f"/alerts/{alert.pk}/cap.xml").content)


def test_feeds_and_pages_list_current_alerts_only(client, org_a, admin_a):
    alert = published(org_a, admin_a)
    old = published(org_a, admin_a)
    Alert.objects.filter(pk=old.pk).update(valid_until=timezone.now() - timedelta(minutes=1))
    data = json.loads(client.get("/alerts/feed.json").content)
    assert [a["id"] for a in data["alerts"]] == [str(alert.identifier)]
    assert data["alerts"][0]["title_fr"] == "Carfentanil à Kingston"
    rss = client.get("/alerts/feed.rss").content.decode()
    assert rss.count("<item>") == 1 and "Carfentanil in Kingston" in rss
    atom = client.get("/alerts/feed.atom").content.decode()
    assert atom.count("<entry>") == 1
    assert "Carfentanil in Kingston" in client.get("/alerts/").content.decode()
    assert client.get(f"/alerts/{old.pk}/").status_code == 200  # old links keep working
    draft = services.alert_draft(
        actor=admin_a, organization=org_a, title_en="secret draft", body_en="x", areas=[],
        area_description_en="x", valid_until=timezone.now() + timedelta(days=1),
    )  # fmt: skip
    assert client.get(f"/alerts/{draft.pk}/").status_code == 404


def test_sms_join_stop_and_language(sms_in):
    inbound = sms_in
    inbound("JOIN K7L k7k", "SM1")
    subscription = Subscription.objects.get()
    assert (subscription.areas, subscription.lang, subscription.confirmed) == (
        " K7L K7K ",
        "en",
        True,
    )
    assert "K7L, K7K" in Message.objects.get(idempotency_key=notify.inbound_reply_key("SM1")).body
    inbound("FR", "SM2")
    subscription.refresh_from_db()
    assert subscription.lang == "fr"
    inbound("JOIN nowhere", "SM3")
    assert "JOIN K7L" in Message.objects.get(idempotency_key=notify.inbound_reply_key("SM3")).body
    inbound("STOP", "SM4")
    assert Subscription.objects.count() == 0 and notify.is_opted_out("sms", "+16135550142")
    inbound("JOIN K7L", "SM5")  # joining again is consent again
    assert Subscription.objects.count() == 1 and not notify.is_opted_out("sms", "+16135550142")


def test_email_double_opt_in_and_one_click_unsubscribe(client, org_a, admin_a):
    page = client.post(
        "/alerts/subscribe/", {"email": "sam@example.org", "areas": "K7L", "lang": "en"}
    )
    assert "Check your email" in page.content.decode()
    subscription = Subscription.objects.get()
    assert not subscription.confirmed
    assert "sam@example.org" not in str(
        Subscription.objects.values_list("recipient_index", flat=True)[0]
    )
    confirmation = Message.objects.get(channel="email")
    link = re.search(r"http://[^ \n]+/alerts/confirm/[^/]+/", confirmation.body)[0]
    assert "You will get drug alerts" in client.get(urlsplit(link).path).content.decode()
    subscription.refresh_from_db()
    assert subscription.confirmed
    assert client.get("/alerts/confirm/forged/").content.decode().count("does not work") == 1
    bad = client.post("/alerts/subscribe/", {"email": "x@example.org", "areas": "Kingston"})
    assert "is not a postal area" in bad.content.decode()
    alert = published(org_a, admin_a)
    message = Message.objects.get(idempotency_key__startswith=f"alert:{alert.pk}")
    unsubscribe = re.search(r"/alerts/unsubscribe/[^/\s]+/", message.body)[0]
    assert client.get(unsubscribe).status_code == 200 and Subscription.objects.count() == 1
    # a mail client's one-click: a POST without any form or cookie of ours
    from django.test import Client

    one_click = Client(enforce_csrf_checks=True).post(
        unsubscribe, "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )  # fmt: skip
    assert one_click.status_code == 200
    assert Subscription.objects.count() == 0


def test_staff_pages_draft_submit_and_approve_and_strangers_get_404(
    staff_client, org_a, org_b, make_member
):
    writer = make_member(org_a, Role.OUTREACH_WORKER, email="w@example.org")
    client = staff_client(writer)
    url = f"/org/{org_a.slug}/alerts/"
    form = {
        "title_en": "Green powder",
        "body_en": "Sold as down; it holds medetomidine.",
        "severity": "Severe",
        "areas": "K7L",
        "area_description_en": "Kingston",
        "valid_days": "5",
    }
    assert client.post(url, form).status_code == 302
    alert = Alert.objects.get()
    assert alert.status == "draft" and alert.created_by == writer
    client.post(f"{url}{alert.pk}/submit/")
    alert.refresh_from_db()
    assert alert.status == "pending"
    approver = make_member(org_a, Role.COORDINATOR, email="c@example.org")
    second = staff_client(approver)
    asked = second.post(f"{url}{alert.pk}/approve/")  # a confirmation first
    assert asked.status_code == 200 and "Send this alert now?" in asked.content.decode()
    alert.refresh_from_db()
    assert alert.status == "pending"
    second.post(f"{url}{alert.pk}/approve/", {"confirm": "yes"})
    alert.refresh_from_db()
    assert alert.status == "published"
    stranger = make_member(org_b, Role.ORG_ADMIN, email="s@example.org")
    other = staff_client(stranger)
    assert other.get(url).status_code == 404
    assert other.post(f"/org/{org_b.slug}/alerts/{alert.pk}/withdraw/").status_code == 404
    alert.refresh_from_db()
    assert alert.status == "published"


def test_anonymous_reports_keep_nothing_about_the_person_and_reach_coordinators(
    client, staff_client, org_a, org_b, make_member, sms_in
):
    from harbour.alerts.models import CommunityReport

    form = {
        "kind": "bad-dope",
        "sold_as": "purple down",
        "looks_like": "purple, chunky",
        "what_happened": "Two people fell out after one hit; long to wake with naloxone.",
        "city": "Kingston",
        "fsa": "k7l 1a1",
        "website": "",
    }
    # org_a reviews the community reports of K7L and K7K
    AlertPolicy.objects.create(organization=org_a, report_areas=" K7L K7K ")
    page = client.post("/alerts/report/", form, REMOTE_ADDR="203.0.113.9")
    assert "Thank you" in page.content.decode()
    report = CommunityReport.objects.get()
    assert (report.fsa, report.source, report.status) == ("K7L", "web", "new")
    stored = " ".join(str(v) for v in CommunityReport.objects.values().get().values())
    assert "203.0.113" not in stored
    client.post("/alerts/report/", form)  # a double submit keeps one
    client.post("/alerts/report/", {**form, "what_happened": "bot text here", "website": "x"})
    assert CommunityReport.objects.count() == 1
    # the same report again and again is a flood: three an hour, counted in the cache only
    statuses = [client.post("/alerts/report/", form).status_code for _ in range(2)]
    assert statuses == [200, 429]
    sms_in("REPORT grey fent, people out cold fast, K7K", "SM77")
    texted = CommunityReport.objects.get(source="sms")
    assert texted.fsa == "K7K" and "+1613" not in texted.what_happened
    assert "anonymous" in Message.objects.get(idempotency_key=notify.inbound_reply_key("SM77")).body
    sms_in("SIGNALER poudre grise, surdoses, K7K", "SM78")  # the French keyword, the same way
    assert CommunityReport.objects.filter(source="sms").count() == 2

    coordinator = make_member(org_a, Role.COORDINATOR, email="coord@example.org")
    staff = staff_client(coordinator)
    queue = staff.get(f"/org/{org_a.slug}/alerts/reports/").content.decode()
    assert "purple down" in queue and "grey fent" in queue
    staff.post(f"/org/{org_a.slug}/alerts/reports/{report.pk}/alert/")
    report.refresh_from_db()
    assert report.status == "alerted" and report.alert.status == "draft"
    assert report.alert.organization == org_a and report.alert.area_list == ["K7L"]
    viewer = make_member(org_b, Role.VIEWER, email="viewer@example.org")
    assert staff_client(viewer).get(f"/org/{org_b.slug}/alerts/reports/").status_code == 403
    assert services.report_queue(viewer, organization=org_b).count() == 0
    assert services.report_queue(viewer, organization=org_a).count() == 0


def push_keys() -> tuple[dict[str, str], str]:
    """A browser-like subscription key pair, and a VAPID private key (raw, base64url)."""
    import base64
    import os

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    browser = ec.generate_private_key(ec.SECP256R1())
    public = browser.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    vapid = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    return {"p256dh": b64(public), "auth": b64(os.urandom(16))}, b64(vapid.to_bytes(32, "big"))


def test_browsers_subscribe_to_push_and_get_the_alert(client, settings, twilio, org_a, admin_a):
    keys, vapid = push_keys()
    settings.VAPID_PRIVATE_KEY, settings.VAPID_PUBLIC_KEY = vapid, "BPublicKeyForThePage"
    page = client.get("/alerts/subscribe/").content.decode()
    assert 'data-push-key="BPublicKeyForThePage"' in page
    sw = client.get("/alerts/sw.js")
    assert sw["Content-Type"].startswith("text/javascript") and b"showNotification" in sw.content
    url = "/alerts/push/subscribe/"
    body = {
        "subscription": {"endpoint": "https://fcm.googleapis.com/fcm/send/abc", "keys": keys},
        "areas": "K7L",
        "lang": "fr-CA",
    }
    answer = client.post(url, body, content_type="application/json")
    assert answer.status_code == 201
    stored = Subscription.objects.get(channel="push")
    assert stored.areas == " K7L " and stored.lang == "fr" and stored.confirmed
    for bad in (
        {**body, "subscription": {"endpoint": "http://push.example.org/x", "keys": keys}},
        {**body, "areas": "Kingston"},
        {"nothing": True},
    ):
        response = client.post(url, bad, content_type="application/json")
        assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert client.post(url, "not json", content_type="application/json").status_code == 400
    # delivery: pywebpush encrypts for the browser's keys and posts to its push service
    endpoint = f"{settings.TWILIO_API_BASE_URL}/push/1"
    stored.recipient = json.dumps({"endpoint": endpoint, "keys": keys})
    stored.save()
    twilio.replies = [(201, {})]
    published(org_a, admin_a)
    notify.deliver_due()
    [request] = [r for r in twilio.requests if r["path"] == "/push/1"]
    message = Message.objects.get(channel="push")
    assert message.status == Status.SENT and message.subject == "Carfentanil à Kingston"
    # the push service may replace a copy it still holds (same Topic), and the device shows one
    # notification for a message delivered twice (the payload's tag, used by sw.js)
    from harbour.notify.senders import dedupe_token

    assert request["topic"] == dedupe_token(message) and len(request["topic"]) == 32
    assert b"tag: data.tag" in sw.content
    # a push service answering 410 means the subscription is gone: unsubscribed
    twilio.replies = [(410, {})]
    alert2 = published(org_a, admin_a)
    notify.deliver_due()
    gone = Message.objects.get(channel="push", idempotency_key__startswith=f"alert:{alert2.pk}")
    assert gone.status == Status.FAILED
    assert notify.is_opted_out("push", stored.recipient)
    assert request
