from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutreachConfig(AppConfig):
    name = "harbour.outreach"
    label = "outreach"
    verbose_name = _("Outreach, supplies and naloxone")

    def ready(self) -> None:
        from datetime import timedelta

        from harbour.core import releases, schedule
        from harbour.outreach import selectors
        from harbour.outreach.tasks import purge, stock_notices
        from harbour.surveillance.selectors import register_panel

        schedule.register("outreach.stock-notices", every=timedelta(hours=1), task=stock_notices)
        schedule.register("outreach.purge", every=timedelta(hours=6), task=purge)
        register_panel(selectors.panel)
        releases.register(
            selectors.NALOXONE_RELEASE,
            build=selectors.naloxone_release,
            period="month",
            periods=1,
            lag_days=selectors.NALOXONE_LAG_DAYS,
            backfill=selectors.NALOXONE_SHOWN - 1,
        )
