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
        from harbour.core.tasks import heartbeat, make_releases, prune_task_results

        schedule.register(
            "core.heartbeat",
            every=timedelta(seconds=settings.HARBOUR_HEARTBEAT_SECONDS),
            task=heartbeat,
        )
        schedule.register("core.releases", every=timedelta(hours=1), task=make_releases)
        from harbour.core.retention import audit_prune_task, sessions_prune_task

        # the audit trail is kept seven years; expired sign-in sessions go within the hour
        schedule.register("core.audit-prune", every=timedelta(days=1), task=audit_prune_task)
        schedule.register("core.sessions-prune", every=timedelta(hours=1), task=sessions_prune_task)
        # finished task rows hold their arguments (addresses, message texts): kept briefly
        schedule.register(
            "core.prune-task-results", every=timedelta(minutes=10), task=prune_task_results
        )
