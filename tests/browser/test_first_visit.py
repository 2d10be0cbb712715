"""Pages a first-time visitor meets that used to break: the API docs, error pages, the public
pages on a phone (no sideways panning) and the trends charts."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from .conftest import AXE, BROWSER, DESKTOP, PHONE, screenshots

SERIOUS = {"serious", "critical"}

pytestmark = BROWSER


def _console(page: Page) -> list[str]:
    messages: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if message.type in {"error", "warning"}:
            messages.append(message.text)

    page.on("console", keep)
    return messages


@pytest.mark.parametrize(
    ("path", "title", "operation"),
    [
        ("/api/v1/docs", "Harbour API", "/api/v1/"),
        ("/api/hsds/docs", "Harbour HSDS API", "/api/hsds/services"),
    ],
)
def test_api_docs_show_the_operations_with_no_csp_violation(
    page: Page, path: str, title: str, operation: str
) -> None:
    messages = _console(page)
    page.set_default_timeout(30000)  # 1.7 MB of script on a shared test machine
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        page.goto(path)
        expect(page.locator(".swagger-ui .info .title")).to_contain_text(title)
        expect(page.locator(".opblock-summary-path", has_text=operation).first).to_be_visible()
    # Swagger UI's own markup puts the copy-link button inside each operation's summary
    # button (nested-interactive): not Harbour's to change. Everything else must pass.
    results = AXE.run(page, options={"rules": {"nested-interactive": {"enabled": False}}})
    bad = [v["id"] for v in results.response["violations"] if v["impact"] in SERIOUS]
    assert bad == [], [
        (v["id"], [n["target"] for n in v["nodes"][:3]])
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]
    screenshots(page, f"api-docs-{title.split()[-2].lower()}")
    csp = [m for m in messages if "Content Security Policy" in m or "Refused" in m]
    assert csp == []
