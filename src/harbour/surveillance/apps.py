from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveillanceConfig(AppConfig):
    name = "harbour.surveillance"
    label = "surveillance"
    verbose_name = _("Spikes and trends")

    def ready(self) -> None:
        from datetime import timedelta

        from harbour.core import schedule
        from harbour.surveillance import hooks
        from harbour.surveillance.tasks import detect_all

        schedule.register("surveillance.detect", every=timedelta(hours=1), task=detect_all)
        hooks.connect()
