from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "harbour.accounts"
    label = "accounts"
    verbose_name = _("Accounts and organizations")

    def ready(self) -> None:
        # Sign-in events come from Django and allauth signals; they only write audit events.
        from harbour.accounts import receivers  # noqa: F401
