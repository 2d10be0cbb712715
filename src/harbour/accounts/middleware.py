"""Two-factor authentication is required for every staff role.

A signed-in member of any organization who has no TOTP authenticator is sent to set one up
before anything else. Only demo accounts in demo mode (``HARBOUR_DEMO_MODE``) are spared.
"""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

ALLOWED_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/jsi18n/", "/api/")


def needs_mfa_setup(user: object) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if settings.DEMO_MODE and getattr(user, "is_demo", False):
        return False
    if not getattr(user, "is_staff_member", False):
        return False
    return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class RequireStaffMfaMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(ALLOWED_PREFIXES) and needs_mfa_setup(request.user):
            messages.warning(
                request,
                _("Staff accounts must use two-factor authentication. Set it up to continue."),
            )
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
