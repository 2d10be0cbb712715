"""Every error under ``/api/`` is JSON ``{"detail": ..., "code": ...}``, even those Django or
django-ninja answer before a view runs (unknown path, wrong method, CSRF)."""

from __future__ import annotations

import re
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


_JSON_NUL = re.compile(rb"(?<!\\)\\u0000")


class RejectNulMiddleware:
    """A NUL character in a query string, a form or a JSON body is refused with 400 and the
    reason: no text Harbour keeps can hold one (PostgreSQL refuses it, which would otherwise be
    a 500 far from where the bad input came in). Django's form fields already refuse it; this
    covers the API's query parameters and bodies too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._has_nul(request):
            detail = "Text cannot contain the NUL character (0x00)."
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": detail, "code": "bad_request"}, status=400)
            return HttpResponse(detail, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return True
        kind = request.content_type or ""
        # only text bodies: a file upload (multipart) may hold any byte, and its text fields go
        # through Django's form fields, which refuse NUL themselves
        if request.method in {"POST", "PUT", "PATCH"} and kind in {
            "application/json",
            "application/x-www-form-urlencoded",
        }:
            body = request.body
            if b"\x00" in body or b"%00" in body or _JSON_NUL.search(body):
                return True
        return False
