"""Staff pages: my organizations, members and invitations, API keys, audit trail. Thin."""

from __future__ import annotations

from typing import Any

from allauth.account.internal.flows.login import record_authentication
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from harbour.accounts import audit_display, selectors, services
from harbour.accounts.forms import (
    AcceptInvitationForm,
    ApiKeyForm,
    AuditFilterForm,
    InviteForm,
    RoleForm,
)
from harbour.accounts.models import User
from harbour.core.permissions import role_in
from harbour.core.roles import Role, role_at_least


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _error_text(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """A staff member's home (where sign-in lands): what needs them now in each of their
    organizations, then their everyday pages."""
    from harbour.accounts import home

    homes = home.for_actor(request.user)
    return render(
        request,
        "accounts/dashboard.html",
        {"homes": homes, "nothing": not any(h.sections for h in homes)},
    )


@login_required
def organization_detail(request: HttpRequest, slug: str) -> HttpResponse:
    org = selectors.organization_for(request.user, slug=slug)
    role = role_in(request.user, org.id)
    return render(
        request,
        "accounts/organization.html",
        {
            "org": org,
            "role_label": Role(role).label if role else "",
            "is_admin": role_at_least(role, Role.ORG_ADMIN),
            "can_record": role_at_least(role, Role.PEER_WORKER),
            "can_alert": role_at_least(role, Role.OUTREACH_WORKER),
            "members": selectors.members_of(request.user, organization=org),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest, slug: str) -> HttpResponse:
    org = selectors.organization_for(request.user, slug=slug, minimum=Role.ORG_ADMIN)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _token = services.member_invite(
                organization=org,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                actor=_user(request),
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": invitation.email}
            )
            return redirect("accounts:members", slug=org.slug)
    return render(
        request,
        "accounts/members.html",
        {
            "org": org,
            "form": form,
            "members": selectors.members_of(request.user, organization=org),
            "invitations": selectors.invitations_of(request.user, organization=org),
            "roles": Role.choices,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def member_role(request: HttpRequest, slug: str, membership_id: str) -> HttpResponse:
    org = selectors.organization_for(request.user, slug=slug, minimum=Role.ORG_ADMIN)
    membership = selectors.membership_for(
        request.user, organization=org, membership_id=membership_id
    )
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a valid role."))
    else:
        try:
            services.member_role_change(
                membership=membership, role=form.cleaned_data["role"], actor=_user(request)
            )
            messages.success(request, _("Role changed for %(user)s.") % {"user": membership.user})
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
    return redirect("accounts:members", slug=org.slug)


@login_required
@require_POST
def member_remove(request: HttpRequest, slug: str, membership_id: str) -> HttpResponse:
    org = selectors.organization_for(request.user, slug=slug, minimum=Role.ORG_ADMIN)
    membership = selectors.membership_for(
        request.user, organization=org, membership_id=membership_id
    )
    try:
        services.member_remove(membership=membership, actor=_user(request))
        messages.success(request, _("%(user)s was removed.") % {"user": membership.user})
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    return redirect("accounts:members", slug=org.slug)


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, slug: str, invitation_id: str) -> HttpResponse:
    org = selectors.organization_for(request.user, slug=slug, minimum=Role.ORG_ADMIN)
    invitation = selectors.invitation_for(
        request.user, organization=org, invitation_id=invitation_id
    )
    services.invitation_revoke(invitation=invitation, actor=_user(request))
    messages.success(request, _("Invitation withdrawn."))
    return redirect("accounts:members", slug=org.slug)


INVITATION_SESSION_KEY = "harbour_invitation"


def invitation_link(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the email: keep its token in the session and continue at a URL without it,
    so the token is not left in server logs, the history or a Referer header past this first
    request."""
    request.session[INVITATION_SESSION_KEY] = token
    return redirect("accounts:invitation")


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest) -> HttpResponse:
    token = str(request.session.get(INVITATION_SESSION_KEY, ""))
    try:
        invite = services.invitation_for_token(token)
    except services.InvitationError as exc:
        return render(request, "accounts/invitation_invalid.html", {"reason": str(exc)}, status=404)
    context: dict[str, object] = {"invitation": invite}
    user = request.user
    if user.is_authenticated:
        if request.method == "POST":
            try:
                services.invitation_accept(token=token, user=_user(request))
            except services.InvitationError as exc:
                messages.error(request, str(exc))
                return render(request, "accounts/invitation.html", context, status=400)
            request.session.pop(INVITATION_SESSION_KEY, None)
            messages.success(request, _("You joined %(org)s.") % {"org": invite.organization.name})
            return redirect("accounts:organization", slug=invite.organization.slug)
        return render(request, "accounts/invitation.html", context)
    if User.objects.filter(email__iexact=invite.email).exists():
        context["login_url"] = f"{reverse('account_login')}?next={request.path}"
        return render(request, "accounts/invitation.html", context)
    form = AcceptInvitationForm(request.POST or None, email=invite.email)
    if request.method == "POST" and form.is_valid():
        try:
            new_user = services.invitation_accept_new_user(
                token=token,
                password=form.cleaned_data["password1"],
                display_name=form.cleaned_data["display_name"],
            )
        except services.InvitationError as exc:
            form.add_error(None, str(exc))
        else:
            request.session.pop(INVITATION_SESSION_KEY, None)
            login(request, new_user, backend="django.contrib.auth.backends.ModelBackend")
            # they chose their password in this very request: that is a fresh authentication,
            # as allauth's re-authentication page records it, so setting up TOTP next does not
            # ask for the password again (the second factor is still required before anything)
            record_authentication(request, new_user, method="password", reauthenticated=True)
            messages.success(
                request,
                _("Welcome to Harbour. Set up two-factor authentication to finish."),
            )
            return redirect("accounts:organization", slug=invite.organization.slug)
    context["form"] = form
    return render(request, "accounts/invitation.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest, slug: str) -> HttpResponse:
    org = selectors.organization_for(request.user, slug=slug, minimum=Role.ORG_ADMIN)
    form = ApiKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        new_key = services.api_key_create(
            organization=org,
            name=form.cleaned_data["name"],
            role=form.cleaned_data["role"],
            actor=_user(request),
        )
        form = ApiKeyForm()
    return render(
        request,
        "accounts/api_keys.html",
        {
            "org": org,
            "form": form,
            "new_key": new_key,
            "keys": selectors.api_keys_of(request.user, organization=org),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def api_key_revoke(request: HttpRequest, slug: str, key_id: str) -> HttpResponse:
    org = selectors.organization_for(request.user, slug=slug, minimum=Role.ORG_ADMIN)
    key = selectors.api_key_for(request.user, organization=org, key_id=key_id)
    services.api_key_revoke(api_key=key, actor=_user(request))
    messages.success(request, _("API key revoked."))
    return redirect("accounts:api-keys", slug=org.slug)


@login_required
def audit_trail(request: HttpRequest, slug: str) -> HttpResponse:
    org = selectors.organization_for(request.user, slug=slug, minimum=Role.ORG_ADMIN)
    form = AuditFilterForm(
        request.GET or None, actors=selectors.audit_actors_of(request.user, organization=org)
    )
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        filters = {
            "action": form.cleaned_data.get("action") or "",
            "by": form.cleaned_data.get("actor") or "",
            "date_from": form.cleaned_data.get("date_from"),
            "date_to": form.cleaned_data.get("date_to"),
        }
    events = selectors.audit_events_of(request.user, organization=org, **filters)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/audit.html",
        {
            "org": org,
            "page": page,
            "rows": audit_display.rows(org, page.object_list),
            "form": form,
            "query": query.urlencode(),
        },
    )
