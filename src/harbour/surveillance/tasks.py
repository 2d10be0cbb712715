"""The hourly detection run (registered with the worker's scheduler)."""

from __future__ import annotations

from django_tasks import task

from harbour.surveillance import services


@task()
def detect_all() -> int:
    return services.detect_all()
