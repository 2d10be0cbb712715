"""A sample whose fentanyl strips disagreed (imported from a Drug Checking BC table with
``Positive;Negative`` in one cell), looked up by its code: shown as mixed, with each strip's
answer, in English and in French, at phone and desktop size."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import BROWSER, check

pytestmark = BROWSER

MULTI = Path(__file__).resolve().parents[1] / "data" / "drugcheck" / "drugcheckingbc_multistrip.csv"


@pytest.fixture
def mixed_code(db: None, make_org) -> str:  # type: ignore[no-untyped-def]
    from harbour.drugcheck import importers
    from harbour.drugcheck.models import Sample

    org = make_org("strips")
    importers.import_files(fmt="drugcheckingbc", paths=[MULTI], organization=org)
    return Sample.objects.get(expected="Down", site__endswith="A").display_code


def test_a_mixed_strip_result_is_shown_as_such_in_both_languages(
    page: Page, mixed_code: str
) -> None:
    page.goto("/drugcheck/result/")
    page.get_by_label("Sample code").fill(mixed_code)
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("heading", name=f"Result for {mixed_code}")).to_be_visible()
    strip = page.locator("dt", has_text="Fentanyl test strip").locator(
        "xpath=following-sibling::dd[1]"
    )
    expect(strip).to_have_text("Mixed (positive; negative)")
    check(page, "drugcheck-result-mixed")
    page.get_by_role("button", name="Français").click()
    page.get_by_label("Code de l’échantillon").fill(mixed_code)
    page.get_by_role("button", name="Consulter").click()
    strip = page.locator("dt", has_text="Bandelette").first.locator(
        "xpath=following-sibling::dd[1]"
    )
    expect(strip).to_have_text("Mixte (positif; négatif)")
    check(page, "drugcheck-result-mixed-fr")
