"""Sign-in events become audit events. (Auth signals are the only hook Django and allauth
offer here; nothing else is done in them.)"""

from __future__ import annotations

from typing import Any

from allauth.account.signals import password_changed, password_reset
from allauth.mfa.signals import authenticator_added, authenticator_removed
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from harbour.core import audit
from harbour.core.models import AuditAction


@receiver(user_logged_in)
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.record(action=AuditAction.LOGIN, actor=user, obj=user)


@receiver(user_logged_out)
def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record(action=AuditAction.LOGOUT, actor=user, obj=user)


@receiver(user_login_failed)
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any
) -> None:
    # Only an existing account is named; an unknown address is not kept (it may be a typo
    # of someone's personal email).
    email = str(credentials.get("email") or credentials.get("username") or "").strip()
    user = get_user_model().objects.filter(email__iexact=email).first() if email else None
    audit.record(
        action=AuditAction.LOGIN_FAILED,
        actor=None,
        label="anonymous",
        obj=user,
        metadata={"account": user.email if user else "unknown"},
    )


@receiver(password_changed)
def on_password_changed(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.record(action=AuditAction.PASSWORD_CHANGE, actor=user, obj=user)


@receiver(password_reset)
def on_password_reset(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.record(action=AuditAction.PASSWORD_RESET, actor=user, obj=user)


@receiver(authenticator_added)
def on_mfa_added(sender: Any, request: Any, user: Any, authenticator: Any, **kw: Any) -> None:
    audit.record(
        action=AuditAction.MFA_ACTIVATE, actor=user, obj=user, metadata={"type": authenticator.type}
    )


@receiver(authenticator_removed)
def on_mfa_removed(sender: Any, request: Any, user: Any, authenticator: Any, **kw: Any) -> None:
    audit.record(
        action=AuditAction.MFA_DEACTIVATE,
        actor=user,
        obj=user,
        metadata={"type": authenticator.type},
    )
