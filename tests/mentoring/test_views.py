"""Mentoring pages: asking for a mentor without an account, and the coordinators' pages, which
only the owning organization's coordinators reach (404 for any other organization)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from harbour.core.models import AuditAction, AuditEvent
from harbour.core.roles import Role
from harbour.mentoring import services
from harbour.mentoring.models import Match, Mentor, MentorRequest, Program
from harbour.notify import services as notify

pytestmark = pytest.mark.django_db

ASK = {
    "alias": "River", "channel": "sms", "contact": "613 555 0181", "language": "en",
    "pathway": "harm_reduction", "also_pathways": ["twelve_step"], "online": "on",
    "in_person": "on", "fsa": "k7l", "consent": "on",
}  # fmt: skip


def test_anyone_can_ask_for_a_mentor_without_an_account(client, program, coordinator):
    first = client.get(reverse("mentoring:ask")).content.decode()
    assert 'name="fsa"' in first and 'name="program"' not in first  # first: where are you?
    page = client.get(reverse("mentoring:ask"), {"fsa": "k7l"})
    text = page.content.decode()
    assert 'href="tel:988"' in text and 'href="tel:18886886677"' not in text
    assert 'name="program"' in text and 'type="hidden"' in text  # one program: no choice
    done = client.post(reverse("mentoring:ask"), {**ASK, "program": str(program.pk)})
    assert done.status_code == 200
    assert "Your request is with the coordinator." in done.content.decode()
    request = MentorRequest.objects.get()
    assert (request.alias, request.contact, request.fsa) == ("River", "+16135550181", "K7L")
    assert (request.pathways, request.languages, request.source) == (
        " harm_reduction twelve_step ", " en ", "web",
    )  # fmt: skip
    while notify.deliver_due(limit=10):
        pass
    assert [m.to for m in mail.outbox] == [[coordinator.email]]
    event = AuditEvent.objects.get(action=AuditAction.MENTOR_REQUEST_CREATE)
    assert event.actor_label == "anonymous"


def test_asking_explains_bad_input_in_french_keeps_nothing_from_bots_and_is_limited(
    client, program
):
    client.cookies["django_language"] = "fr"
    bad = client.post(reverse("mentoring:ask"), {**ASK, "program": str(program.pk),
                                                 "contact": "12", "consent": ""})  # fmt: skip
    text = bad.content.decode()
    assert bad.status_code == 400
    assert "Ce champ est obligatoire." in text
    client.post(reverse("mentoring:ask"), {**ASK, "program": str(program.pk), "website": "x"})
    assert MentorRequest.objects.count() == 0
    bad = client.post(reverse("mentoring:ask"), {**ASK, "program": str(program.pk),
                                                 "contact": "12"})  # fmt: skip
    assert (
        "Ce n’est pas un numéro de cellulaire auquel nous pouvons écrire." in bad.content.decode()
    )
    codes = [client.post(reverse("mentoring:ask"), {**ASK, "program": str(program.pk)}).status_code
             for _ in range(3)]  # fmt: skip
    assert codes == [200, 200, 429]


def test_other_organizations_and_lower_roles_do_not_see_mentoring(
    org_a, org_b, make_member, staff_client, program, make_mentor, make_request, coordinator
):
    mentor = make_mentor()
    request = make_request()
    match = services.match_propose(actor=coordinator, request=request, mentor=mentor)
    urls = [
        reverse("mentoring-staff:dashboard", args=[org_a.slug]),
        reverse("mentoring-staff:request", args=[org_a.slug, request.pk]),
        reverse("mentoring-staff:mentor", args=[org_a.slug, mentor.pk]),
        reverse("mentoring-staff:match", args=[org_a.slug, match.pk]),
        reverse("mentoring-staff:mentors", args=[org_a.slug]),
    ]
    stranger = staff_client(make_member(org_b, Role.COORDINATOR))
    for url in urls:
        assert stranger.get(url).status_code == 404, url
    # their own organization's pages with org A's ids: 404 too
    for url in (
        reverse("mentoring-staff:request", args=[org_b.slug, request.pk]),
        reverse("mentoring-staff:match", args=[org_b.slug, match.pk]),
        reverse("mentoring-staff:mentor", args=[org_b.slug, mentor.pk]),
    ):
        assert stranger.get(url).status_code == 404, url
        assert stranger.post(url, {"action": "contact"}).status_code == 404, url
    outreach = staff_client(make_member(org_a, Role.OUTREACH_WORKER))
    assert outreach.get(urls[0]).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditAction.MENTOR_CONTACT_VIEW).exists()


def test_a_coordinator_finds_a_match_proposes_it_and_follows_it(
    org_a, coordinator, staff_client, program, make_mentor, make_request, twilio
):
    mentor = make_mentor(alias="Jordan")
    make_mentor(alias="Far", contact="+16135550179", languages=["fr"])
    request = make_request()
    staff = staff_client(coordinator)
    dashboard = staff.get(reverse("mentoring-staff:dashboard", args=[org_a.slug]))
    assert "River" in dashboard.content.decode()
    url = reverse("mentoring-staff:request", args=[org_a.slug, request.pk])
    page = staff.get(url).content.decode()
    assert "<strong>95.0</strong> / 100" in page
    assert "no shared language (1)" in page
    assert "+16135550181" not in page  # the contact is shown only on demand, audited
    shown = staff.post(url, {"action": "contact"}).content.decode()
    assert "+16135550181" in shown
    assert AuditEvent.objects.filter(action=AuditAction.MENTOR_CONTACT_VIEW).count() == 1
    staff.post(url, {"action": "propose", "mentor": str(mentor.pk)})
    match = Match.objects.get()
    assert (match.mentor, match.status) == (mentor, "proposed")
    services.answer(match=match, side="mentee", accept=True)
    services.answer(match=match, side="mentor", accept=True)
    page = staff.get(reverse("mentoring-staff:match", args=[org_a.slug, match.pk]))
    assert "Coming up" in page.content.decode()
    staff.post(reverse("mentoring-staff:match", args=[org_a.slug, match.pk]),
               {"action": "checked-in"})  # fmt: skip
    assert match.checkins.filter(state="done", done_by="coordinator").count() == 1
    staff.post(reverse("mentoring-staff:match", args=[org_a.slug, match.pk]),
               {"action": "completed"})  # fmt: skip
    match.refresh_from_db()
    assert (match.status, match.end_reason) == ("ended", "completed")
    assert MentorRequest.objects.get().status == "closed"


def test_coordinators_add_mentors_and_set_the_program(org_a, coordinator, staff_client):
    staff = staff_client(coordinator)
    saved = staff.post(reverse("mentoring-staff:program", args=[org_a.slug]), {
        "enabled": "on", "areas": "k7l, K7K", "checkin_every_days": "7", "answer_days": "2",
        "quiet_after_missed": "2", "proposal_days": "5", "purge_days": "60",
    })  # fmt: skip
    assert saved.status_code == 302
    program = Program.objects.get()
    assert (program.areas, program.checkin_every_days) == (" K7L K7K ", 7)
    bad = staff.post(reverse("mentoring-staff:mentors", args=[org_a.slug]), {
        "alias": "Sam", "channel": "sms", "contact": "nope", "lang": "en", "languages": ["en"],
        "pathways": ["smart"], "capacity": "2", "online": "on",
    })  # fmt: skip
    assert bad.status_code == 400
    assert "This is not a mobile number we can text." in bad.content.decode()
    staff.post(reverse("mentoring-staff:mentors", args=[org_a.slug]), {
        "alias": "Sam", "channel": "sms", "contact": "613-555-0177", "lang": "fr",
        "languages": ["fr", "en"], "pathways": ["smart"], "capacity": "3", "online": "on",
        "active": "on", "lived_experience": "on",
    })  # fmt: skip
    mentor = Mentor.objects.get()
    assert (mentor.contact, mentor.languages, mentor.capacity) == ("+16135550177", " fr en ", 3)
    # editing without retyping the contact keeps it
    staff.post(reverse("mentoring-staff:mentor", args=[org_a.slug, mentor.pk]), {
        "alias": "Sam", "channel": "sms", "contact": "", "lang": "fr", "languages": ["fr"],
        "pathways": ["smart"], "capacity": "1", "online": "on",
    })  # fmt: skip
    mentor.refresh_from_db()
    assert (mentor.contact, mentor.capacity, mentor.active) == ("+16135550177", 1, False)
    assert AuditEvent.objects.filter(action=AuditAction.MENTOR_CHANGE).count() == 2


def test_a_bad_or_forged_link_is_404(client):
    assert client.get(reverse("mentoring:link", args=["nope"])).status_code == 404
    forged = "eyJtIjoiMDAwIiwicyI6Im1lbnRvciJ9:forged"
    assert client.get(reverse("mentoring:link", args=[forged])).status_code == 404
