from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveillanceConfig(AppConfig):
    name = "harbour.surveillance"
    label = "surveillance"
    verbose_name = _("Spikes and trends")

    def ready(self) -> None:
        from datetime import timedelta

        from harbour.core import releases, schedule
        from harbour.surveillance import hooks, selectors
        from harbour.surveillance.tasks import detect_all

        schedule.register("surveillance.detect", every=timedelta(hours=1), task=detect_all)
        releases.register(
            selectors.TRENDS,
            build=selectors.trends_release,
            period="week",
            periods=selectors.TRENDS_WEEKS,
            lag_days=selectors.TRENDS_LAG_DAYS,
            tiled=True,
            backfill=selectors.TRENDS_SHOWN - 1,
        )
        hooks.connect()
