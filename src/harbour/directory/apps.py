from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "harbour.directory"
    label = "directory"
    verbose_name = _("Service directory")

    def ready(self) -> None:
        from datetime import timedelta

        from harbour.core import schedule
        from harbour.directory.tasks import stale_listings_notice, suggestion_contacts_purge

        schedule.register(
            "directory.stale-listings", every=timedelta(days=7), task=stale_listings_notice
        )
        schedule.register(
            "directory.suggestion-contacts-purge",
            every=timedelta(days=1),
            task=suggestion_contacts_purge,
        )
