"""Meeting types: the Meeting Guide spec's codes (``data/types.json`` and the proposed ones in
``data/proposed-new.json``, with their French labels) and each fellowship's own vocabulary
(``data/fellowships.json``): terms such as NA's "Basic Text study" with a Harbour code
(``NA-BT``) that maps to the spec's code (``LIT``) where one fits.

Pure Python (no Django). A meeting stores codes; :func:`normalize_codes` adds the spec code each
fellowship term implies, so what is stored is what the feed says and an import of the feed
finds nothing changed. Codes nobody knows (from an imported feed) are kept, never dropped, and
reported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

# Language codes of the spec (and the proposed Quebec and Russian sign languages)
LANGUAGE_CODES = frozenset(
    {
        "AF", "AM", "AR", "ASL", "BG", "DA", "DE", "EL", "EN", "FA", "FI", "FR", "HE", "HI",
        "HR", "HU", "IS", "ITA", "JA", "KA", "KOR", "LT", "ML", "MT", "NE", "NL", "NO", "POL",
        "POR", "PUN", "RUS", "S", "SK", "SL", "SV", "TH", "TL", "TUR", "UK", "QSL", "RSL",
    }
)  # fmt: skip
# the types most people filter on, in the order the search form offers them
COMMON = ("O", "C", "BE", "W", "M", "LGBTQ", "Y", "NDG", "X", "BA", "A", "SP", "D", "ST", "MED")
TEMPORARILY_CLOSED = "TC"
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.&+-]{0,19}$")


@dataclass(frozen=True)
class Term:
    code: str
    en: str
    fr: str
    spec: str | None  # the spec's code this term maps to, if any


def _load(name: str) -> dict[str, dict[str, str]]:
    text = resources.files("harbour.meetings").joinpath("data", name).read_text("utf-8")
    return dict(json.loads(text))


@cache
def spec_types() -> dict[str, dict[str, str]]:
    """The spec's codes (reserved ones first, then proposed) with labels in nine languages."""
    return {**_load("types.json"), **_load("proposed-new.json")}


@cache
def fellowships() -> dict[str, dict[str, object]]:
    return dict(json.loads(
        resources.files("harbour.meetings").joinpath("data", "fellowships.json").read_text("utf-8")
    ))  # fmt: skip


def vocabulary(terms: Iterable[Mapping[str, object]]) -> dict[str, Term]:
    """A fellowship's terms by code, from the JSON kept on the fellowship."""
    out = {}
    for raw in terms:
        spec = raw.get("spec")
        term = Term(str(raw["code"]), str(raw["en"]), str(raw["fr"]), str(spec) if spec else None)
        out[term.code] = term
    return out


def is_known(code: str, terms: Mapping[str, Term] | None = None) -> bool:
    return code in spec_types() or bool(terms and code in terms)


def label(code: str, lang: str, terms: Mapping[str, Term] | None = None) -> str:
    """The label people see: the fellowship's own term first, then the spec's, else the code."""
    lang = "fr" if lang.startswith("fr") else "en"
    if terms and code in terms:
        term = terms[code]
        return term.fr if lang == "fr" else term.en
    found = spec_types().get(code)
    if found is not None:
        return found.get(lang) or found["en"]
    return code


def normalize_codes(codes: Iterable[str], terms: Mapping[str, Term] | None = None) -> list[str]:
    """Codes stripped and without repeats, in their order, then the spec codes the
    fellowship's terms imply (``NA-BT`` brings ``LIT``). Case is kept: the spec's codes are
    case-sensitive (``12x12``)."""
    out: list[str] = []
    for code in codes:
        text = str(code).strip()
        if text and text not in out:
            out.append(text)
    for code in list(out):
        term = terms.get(code) if terms else None
        if term is not None and term.spec and term.spec not in out:
            out.append(term.spec)
    return out


def labels(codes: Iterable[str], lang: str, terms: Mapping[str, Term] | None = None) -> list[str]:
    """Labels to show, leaving out a spec code already said by a fellowship term (a meeting
    marked "Basic Text study" does not also say "Literature")."""
    codes = list(codes)
    implied = {terms[c].spec for c in codes if terms and c in terms and terms[c].spec}
    return [label(code, lang, terms) for code in codes if code not in implied]


def unknown(codes: Iterable[str], terms: Mapping[str, Term] | None = None) -> list[str]:
    return [code for code in codes if not is_known(code, terms)]


def languages(codes: Iterable[str]) -> list[str]:
    return [code for code in codes if code in LANGUAGE_CODES]
