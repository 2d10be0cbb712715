"""Rate limits for anonymous endpoints, counted in the shared cache (Redis with ``REDIS_URL``,
else a table in the database), so every web process counts against the same limit. The client
address is only hashed into a cache key that expires; it is never stored.

The address is the connection's (``REMOTE_ADDR``). ``X-Forwarded-For`` is believed only when
that connection comes from a proxy listed in ``TRUSTED_PROXIES`` (addresses or networks): the
client is then the right-most address in the header that is not itself a trusted proxy. A
header sent by anyone else is ignored, so it cannot make a fresh client of each request."""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


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


def seconds_left(window: int) -> int:
    """Seconds until the current window ends and its counts start again from zero."""
    now = time.time()
    return max(1, math.ceil((int(now // window) + 1) * window - now))


def wait_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many tries from this connection. Try again in %(minutes)d minute.",
        "Too many tries from this connection. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def too_many(request: HttpRequest, window: int = 60) -> HttpResponse:
    from django.shortcuts import render

    wait = seconds_left(window)
    response = render(request, "429.html", {"wait_message": wait_message(wait)}, status=429)
    response["Retry-After"] = str(wait)
    return response


# --- public forms -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormBudget:
    """How many *valid* submissions a public form takes per window (invalid ones, which the
    person is still fixing, never count).

    ``per_connection`` is generous on purpose: a drop-in centre's or a shelter's shared Wi-Fi
    is one address for everyone there, and one person's flood must not lock them all out.
    ``per_content`` is low: the same words sent again and again, from any address, are what
    a flood looks like. Both keys are keyed hashes in the cache with the window as their TTL;
    no address and no content is stored."""

    scope: str
    per_connection: int
    per_content: int
    window: int = 3600
    # fields left out of "the same words" (a fresh id on every submission of the same report)
    ignore: tuple[str, ...] = ()


def _content_key(budget: FormBudget, cleaned: dict[str, Any]) -> str:
    words = "|".join(
        f"{name}={' '.join(str(cleaned[name]).split()).casefold()}"
        for name in sorted(cleaned)
        if name not in {"website", "nonce", *budget.ignore}
    )
    text = f"{settings.SECRET_KEY}:{budget.scope}:{words}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def form_wait(request: HttpRequest, budget: FormBudget, form: Any) -> int:
    """Count one valid submission of ``form`` (call it after ``form.is_valid()``). Over
    budget: the form gets an error saying how long to wait, and the seconds are returned
    (the view shows the form again, as typed, with :func:`limited_response`); else 0."""
    by_connection = hit(
        f"{budget.scope}:ip", client_key(request), budget.per_connection, budget.window
    )
    by_content = hit(
        f"{budget.scope}:same", _content_key(budget, form.cleaned_data), budget.per_content,
        budget.window,
    )  # fmt: skip
    if by_connection and by_content:
        return 0
    wait = seconds_left(budget.window)
    form.add_error(None, wait_message(wait))
    return wait


def form_refund(request: HttpRequest, budget: FormBudget, form: Any) -> None:
    """Give back what :func:`form_wait` counted, for a submission the service then refused
    (a rule only the service knows): an invalid attempt never counts."""
    bucket = int(time.time() // budget.window)
    for scope, key in (
        (f"{budget.scope}:ip", client_key(request)),
        (f"{budget.scope}:same", _content_key(budget, form.cleaned_data)),
    ):
        with contextlib.suppress(ValueError):  # expired meanwhile: nothing to give back
            cache.decr(f"rl:{scope}:{key}:{bucket}")


def limited_response(response: HttpResponse, wait: int) -> HttpResponse:
    """The form shown again with its error: 429 with the real Retry-After."""
    response.status_code = 429
    response["Retry-After"] = str(wait)
    return response


def ratelimit(
    scope: str, limit: int, window: int = 60, methods: tuple[str, ...] = ("GET", "POST")
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorator for views: answer 429 past ``limit`` requests per ``window`` seconds."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in methods and limited(request, scope, limit, window):
                return too_many(request, window)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def message() -> str:
    return _("Too many requests. Please wait a minute and try again.")
