"""Meetings fixtures: a feed file served over loopback HTTP, and a meeting maker."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from harbour.meetings import services

DATA = Path(__file__).resolve().parents[1] / "data" / "meetings"


@pytest.fixture
def fixture_items() -> list[dict[str, Any]]:
    """The three TSML UI test meetings (in person, online, inactive)."""
    return list(json.loads((DATA / "tsml_fixture_meetings.json").read_text()))


class Served:
    def __init__(self) -> None:
        self.body = b"[]"
        self.status = 200
        self.requests = 0

    def url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}/meetings.json"


@pytest.fixture
def feed_server() -> Iterator[tuple[Served, str]]:
    """A loopback HTTP server answering with ``served.body`` (never the internet)."""
    served = Served()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.requests += 1
            self.send_response(served.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(served.body)))
            self.end_headers()
            self.wfile.write(served.body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, served.url(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.fixture
def add_meeting(db: None) -> Callable[..., Any]:
    """Import one listing for an organization (through the real importer, no removals)."""

    def add(org: Any, **item: Any) -> Any:
        from harbour.meetings.models import Meeting

        values = {"name": "Test meeting", "timezone": "America/Toronto", "fellowship": "aa",
                  **item}  # fmt: skip
        services.import_meetings(organization=org, items=[values], remove_missing=False)
        return Meeting.objects.get(slug=values["slug"])

    return add
