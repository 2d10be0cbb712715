"""The JSON API at ``/api/v1/``: OpenAPI at ``/api/v1/openapi.json``, docs at ``/api/v1/docs``.

Every error is JSON ``{"detail": ..., "code": ...}`` with a 4xx status. Callers authenticate
with a session (browser, with CSRF) or an organization API key
(``Authorization: Bearer hbk_...`` or ``X-API-Key: hbk_...``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from harbour.accounts.api import router as accounts_router
from harbour.accounts.middleware import needs_mfa_setup
from harbour.accounts.services import api_key_authenticate
from harbour.core.api import router as core_router
from harbour.directory.api import router as directory_router

logger = logging.getLogger(__name__)


class StaffSession(SessionAuth):
    """A signed-in user who has finished two-factor set-up where it is required."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is None or needs_mfa_setup(user):
            return None
        return user


class BearerKey(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        key = api_key_authenticate(token)
        if key is not None:
            request.api_key = key  # type: ignore[attr-defined]
        return key


class HeaderKey(APIKeyHeader):
    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        found = api_key_authenticate(key or "")
        if found is not None:
            request.api_key = found  # type: ignore[attr-defined]
        return found


api = NinjaAPI(
    title="Harbour API",
    version="1",
    description=(
        "Harbour's JSON API. Errors are JSON objects with `detail` and `code`. "
        "Authenticate with an organization API key (`Authorization: Bearer hbk_...`)."
    ),
    auth=[BearerKey(), HeaderKey(), StaffSession()],
    urls_namespace="api",
)


def error(request: HttpRequest, status: int, detail: Any, code: str) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "code": code}, status=status)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error(request, 422, exc.errors, "invalid")


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error(
        request,
        401,
        "Authentication required: an API key or a signed-in session.",
        "unauthenticated",
    )


@api.exception_handler(AuthorizationError)
def on_authorization_error(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return error(request, 403, str(exc.message) or "Not allowed.", "forbidden")


@api.exception_handler(PermissionDenied)
def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error(request, 403, "Your role does not allow this.", "forbidden")


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error(request, 404, "Not found.", "not_found")


@api.exception_handler(DjangoValidationError)
def on_django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
    return error(request, 400, detail, "invalid")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error(request, exc.status_code, str(exc.message), "error")


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A bug: logged with its traceback, answered without internals.
    logger.exception("API error on %s %s", request.method, request.path)
    return error(request, 500, "Internal error. It has been logged.", "server_error")


api.add_router("", core_router)
api.add_router("", accounts_router)
api.add_router("", directory_router)
