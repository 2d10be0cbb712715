from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MentoringConfig(AppConfig):
    name = "harbour.mentoring"
    label = "mentoring"
    verbose_name = _("Peer mentoring")

    def ready(self) -> None:
        from datetime import timedelta

        from harbour.core import schedule
        from harbour.mentoring.tasks import advance

        schedule.register("mentoring.advance", every=timedelta(minutes=5), task=advance)
        from harbour.mentoring.retention import mentors_purge_task

        # mentors gone a year: alias, contact and identities erased
        schedule.register(
            "mentoring.mentors-purge", every=timedelta(days=1), task=mentors_purge_task
        )
