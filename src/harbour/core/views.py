from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)


def absolute_url(viewname: str, **kwargs: object) -> str:
    """A full link for emails, from HARBOUR_BASE_URL."""
    from django.conf import settings
    from django.urls import reverse

    return settings.HARBOUR_BASE_URL.rstrip("/") + reverse(viewname, kwargs=kwargs)
