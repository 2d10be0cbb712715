from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """The form was sent from a page too old (or cookies are off): say so, not "CSRF"."""
    if request.path.startswith("/api/"):  # JSON with code csrf_failed (ApiJsonErrorsMiddleware)
        from django.views.csrf import csrf_failure as django_csrf_failure

        return django_csrf_failure(request, reason)
    return render(request, "403.html", {"csrf": True}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def uri_too_long(request: HttpRequest) -> HttpResponse:
    return render(request, "414.html", status=414)


def server_error(request: HttpRequest) -> HttpResponse:
    """No database here (it may be why we are here): 500.html uses no user nor session."""
    return render(request, "500.html", status=500)


def absolute_url(viewname: str, **kwargs: object) -> str:
    """A full link for emails, from HARBOUR_BASE_URL."""
    from django.conf import settings
    from django.urls import reverse

    return settings.HARBOUR_BASE_URL.rstrip("/") + reverse(viewname, kwargs=kwargs)
