"""What server logs may say about a request: the method, a cleaned path, the status, the size
and the duration. Never the client's address, the query string (``/find/?near=lat,lng``), the
Referer or the User-Agent, nor a secret in a path (check-in, responder, mentoring, invitation,
password-reset, confirmation and unsubscribe tokens): such a segment is written ``…``. The
access log's time is cut to the hour, so a line cannot be matched to an anonymous post by its
second.

Three places use it: gunicorn's access log (:class:`AccessLogger`, set by ``harbour serve``),
every record of Python logging that goes through Harbour's handlers (:class:`ScrubFilter`,
``settings.LOGGING``: Django's "Not Found: /path" warnings, request errors, runserver lines),
and Django's 500 report, which no longer goes by email (``mail_admins`` is not configured).
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

# after these prefixes the next path segment is always a secret
TOKEN_PREFIXES = (
    "/checkin/s/",
    "/checkin/r/",
    "/mentoring/m/",
    "/org/invitation/",
    "/alerts/confirm/",
    "/alerts/unsubscribe/",
    "/accounts/password/reset/key/",
    "/accounts/confirm-email/",
)
MASK = "…"
# elsewhere, a long segment that looks random (a digit, a capital, "_", ":" or ".")
_RANDOM_SEGMENT = re.compile(r"^(?=.*[0-9A-Z_:.])[A-Za-z0-9_\-:.]{16,}$")
_URL_PATH = re.compile(r"(?<![\w.])(/[^\s\"'<>]*)")
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{0,4}(?![\w:])")


def clean_path(path: str) -> str:
    """``path`` without its query string or fragment, secret segments replaced by ``…``."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    for prefix in TOKEN_PREFIXES:
        if path.startswith(prefix) and len(path) > len(prefix):
            rest = path[len(prefix) :].split("/", 1)
            path = prefix + MASK + ("/" + rest[1] if len(rest) > 1 else "")
            break
    parts = path.split("/")
    return "/".join(MASK if _RANDOM_SEGMENT.match(part) else part for part in parts)


def clean_text(text: str) -> str:
    """A log message with every path in it cleaned and every IP address removed."""
    text = _URL_PATH.sub(lambda m: clean_path(m.group(1)), text)
    text = _IPV4.sub("-", text)
    return _IPV6.sub("-", text)


class ScrubFilter(logging.Filter):
    """Cleans a record's message (see :func:`clean_text`) and drops the request it carries
    (Django attaches it for error reports: its headers hold the address and cookies)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the record as it is
            return True
        record.msg = clean_text(message)
        record.args = ()
        if hasattr(record, "request"):
            record.request = None
        return True


def _gunicorn_logger_base() -> Any:
    from gunicorn.glogging import Logger

    return Logger


class AccessLogger(_gunicorn_logger_base()):  # type: ignore[misc]
    """gunicorn's logger with the access-log atoms cleaned (used by ``harbour serve``)."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        path = clean_path(str(atoms.get("U", "")))
        method = atoms.get("m", "-")
        protocol = atoms.get("H", "-")
        atoms.update(
            {
                "h": "-",
                "r": f"{method} {path} {protocol}",
                "U": path,
                "q": "",
                "f": "-",
                "a": "-",
                "t": time.strftime("[%d/%b/%Y:%H:00]", time.gmtime()),
            }
        )
        # headers and environment variables may be asked for by name in a custom format
        for key in list(atoms):
            if key.startswith("{") and key.lower() not in ("{content-length}o",):
                atoms[key] = "-"
        return atoms

    def error(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().error(clean_text(str(msg) % args if args else str(msg)), **kwargs)

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().warning(clean_text(str(msg) % args if args else str(msg)), **kwargs)

    def info(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().info(clean_text(str(msg) % args if args else str(msg)), **kwargs)

    def debug(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().debug(clean_text(str(msg) % args if args else str(msg)), **kwargs)


# the access log line: no address, no Referer, no User-Agent (see AccessLogger for the rest)
ACCESS_LOG_FORMAT = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms'
