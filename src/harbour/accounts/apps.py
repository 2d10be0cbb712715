from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "harbour.accounts"
    label = "accounts"
    verbose_name = _("Accounts and organizations")

    def ready(self) -> None:
        # Sign-in events come from Django and allauth signals; they only write audit events.
        from datetime import timedelta

        from harbour.accounts import receivers  # noqa: F401
        from harbour.accounts.retention import purge_task
        from harbour.core import schedule

        # removed staff accounts made anonymous after a year, ended invitations deleted
        schedule.register("accounts.purge", every=timedelta(days=1), task=purge_task)
