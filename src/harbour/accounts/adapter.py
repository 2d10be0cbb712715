from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created from invitations only: there is no open sign-up."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        return str(super().get_login_redirect_url(request))

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Queue the message for the worker instead of talking to SMTP inside the request."""
        from harbour.core.tasks import send_email

        message = self.render_mail(template_prefix, email, context)
        send_email.enqueue(to=list(message.to), subject=str(message.subject), body=message.body)
