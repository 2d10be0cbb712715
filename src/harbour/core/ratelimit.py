"""Rate limits for anonymous endpoints, counted in the cache (Redis when several processes
serve). The client address is only hashed into a cache key that expires; it is never stored."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _


def client_key(request: HttpRequest) -> str:
    address = request.META.get("REMOTE_ADDR", "")
    if settings.PRODUCTION and getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            address = forwarded.split(",")[-1].strip()
    return hashlib.sha256(f"{settings.SECRET_KEY}:{address}".encode()).hexdigest()[:24]


def hit(scope: str, key: str, limit: int, window: int) -> bool:
    """Count one request; False when ``limit`` requests were already made in this window."""
    bucket = int(time.time() // window)
    cache_key = f"rl:{scope}:{key}:{bucket}"
    if cache.add(cache_key, 1, timeout=window + 5):
        return True
    try:
        count = cache.incr(cache_key)
    except ValueError:
        cache.set(cache_key, 1, timeout=window + 5)
        return True
    return count <= limit


def limited(request: HttpRequest, scope: str, limit: int, window: int = 60) -> bool:
    return not hit(scope, client_key(request), limit, window)


def too_many(request: HttpRequest) -> HttpResponse:
    from django.shortcuts import render

    response = render(request, "429.html", status=429)
    response["Retry-After"] = "60"
    return response


def ratelimit(
    scope: str, limit: int, window: int = 60, methods: tuple[str, ...] = ("GET", "POST")
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorator for views: answer 429 past ``limit`` requests per ``window`` seconds."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in methods and limited(request, scope, limit, window):
                return too_many(request)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def message() -> str:
    return _("Too many requests. Please wait a minute and try again.")
