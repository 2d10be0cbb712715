from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "harbour.meetings"
    label = "meetings"
    verbose_name = _("Peer-support meetings")

    def ready(self) -> None:
        from datetime import timedelta

        from harbour.core import schedule
        from harbour.meetings.tasks import purge

        # the way to reach someone who suggested a change: erased on review, else after 30 days
        schedule.register("meetings.purge", every=timedelta(hours=6), task=purge)
