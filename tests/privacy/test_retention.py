"""Attack: wait past each table's retention, let the real periodic job run through the real task
queue, then search the WHOLE database (every column of every table, encrypted values decrypted)
for the personal details that were given. Nothing may be found.

The search is ``dbscan.find_everywhere`` (next to this file), loaded by path because the test
folders are not packages.
"""

from __future__ import annotations

import importlib.util
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from harbour.core import schedule
from harbour.core.models import AuditAction, AuditEvent
from harbour.core.roles import Role

pytestmark = pytest.mark.django_db

_spec = importlib.util.spec_from_file_location(
    "harbour_privacy_dbscan", Path(__file__).with_name("dbscan.py")
)
assert _spec is not None and _spec.loader is not None
dbscan = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dbscan)
find_everywhere = dbscan.find_everywhere


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run_job(name: str, run_tasks: Any) -> None:
    """Put the registered periodic job on the real queue and let the real worker run it."""
    job = {j.name: j for j in schedule.jobs()}[name]
    job.task.enqueue(**dict(job.kwargs))
    run_tasks()
    from django_tasks_db.models import DBTaskResult

    failed = list(DBTaskResult.objects.exclude(status="SUCCESSFUL").values_list("traceback"))
    assert not failed, failed


def later(days: float) -> Any:
    return time_machine.travel(timezone.now() + timedelta(days=days), tick=True)


# --- referrals ----------------------------------------------------------------------------------

ALIAS = "Zoé Quillfeather"
PHONE_E164 = "+16135550199"
EMAIL = "zoe.quillfeather@example.net"


@pytest.fixture
def two_orgs(make_org, make_member):  # type: ignore[no-untyped-def]
    sender = make_org("street-team", city="Kingston", province="ON")
    receiver = make_org("detox-centre", city="Kingston", province="ON")
    return {
        "sender": sender,
        "receiver": receiver,
        "worker": make_member(sender, Role.OUTREACH_WORKER),
        "coordinator": make_member(sender, Role.COORDINATOR),
        "intake": make_member(receiver, Role.PEER_WORKER),
    }


def referred_client(orgs: dict[str, Any], *, tag: str = "Quill", close: bool = True) -> Any:
    """A client with every detail (each text carries ``tag``), shared with the receiver,
    referred, messaged about both ways, noted internally, accepted with a note, and
    (``close``) completed."""
    from harbour.referrals import services
    from harbour.referrals.models import ConsentMethod, ContactMethod, Purpose, SharedField

    worker, intake = orgs["worker"], orgs["intake"]
    quill = tag == "Quill"
    client = services.client_create(
        actor=worker,
        organization=orgs["sender"],
        data=services.ClientData(
            alias=ALIAS if quill else f"Robin {tag}",
            contact_method=ContactMethod.PHONE,
            phone="613 555 0199" if quill else "613 555 0111",
            email=EMAIL if quill else "",
            contact_notes=f"ask for her at the Tuesday drop-in, says {tag}note",
            birth_year=1987,
        ),
    )
    services.consent_record(
        actor=worker,
        client=client,
        organizations=[orgs["receiver"]],
        fields=SharedField.values,
        purpose=Purpose.REFERRAL,
        method=ConsentMethod.VERBAL,
        valid_until=timezone.now() + timedelta(days=700),
    )
    referral = services.referral_create(
        actor=worker,
        client=client,
        receiver=orgs["receiver"],
        needs=f"detox bed after release from ward {tag}ward",
        send=True,
    )
    services.message_post(actor=intake, referral=referral, body=f"her sister: {tag}sister")
    services.message_post(
        actor=worker, referral=referral, body=f"staff only: {tag}internal", internal=True
    )
    referral = services.referral_transition(
        actor=intake, referral=referral, action="accept", note=f"intake booked {tag}intake"
    )
    if close:
        services.referral_transition(actor=intake, referral=referral, action="complete")
    client.refresh_from_db()
    return client


def secrets_of(client: Any) -> list[str]:
    return [
        ALIAS,
        "Quillfeather",
        PHONE_E164,
        "6135550199",
        EMAIL,
        "Quillnote",
        "Quillward",
        "Quillintake",
        "Quillsister",
        "Quillinternal",
        client.alias_index,
        client.phone_index,
        client.email_index,
    ]


def test_referral_client_details_are_nowhere_in_the_database_after_retention(two_orgs, run_tasks):
    from harbour.referrals.models import Client, Message, Referral

    # given a referred client whose referral closed today, and another whose referral is open
    client = referred_client(two_orgs)
    still_open = referred_client(two_orgs, tag="Openreferral", close=False)
    secrets = secrets_of(client)
    assert all(find_everywhere(value) for value in secrets)  # the scan finds them, encrypted
    # when a day short of a year passes and the job runs, nothing is erased yet
    with later(364):
        run_job("referrals.purge", run_tasks)
    assert find_everywhere("Quillfeather")
    # when a year has passed since the referral closed and the real job runs on the real queue
    with later(366):
        run_job("referrals.purge", run_tasks)
    # then no detail, and no blind index, is anywhere in the database
    left = {value: find_everywhere(value) for value in secrets}
    assert left == {value: [] for value in secrets}
    # and the pseudonymous rows stay for the figures
    client.refresh_from_db()
    assert client.erased_at is not None and (client.alias, client.birth_year) == ("", "")
    assert Referral.objects.filter(client=client, status="completed").count() == 1
    assert not Message.objects.filter(referral__client=client).exists()
    # and the client with an open referral keeps everything
    assert Client.objects.get(pk=still_open.pk).alias == "Robin Openreferral"
    assert Client.objects.get(pk=still_open.pk).erased_at is None
    assert find_everywhere("Openreferral")
    # and the audit event says how many, nothing else
    event = AuditEvent.objects.get(action=AuditAction.REFERRAL_RETENTION_PURGE)
    assert event.organization_id == two_orgs["sender"].pk
    assert event.metadata == {
        "clients": 1,
        "needs": 1,
        "notes": 1,
        "messages": 2,
        "consents": 1,
        "retention_days": 365,
    }


def test_an_organizations_shorter_retention_is_kept_and_bounded(two_orgs, make_member, run_tasks):
    from harbour.referrals import services
    from harbour.referrals.models import Client

    admin = make_member(two_orgs["sender"], Role.ORG_ADMIN)
    # a retention outside 30 days .. 7 years is refused
    for days in (29, 7 * 365 + 1):
        with pytest.raises(ValidationError):
            services.policy_set(actor=admin, organization=two_orgs["sender"], retention_days=days)
    services.policy_set(actor=admin, organization=two_orgs["sender"], retention_days=30)
    client = referred_client(two_orgs)
    secrets = secrets_of(client)
    with later(31):
        run_job("referrals.purge", run_tasks)
    assert {value: find_everywhere(value) for value in secrets} == {v: [] for v in secrets}
    assert Client.objects.get(pk=client.pk).erased_at is not None


def test_a_coordinator_erases_a_client_at_once_with_a_reason_code(two_orgs):
    from harbour.referrals import selectors, services
    from harbour.referrals.models import Referral

    # given a client with an open referral the receiver is working on
    client = referred_client(two_orgs, close=False)
    secrets = secrets_of(client)
    # a peer worker may not erase; a reason must be one of the codes
    with pytest.raises(Exception):  # noqa: B017 (403 PermissionDenied)
        services.client_erase(actor=two_orgs["worker"], client=client, reason="person-asked")
    with pytest.raises(ValidationError):
        services.client_erase(actor=two_orgs["coordinator"], client=client, reason="because")
    # when the person asks to be forgotten
    counts = services.client_erase(
        actor=two_orgs["coordinator"], client=client, reason="person-asked"
    )
    # then nothing of theirs is anywhere, today
    assert {value: find_everywhere(value) for value in secrets} == {v: [] for v in secrets}
    assert counts == {"clients": 1, "needs": 1, "notes": 1, "messages": 2, "consents": 1}
    # and the receiving organization sees a shell: consent ended, no details
    referral = Referral.objects.get(client=client)
    view = selectors.client_view(
        two_orgs["intake"], referral=referral, organization=two_orgs["receiver"]
    )
    assert view.hidden and view.alias is None and view.phone is None and view.needs is None
    event = AuditEvent.objects.get(action=AuditAction.REFERRAL_CLIENT_ERASE)
    assert event.metadata == {**counts, "reason": "person-asked"}
    # and it cannot be filled in again by mistake
    with pytest.raises(ValidationError):
        services.client_erase(actor=two_orgs["coordinator"], client=client, reason="duplicate")


# --- meetings: suggestion contacts --------------------------------------------------------------


@pytest.fixture
def meeting(make_org):  # type: ignore[no-untyped-def]
    from harbour.meetings.models import Attendance, Fellowship, Meeting

    org = make_org("recovery-meetings")
    fellowship = Fellowship.objects.get(slug="na")
    return Meeting.objects.create(
        organization=org,
        fellowship=fellowship,
        slug="tuesday-hope",
        name="Tuesday Hope",
        days="2",
        start_minute=19 * 60,
        timezone="America/Toronto",
        attendance=Attendance.IN_PERSON,
    )


def test_a_suggestion_contact_is_gone_once_reviewed_and_after_30_days_in_any_case(
    meeting, make_member, run_tasks
):
    from harbour.meetings import services

    coordinator = make_member(meeting.organization, Role.COORDINATOR)
    reviewed = services.suggestion_create(
        meeting=meeting, field="other", message="the door code changed",
        contact="quillreviewed@example.org",
    )  # fmt: skip
    waiting = services.suggestion_create(
        meeting=meeting, field="other", message="it moved upstairs", contact="613-555-0177"
    )
    assert find_everywhere("quillreviewed@example.org") and find_everywhere("613-555-0177")
    # when one is decided, its contact goes at once
    services.suggestion_review(suggestion=reviewed, actor=coordinator, accept=False)
    assert find_everywhere("quillreviewed@example.org") == []
    # and the one nobody reviewed is kept 30 days, then erased by the job
    with later(29):
        run_job("meetings.purge", run_tasks)
    assert find_everywhere("613-555-0177")
    with later(31):
        run_job("meetings.purge", run_tasks)
    assert find_everywhere("613-555-0177") == []
    waiting.refresh_from_db()
    assert waiting.status == "pending" and waiting.message == "it moved upstairs"
    # and a year after its review, the reviewed suggestion's words are gone too
    assert find_everywhere("the door code changed")
    with later(366):
        run_job("meetings.purge", run_tasks)
    assert find_everywhere("the door code changed") == []
    assert find_everywhere("it moved upstairs") == []  # a year unreviewed: deleted too


# --- outreach: encounter and response notes, client codes ---------------------------------------


def test_outreach_notes_and_client_codes_are_erased_after_two_years(
    make_org, make_member, run_tasks
):
    from harbour.outreach import services
    from harbour.outreach.models import Encounter, OverdoseResponse

    org = make_org("street-outreach")
    coordinator = make_member(org, Role.COORDINATOR)
    worker = make_member(org, Role.PEER_WORKER)
    van = services.team_save(actor=coordinator, organization=org, name="Van", fsa="K7L")
    base = {"team": str(van.pk), "fsa": "K7L"}
    services.encounters_record(
        actor=worker,
        organization=org,
        records=[
            {
                **base,
                "id": "5f0c9d1e-0000-4000-8000-000000000001",
                "people_new": 1,
                "notes": "Quillnotes sleeps behind the arena",
                "client_code": "QF4417",
                "consent": True,
            }
        ],
    )
    services.responses_record(
        actor=worker,
        organization=org,
        records=[
            {
                **base,
                "id": "5f0c9d1e-0000-4000-8000-000000000002",
                "naloxone_doses": 2,
                "route": "nasal",
                "outcome": "recovered",
                "notes": "Quillresponse, friend of the van",
            }
        ],
    )
    index = Encounter.objects.get().client_code_index
    secrets = ["Quillnotes", "QF4417", index, "Quillresponse"]
    assert all(find_everywhere(value) for value in secrets)
    # within two years the code still counts returning people
    with later(700):
        run_job("outreach.purge", run_tasks)
    assert Encounter.objects.get().client_code_index == index
    # after two years the real job erases notes, codes and the index
    with later(731):
        run_job("outreach.purge", run_tasks)
    assert {value: find_everywhere(value) for value in secrets} == {v: [] for v in secrets}
    assert Encounter.objects.get().people_new == 1 and OverdoseResponse.objects.count() == 1


# --- alerts: unconfirmed and ended subscriptions ------------------------------------------------

OUTBOX = {("notify_message", "recipient")}  # the outbox has its own retention (notify)


def test_an_email_never_confirmed_is_deleted_once_its_link_expired(run_tasks):
    from harbour.alerts import services
    from harbour.alerts.models import Subscription

    services.subscribe_email(email="quill.alerts@example.net", areas=["K7L"])
    confirmed = services.subscribe_email(email="quill.kept@example.net", areas=["K7L"])
    Subscription.objects.filter(pk=confirmed.pk).update(confirmed=True)
    index = Subscription.objects.get(confirmed=False).recipient_index
    with later(6):
        run_job("alerts.purge-subscriptions", run_tasks)
    assert Subscription.objects.count() == 2
    with later(8):
        run_job("alerts.purge-subscriptions", run_tasks)
        # the outbox's copy of the confirmation email has its own retention (7 days once sent)
        run_job("notify.deliver", run_tasks)
        run_job("notify.expire", run_tasks)
        run_job("core.prune-task-results", run_tasks)
    assert find_everywhere("quill.alerts@example.net") == []
    assert find_everywhere(index) == []
    assert list(Subscription.objects.values_list("recipient", flat=True)) == [
        "quill.kept@example.net"
    ]


def test_an_ended_subscription_leaves_only_a_blind_index_opt_out():
    from harbour.alerts import services
    from harbour.notify import services as notify
    from harbour.notify.models import OptOut

    services.subscribe_sms(phone="613 555 0123", areas=["K7L"])
    notify.inbound_sms(sender="+16135550123", text="STOP", message_id="SMquill1")
    hits = find_everywhere("6135550123")
    assert set(hits) <= OUTBOX, hits
    opt_out = OptOut.objects.get()
    assert re.fullmatch(r"[0-9a-f]{40}", opt_out.recipient_index)


# --- audit trail: no contact details in any event ------------------------------------------------

ADDRESS = re.compile(
    r"\b\d{1,5}\s+\w+\s+(street|st|avenue|ave|road|rd|rue|chemin|boulevard)\b", re.I
)


def test_no_audit_event_holds_a_phone_an_email_or_an_address(two_orgs, make_member, settings):
    from django.core.management import call_command

    from harbour.accounts import services as accounts
    from harbour.accounts.models import Membership
    from harbour.core.audit import personal_values

    # given the demo, and the staff actions that handle email addresses and phone numbers
    call_command("demo", verbosity=0)
    referred_client(two_orgs)
    admin = make_member(two_orgs["sender"], Role.ORG_ADMIN, email="quill.admin@example.org")
    invitation, _token = accounts.member_invite(
        organization=two_orgs["sender"], email="quill.invited@example.org", role="viewer",
        actor=admin,
    )  # fmt: skip
    accounts.invitation_revoke(invitation=invitation, actor=admin)
    membership = Membership.objects.get(user=two_orgs["coordinator"])
    accounts.member_role_change(membership=membership, role=Role.VIEWER, actor=admin)
    accounts.member_remove(membership=membership, actor=admin)
    # then no event's details hold anything that looks like a phone, an email or an address
    found = [
        (event.action, value)
        for event in AuditEvent.objects.all()
        for value in personal_values(event.metadata)
        + [v for v in [str(event.metadata)] if ADDRESS.search(v)]
    ]
    assert found == []
    assert AuditEvent.objects.filter(action=AuditAction.MEMBER_REMOVE).get().metadata == {
        "user": two_orgs["coordinator"].pk,
        "role": "viewer",
    }


# --- accounts: removed staff and ended invitations ----------------------------------------------


def test_a_removed_staff_member_is_pseudonymised_a_year_after_and_invitations_go(
    two_orgs, make_member, run_tasks
):
    from harbour.accounts import services as accounts
    from harbour.accounts.models import Membership, User

    # given a staff member who wrote on a referral, and an invitation that was revoked
    staff = make_member(two_orgs["receiver"], Role.PEER_WORKER, email="quill.staff@example.org")
    client = referred_client({**two_orgs, "intake": staff})
    admin = make_member(two_orgs["receiver"], Role.ORG_ADMIN, email="boss@detox.example.org")
    invitation, _token = accounts.member_invite(
        organization=two_orgs["receiver"], email="quill.invitee@example.org", role="viewer",
        actor=admin,
    )  # fmt: skip
    accounts.invitation_revoke(invitation=invitation, actor=admin)
    assert find_everywhere("quill.staff@example.org")
    # when they leave the organization
    accounts.member_remove(membership=Membership.objects.get(user=staff), actor=admin)
    # a month later the ended invitation is gone, the account still named
    with later(31):
        run_job("accounts.purge", run_tasks)
        run_job("notify.deliver", run_tasks)
        run_job("notify.expire", run_tasks)
        run_job("core.prune-task-results", run_tasks)
    assert find_everywhere("quill.invitee@example.org") == []
    assert User.objects.get(pk=staff.pk).email == "quill.staff@example.org"
    # a year after they left, nothing names them by email; the timeline names a pseudonym
    with later(366):
        run_job("accounts.purge", run_tasks)
        run_job("notify.deliver", run_tasks)
        run_job("notify.expire", run_tasks)
        run_job("core.prune-task-results", run_tasks)
    assert find_everywhere("quill.staff@example.org") == []
    staff.refresh_from_db()
    assert (staff.email, staff.is_active, staff.has_usable_password()) == (
        f"removed-{staff.pk}@removed.invalid",
        False,
        False,
    )
    from harbour.referrals.models import Transition

    labels = set(
        Transition.objects.filter(referral__client=client).values_list("actor_label", flat=True)
    )
    assert f"removed-{staff.pk}" in labels
    # and the other staff, still members, keep their names
    assert User.objects.get(pk=admin.pk).email == "boss@detox.example.org"


def test_the_audit_trail_is_kept_seven_years_then_deleted(two_orgs, run_tasks):
    referred_client(two_orgs)
    events = AuditEvent.objects.count()
    assert events > 0
    with later(6 * 365):
        run_job("core.audit-prune", run_tasks)
    assert AuditEvent.objects.count() == events
    with later(7 * 365 + 3):
        run_job("core.audit-prune", run_tasks)
    assert AuditEvent.objects.count() == 0


# --- volunteers who stopped: peer responders and peer mentors -----------------------------------


def test_a_responder_and_a_mentor_who_stopped_are_erased_a_year_later(
    make_org, make_member, run_tasks
):
    from harbour.checkins import services as checkins
    from harbour.checkins.models import Responder
    from harbour.mentoring import services as mentoring
    from harbour.mentoring.models import Mentor

    org = make_org("peer-network")
    coordinator = make_member(org, Role.COORDINATOR)
    responder = Responder.objects.create(
        organization=org,
        alias="Quillresponder",
        phone="+16135550166",
        phone_index=checkins.phone_index("+16135550166"),
        areas=" K7L ",
    )
    mentor = mentoring.mentor_save(
        actor=coordinator,
        organization=org,
        data=mentoring.MentorData(
            alias="Quillmentor",
            channel="sms",
            contact="613 555 0188",
            languages=["en"],
            pathways=["smart"],
            identities=["2slgbtq"],
        ),
    )
    secrets = [
        "Quillresponder",
        "6135550166",
        responder.phone_index,
        "Quillmentor",
        "6135550188",
        Mentor.objects.get().contact_index,
    ]
    assert all(find_everywhere(value) for value in secrets)
    # when both stop (made inactive), nothing goes while they may come back
    Responder.objects.filter(pk=responder.pk).update(active=False)
    Mentor.objects.filter(pk=mentor.pk).update(active=False)
    with later(300):
        run_job("checkins.responders-purge", run_tasks)
        run_job("mentoring.mentors-purge", run_tasks)
    assert find_everywhere("Quillmentor") and find_everywhere("Quillresponder")
    # a year later the real jobs erase them
    with later(366):
        run_job("checkins.responders-purge", run_tasks)
        run_job("mentoring.mentors-purge", run_tasks)
    assert {value: find_everywhere(value) for value in secrets} == {v: [] for v in secrets}
    assert Mentor.objects.get().identities == "" and Responder.objects.count() == 1


def test_audit_events_written_before_keep_no_email_after_the_migration(two_orgs):
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "harbour.core.migrations.0011_scrub_emails_from_audit_metadata"
    )
    coordinator = two_orgs["coordinator"]
    # given events as the old code wrote them
    old = [
        AuditEvent.objects.create(action="member-remove", metadata={"user": coordinator.email}),
        AuditEvent.objects.create(
            action="member-invite", metadata={"email": "quill.old@example.org", "role": "viewer"}
        ),
        AuditEvent.objects.create(action="login-failed", metadata={"account": "gone@example.org"}),
    ]
    # when the data migration runs
    migration.scrub(apps, None)
    # then
    assert [AuditEvent.objects.get(pk=e.pk).metadata for e in old] == [
        {"user": coordinator.pk},
        {"role": "viewer"},
        {"account": "removed"},
    ]
    assert find_everywhere("quill.old@example.org") == []


def test_expired_sign_in_sessions_are_deleted(run_tasks):
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session

    store = SessionStore()
    store["who"] = "quill"
    store.set_expiry(3600)
    store.create()
    with later(1 / 48):  # half an hour
        run_job("core.sessions-prune", run_tasks)
    assert Session.objects.count() == 1
    with later(2):
        run_job("core.sessions-prune", run_tasks)
    assert Session.objects.count() == 0
