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


class PublicHealthOut(Schema):
    status: str


def _may_see_details(request: HttpRequest) -> bool:
    """An organization's API key, or a staff session that passed its second factor."""
    from harbour.accounts.middleware import mfa_unsatisfied
    from harbour.accounts.services import api_key_authenticate

    header = request.META.get("HTTP_AUTHORIZATION", "")
    raw = header[7:] if header[:7].lower() == "bearer " else ""
    raw = raw or request.META.get("HTTP_X_API_KEY", "")
    if raw and api_key_authenticate(raw) is not None:
        return True
    user = getattr(request, "user", None)
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_staff_member", False)
        and not mfa_unsatisfied(request, user)
    )


@router.get(
    "/health",
    auth=None,
    response=HealthOut | PublicHealthOut,
    summary="Database and worker health",
)
def health(request: HttpRequest) -> dict[str, object]:
    """Anyone gets `{"status": "ok"}` or `{"status": "stale"}` and nothing else. An API key or
    a signed-in staff member also gets the details: `ok` when the database answers and a worker
    ran its heartbeat recently; `degraded` when the worker is stale or unknown, or when check-in
    steps are overdue (`checkins.lag_seconds`: how late the oldest due step is); `error` when
    the database fails."""
    from harbour.checkins.watchdog import status as checkin_status

    db = database_status()
    worker = worker_status() if db == "ok" else {"status": "unknown", "last_heartbeat": None}
    checkins = checkin_status() if db == "ok" else None
    healthy = worker["status"] == "ok" and (checkins is None or checkins["status"] == "ok")
    status = "error" if db != "ok" else ("ok" if healthy else "degraded")
    if not _may_see_details(request):
        return {"status": "ok" if status == "ok" else "stale"}
    return {
        "status": status,
        "version": __version__,
        "database": db,
        "worker": worker,
        "checkins": checkins,
    }
