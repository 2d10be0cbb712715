"""Every error under ``/api/`` is JSON ``{"detail": ..., "code": ...}``, even those Django or
django-ninja answer before a view runs (unknown path, wrong method, CSRF)."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse

CODES = {404: "not_found", 405: "method_not_allowed", 403: "forbidden", 400: "bad_request"}


class ApiJsonErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            status = response.status_code
            detail = (
                HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
            )
            if status == 403 and b"CSRF" in getattr(response, "content", b""):
                detail, code = "CSRF check failed: send the X-CSRFToken header.", "csrf_failed"
            else:
                code = CODES.get(status, "error")
            replacement = JsonResponse({"detail": detail, "code": code}, status=status)
            for header in ("Allow",):
                if header in response:
                    replacement[header] = response[header]
            return replacement
        return response
