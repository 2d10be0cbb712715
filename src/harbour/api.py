"""The JSON API at ``/api/v1/``: OpenAPI at ``/api/v1/openapi.json``, docs at ``/api/v1/docs``.

Every error is JSON ``{"detail": ..., "code": ...}`` with a 4xx status. Callers authenticate
with a session (browser, with CSRF) or an organization API key
(``Authorization: Bearer hbk_...`` or ``X-API-Key: hbk_...``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from harbour.accounts.api import router as accounts_router
from harbour.accounts.middleware import mfa_unsatisfied
from harbour.accounts.services import api_key_authenticate
from harbour.core import api_errors
from harbour.core.api import router as core_router
from harbour.core.api_docs import HarbourSwagger
from harbour.directory.api import router as directory_router
from harbour.drugcheck.api import router as drugcheck_router
from harbour.outreach.api import router as outreach_router
from harbour.referrals.api import router as referrals_router


class StaffSession(SessionAuth):
    """A signed-in user whose session passed the second factor where it is required."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is None or mfa_unsatisfied(request, user):
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
    docs=HarbourSwagger(),
)


api_errors.install(api)
api.add_router("", core_router)
api.add_router("", accounts_router)
api.add_router("", directory_router)
api.add_router("", drugcheck_router)
api.add_router("", referrals_router)
api.add_router("", outreach_router)
