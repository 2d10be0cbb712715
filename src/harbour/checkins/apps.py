from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CheckinsConfig(AppConfig):
    name = "harbour.checkins"
    label = "checkins"
    verbose_name = _("Never use alone")

    def ready(self) -> None:
        from datetime import timedelta

        from harbour.checkins import services, sms
        from harbour.checkins.tasks import purge
        from harbour.core import clock, schedule
        from harbour.notify.services import register_fallback, register_keyword

        for word, handler in sms.KEYWORDS.items():
            register_keyword(word, handler)
        register_fallback(sms.fallback)
        clock.register("checkins", services.advance_due, services.next_due)
        schedule.register("checkins.purge", every=timedelta(minutes=10), task=purge)
        from harbour.checkins.retention import responders_purge_task

        # responders made inactive a year ago: alias and number erased
        schedule.register(
            "checkins.responders-purge", every=timedelta(days=1), task=responders_purge_task
        )
