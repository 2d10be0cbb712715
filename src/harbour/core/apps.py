from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "harbour.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from datetime import timedelta

        from django.conf import settings

        from harbour.core import schedule
        from harbour.core.tasks import heartbeat, prune_task_results

        schedule.register(
            "core.heartbeat",
            every=timedelta(seconds=settings.HARBOUR_HEARTBEAT_SECONDS),
            task=heartbeat,
        )
        # finished task rows hold their arguments (addresses, message texts): kept briefly
        schedule.register(
            "core.prune-task-results", every=timedelta(minutes=10), task=prune_task_results
        )
