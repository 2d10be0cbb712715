"""Rate limits for anonymous endpoints, counted in the shared cache (Redis with ``REDIS_URL``,
else a table in the database), so every web process counts against the same limit. The client
address is only hashed into a cache key that expires; it is never stored.

The address is the connection's (``REMOTE_ADDR``). ``X-Forwarded-For`` is believed only when
that connection comes from a proxy listed in ``TRUSTED_PROXIES`` (addresses or networks): the
client is then the right-most address in the header that is not itself a trusted proxy. A
header sent by anyone else is ignored, so it cannot make a fresh client of each request."""

from __future__ import annotations

import hashlib
import ipaddress
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    for proxy in getattr(settings, "TRUSTED_PROXIES", ()) or ():
        try:
            if ip in ipaddress.ip_network(proxy, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(request: HttpRequest) -> str:
    """The client's address: the connection's, or the forwarded one behind a trusted proxy."""
    address = str(request.META.get("REMOTE_ADDR", "") or "")
    if not _trusted(address):
        return address
    forwarded = [
        part.strip()
        for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
        if part.strip()
    ]
    for hop in reversed(forwarded):
        if not _trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return address  # a malformed hop: count the proxy's own address
    return address


def client_key(request: HttpRequest) -> str:
    address = client_address(request)
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
