from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.utils import translation

# allauth emails whose context carries a secret (a token, a link made from one): the worker
# makes the secret itself from an id, so the task row never holds it (accounts/tasks.py)
PASSWORD_RESET = "account/email/password_reset_key"  # noqa: S105 (a template name)
SECRET_KEYS = {"key", "code", "password_reset_url", "activate_url", "token"}


class AccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created from invitations only: there is no open sign-up."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        return str(super().get_login_redirect_url(request))

    def get_client_ip(self, request: HttpRequest) -> str:
        """The address allauth's sign-in limits count: the same as Harbour's own limits
        (``X-Forwarded-For`` only from ``TRUSTED_PROXIES``)."""
        from harbour.core.ratelimit import client_address

        return client_address(request) or "0.0.0.0"  # noqa: S104 (a key, not a bind)

    def send_password_reset_mail(self, user: Any, email: str, context: dict[str, Any]) -> None:
        """Only to an address the account has proven: allauth also finds an account by an
        address still waiting for its confirmation (an email change under way), which would
        hand the account to whoever typed that address."""
        from allauth.account.models import EmailAddress

        proven = EmailAddress.objects.filter(user=user, email__iexact=email, verified=True)
        if proven.exists():
            super().send_password_reset_mail(user, email, context)

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Queue the message for the worker instead of talking to SMTP inside the request.

        A message with a secret link is queued as ids only (the worker makes the link); any
        other is rendered here, and refused if its context holds something secret-looking."""
        from harbour.accounts import tasks
        from harbour.core.tasks import send_email

        language = translation.get_language() or ""
        if template_prefix == PASSWORD_RESET:
            tasks.send_password_reset.enqueue(
                user_id=str(context["user"].pk), email=email, language=language
            )
            return
        leaked = SECRET_KEYS & set(context)
        if leaked:
            raise ValueError(f"{template_prefix} carries {sorted(leaked)}: send it from a task")
        message = self.render_mail(template_prefix, email, context)
        send_email.enqueue(to=list(message.to), subject=str(message.subject), body=message.body)

    def send_confirmation_mail(
        self, request: HttpRequest, emailconfirmation: Any, signup: bool
    ) -> None:
        """Queue the confirmation link by the address's id (the worker signs the key)."""
        from harbour.accounts import tasks

        tasks.send_email_confirmation.enqueue(
            email_address_id=emailconfirmation.email_address.pk,
            signup=signup,
            language=translation.get_language() or "",
        )
