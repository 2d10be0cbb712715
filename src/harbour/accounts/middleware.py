"""Two-factor authentication is required for every staff role, in every session.

A signed-in member of any organization (or a Django staff or superuser account) who has no TOTP
authenticator is sent to set one up before anything else. One who has an authenticator but whose
*session* did not pass the second factor (a password-only sign-in, whatever the door: Django's
admin login, a session made before TOTP was required) is sent to enter a code before anything
else, and may reach nothing under ``/accounts/`` but that page and sign-out meanwhile (allauth's
own pages would otherwise let a fresh password stand in for the code: removing the
authenticator only asks for a recent sign-in). Only demo accounts in demo mode
(``HARBOUR_DEMO_MODE``) are spared.

Which methods a session passed is allauth's record (``allauth.account.authentication``): its
MFA step and its re-authentication page add an ``mfa`` entry for this user in this session, and
so does this middleware when the set-up page succeeds (it checked a code from the new
authenticator; allauth does not record that one).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

# A staff account without an authenticator may use these while it sets one up.
ALLOWED_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/jsi18n/", "/api/")
# A session that has not passed the second factor may use only these (the API answers 401 by
# itself: see ``harbour.api.StaffSession``).
UNVERIFIED_PREFIXES = (
    "/accounts/2fa/reauthenticate/",
    "/accounts/logout/",
    "/i18n/",
    "/static/",
    "/jsi18n/",
    "/api/",
)


def _mfa_exempt(user: object) -> bool:
    if not getattr(user, "is_authenticated", False):
        return True
    if settings.DEMO_MODE and getattr(user, "is_demo", False):
        return True
    return not getattr(user, "is_staff_member", False)


def needs_mfa_setup(user: object) -> bool:
    if _mfa_exempt(user):
        return False
    return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def session_passed_mfa(request: HttpRequest, user: object) -> bool:
    """Whether this session's sign-in included a second factor for ``user``."""
    records = get_authentication_records(request, user)
    return any(record.get("method") == "mfa" for record in records)


def mfa_unsatisfied(request: HttpRequest, user: object) -> bool:
    """A staff session that may not act yet: no authenticator, or no code entered in it."""
    if _mfa_exempt(user):
        return False
    return needs_mfa_setup(user) or not session_passed_mfa(request, user)


class RequireStaffMfaMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if _mfa_exempt(user):
            return self.get_response(request)
        if needs_mfa_setup(user):
            if request.method == "POST" and request.path == reverse("mfa_activate_totp"):
                return self._set_up(request, user)
            if not request.path.startswith(ALLOWED_PREFIXES):
                messages.warning(
                    request,
                    _("Staff accounts must use two-factor authentication. Set it up to continue."),
                )
                return HttpResponseRedirect(reverse("mfa_activate_totp"))
        elif not session_passed_mfa(request, user) and not request.path.startswith(
            UNVERIFIED_PREFIXES
        ):
            url = reverse("mfa_reauthenticate")
            if request.method == "GET" and not request.path.startswith("/accounts/"):
                url = f"{url}?{urlencode({'next': request.path})}"
            return HttpResponseRedirect(url)
        return self.get_response(request)

    def _set_up(self, request: HttpRequest, user: object) -> HttpResponse:
        response = self.get_response(request)
        totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        if totp is not None:
            # allauth.account.internal: the same record its own MFA step writes
            from allauth.account.internal.flows.login import record_authentication

            record_authentication(request, user, "mfa", id=totp.pk, type="totp")
        return response
