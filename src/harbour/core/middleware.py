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


# Pages that show or take a person's data: staff pages, sign-in and account pages, the admin,
# check-in, mentoring and referral pages, drug-checking results, message webhooks, and every
# page reached by a secret link (core.logs.TOKEN_PREFIXES).
PRIVATE_PREFIXES = (
    "/org/",
    "/accounts/",
    "/admin/",
    "/checkin/",
    "/mentoring/",
    "/referrals/",
    "/notify/",
    "/drugcheck/result/",
)


def is_private(request: HttpRequest) -> bool:
    """The rule for ``Cache-Control: no-store``: a private page (above), any answer to a
    signed-in person or to an API key, and any answer to a form sent (a thank-you page)."""
    from harbour.core.logs import TOKEN_PREFIXES

    if request.path.startswith(PRIVATE_PREFIXES + TOKEN_PREFIXES):
        return True
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        return True
    if "HTTP_AUTHORIZATION" in request.META or "HTTP_X_API_KEY" in request.META:
        return True
    user = getattr(request, "user", None)
    return bool(getattr(user, "is_authenticated", False))


class NoStoreMiddleware:
    """``Cache-Control: no-store, private`` on every private response (see :func:`is_private`),
    replacing whatever the view set, so no browser, shared computer or proxy keeps a copy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if is_private(request):
            response["Cache-Control"] = "no-store, private"
            if "Expires" in response:
                del response["Expires"]
        return response


MAX_QUERY = 2000  # characters of query string; no Harbour page needs more


class LongQueryMiddleware:
    """A query string longer than :data:`MAX_QUERY` gets Harbour's 414 page in the person's
    language (JSON under ``/api/``), before any view reads it. gunicorn itself accepts
    request lines up to 8190 bytes (``serve.LIMIT_REQUEST_LINE``), so a long search gets this
    page rather than gunicorn's bare one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if len(request.META.get("QUERY_STRING", "")) > MAX_QUERY:
            from harbour.core.views import uri_too_long

            return uri_too_long(request)
        return self.get_response(request)
