from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from harbour.accounts import services
from harbour.accounts.models import ApiKey, Invitation, Membership, User
from harbour.core.models import AuditAction, AuditEvent
from harbour.core.roles import Role

pytestmark = pytest.mark.django_db


def actions(org) -> list[str]:
    return list(
        AuditEvent.objects.filter(organization=org)
        .order_by("created_at")
        .values_list("action", flat=True)
    )


def test_organization_create_is_bilingual_and_audited(make_org):
    # when
    org = make_org("harbour-house", name_en="Harbour House", name_fr="Maison du Port")
    # then
    assert org.name_en == "Harbour House"
    assert org.name_fr == "Maison du Port"
    assert actions(org) == [AuditAction.ORGANIZATION_CREATE]


def test_invite_queues_a_bilingual_email_that_the_worker_sends(org_a, admin_a, run_tasks):
    # when
    invitation, token = services.member_invite(
        organization=org_a, email="New.Person@Example.org", role=Role.OUTREACH_WORKER, actor=admin_a
    )
    assert mail.outbox == []  # queued, not sent inside the request
    run_tasks()
    # then
    assert invitation.email == "new.person@example.org"
    assert invitation.token_hash != token and len(invitation.token_hash) == 64
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@example.org"]
    assert f"/org/invitation/{token}/" in message.body
    assert "Accept the invitation here" in message.body
    assert "Acceptez l’invitation ici" in message.body
    assert AuditAction.MEMBER_INVITE in actions(org_a)


def test_only_org_admins_can_invite(org_a, org_b, make_member):
    coordinator = make_member(org_a, Role.COORDINATOR)
    admin_b = make_member(org_b, Role.ORG_ADMIN)
    with pytest.raises(PermissionDenied):
        services.member_invite(
            organization=org_a, email="x@example.org", role="viewer", actor=coordinator
        )
    with pytest.raises(Exception) as exc:
        services.member_invite(
            organization=org_a, email="x@example.org", role="viewer", actor=admin_b
        )
    assert exc.value.__class__.__name__ == "Http404"
    assert Invitation.objects.count() == 0


def test_inviting_an_existing_member_or_with_a_bad_role_is_refused(org_a, admin_a):
    with pytest.raises(ValidationError) as exc:
        services.member_invite(
            organization=org_a, email=admin_a.email, role="viewer", actor=admin_a
        )
    assert exc.value.message_dict == {"email": ["This person is already a member."]}
    with pytest.raises(ValidationError):
        services.member_invite(
            organization=org_a, email="y@example.org", role="king", actor=admin_a
        )


def test_a_new_invitation_replaces_the_pending_one(org_a, admin_a):
    _first, first_token = services.member_invite(
        organization=org_a, email="p@example.org", role="viewer", actor=admin_a
    )
    services.member_invite(
        organization=org_a, email="p@example.org", role="coordinator", actor=admin_a
    )
    with pytest.raises(services.InvitationError, match="withdrawn"):
        services.invitation_for_token(first_token)
    assert Invitation.objects.pending().get().role == "coordinator"


def test_new_user_accepts_and_becomes_a_member_once(org_a, admin_a):
    invitation, token = services.member_invite(
        organization=org_a, email="p@example.org", role=Role.PEER_WORKER, actor=admin_a
    )
    user = services.invitation_accept_new_user(token=token, password="a-long-pass-phrase")
    assert user.check_password("a-long-pass-phrase")
    assert user.org_roles() == {org_a.id: Role.PEER_WORKER}
    invitation.refresh_from_db()
    assert invitation.accepted_by == user and invitation.state == "accepted"
    with pytest.raises(services.InvitationError, match="already been used"):
        services.invitation_accept(token=token, user=user)
    assert Membership.objects.filter(user=user).count() == 1
    assert actions(org_a)[-1] == AuditAction.INVITATION_ACCEPT


def test_expired_and_unknown_and_misdirected_invitations_say_why(org_a, admin_a, make_member):
    other = User.objects.create_user(email="other@example.org", password="x-long-password")
    _inv, token = services.member_invite(
        organization=org_a, email="p@example.org", role="viewer", actor=admin_a
    )
    with pytest.raises(services.InvitationError, match="different email"):
        services.invitation_accept(token=token, user=other)
    with pytest.raises(services.InvitationError, match="not valid"):
        services.invitation_for_token("nonsense")
    with (
        time_machine.travel(timezone.now() + timedelta(days=8)),
        pytest.raises(services.InvitationError, match="expired"),
    ):
        services.invitation_for_token(token)


def test_revoked_invitation_cannot_be_used(org_a, admin_a):
    invitation, token = services.member_invite(
        organization=org_a, email="p@example.org", role="viewer", actor=admin_a
    )
    services.invitation_revoke(invitation=invitation, actor=admin_a)
    with pytest.raises(services.InvitationError, match="withdrawn"):
        services.invitation_accept_new_user(token=token, password="a-long-pass-phrase")
    assert not User.objects.filter(email="p@example.org").exists()
    assert AuditAction.INVITATION_REVOKE in actions(org_a)


def test_role_change_and_removal_keep_one_admin(org_a, admin_a, make_member):
    viewer = make_member(org_a, Role.VIEWER)
    admin_membership = Membership.objects.get(user=admin_a)
    viewer_membership = Membership.objects.get(user=viewer)
    # the last admin cannot step down or be removed
    with pytest.raises(ValidationError):
        services.member_role_change(membership=admin_membership, role=Role.VIEWER, actor=admin_a)
    with pytest.raises(ValidationError):
        services.member_remove(membership=admin_membership, actor=admin_a)
    # a second admin makes it possible
    services.member_role_change(membership=viewer_membership, role=Role.ORG_ADMIN, actor=admin_a)
    services.member_role_change(membership=admin_membership, role=Role.COORDINATOR, actor=viewer)
    admin_a.forget_roles()
    assert admin_a.org_roles() == {org_a.id: Role.COORDINATOR}
    services.member_remove(membership=admin_membership, actor=viewer)
    assert not Membership.objects.filter(user=admin_a).exists()
    event = (
        AuditEvent.objects.filter(action=AuditAction.MEMBER_ROLE_CHANGE)
        .order_by("created_at")
        .last()
    )
    assert event.metadata == {"user": admin_a.pk, "from": "org_admin", "to": "coordinator"}
    assert event.actor == viewer


def test_api_key_is_stored_hashed_authenticates_and_can_be_revoked(org_a, admin_a):
    new = services.api_key_create(
        organization=org_a, name="lab upload", role="coordinator", actor=admin_a
    )
    assert new.secret.startswith(f"hbk_{new.api_key.prefix}_")
    assert new.secret not in new.api_key.key_hash
    assert services.api_key_authenticate(new.secret) == new.api_key
    assert services.api_key_authenticate(new.secret + "x") is None
    assert services.api_key_authenticate("hbk_nope_nope") is None
    assert services.api_key_authenticate("") is None
    services.api_key_revoke(api_key=new.api_key, actor=admin_a)
    assert services.api_key_authenticate(new.secret) is None
    metadata = AuditEvent.objects.get(action=AuditAction.API_KEY_CREATE).metadata
    assert metadata == {"name": "lab upload", "prefix": new.api_key.prefix, "role": "coordinator"}
    assert ApiKey.objects.get().org_roles() == {}


def test_audit_metadata_refuses_secrets(org_a):
    from harbour.core import audit

    with pytest.raises(ValueError, match="secrets"):
        audit.record(action=AuditAction.LOGIN, metadata={"password": "x"})
