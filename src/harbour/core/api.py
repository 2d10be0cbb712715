from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema

from harbour import __version__
from harbour.core.selectors import database_status, worker_status

router = Router(tags=["health"])


class WorkerOut(Schema):
    status: str
    last_heartbeat: datetime | None


class HealthOut(Schema):
    status: str
    version: str
    database: str
    worker: WorkerOut


@router.get("/health", auth=None, response=HealthOut, summary="Database and worker health")
def health(request: HttpRequest) -> dict[str, object]:
    """`ok` when the database answers and a worker ran its heartbeat recently;
    `degraded` when the worker is stale or unknown; `error` when the database fails."""
    db = database_status()
    worker = worker_status() if db == "ok" else {"status": "unknown", "last_heartbeat": None}
    status = "error" if db != "ok" else ("ok" if worker["status"] == "ok" else "degraded")
    return {"status": status, "version": __version__, "database": db, "worker": worker}
