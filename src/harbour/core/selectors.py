from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from harbour.core.models import WorkerHeartbeat


def worker_status(now: datetime | None = None) -> dict[str, Any]:
    """``ok`` when a worker ran the heartbeat task recently, ``stale`` when not, ``unknown``
    when no worker ever did."""
    now = now or timezone.now()
    last = WorkerHeartbeat.objects.aggregate(last=Max("seen_at"))["last"]
    if last is None:
        return {"status": "unknown", "last_heartbeat": None}
    limit = timedelta(seconds=max(3 * settings.HARBOUR_HEARTBEAT_SECONDS, 90))
    return {"status": "ok" if now - last <= limit else "stale", "last_heartbeat": last}


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # the health check reports it; it must not raise
        return "error"
    return "ok"
