"""The life of an alert draft: one per sample, changed in both languages, discarded (kept,
audited), previewed as each channel sends it, approved by a second person who sees both
languages and how many people it reaches, after a confirmation step; spikes in local time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from harbour.alerts import services, sms
from harbour.alerts.models import Alert, AlertPolicy
from harbour.core.models import AuditEvent
from harbour.core.roles import Role
from harbour.drugcheck import services as drugcheck
from harbour.notify.models import Message

from .test_alerts import dangerous_sample

pytestmark = pytest.mark.django_db

TEXTS = {
    "title_en": "Green powder sold as down",
    "title_fr": "Poudre verte vendue comme du down",
    "body_en": "It holds medetomidine. Go slow, don't use alone.",
    "body_fr": "Elle contient de la médétomidine. Allez-y lentement, ne consommez pas seul·e.",
    "appearance_en": "Green powder in a small bag",
    "appearance_fr": "Poudre verte dans un petit sac",
    "areas": ["K7L"],
    "area_description_en": "Downtown Kingston",
    "area_description_fr": "Centre-ville de Kingston",
}


def draft(org, actor, **changes):  # type: ignore[no-untyped-def]
    values = {**TEXTS, "valid_until": timezone.now() + timedelta(days=3), **changes}
    return services.alert_draft(actor=actor, organization=org, **values)


def test_a_sample_recorded_again_keeps_one_draft_and_the_database_refuses_a_second(
    org_a, make_member
):  # type: ignore[no-untyped-def]
    peer = make_member(org_a, Role.PEER_WORKER)
    lab = make_member(org_a, Role.OUTREACH_WORKER, email="lab@example.org")
    sample = dangerous_sample(org_a, peer)
    first = Alert.objects.get(source_sample=sample)
    # the lab confirms the same substances: nothing new
    drugcheck.lab_confirm(
        actor=lab, sample=sample, method="gcms", completed_on=date(2026, 11, 25),
        components=[drugcheck.ComponentIn(name="fentanyl", role="primary"),
                    drugcheck.ComponentIn(name="bromazolam", role="trace")],
    )  # fmt: skip
    assert list(Alert.objects.filter(source_sample=sample)) == [first]
    # the lab finds another one: the same draft now names it
    drugcheck.lab_confirm(
        actor=lab, sample=sample, method="lcms", completed_on=date(2026, 11, 26),
        components=[drugcheck.ComponentIn(name="carfentanil", role="trace")],
    )  # fmt: skip
    assert list(Alert.objects.filter(source_sample=sample)) == [first]
    first.refresh_from_db()
    assert "carfentanil" in first.title_en and "fentanyl" in first.title_en
    assert {s.code for s in first.substances.all()} >= {"fentanyl", "bromazolam", "carfentanil"}
    assert AuditEvent.objects.filter(action="alert-edit", object_id=str(first.pk)).exists()
    # and the database itself refuses a second open alert from the sample
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(
            organization=org_a, title_en="again", body_en="again", areas=" K7L ",
            area_description_en="x", valid_until=first.valid_until, source_sample=sample,
        )  # fmt: skip
    # once discarded, recording it again drafts anew (someone threw the first away on purpose)
    services.alert_discard(alert=first, actor=lab)
    assert services.draft_from_sample(sample) is not None
    assert Alert.objects.filter(source_sample=sample, status="draft").count() == 1


def test_a_draft_is_changed_in_both_languages_and_only_while_a_draft(org_a, make_member):
    writer = make_member(org_a, Role.OUTREACH_WORKER)
    alert = draft(org_a, writer, appearance_fr="", area_description_fr="")
    changed = services.alert_edit(
        alert=alert, actor=writer, **{**TEXTS, "title_fr": "Poudre verte : médétomidine"},
        valid_until=alert.valid_until,
    )  # fmt: skip
    assert changed.appearance_fr == "Poudre verte dans un petit sac"
    assert changed.area_description_fr == "Centre-ville de Kingston"
    assert changed.title_fr == "Poudre verte : médétomidine"
    event = AuditEvent.objects.get(action="alert-edit", object_id=str(alert.pk))
    assert sorted(event.metadata["fields"]) == ["appearance_fr", "area_description_fr", "title_fr"]
    with pytest.raises(ValidationError) as error:
        services.alert_edit(alert=alert, actor=writer, **{**TEXTS, "title_en": ""},
                            valid_until=alert.valid_until)  # fmt: skip
    assert "title_en" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.alert_edit(alert=alert, actor=writer, **TEXTS,
                            valid_until=timezone.now() - timedelta(hours=1))  # fmt: skip
    services.alert_submit(alert=alert, actor=writer)
    with pytest.raises(ValidationError, match="Only a draft can be changed"):
        services.alert_edit(alert=alert, actor=writer, **TEXTS, valid_until=alert.valid_until)
    services.alert_to_draft(alert=alert, actor=writer)
    alert.refresh_from_db()
    assert alert.status == "draft"


def test_a_discarded_draft_is_kept_audited_and_never_sent(client, org_a, make_member):
    writer = make_member(org_a, Role.OUTREACH_WORKER)
    alert = draft(org_a, writer)
    services.alert_discard(alert=alert, actor=writer)
    alert.refresh_from_db()
    assert alert.status == "discarded" and alert.discarded_at is not None
    assert AuditEvent.objects.filter(
        action="alert-discard", object_id=str(alert.pk), actor=writer
    ).exists()
    with pytest.raises(ValidationError):
        services.alert_submit(alert=alert, actor=writer)
    assert client.get(f"/alerts/{alert.pk}/").status_code == 404


def test_each_channels_message_its_length_and_encoding(org_a, make_member):
    writer = make_member(org_a, Role.OUTREACH_WORKER)
    alert = draft(org_a, writer)
    english = services.preview(alert, "en")
    assert english.sms.startswith("Harbour drug alert: Green powder sold as down. It holds")
    assert english.sms.endswith("Reply STOP to stop.")
    assert english.sms_size.encoding == "GSM-7"
    assert english.sms_size.characters == len(english.sms)
    assert english.sms_size.segments == -(-len(english.sms) // 153)  # 153 a part once split
    assert english.email_subject == "Harbour: Green powder sold as down"
    assert "Stop these alerts: " in english.email_body
    french = services.preview(alert, "fr")
    assert "Poudre verte vendue comme du down" in french.sms
    assert french.sms_size.encoding == "UCS-2"  # "·" and "é" are not GSM-7
    assert french.sms_size.segments == -(-french.sms_size.characters // 67)
    assert french.push_title == "Poudre verte vendue comme du down"


def test_text_message_sizes():
    assert sms.size("a" * 160) == sms.SmsSize("GSM-7", 160, 1, 160, "")
    assert sms.size("a" * 161).segments == 2
    assert sms.size("é" * 160).encoding == "GSM-7"  # é is in the GSM alphabet
    assert sms.size("€").characters == 2  # an escaped character
    size = sms.size("Ça s’en vient")
    assert (size.encoding, size.characters, size.segments, size.outside) == ("UCS-2", 13, 1, "’")
    assert sms.size("ê" * 71).segments == 2 and sms.size("ê" * 134).segments == 2


def test_reach_counts_confirmed_subscribers_of_the_alerts_areas_by_channel(org_a, make_member):
    writer = make_member(org_a, Role.OUTREACH_WORKER)
    services.subscribe_sms(phone="613-555-0101", areas=["K7L"])
    services.subscribe_sms(phone="613-555-0102", areas=[])  # everywhere
    services.subscribe_sms(phone="613-555-0103", areas=["V6A"])
    services.subscribe_email(email="waiting@example.org", areas=["K7L"])  # not confirmed
    email = services.subscribe_email(email="sam@example.org", areas=["K7L"])
    type(email).objects.filter(pk=email.pk).update(confirmed=True)
    alert = draft(org_a, writer)
    assert services.reach(alert) == {"sms": 2, "email": 1, "push": 0, "total": 3}


def test_a_spike_draft_states_local_times_in_both_languages(watched_org, make_member):
    from harbour.surveillance import services as surveillance
    from harbour.surveillance.models import Level, Method, Signal

    coordinator = make_member(watched_org, Role.COORDINATOR)
    signal = Signal.objects.create(
        organization=watched_org, method=Method.COUNT_24H, level=Level.FSA, area="K7L",
        period_start=datetime(2026, 12, 1, 19, 0, tzinfo=UTC),  # 14:00 in Kingston
        period_end=datetime(2026, 12, 2, 19, 0, tzinfo=UTC), observed=7,
    )  # fmt: skip
    alert = surveillance.signal_to_alert(signal=signal, actor=coordinator)
    assert "from 1 December 2026, 14:00 to 2 December 2026, 14:00" in alert.body_en
    assert "du 1 décembre 2026, 14 h 00 au 2 décembre 2026, 14 h 00" in alert.body_fr
    assert "19:00" not in alert.body_en


@pytest.fixture
def watched_org(org_a):  # type: ignore[no-untyped-def]
    return org_a


def test_the_author_waits_and_the_approver_sees_both_languages_counts_and_confirms(
    staff_client, org_a, make_member, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    services.subscribe_sms(phone="613-555-0101", areas=["K7L"], lang="fr")
    services.subscribe_sms(phone="613-555-0102", areas=["K7L"], lang="en")
    writer = make_member(org_a, Role.COORDINATOR, email="writer@example.org")
    approver = make_member(org_a, Role.COORDINATOR, email="approver@example.org")
    alert = draft(org_a, writer)
    services.alert_submit(alert=alert, actor=writer)
    base = f"/org/{org_a.slug}/alerts/"
    client = staff_client(writer)
    listing = client.get(base).content.decode()
    assert "Waiting for a second person" in listing and "Approve" not in listing
    review = client.get(f"{base}{alert.pk}/").content.decode()
    assert "Approve and send" not in review and "Waiting for a second person" in review
    # the author's own approve is refused even by a hand-made request
    client.post(f"{base}{alert.pk}/approve/", {"confirm": "yes"})
    alert.refresh_from_db()
    assert alert.status == "pending"
    client = staff_client(approver)
    review = client.get(f"{base}{alert.pk}/").content.decode()
    assert "Green powder sold as down" in review and "Poudre verte vendue comme du down" in review
    assert "Centre-ville de Kingston" in review and "Poudre verte dans un petit sac" in review
    assert "It will reach 2 subscribers:" in review
    assert "2 by text message, 0 by email, 0 by push notification." in review
    assert "UCS-2" in review and "GSM-7" in review
    asked = client.post(f"{base}{alert.pk}/approve/")
    text = asked.content.decode()
    assert "Send this alert now?" in text and "Yes, send it to 2 subscribers" in text
    alert.refresh_from_db()
    assert alert.status == "pending" and Message.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=False):
        client.post(f"{base}{alert.pk}/approve/", {"confirm": "yes"})
    alert.refresh_from_db()
    assert alert.status == "published" and alert.approved_by == approver
    assert Message.objects.filter(channel="sms").count() == 2
    # withdrawing asks first too
    assert "Withdraw this alert?" in client.post(f"{base}{alert.pk}/withdraw/").content.decode()
    alert.refresh_from_db()
    assert alert.status == "published"
    client.post(f"{base}{alert.pk}/withdraw/", {"confirm": "yes"})
    alert.refresh_from_db()
    assert alert.status == "withdrawn"
    assert AuditEvent.objects.filter(action="alert-withdraw", object_id=str(alert.pk)).exists()


def test_staff_edit_and_discard_drafts_on_their_pages(staff_client, org_a, make_member):
    writer = make_member(org_a, Role.OUTREACH_WORKER)
    client = staff_client(writer)
    base = f"/org/{org_a.slug}/alerts/"
    new = client.get(base).content.decode()
    assert "What it looks like, packaging (French)" in new and "Area, in words (French)" in new
    alert = draft(org_a, writer, title_fr="", appearance_fr="")
    review = client.get(f"{base}{alert.pk}/").content.decode()
    assert "No French text for: title, what it looks like." in review
    form = {**TEXTS, "areas": "K7L K7K", "severity": "Severe", "valid_days": "3"}
    form["title_en"] = ""
    bad = client.post(f"{base}{alert.pk}/edit/", form)
    assert bad.status_code == 400 and "This field is required." in bad.content.decode()
    form["title_en"] = "Green powder: medetomidine"
    assert client.post(f"{base}{alert.pk}/edit/", form).status_code == 302
    alert.refresh_from_db()
    assert alert.title_en == "Green powder: medetomidine" and alert.area_list == ["K7L", "K7K"]
    assert alert.title_fr == TEXTS["title_fr"] and alert.appearance_fr == TEXTS["appearance_fr"]
    assert client.post(f"{base}{alert.pk}/discard/").status_code == 302
    alert.refresh_from_db()
    assert alert.status == "discarded"
    assert "Green powder: medetomidine" not in client.get(base).content.decode()


def test_without_a_second_person_publishing_asks_first(staff_client, org_a, make_member):
    AlertPolicy.objects.create(organization=org_a, second_approval=False)
    coordinator = make_member(org_a, Role.COORDINATOR)
    alert = draft(org_a, coordinator)
    client = staff_client(coordinator)
    base = f"/org/{org_a.slug}/alerts/{alert.pk}/"
    assert "Send this alert now?" in client.post(f"{base}publish/").content.decode()
    alert.refresh_from_db()
    assert alert.status == "draft"
    with time_machine.travel(timezone.now(), tick=True):
        client.post(f"{base}publish/", {"confirm": "yes"})
    alert.refresh_from_db()
    assert alert.status == "published"
