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
def prune_task_results() -> int:
    """Delete finished task rows: successful ones after ``HARBOUR_TASK_RESULTS_KEEP_SECONDS``
    (one hour), failed ones after ``HARBOUR_TASK_FAILURES_KEEP_SECONDS`` (one day, to read
    the error). A row holds the task's arguments (email addresses, message texts) and return
    value, so none is kept longer than needed to see the queue working."""
    from datetime import timedelta

    from django.conf import settings
    from django.db.models import Q
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    ok_before = now - timedelta(seconds=settings.HARBOUR_TASK_RESULTS_KEEP_SECONDS)
    failed_before = now - timedelta(seconds=settings.HARBOUR_TASK_FAILURES_KEEP_SECONDS)
    deleted, _ = DBTaskResult.objects.filter(
        Q(status=TaskResultStatus.SUCCESSFUL, finished_at__lte=ok_before)
        | Q(status=TaskResultStatus.FAILED, finished_at__lte=failed_before)
    ).delete()
    _expire_cache_rows()
    return int(deleted)


def _expire_cache_rows() -> None:
    """Delete expired rows of the database cache (rate-limit counters: hashed client
    addresses). Django's database cache deletes them only once it holds 300 rows."""
    from django.core.cache import caches
    from django.core.cache.backends.db import DatabaseCache
    from django.db import connections, router

    cache = caches["default"]
    if not isinstance(cache, DatabaseCache):
        return
    db = router.db_for_write(cache.cache_model_class)
    connection = connections[db]
    table = connection.ops.quote_name(cache._table)  # type: ignore[attr-defined]
    expires = connection.ops.quote_name("expires")
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE {expires} < %s",  # noqa: S608 (quoted names)
            [connection.ops.adapt_datetimefield_value(timezone.now().replace(microsecond=0))],
        )


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
