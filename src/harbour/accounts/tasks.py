"""Emails that carry a secret link (password reset, invitation, address confirmation).

The task row (django-tasks-db keeps its arguments and return value in the database, readable by
anyone with a backup) holds only ids: the worker makes the token and the link when it sends, and
returns nothing but a count. Links are built on ``HARBOUR_BASE_URL``, never on the Host header
of the request that asked for them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django_tasks import task


def _link(path: str) -> str:
    return str(settings.HARBOUR_BASE_URL).rstrip("/") + path


def _send(template_prefix: str, email: str, context: dict[str, Any], language: str) -> int:
    from allauth.account.adapter import get_adapter

    with translation.override(language or settings.LANGUAGE_CODE):
        message = get_adapter().render_mail(template_prefix, email, context)
    return int(message.send())


@task()
def send_password_reset(*, user_id: str, email: str, language: str = "") -> int:
    """Make a reset token for the user now and email the link (nothing if the user is gone)."""
    from allauth.account import app_settings as account_settings
    from allauth.account.utils import user_pk_to_url_str

    from harbour.accounts.models import User

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return 0
    token = account_settings.PASSWORD_RESET_TOKEN_GENERATOR().make_token(user)
    key = f"{user_pk_to_url_str(user)}-{token}"
    path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
    url = _link(path.replace("UID-KEY", quote(key)))
    context = {"user": user, "password_reset_url": url, "uid": user_pk_to_url_str(user)}
    return _send("account/email/password_reset_key", email, context, language)


@task()
def send_email_confirmation(
    *, email_address_id: int, signup: bool = False, language: str = ""
) -> int:
    """Email the link that confirms an address (allauth's signed key, made now)."""
    from allauth.account.models import EmailAddress, EmailConfirmationHMAC

    address = (
        EmailAddress.objects.select_related("user")
        .filter(pk=email_address_id, verified=False)
        .first()
    )
    if address is None:
        return 0
    confirmation = EmailConfirmationHMAC(address)
    url = _link(reverse("account_confirm_email", args=[confirmation.key]))
    template = "account/email/email_confirmation" + ("_signup" if signup else "")
    context = {"user": address.user, "activate_url": url}
    return _send(template, address.email, context, language)


@task()
def send_invitation(*, invitation_id: str) -> int:
    """Email a pending invitation its link (the token is derived again from its id)."""
    from harbour.accounts import services
    from harbour.accounts.models import Invitation

    invitation = Invitation.objects.select_related("organization").filter(pk=invitation_id).first()
    if invitation is None or invitation.state != "pending":
        return 0
    return services.invitation_email_send(invitation=invitation)
