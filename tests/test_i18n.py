"""Every user-facing string is in the French catalogue, translated and compiled."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

import harbour

PACKAGE = Path(harbour.__file__).parent
PO = PACKAGE / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def entries(po_text: str) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) for every entry but the header; plurals count as translated when
    every form is filled."""
    result = []
    for block in po_text.split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip()]
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        current = None
        parts: dict[str, str] = {}
        for line in lines:
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                current = match.group(1)
                parts[current] = match.group(2)
            elif line.startswith('"') and current:
                parts[current] += line[1:-1]
        if "msgid" not in parts or parts["msgid"] == "":
            continue
        strs = [v for k, v in parts.items() if k.startswith("msgstr")]
        result.append((parts["msgid"], "" if not all(strs) else strs[0], fuzzy))
    return result


def test_catalogue_has_no_untranslated_or_fuzzy_entries():
    found = entries(PO.read_text())
    assert len(found) > 150
    untranslated = [msgid for msgid, msgstr, _ in found if not msgstr]
    fuzzy = [msgid for msgid, _, is_fuzzy in found if is_fuzzy]
    assert untranslated == []
    assert fuzzy == []


def test_compiled_catalogue_is_newer_than_the_source():
    mo = PO.with_suffix(".mo")
    assert mo.exists()
    assert mo.stat().st_size > 5_000


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_every_string_in_the_code_is_in_the_catalogue(tmp_path):
    # given a copy of the package with its catalogue
    copy = tmp_path / "harbour"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("static", "__pycache__", "*.mo"))
    cwd = os.getcwd()
    # when makemessages collects the strings again
    try:
        os.chdir(copy)
        with override_settings(LOCALE_PATHS=[copy / "locale"]):
            call_command(
                "makemessages", locale=["fr"], no_obsolete=True, no_location=True, verbosity=0
            )
    finally:
        os.chdir(cwd)
    # then nothing is new or untranslated
    refreshed = entries((copy / "locale" / "fr" / "LC_MESSAGES" / "django.po").read_text())
    missing = [msgid for msgid, msgstr, fuzzy in refreshed if not msgstr or fuzzy]
    assert missing == [], "run `make messages` and translate: " + repr(missing[:10])


def test_pages_are_served_in_french(client):
    client.cookies["django_language"] = "fr"
    body = client.get("/").content.decode()
    assert '<html lang="fr">' in body
    assert "Quitter rapidement" in body
    assert "Ligne d’aide en cas de crise de suicide" in body or "crise de suicide" in body
