"""Pages a first-time visitor meets that used to break: the API docs, error pages, the public
pages on a phone (no sideways panning) and the trends charts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect
from pytest_django.live_server_helper import LiveServer

from harbour.accounts.models import Organization

from .conftest import AXE, BROWSER, DESKTOP, PHONE, check, lang, screenshots

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


# --- Error pages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "not_found", "too_long", "exit_name"),
    [
        ("en", "Page not found", "That address is too long", "Quick exit"),
        ("fr", "Page introuvable", "Cette adresse est trop longue", "Quitter rapidement"),
    ],
)
def test_error_pages_are_harbour_pages_in_the_persons_language(
    page: Page, live_server: LiveServer, language: str, not_found: str, too_long: str,
    exit_name: str,
) -> None:  # fmt: skip
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    page.goto("/no-such-page/")
    expect(page.locator("h1")).to_have_text(not_found)
    assert lang(page) == language
    expect(page.get_by_role("link", name=exit_name)).to_be_visible()
    check(page, f"error-404-{language}")
    page.goto("/find/?q=" + "x" * 3000)
    expect(page.locator("h1")).to_have_text(too_long)
    expect(page.get_by_role("link", name=exit_name)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    check(page, f"error-414-{language}")


# --- Public pages on a phone: no sideways panning -----------------------------------------------


def _trends_data(org: Organization) -> None:
    from django.utils import timezone

    from harbour.core.releases import make_due
    from harbour.surveillance import services
    from harbour.surveillance.models import DetectionSettings, Source

    DetectionSettings.objects.create(organization=org, share_publicly=True)
    now = timezone.now()
    for fsa, days in (("K7L", range(36, 90)), ("K7K", (40, 41, 60)), ("K7M", range(36, 50))):
        for i, day in enumerate(days):
            services.event_record(
                organization=org,
                data=services.EventIn(occurred_at=now - timedelta(days=day, hours=2),
                                      source=Source.EMS, source_ref=f"{fsa}:{i}", fsa=fsa),
            )  # fmt: skip
    services.published_import(text=services.shipped_harms())
    make_due()


@pytest.fixture
def public_data(db: None) -> None:
    from django.utils import timezone

    from harbour.core import releases
    from harbour.demo.data import load as load_orgs
    from harbour.demo.directory import load as load_directory
    from harbour.demo.drugcheck import load as load_drugcheck

    load_orgs()
    load_directory()
    load_drugcheck()
    releases.make_due(now=timezone.now() + timedelta(days=8))


PUBLIC_PAGES = [
    "/",
    "/find/?q=food&near=K7L",
    "/drugcheck/",
    "/drugcheck/result/",
    "/alerts/",
    "/alerts/report/",
    "/alerts/subscribe/",
    "/checkin/",
    "/trends/",
    "/meetings/",
    "/mentoring/",
    "/naloxone/",
    "/accounts/login/",
]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_public_pages_do_not_pan_sideways_on_a_phone(
    page: Page, live_server: LiveServer, public_data: None, language: str
) -> None:
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    wide = {}
    for path in PUBLIC_PAGES:
        page.goto(path)
        assert lang(page) == language
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide[path] = width
    assert wide == {}


# --- /trends/: charts a person can read -----------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        (
            "en",
            [
                "Overdose events a week, all areas, in the weeks published",
                "Overdose events in the newest block published, by area",
                "Apparent opioid toxicity deaths by quarter, Canada (PHAC)",
                "Overdose events",
                "Week starting (day/month)",
                "Deaths",
                "fewer",
                "more",
                "K7L",
            ],
        ),
        (
            "fr",
            [
                "Surdoses par semaine, toutes les zones, pendant les semaines publiées",
                "Surdoses dans le dernier bloc publié, par zone",
                "Décès apparemment liés à une intoxication aux opioïdes par trimestre, "
                "Canada (ASPC)",
                "Surdoses",
                "Semaine commençant le (jour/mois)",
                "Décès",
                "moins",
                "plus",
                "K7L",
            ],
        ),
    ],
)
def test_trends_charts_have_visible_titles_axes_and_legends(
    page: Page, live_server: LiveServer, org_a: Organization, language: str, texts: list[str]
) -> None:
    _trends_data(org_a)
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    page.goto("/trends/")
    for text in texts:
        expect(page.get_by_text(text, exact=True).first).to_be_visible()
    # the Canada chart's tick labels are inside the picture (not clipped at its left edge)
    boxes = page.evaluate(
        """() => [...document.querySelectorAll(
               '#canada-heading ~ figure svg text:not(.axis-label)')].map(t => t.getBBox().x)"""
    )
    assert boxes and min(boxes) >= 0
    quarter = "T4 2024" if language == "fr" else "Q4 2024"
    page.get_by_text("The same figures as a table" if language == "en"
                     else "Les mêmes chiffres en tableau").click()  # fmt: skip
    expect(page.get_by_role("rowheader", name=quarter)).to_be_visible()
    # block dates in the person's language ("sept.", "oct." in French, not "Sep", "Oct")
    from django.utils import translation
    from django.utils.dateformat import format as date_format

    from harbour.surveillance import selectors

    headers = page.locator("#areas-heading ~ .table-wrap thead th").all_inner_texts()[1:]
    releases = selectors.public_trends().releases
    with translation.override(language):
        expected = [
            f"{date_format(r.period_start, 'j N')} – {date_format(r.last_day, 'j N Y')}"
            for r in releases
        ]
    assert [" ".join(h.split()) for h in headers] == expected
    if language == "fr":
        assert not any(m in " ".join(headers) for m in ("Sep ", "Oct ", "Nov ", "Dec "))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    check(page, f"trends-charts-{language}")
    if language == "fr":
        page.get_by_label("Région", exact=True).select_option("British Columbia")
        expect(page.get_by_label("Région", exact=True).locator("option:checked")).to_have_text(
            "Colombie-Britannique"
        )
