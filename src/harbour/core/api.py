from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema

from harbour import __version__
from harbour.core.selectors import database_status, worker_status

router = Router(tags=["health"])


class WorkerOut(Schema):
    status: str
    last_heartbeat: datetime | None


class CheckinsOut(Schema):
    status: str
    lag_seconds: float
    clock_seen_at: datetime | None


class HealthOut(Schema):
    status: str
    version: str
    database: str
    worker: WorkerOut
    checkins: CheckinsOut | None


@router.get("/health", auth=None, response=HealthOut, summary="Database and worker health")
def health(request: HttpRequest) -> dict[str, object]:
    """`ok` when the database answers and a worker ran its heartbeat recently;
    `degraded` when the worker is stale or unknown, or when check-in steps are overdue
    (`checkins.lag_seconds`: how late the oldest due step is); `error` when the database
    fails."""
    from harbour.checkins.watchdog import status as checkin_status

    db = database_status()
    worker = worker_status() if db == "ok" else {"status": "unknown", "last_heartbeat": None}
    checkins = checkin_status() if db == "ok" else None
    healthy = worker["status"] == "ok" and (checkins is None or checkins["status"] == "ok")
    status = "error" if db != "ok" else ("ok" if healthy else "degraded")
    return {
        "status": status,
        "version": __version__,
        "database": db,
        "worker": worker,
        "checkins": checkins,
    }
