"""Meeting types: the spec's codes with French labels, fellowships' own terms mapped to them."""

from __future__ import annotations

import json
from pathlib import Path

from harbour.meetings import types

DATA = Path(__file__).resolve().parents[1] / "data" / "meetings"


def test_the_packaged_spec_types_are_the_published_ones_with_french_labels():
    # given the spec's README table (tests/data) and the packaged types.json
    readme = (DATA / "spec_README.md").read_text()
    table = readme.split("<!-- Types -->")[1].split("<!-- End Types -->")[0]
    rows = [line.split("|") for line in table.splitlines() if line.startswith("|`")]
    published = {row[1].strip("`"): (row[2], row[4]) for row in rows}
    # then every code of the spec is known, with its English and French label
    spec = types.spec_types()
    assert len(published) == 87
    for code, (en, fr) in published.items():
        assert (spec[code]["en"], spec[code]["fr"]) == (en, fr)
    assert types.label("BE", "fr") == "Nouveau/nouvelle"
    assert types.label("W", "fr-ca") == "Femmes"
    assert types.label("QSL", "fr") == "Langue des Signes Québécoise"  # a proposed code
    assert types.label("ZZZ", "fr") == "ZZZ"  # unknown: shown as it is


def test_fellowship_terms_never_reuse_a_spec_code_and_map_to_real_codes():
    spec = types.spec_types()
    for slug, fellowship in types.fellowships().items():
        for term in types.vocabulary(fellowship["terms"]).values():  # type: ignore[arg-type]
            assert term.code not in spec, (slug, term.code)
            assert term.code not in types.LANGUAGE_CODES
            assert term.spec is None or term.spec in spec, (slug, term.code)
            assert types.CODE.match(term.code)
            assert term.en and term.fr


def test_normalizing_keeps_order_and_unknown_codes_and_adds_implied_spec_codes():
    na = types.vocabulary(types.fellowships()["na"]["terms"])  # type: ignore[arg-type]
    assert types.normalize_codes([" O", "NA-BT", "O", "12x12", "XYZ", ""], na) == [
        "O", "NA-BT", "12x12", "XYZ", "LIT",
    ]  # fmt: skip
    assert types.normalize_codes(["NA-BT", "LIT"], na) == ["NA-BT", "LIT"]
    assert types.unknown(["O", "NA-BT", "XYZ"], na) == ["XYZ"]
    assert types.unknown(["NA-BT"], {}) == ["NA-BT"]  # another program's term is unknown here
    # labels leave out the spec code a term already says
    assert types.labels(["O", "NA-BT", "LIT", "FR"], "fr", na) == [
        "Ouvert(e)", "Étude du Texte de base", "Français",
    ]  # fmt: skip
    assert types.languages(["O", "FR", "EN", "ASL"]) == ["FR", "EN", "ASL"]


def test_the_fixture_types_are_all_known():
    items = json.loads((DATA / "tsml_fixture_meetings.json").read_text())
    assert {code for item in items for code in item["types"]} <= set(types.spec_types())
