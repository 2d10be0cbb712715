"""Referrals end to end below the browser: clients and the duplicate check, consent, the
lifecycle with its compare-and-set, what the receiving organization may see, messages and
notes, reminders in business days, self-referrals, scoping (404 for everyone else) and the
gap report pages."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from harbour.core.models import AuditEvent
from harbour.core.roles import Role
from harbour.notify.models import Message as Outbox
from harbour.referrals import selectors, services
from harbour.referrals.lifecycle import Action
from harbour.referrals.models import (
    Client,
    Referral,
    ReferralStatus,
    SharedField,
    Transition,
)
from harbour.referrals.models import Message as ReferralMessage

pytestmark = pytest.mark.django_db


def send(worker, client, service):  # type: ignore[no-untyped-def]
    return services.referral_create(
        actor=worker, client=client, service=service, needs="Day program, mornings", send=True
    )


def act(actor, referral, action, org, **kw):  # type: ignore[no-untyped-def]
    return services.referral_transition(
        actor=actor, referral=referral, action=action, organization=org, **kw
    )


def raw(table: str, column: str, pk) -> str:  # type: ignore[no-untyped-def]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM {table} WHERE id = %s",  # noqa: S608 -- names from the test
            [pk.hex if connection.vendor == "sqlite" else str(pk)],
        )
        return str(cursor.fetchone()[0])


# --- clients ------------------------------------------------------------------------------


def test_client_details_are_encrypted_at_rest(client_of):
    # given
    person = client_of("Robin", phone="613-555-0142", birth_year=1988)
    # when the row is read without the key
    stored = {c: raw("referrals_client", c, person.pk) for c in ("alias", "phone", "birth_year")}
    # then nothing in it is readable, and the model reads it back
    assert "Robin" not in stored["alias"] and "555" not in stored["phone"]
    assert "1988" not in stored["birth_year"]
    again = Client.objects.get(pk=person.pk)
    assert (again.alias, again.phone, again.birth_year) == ("Robin", "+16135550142", "1988")


def test_duplicates_are_found_inside_the_organization_only(
    client_of, worker, outreach, stranger, make_member
):
    # given Zoé is a client of the outreach team
    client_of("Zoé B.", phone="613 555 0101", birth_year=1990)
    same_name = services.ClientData(alias="zoe  b", contact_method="worker", contact_notes="x")
    same_phone = services.ClientData(alias="Someone", contact_method="phone", phone="6135550101")
    other_year = services.ClientData(
        alias="Zoe B", contact_method="worker", contact_notes="x", birth_year=1971
    )
    # then the same alias (accents, case, punctuation folded) or phone is a possible duplicate
    assert (
        len(services.possible_duplicates(actor=worker, organization=outreach, data=same_name)) == 1
    )
    assert (
        len(services.possible_duplicates(actor=worker, organization=outreach, data=same_phone)) == 1
    )
    # but not the same alias with another year of birth
    assert services.possible_duplicates(actor=worker, organization=outreach, data=other_year) == []
    # and another organization never learns that the person exists elsewhere
    theirs = make_member(stranger, Role.OUTREACH_WORKER)
    assert services.possible_duplicates(actor=theirs, organization=stranger, data=same_name) == []
    # even their indexes differ: nothing links the same person across organizations
    elsewhere = services.client_create(actor=theirs, organization=stranger, data=same_name)
    assert elsewhere.alias_index != Client.objects.get(organization=outreach).alias_index


def test_a_client_needs_the_contact_their_method_says(worker, outreach):
    with pytest.raises(ValidationError) as err:
        services.client_create(
            actor=worker,
            organization=outreach,
            data=services.ClientData(
                alias=" ", contact_method="phone", email="nope", birth_year=1800
            ),
        )
    assert set(err.value.message_dict) == {"alias", "phone", "email", "birth_year"}
    with pytest.raises(ValidationError) as err:
        services.client_create(
            actor=worker, organization=outreach, data=services.ClientData(alias="Kim")
        )
    assert set(err.value.message_dict) == {"contact_notes"}  # "through a worker": which one?
    assert Client.objects.count() == 0


# --- consent and sending --------------------------------------------------------------------


def test_no_referral_goes_out_without_consent_covering_the_receiver(
    client_of, consent, worker, centre, stranger, listing
):
    # given a client and a listing of the recovery centre
    person = client_of()
    service = listing()
    # when there is no consent at all: refused, and nothing is kept
    with pytest.raises(ValidationError) as err:
        send(worker, person, service)
    assert err.value.code == "no_consent"
    assert "No consent covers recovery-centre services" in err.value.messages[0]
    assert Referral.objects.count() == 0
    # consent for another organization does not cover the centre
    consent(person, stranger)
    with pytest.raises(ValidationError):
        send(worker, person, service)
    # nor does an expired one
    old = consent(person, centre)
    type(old).objects.filter(pk=old.pk).update(valid_until=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ValidationError):
        send(worker, person, service)
    # consent covering the centre: sent, with the consent it rests on
    good = consent(person, centre)
    referral = send(worker, person, service)
    assert (referral.status, referral.consent_id, referral.receiver_id) == (
        ReferralStatus.SENT,
        good.pk,
        centre.pk,
    )
    assert (referral.service_type, referral.area) == ("recovery", "K7K")
    assert referral.remind_at is not None and referral.reminders_sent == 0


def test_inactive_or_unowned_services_and_own_organization_are_refused(
    client_of, consent, worker, centre, outreach, listing
):
    person = client_of()
    consent(person, centre)
    for status, code in (
        ("inactive", "inactive_service"),
        ("temporarily closed", "inactive_service"),
    ):
        with pytest.raises(ValidationError) as err:
            send(worker, person, listing(status=status))
        assert err.value.code == code
    assert "is not taking referrals" in str(err.value.messages[0])
    with pytest.raises(ValidationError) as err:
        send(worker, person, listing(owner=None))
    assert err.value.code == "no_receiver"
    with pytest.raises(ValidationError) as err:
        services.referral_create(actor=worker, client=person, receiver=outreach)
    assert err.value.code == "same_organization"
    # a draft to a service that then closes cannot be sent either
    service = listing()
    draft = services.referral_create(actor=worker, client=person, service=service)
    type(service).objects.filter(pk=service.pk).update(status="inactive")
    with pytest.raises(ValidationError) as err:
        act(worker, draft, Action.SEND, outreach)
    assert err.value.code == "inactive_service"


# --- the lifecycle --------------------------------------------------------------------------


def test_the_whole_loop_keeps_each_step_and_tells_the_other_side(
    client_of, consent, worker, intake, centre_coordinator, outreach, centre, listing
):
    # given a sent referral
    person = client_of()
    consent(person, centre)
    referral = send(worker, person, listing())
    # when the centre acknowledges, accepts, starts and completes
    for action in (Action.RECEIVE, Action.ACCEPT, Action.START, Action.COMPLETE):
        referral = act(intake, referral, action, centre, note=f"{action} done")
    # then every step is kept with who, when, why
    steps = list(
        Transition.objects.filter(referral=referral).values_list(
            "action", "from_status", "to_status", "organization__slug"
        )
    )
    assert steps == [
        ("send", "draft", "sent", "outreach-team"),
        ("receive", "sent", "received", "recovery-centre"),
        ("accept", "received", "accepted", "recovery-centre"),
        ("start", "accepted", "in_progress", "recovery-centre"),
        ("complete", "in_progress", "completed", "recovery-centre"),
    ]
    assert Transition.objects.filter(referral=referral).last().note == "complete done"  # type: ignore[union-attr]
    assert referral.version == 5 and referral.closed_at is not None
    assert referral.acknowledged_at is not None and referral.remind_at is None
    assert (
        AuditEvent.objects.filter(
            action="referral-status-change", object_id=str(referral.pk)
        ).count()
        == 5
    )
    # the centre's coordinator was told of the new referral; the worker of each step
    keys = sorted(Outbox.objects.values_list("idempotency_key", flat=True))
    assert len([k for k in keys if k.endswith(f":{centre_coordinator.pk}:email")]) == 1
    assert len([k for k in keys if k.endswith(f":{worker.pk}:email")]) == 4
    # and no email carries the client's details
    bodies = " ".join(m.body + m.subject for m in Outbox.objects.all())
    assert "Robin" not in bodies and "555" not in bodies and "mornings" not in bodies


def test_an_illegal_change_is_refused_with_the_reason(
    client_of, consent, worker, intake, centre, outreach, listing
):
    person = client_of()
    consent(person, centre)
    referral = send(worker, person, listing())
    with pytest.raises(ValidationError) as err:
        act(intake, referral, Action.DECLINE, centre)
    assert err.value.messages == ["Choose a reason."]
    referral = act(intake, referral, Action.DECLINE, centre, reason_code="no_capacity")
    with pytest.raises(ValidationError) as err:
        act(intake, referral, Action.ACCEPT, centre)
    assert err.value.code == "illegal_transition"
    assert err.value.messages == ["This referral is “Declined”: “Accept” is not possible now."]
    with pytest.raises(ValidationError) as err:
        act(worker, referral, Action.ACCEPT, outreach)
    assert err.value.messages == ["Only the other organization can do that."]
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.DECLINED


def test_two_staff_answering_from_the_same_page_one_wins_the_other_is_told(
    client_of, consent, worker, intake, centre_coordinator, centre, listing
):
    # given both staff opened the referral at version 1
    person = client_of()
    consent(person, centre)
    referral = send(worker, person, listing())
    seen = referral.version
    # when one accepts and the other, from the page they still have open, declines
    act(intake, referral, Action.ACCEPT, centre, expected_version=seen)
    with pytest.raises(services.Conflict) as err:
        act(
            centre_coordinator, referral, Action.DECLINE, centre,
            reason_code="no_capacity", expected_version=seen,
        )  # fmt: skip
    # then the second is told who won, and nothing of theirs was written
    assert err.value.message == (
        "Someone else changed this referral first: it is now “Accepted” (recovery-centre "
        "services). Nothing was changed."
    )
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.ACCEPTED
    assert Transition.objects.filter(referral=referral, action="decline").count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and two connections: PostgreSQL"
)
def test_two_threads_accepting_and_declining_at_once_give_one_winner(
    client_of, consent, worker, intake, centre_coordinator, centre, listing
):
    person = client_of()
    consent(person, centre)
    referral = send(worker, person, listing())
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def run(name, actor, action, **kw):  # type: ignore[no-untyped-def]
        from django.db import close_old_connections

        try:
            barrier.wait(5)
            act(actor, Referral.objects.get(pk=referral.pk), action, centre, **kw)
            results[name] = "won"
        except (services.Conflict, ValidationError) as exc:
            results[name] = type(exc).__name__
        finally:
            close_old_connections()

    threads = [
        threading.Thread(target=run, args=("accept", intake, Action.ACCEPT)),
        threading.Thread(
            target=run,
            args=("decline", centre_coordinator, Action.DECLINE),
            kwargs={"reason_code": "no_capacity"},
        ),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(results.values()) == ["ValidationError", "won"]  # the loser: illegal now
    final = Referral.objects.get(pk=referral.pk)
    winner = "accept" if results["accept"] == "won" else "decline"
    assert final.status == {"accept": "accepted", "decline": "declined"}[winner]
    assert final.version == 2
    assert Transition.objects.filter(referral=referral).count() == 2  # send + the winner


def test_hold_resume_and_accept_from_the_waitlist(
    client_of, consent, worker, intake, centre, listing
):
    person = client_of()
    consent(person, centre)
    referral = send(worker, person, listing())
    referral = act(intake, referral, Action.HOLD, centre, reason_code="waitlist")
    assert (referral.status, referral.held_from) == ("on_hold", "sent")
    assert referral.acknowledged_at is not None  # the hold answered the referral
    referral = act(intake, referral, Action.ACCEPT, centre)
    assert (referral.status, referral.held_from) == ("accepted", "")


def test_redirect_leaves_a_draft_for_the_sender_to_send_with_consent(
    client_of, consent, worker, intake, outreach, centre, stranger, listing
):
    person = client_of()
    consent(person, centre)
    referral = send(worker, person, listing())
    referral = act(
        intake, referral, Action.REDIRECT, centre, reason_code="better_fit",
        note="They run evening groups", redirect_to=stranger,
    )  # fmt: skip
    child = Referral.objects.get(parent=referral)
    assert (referral.status, child.status, child.sender_id, child.receiver_id) == (
        "redirected", "draft", outreach.pk, stranger.pk,
    )  # fmt: skip
    # the sender cannot send it before the person agrees to share with the new organization
    with pytest.raises(ValidationError) as err:
        act(worker, child, Action.SEND, outreach)
    assert err.value.code == "no_consent"
    consent(person, stranger)
    assert act(worker, child, Action.SEND, outreach).status == "sent"


# --- what the receiving organization sees ---------------------------------------------------


def test_the_receiver_sees_what_consent_allows_and_revoking_hides_it_at_once(
    client_of, consent, worker, intake, outreach, centre, listing
):
    # given consent to share alias and contact (not the year of birth, not the needs)
    person = client_of("Robin")
    given = consent(person, centre, fields=[SharedField.ALIAS, SharedField.CONTACT])
    referral = send(worker, person, listing())
    # when the centre reads it
    seen = selectors.client_view(intake, referral=referral, organization=centre)
    # then only the consented details, and the view is on the outreach team's audit trail
    assert (seen.hidden, seen.alias, seen.phone, seen.birth_year, seen.needs, seen.language) == (
        False, "Robin", "+16135550142", None, None, None,
    )  # fmt: skip
    event = AuditEvent.objects.get(action="referral-client-view")
    assert event.organization_id == outreach.pk
    assert event.metadata["viewer_organization"] == str(centre.pk)
    assert event.metadata["fields"] == ["alias", "contact"]
    # the owner sees everything, without an audit event for reading its own client
    own = selectors.client_view(worker, referral=referral, organization=outreach)
    assert (own.alias, own.birth_year, own.needs) == ("Robin", "1988", "Day program, mornings")
    # when the person revokes their consent
    services.consent_revoke(actor=worker, consent=given)
    # then the very next read shows nothing, and the referral stays as a shell
    hidden = selectors.client_view(intake, referral=referral, organization=centre)
    assert (hidden.hidden, hidden.why_hidden, hidden.alias, hidden.phone) == (
        True, "revoked", None, None,
    )  # fmt: skip
    assert selectors.referral_for(intake, referral_id=referral.pk, organization=centre) == referral
    assert AuditEvent.objects.filter(action="referral-client-view").count() == 1
    assert AuditEvent.objects.filter(action="referral-consent-revoke").count() == 1
    with pytest.raises(ValidationError):
        services.consent_revoke(actor=worker, consent=given)


def test_messages_both_see_internal_notes_stay_home(
    client_of, consent, worker, intake, outreach, centre, listing
):
    person = client_of()
    consent(person, centre)
    referral = send(worker, person, listing())
    services.message_post(
        actor=intake, referral=referral, body="Can they come Monday?", organization=centre
    )
    services.message_post(
        actor=intake,
        referral=referral,
        body="Bed 4 may free up",
        internal=True,
        organization=centre,
    )
    services.message_post(
        actor=worker, referral=referral, body="Monday works", organization=outreach
    )
    theirs = [
        m.body for m in selectors.messages_for(worker, referral=referral, organization=outreach)
    ]
    ours = [m.body for m in selectors.messages_for(intake, referral=referral, organization=centre)]
    assert theirs == ["Can they come Monday?", "Monday works"]
    assert ours == ["Can they come Monday?", "Bed 4 may free up", "Monday works"]
    stored = raw("referrals_message", "body", ReferralMessage.objects.get(internal=True).pk)
    assert "Bed" not in stored
    # the other side is told of each message (not of the note)
    keys = list(
        Outbox.objects.filter(idempotency_key__contains=":msg:").values_list(
            "idempotency_key", flat=True
        )
    )
    assert len(keys) == 2
    assert len([k for k in keys if k.endswith(f":{worker.pk}:email")]) == 1


# --- reminders ------------------------------------------------------------------------------

FRIDAY_3PM = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)  # 15:00 in Kingston


def test_unacknowledged_referrals_remind_the_centre_then_its_admins_once_each(
    client_of, consent, worker, intake, centre_coordinator, centre_admin, centre, listing
):
    person = client_of()
    consent(person, centre)
    with time_machine.travel(FRIDAY_3PM, tick=False) as clock:
        referral = send(worker, person, listing())
        assert referral.remind_at == datetime(2026, 11, 24, 20, 0, tzinfo=UTC)  # Tuesday 15:00
        clock.move_to(datetime(2026, 11, 24, 19, 59, tzinfo=UTC))
        assert services.reminders_send() == 0
        # two business days later: the coordinators and admins of the centre
        clock.move_to(datetime(2026, 11, 24, 20, 0, tzinfo=UTC))
        assert services.reminders_send() == 1
        first = set(
            Outbox.objects.filter(idempotency_key__contains=":remind:1:").values_list(
                "recipient", flat=True
            )
        )
        assert first == {centre_coordinator.email, centre_admin.email}
        assert services.reminders_send() == 0  # a rerun (or a second worker) sends nothing
        # a business day more: its admins
        clock.move_to(datetime(2026, 11, 25, 20, 0, tzinfo=UTC))
        assert services.reminders_send() == 1
        second = set(
            Outbox.objects.filter(idempotency_key__contains=":remind:2:").values_list(
                "recipient", flat=True
            )
        )
        assert second == {centre_admin.email}
        clock.move_to(datetime(2026, 12, 30, tzinfo=UTC))
        assert services.reminders_send() == 0
    assert Outbox.objects.filter(idempotency_key__contains=":remind:").count() == 3


def test_the_worker_reminds_only_referrals_nobody_answered(
    client_of, consent, worker, intake, centre_coordinator, centre, listing, run_tasks
):
    from harbour.referrals.tasks import remind

    # given two referrals sent on Friday; the centre acknowledges one
    service = listing()
    first, second = client_of("Robin"), client_of("Kim", phone="613 555 0199")
    consent(first, centre)
    consent(second, centre)
    with time_machine.travel(FRIDAY_3PM, tick=False):
        waiting = send(worker, first, service)
        answered = send(worker, second, service)
    act(intake, answered, Action.RECEIVE, centre)
    # when the periodic job runs on the real worker on Thursday
    with time_machine.travel(datetime(2026, 11, 26, 15, 0, tzinfo=UTC), tick=False):
        remind.enqueue()
        run_tasks()
    # then only the waiting one was reminded
    keys = list(
        Outbox.objects.filter(idempotency_key__contains=":remind:").values_list(
            "idempotency_key", flat=True
        )
    )
    assert keys == [f"referral:{waiting.pk}:remind:1:{centre_coordinator.pk}:email"]
