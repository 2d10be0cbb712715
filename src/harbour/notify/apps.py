from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "harbour.notify"
    label = "notify"
    verbose_name = _("Messages")

    def ready(self) -> None:
        from datetime import timedelta

        from django.core import checks

        checks.register(_keys_check, checks.Tags.security, deploy=True)

        from django.conf import settings

        from harbour.core import schedule
        from harbour.notify.tasks import deliver, expire

        # new messages enqueue a delivery run themselves; this sweep picks up retries and
        # messages whose worker died while sending

        every = timedelta(seconds=float(getattr(settings, "NOTIFY_SWEEP_SECONDS", 30)))
        schedule.register("notify.deliver", every=every, task=deliver)
        # the outbox keeps recipients and texts only as long as NOTIFY_KEEP_* say
        schedule.register("notify.expire", every=timedelta(minutes=10), task=expire)


def _keys_check(app_configs: Any, **kwargs: Any) -> list[Any]:
    from django.conf import settings
    from django.core import checks

    if settings.HARBOUR_FIELD_KEYS and settings.HARBOUR_BLIND_INDEX_KEY:
        return []
    return [
        checks.Warning(
            "HARBOUR_FIELD_KEYS and HARBOUR_BLIND_INDEX_KEY are not both set: the keys that "
            "encrypt phone numbers and emails are derived from SECRET_KEY, so changing "
            "SECRET_KEY would make them unreadable.",
            hint="Set both (see README, Configuration).",
            id="harbour.W001",
        )
    ]
