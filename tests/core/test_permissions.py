from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from harbour.accounts.models import Organization
from harbour.core.permissions import get_scoped_or_404, org_ids, require_role, scope
from harbour.core.roles import Role, role_at_least

pytestmark = pytest.mark.django_db


def test_roles_are_ordered_from_viewer_to_org_admin():
    # given / when / then
    assert role_at_least(Role.ORG_ADMIN, Role.COORDINATOR)
    assert role_at_least(Role.COORDINATOR, Role.COORDINATOR)
    assert not role_at_least(Role.PEER_WORKER, Role.OUTREACH_WORKER)
    assert not role_at_least(None, Role.VIEWER)
    assert not role_at_least("superhero", Role.VIEWER)


def test_scope_denies_anonymous_and_members_of_other_organizations(org_a, org_b, make_member):
    # given
    viewer_a = make_member(org_a, Role.VIEWER)
    # when
    visible = scope(Organization.objects.all(), viewer_a, field="self")
    # then
    assert list(visible) == [org_a]
    assert list(scope(Organization.objects.all(), AnonymousUser(), field="self")) == []
    assert list(scope(Organization.objects.all(), None, field="self")) == []


def test_scope_honours_the_minimum_role(org_a, make_member):
    viewer = make_member(org_a, Role.VIEWER)
    coordinator = make_member(org_a, Role.COORDINATOR)
    qs = Organization.objects.all()
    assert list(scope(qs, viewer, field="self", minimum=Role.COORDINATOR)) == []
    assert list(scope(qs, coordinator, field="self", minimum=Role.COORDINATOR)) == [org_a]


def test_inactive_users_and_inactive_organizations_see_nothing(org_a, make_member):
    user = make_member(org_a, Role.ORG_ADMIN)
    user.is_active = False
    user.save()
    assert org_ids(user) == []
    user.is_active = True
    user.save()
    org_a.is_active = False
    org_a.save()
    user.forget_roles()
    assert org_ids(user) == []


def test_require_role_is_404_for_strangers_and_403_for_a_low_role(org_a, org_b, make_member):
    viewer = make_member(org_a, Role.VIEWER)
    with pytest.raises(Http404):
        require_role(viewer, org_b.id, Role.VIEWER)
    with pytest.raises(PermissionDenied):
        require_role(viewer, org_a.id, Role.ORG_ADMIN)
    assert require_role(viewer, org_a.id, Role.VIEWER) == Role.VIEWER


def test_get_scoped_or_404_hides_whether_the_row_exists(org_a, org_b, make_member):
    user = make_member(org_a, Role.ORG_ADMIN)
    with pytest.raises(Http404):
        get_scoped_or_404(Organization.objects.all(), user, field="self", pk=org_b.pk)
    with pytest.raises(Http404):
        get_scoped_or_404(Organization.objects.all(), user, field="self", pk="not-a-uuid")
    assert get_scoped_or_404(Organization.objects.all(), user, field="self", pk=org_a.pk) == org_a
