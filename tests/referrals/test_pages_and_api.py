"""Referral pages and the API: every URL answers 404 to another organization, the public
"ask them to contact me" form (no account, rate limit, bot trap), the gap report with its CSV,
FHIR R4 out and in."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from harbour.accounts import services as accounts
from harbour.core.models import AuditEvent
from harbour.core.roles import Role
from harbour.notify.models import Message as Outbox
from harbour.referrals import fhir, services
from harbour.referrals.lifecycle import Action
from harbour.referrals.models import Client, Consent, Referral, ReferralStatus, SharedField

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(client_of, consent, worker, centre, listing):  # type: ignore[no-untyped-def]
    person = client_of("Robin")
    consent(person, centre, fields=[SharedField.ALIAS, SharedField.CONTACT, SharedField.NEEDS])
    return services.referral_create(
        actor=worker, client=person, service=listing(), needs="Mornings", send=True
    )


def key_for(org, role=Role.COORDINATOR, make_member=None):  # type: ignore[no-untyped-def]
    admin = make_member(org, Role.ORG_ADMIN, email=f"keyadmin@{org.slug}.example.org")
    return accounts.api_key_create(organization=org, name="partner", role=role, actor=admin).secret


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


# --- scoping: 404 for everyone else ---------------------------------------------------------


def test_another_organization_gets_404_on_every_referral_page_and_api(
    sent, worker, outsider, stranger, outreach, centre, staff_client, make_member
):
    person = sent.client
    consent = Consent.objects.get(client=person)
    web = staff_client(outsider)
    pages = [
        f"/org/{outreach.slug}/referrals/",
        f"/org/{outreach.slug}/referrals/clients/",
        f"/org/{outreach.slug}/referrals/clients/{person.pk}/",
        f"/org/{outreach.slug}/referrals/clients/{person.pk}/edit/",
        f"/org/{outreach.slug}/referrals/clients/{person.pk}/consent/",
        f"/org/{outreach.slug}/referrals/r/{sent.pk}/",
        f"/org/{centre.slug}/referrals/r/{sent.pk}/",
        f"/org/{stranger.slug}/referrals/r/{sent.pk}/",
        f"/org/{stranger.slug}/referrals/r/{sent.pk}/fhir.json",
        f"/org/{stranger.slug}/referrals/clients/{person.pk}/",
    ]
    for url in pages:
        assert web.get(url).status_code == 404, url
    posts = [
        (f"/org/{stranger.slug}/referrals/r/{sent.pk}/act/", {"action": "accept", "version": 1}),
        (f"/org/{stranger.slug}/referrals/r/{sent.pk}/message/", {"body": "hi"}),
        (f"/org/{outreach.slug}/referrals/clients/{person.pk}/consent/{consent.pk}/revoke/", {}),
    ]
    for url, data in posts:
        assert web.post(url, data).status_code == 404, url
    # the API, with a key of the other organization
    other = bearer(key_for(stranger, make_member=make_member))
    for url in (f"/api/v1/referrals/{sent.pk}", f"/api/v1/referrals/{sent.pk}/fhir"):
        response = web.get(url, **other)
        assert (response.status_code, response.json()) == (
            404, {"detail": "Not found.", "code": "not_found"},
        ), url  # fmt: skip
    for url, body in (
        (f"/api/v1/referrals/{sent.pk}/transitions", {"action": "accept"}),
        (f"/api/v1/referrals/{sent.pk}/messages", {"body": "hi"}),
        ("/api/v1/referrals", {"client_id": str(person.pk), "receiver_id": str(stranger.pk)}),
    ):
        response = web.post(url, json.dumps(body), content_type="application/json", **other)
        assert response.status_code == 404, url
    listed = web.get("/api/v1/referrals", {"box": "inbound"}, **other).json()
    assert listed["count"] == 0
    # nothing changed, nobody outside saw the client
    assert Referral.objects.get(pk=sent.pk).status == ReferralStatus.SENT
    assert not AuditEvent.objects.filter(action="referral-client-view").exists()


def test_a_draft_is_the_senders_alone(client_of, worker, centre, intake, listing, staff_client):
    draft = services.referral_create(actor=worker, client=client_of(), service=listing())
    web = staff_client(intake)
    assert web.get(f"/org/{centre.slug}/referrals/r/{draft.pk}/").status_code == 404
    assert (
        web.get(f"/org/{centre.slug}/referrals/?status=all").content.decode().count(draft.reference)
        == 0
    )


def test_viewers_cannot_open_clients_or_referrals(sent, outreach, make_member, staff_client):
    web = staff_client(make_member(outreach, Role.VIEWER))
    assert web.get(f"/org/{outreach.slug}/referrals/").status_code == 403
    assert web.get(f"/org/{outreach.slug}/referrals/r/{sent.pk}/").status_code == 403


# --- pages ----------------------------------------------------------------------------------


def test_the_centre_works_the_referral_on_its_pages(
    sent, intake, worker, centre, outreach, staff_client
):
    web = staff_client(intake)
    queue = web.get(f"/org/{centre.slug}/referrals/").content.decode()
    assert sent.reference in queue and "outreach-team services" in queue
    assert "Robin" not in queue  # the queue shows shells only
    page = web.get(f"/org/{centre.slug}/referrals/r/{sent.pk}/").content.decode()
    assert "Robin" in page and "+16135550142" in page and "Mornings" in page
    # accept with the version the page was opened at; a second click from the same page is
    # told that someone (here: themselves) changed it first
    for _ in range(2):
        response = web.post(
            f"/org/{centre.slug}/referrals/r/{sent.pk}/act/",
            {"action": "accept", "version": sent.version},
            follow=True,
        )
    text = response.content.decode()
    assert "Someone else changed this referral first" in text
    assert Referral.objects.get(pk=sent.pk).status == ReferralStatus.ACCEPTED
    web.post(f"/org/{centre.slug}/referrals/r/{sent.pk}/message/", {"body": "See you Monday"})
    web.post(
        f"/org/{centre.slug}/referrals/r/{sent.pk}/message/", {"body": "quiet", "internal": "1"}
    )
    sender_view = staff_client(worker).get(f"/org/{outreach.slug}/referrals/r/{sent.pk}/")
    html = sender_view.content.decode()
    assert "Accepted" in html and "See you Monday" in html and "quiet" not in html


def test_a_client_and_consent_recorded_on_the_pages_with_the_duplicate_check(
    worker, outreach, centre, staff_client
):
    web = staff_client(worker)
    form = {"alias": "Sam", "contact_method": "worker", "contact_notes": "Via Jo", "language": "en"}
    first = web.post(f"/org/{outreach.slug}/referrals/clients/new/", form)
    assert first.status_code == 302
    again = web.post(f"/org/{outreach.slug}/referrals/clients/new/", form).content.decode()
    assert "may already have this person" in again
    web.post(f"/org/{outreach.slug}/referrals/clients/new/", {**form, "confirm_new": "on"})
    assert Client.objects.filter(organization=outreach).count() == 2
    person = Client.objects.filter(organization=outreach).order_by("created_at").first()
    assert person is not None
    url = f"/org/{outreach.slug}/referrals/clients/{person.pk}/consent/"
    missing = web.post(url, {"purpose": "referral", "method": "verbal", "valid_days": 90})
    assert "This field is required." in missing.content.decode()
    web.post(
        url,
        {"organizations": [str(centre.pk)], "shared": ["alias", "needs"], "purpose": "referral",
         "method": "verbal", "valid_days": 90},
    )  # fmt: skip
    (given,) = Consent.objects.filter(client=person)
    assert sorted(given.fields) == ["alias", "needs"]
    assert [o.pk for o in given.organizations.all()] == [centre.pk]


def test_the_referral_form_without_consent_says_so_and_links_to_consent(
    client_of, worker, outreach, centre, listing, staff_client
):
    person = client_of()
    service = listing()
    web = staff_client(worker)
    page = web.post(
        f"/org/{outreach.slug}/referrals/new/?service={service.pk}",
        {"client": str(person.pk), "priority": "routine", "service": str(service.pk), "send": "1"},
    ).content.decode()
    assert "No consent covers recovery-centre services" in page
    assert f"/org/{outreach.slug}/referrals/clients/{person.pk}/consent/?to={centre.pk}" in page
    assert Referral.objects.count() == 0


def test_the_directory_page_offers_refer_to_staff_and_contact_me_to_everyone(
    listing, worker, staff_client, client, outreach
):
    service = listing()
    public = client.get(f"/find/service/{service.pk}/").content.decode()
    assert "Ask them to contact me" in public and "Refer someone" not in public
    web = staff_client(worker)
    staff = web.get(f"/find/service/{service.pk}/").content.decode()
    assert f"/referrals/refer/?service={service.pk}" in staff
    jump = web.get(f"/referrals/refer/?service={service.pk}")
    assert jump["Location"] == f"/org/{outreach.slug}/referrals/new/?service={service.pk}"


# --- self-referral --------------------------------------------------------------------------


def test_a_person_asks_to_be_contacted_without_an_account(
    client, listing, centre, centre_coordinator
):
    service = listing()
    url = f"/referrals/contact-me/{service.pk}/"
    page = client.get(url).content.decode()
    assert "Your consent" in page and "lasts 90 days" in page
    form = {"alias": "Jo", "contact_method": "phone", "phone": "613 555 0177", "language": "fr",
            "needs": "A bed, soon", "best_time": "mornings"}  # fmt: skip
    no_consent = client.post(url, form).content.decode()
    assert "This field is required." in no_consent
    assert Referral.objects.count() == 0
    # a bot fills the hidden field: thanked, nothing kept
    client.post(url, {**form, "consent": "on", "website": "http://spam"})
    assert Referral.objects.count() == 0
    done = client.post(url, {**form, "consent": "on"})
    assert "Request sent" in done.content.decode()
    referral = Referral.objects.get()
    assert (referral.sender_id, referral.receiver_id, referral.source, referral.status) == (
        None, centre.pk, "self", "sent",
    )  # fmt: skip
    assert (referral.client.organization_id, referral.client.phone) == (centre.pk, "+16135550177")
    assert Consent.objects.get(client=referral.client).method == "self"
    assert [m.recipient for m in Outbox.objects.all()] == [centre_coordinator.email]
    # the same request again is the same request
    client.post(url, {**form, "consent": "on"})
    assert Referral.objects.count() == 1
    # the same words three times an hour from anywhere, then 429 with the form as typed
    statuses = [client.post(url, {**form, "consent": "on"}).status_code for _ in range(2)]
    assert statuses[-1] == 429
    limited = client.post(url, {**form, "consent": "on"})
    assert "Try again in" in limited.content.decode()
    assert "A bed, soon" in limited.content.decode()
    # someone else on the same Wi-Fi is not locked out
    other = client.post(url, {**form, "alias": "Sam", "phone": "613 555 0188", "consent": "on"})
    assert other.status_code == 200 and Referral.objects.count() == 2
    assert not AuditEvent.objects.filter(action="referral-self").exclude(actor_label="anonymous")


def test_contact_me_on_a_listing_without_an_owner_is_404(client, listing):
    assert client.get(f"/referrals/contact-me/{listing(owner=None).pk}/").status_code == 404
    closed = listing(status="inactive")
    page = client.get(f"/referrals/contact-me/{closed.pk}/").content.decode()
    assert "is not taking referrals" in page


# --- gap report -----------------------------------------------------------------------------


def test_gap_report_for_coordinators_is_a_release_with_csv(
    sent, centre_coordinator, intake, centre, staff_client
):
    from harbour.core import releases

    web = staff_client(centre_coordinator)
    # before the month of the referral closes: no figures, and none computed live
    waiting = web.get(f"/org/{centre.slug}/referrals/gaps/").content.decode()
    assert "The first release of this report is not out yet" in waiting
    assert "gap-table" not in waiting
    # a week after the quarter closes, the scheduler makes the release
    quarter = (timezone.localdate(sent.sent_at).month - 1) // 3  # 0 to 3
    index = timezone.localdate(sent.sent_at).year * 12 + quarter * 3 + 3
    quarter_end = date(index // 12, index % 12 + 1, 1)
    releases.make_due(now=timezone.make_aware(datetime.combine(quarter_end, time(12)))
                      + timedelta(days=8))  # fmt: skip
    page = web.get(f"/org/{centre.slug}/referrals/gaps/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Recovery" in html and "&lt;5" in html and "<svg" in html
    assert "Figures for " in html and ", published " in html
    csv = web.get(f"/org/{centre.slug}/referrals/gaps/?format=csv&period=all").content.decode()
    assert csv.splitlines()[1].startswith("outcomes,recovery,Recovery,,<5,")
    assert staff_client(intake).get(f"/org/{centre.slug}/referrals/gaps/").status_code == 403


# --- API ------------------------------------------------------------------------------------


def test_api_queue_transition_conflict_and_illegal(sent, centre, make_member, client):
    key = bearer(key_for(centre, make_member=make_member))
    listed = client.get("/api/v1/referrals", {"box": "inbound"}, **key).json()
    assert [i["reference"] for i in listed["items"]] == [sent.reference]
    detail = client.get(f"/api/v1/referrals/{sent.pk}", **key).json()
    assert detail["client"]["alias"] == "Robin" and detail["your_side"] == "receiver"
    assert detail["actions"] == ["receive", "accept", "decline", "redirect", "hold",
                                 "entered_in_error"]  # fmt: skip
    url = f"/api/v1/referrals/{sent.pk}/transitions"
    accepted = client.post(
        url, {"action": "accept", "version": 1}, content_type="application/json", **key
    )
    assert (accepted.status_code, accepted.json()["status"]) == (200, "accepted")
    stale = client.post(
        url, {"action": "decline", "reason_code": "no_capacity", "version": 1},
        content_type="application/json", **key,
    )  # fmt: skip
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    illegal = client.post(
        url, {"action": "decline", "reason_code": "no_capacity"},
        content_type="application/json", **key,
    )  # fmt: skip
    assert illegal.status_code == 409
    assert illegal.json() == {
        "detail": "This referral is “Accepted”: “Decline” is not possible now.",
        "code": "illegal_transition",
    }


def test_api_create_refuses_without_consent(client_of, outreach, centre, make_member, client):
    key = bearer(key_for(outreach, role=Role.OUTREACH_WORKER, make_member=make_member))
    person = client_of()
    response = client.post(
        "/api/v1/referrals",
        {"client_id": str(person.pk), "receiver_id": str(centre.pk), "send": True},
        content_type="application/json",
        **key,
    )
    assert response.status_code == 400 and response.json()["code"] == "no_consent"


def test_fhir_export_holds_only_what_consent_allows(
    sent, worker, intake, centre, make_member, client
):
    key = bearer(key_for(centre, make_member=make_member))
    response = client.get(f"/api/v1/referrals/{sent.pk}/fhir", **key)
    assert response["Content-Type"] == "application/fhir+json"
    bundle = response.json()
    Bundle.model_validate(bundle)  # valid FHIR (R4B models, R4-identical resources)
    resources = {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}
    request, patient = resources["ServiceRequest"], resources["Patient"]
    assert (request["status"], request["intent"], request["priority"]) == (
        "active", "order", "routine",
    )  # fmt: skip
    assert request["category"][0]["coding"][0]["code"] == "3457005"
    assert request["note"] == [{"text": "Mornings"}]
    assert patient["name"] == [{"use": "usual", "text": "Robin"}]
    assert patient["telecom"] == [{"system": "phone", "value": "+16135550142", "use": "mobile"}]
    assert "birthDate" not in patient and "communication" not in patient  # not consented
    assert patient["id"] != str(sent.client_id)  # a per-receiver pseudonym
    # after revocation the Patient is only an id
    services.consent_revoke(actor=worker, consent=Consent.objects.get(client=sent.client))
    after = client.get(f"/api/v1/referrals/{sent.pk}/fhir", **key).json()
    patient = next(
        e["resource"] for e in after["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    assert set(patient) == {"resourceType", "id"}
    assert "note" not in after["entry"][0]["resource"]
    assert AuditEvent.objects.filter(action="referral-export").count() == 2


def partner_bundle(centre, *, consent_end: str, ident: str = "SR-1001") -> dict:  # type: ignore[type-arg]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "urn:uuid:6f1d7c3e-1111-4a7b-9c2d-000000000001",
                "resource": {
                    "resourceType": "ServiceRequest",
                    "identifier": [{"system": "https://partner.example.org/sr", "value": ident}],
                    "status": "active",
                    "intent": "order",
                    "priority": "urgent",
                    "subject": {"reference": "urn:uuid:6f1d7c3e-1111-4a7b-9c2d-000000000002"},
                    "performer": [{"identifier": {"system": fhir.system("organization"),
                                                  "value": str(centre.pk)}}],
                    "note": [{"text": "Needs a bed this week"}],
                },
            },
            {
                "fullUrl": "urn:uuid:6f1d7c3e-1111-4a7b-9c2d-000000000002",
                "resource": {
                    "resourceType": "Patient",
                    "name": [{"text": "Jay"}],
                    "telecom": [{"system": "phone", "value": "613-555-0188"}],
                    "communication": [{"language": {"coding": [{"code": "fr-CA"}]}}],
                },
            },
            {
                "fullUrl": "urn:uuid:6f1d7c3e-1111-4a7b-9c2d-000000000003",
                "resource": {
                    "resourceType": "Consent",
                    "status": "active",
                    "scope": {"coding": [{"code": "patient-privacy"}]},
                    "category": [{"coding": [{"code": "59284-0"}]}],
                    "patient": {"reference": "urn:uuid:6f1d7c3e-1111-4a7b-9c2d-000000000002"},
                    "provision": {
                        "period": {"end": consent_end},
                        "actor": [{"role": {"text": "recipient"}, "reference": {"identifier": {
                            "system": fhir.system("organization"), "value": str(centre.pk)}}}],
                    },
                },
            },
        ],
    }  # fmt: skip


def test_fhir_referral_received_from_a_partner_system(
    outreach, centre, centre_coordinator, make_member, client
):
    key = bearer(key_for(outreach, role=Role.OUTREACH_WORKER, make_member=make_member))
    end = (timezone.now() + timedelta(days=60)).date().isoformat()
    url = "/api/v1/referrals/fhir"
    made = client.post(
        url, partner_bundle(centre, consent_end=end), content_type="application/fhir+json", **key
    )
    assert made.status_code == 201, made.content
    referral = Referral.objects.get(pk=made.json()["id"])
    assert (referral.sender_id, referral.receiver_id, referral.status, referral.source) == (
        outreach.pk, centre.pk, "sent", "fhir",
    )  # fmt: skip
    assert (referral.priority, referral.needs) == ("soon", "Needs a bed this week")
    person = referral.client
    assert (person.organization_id, person.alias, person.phone, person.language) == (
        outreach.pk, "Jay", "+16135550188", "fr",
    )  # fmt: skip
    given = Consent.objects.get(client=person)
    assert (given.method, sorted(given.fields)) == ("partner", ["alias", "contact", "language",
                                                               "needs"])  # fmt: skip
    # the same ServiceRequest again is the same referral
    again = client.post(
        url, partner_bundle(centre, consent_end=end), content_type="application/json", **key
    )
    assert (again.status_code, again.json()["id"]) == (200, str(referral.pk))
    # the receiving organization's coordinator was told
    assert [m.recipient for m in Outbox.objects.all()] == [centre_coordinator.email]


def test_fhir_bundles_without_consent_or_not_fhir_are_refused(
    outreach, centre, make_member, client
):
    key = bearer(key_for(outreach, role=Role.OUTREACH_WORKER, make_member=make_member))
    url = "/api/v1/referrals/fhir"
    past = (timezone.now() - timedelta(days=1)).date().isoformat()
    expired = client.post(
        url, partner_bundle(centre, consent_end=past), content_type="application/json", **key
    )
    assert expired.status_code == 400 and expired.json()["code"] == "no_consent"
    broken = partner_bundle(centre, consent_end="2030-01-01")
    broken["entry"][0]["resource"]["status"] = 7
    bad = client.post(url, broken, content_type="application/json", **key)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_fhir"
    assert "ServiceRequest" in bad.json()["detail"] or "status" in bad.json()["detail"]
    wrong = client.post(url, {"resourceType": "Patient"}, content_type="application/json", **key)
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid"
    assert Referral.objects.count() == 0 and Client.objects.count() == 0


def test_demo_is_idempotent(db):  # type: ignore[no-untyped-def]
    from harbour.demo.data import load as load_orgs
    from harbour.demo.referrals import load

    load_orgs()
    made = load()
    assert made == 18
    assert load() == 0
    statuses = set(Referral.objects.values_list("status", flat=True))
    assert statuses == {s.value for s in ReferralStatus}
    assert Action.SEND  # the demo goes through the services: every referral has a timeline
    assert all(r.transitions.exists() for r in Referral.objects.exclude(status="draft"))
