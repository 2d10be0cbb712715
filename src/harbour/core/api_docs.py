"""The API docs pages (Swagger UI) from Harbour's own files.

django-ninja's default page loads Swagger UI from a CDN with an inline script, which
Harbour's Content-Security-Policy blocks (a blank page). This one loads the vendored copy in
``static/vendor/swagger-ui/`` and starts it from ``harbour/swagger-init.js``; the settings
travel in a JSON ``<script type="application/json">`` block, which is data, not script.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja.openapi.docs import Swagger, _csrf_needed

if TYPE_CHECKING:
    from ninja import NinjaAPI


class HarbourSwagger(Swagger):
    template = "api/docs.html"

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        context = {
            "swagger_settings": settings,
            "openapi_url": settings["url"],
            "api": api,
            "add_csrf": _csrf_needed(api),
        }
        return render(request, self.template, context)
