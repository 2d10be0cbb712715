"""Uniform JSON errors for every Harbour NinjaAPI: ``{"detail": ..., "code": ...}``, 4xx."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

logger = logging.getLogger(__name__)


def install(api: NinjaAPI) -> None:
    """Register the handlers that turn every error into the same JSON shape."""

    def error(request: HttpRequest, status: int, detail: Any, code: str) -> HttpResponse:
        return api.create_response(request, {"detail": detail, "code": code}, status=status)

    def django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return error(request, 400, detail, "invalid")

    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        # A bug: logged with its traceback, answered without internals.
        logger.exception("API error on %s %s", request.method, request.path)
        return error(request, 500, "Internal error. It has been logged.", "server_error")

    handlers: list[tuple[type[Exception], Any]] = [
        (ValidationError, lambda r, e: error(r, 422, e.errors, "invalid")),
        (
            AuthenticationError,
            lambda r, e: error(
                r, 401, "Authentication required: an API key or a signed-in session.",
                "unauthenticated",
            ),
        ),
        (AuthorizationError,
         lambda r, e: error(r, 403, str(e.message) or "Not allowed.", "forbidden")),
        (PermissionDenied,
         lambda r, e: error(r, 403, "Your role does not allow this.", "forbidden")),
        (Http404, lambda r, e: error(r, 404, "Not found.", "not_found")),
        (DjangoValidationError, django_validation),
        (HttpError, lambda r, e: error(r, e.status_code, str(e.message), "error")),
        (Exception, unexpected),
    ]  # fmt: skip
    for exc_class, handler in handlers:
        api.add_exception_handler(exc_class, handler)
