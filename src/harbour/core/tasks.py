"""Core background tasks."""

from __future__ import annotations

import socket

from django.db.models import F
from django.utils import timezone
from django_tasks import task

from harbour.core.models import WorkerHeartbeat


@task()
def heartbeat(worker: str | None = None) -> str:
    """Record that a worker picked a task off the queue and ran it (idempotent)."""
    name = worker or socket.gethostname()
    now = timezone.now()
    updated = WorkerHeartbeat.objects.filter(worker=name).update(seen_at=now, runs=F("runs") + 1)
    if not updated:
        WorkerHeartbeat.objects.update_or_create(worker=name, defaults={"seen_at": now, "runs": 1})
    return now.isoformat()


@task()
def send_email(
    *, to: list[str], subject: str, body: str, idempotency_key: str | None = None
) -> int:
    """Send one plain-text email through the configured backend (SMTP in production)."""
    from django.core.mail import send_mail

    return send_mail(subject, body, None, to, fail_silently=False)


@task()
def make_releases() -> int:
    """Make the releases of figures whose periods have closed (idempotent)."""
    from harbour.core.releases import make_due

    return len(make_due())
