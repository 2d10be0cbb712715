from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "harbour.alerts"
    label = "alerts"
    verbose_name = _("Drug alerts")

    def ready(self) -> None:
        from harbour.alerts import services
        from harbour.drugcheck.services import on_sample_recorded
        from harbour.notify.services import on_stop, register_keyword

        register_keyword("join", services.sms_join)
        register_keyword("report", services.sms_report)
        register_keyword("signaler", services.sms_report)  # the same, in French
        register_keyword("fr", services.sms_language("fr"))
        register_keyword("en", services.sms_language("en"))
        on_stop(services.unsubscribe_phone)
        on_sample_recorded(services.draft_from_sample)

        from datetime import timedelta

        from harbour.alerts.tasks import purge_subscriptions
        from harbour.core import schedule

        # an email address that never confirmed is deleted once its link has expired
        schedule.register(
            "alerts.purge-subscriptions", every=timedelta(hours=6), task=purge_subscriptions
        )
