from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harbour.directory.textsearch import (
    document,
    fts5_query,
    matches,
    normalize,
    query_terms,
    stem,
    tokens,
    tsquery,
)


def test_normalize_strips_accents_case_and_punctuation():
    assert normalize("Désintoxication — Œuvre d’Hôpital!") == "desintoxication oeuvre d hopital"


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [
        ("kits", "kit"),
        ("naloxone", "naloxone"),
        ("services", "service"),
        ("centres", "centre"),
        ("desintoxication", "desintoxication"),
        ("hopitaux", "hopital"),
        ("refuges", "refuge"),
        ("families", "family"),
        ("access", "access"),
        ("bus", "bus"),
        ("2026", "2026"),
    ],
)
def test_stem(word, stemmed):
    assert stem(word) == stemmed


def test_queries_match_across_accents_plurals_and_prefixes():
    assert matches(document("Désintoxication et gestion du sevrage"), query_terms("desintox"))
    assert query_terms("naloxone kits") == ["naloxone", "kit"]
    assert matches(document("Naloxone kit"), query_terms("naloxone kits"))
    assert matches(document("Hôpital général"), query_terms("hopital"))
    assert matches(document("Hopital general"), query_terms("hôpital"))
    assert not matches(document("Food bank"), query_terms("naloxone"))


def test_stopwords_and_single_letters_are_dropped():
    assert tokens("Le centre de la santé et des services pour les jeunes") == [
        "centre",
        "sante",
        "service",
        "jeune",
    ]
    assert query_terms("the a of") == []


def test_document_keeps_first_appearance_order_without_repeats():
    assert document("Kits kits", None, "naloxone KIT") == "kit naloxone"


def test_query_has_at_most_eight_terms():
    assert len(query_terms(" ".join(f"word{n}" for n in range(20)))) == 8


def test_fts_and_tsquery_syntax_is_safe():
    assert fts5_query(["desintox", "kit"]) == '"desintox"* AND "kit"*'
    assert tsquery(["desintox", "kit"]) == "desintox:* & kit:*"
    assert fts5_query(['a"b) OR (c']) == '"aborc"*'
    with pytest.raises(ValueError):
        tsquery(["***"])


@given(st.text(max_size=80))
def test_every_text_finds_itself_and_normalize_is_idempotent(text):
    assert normalize(normalize(text)) == normalize(text)
    assert matches(document(text), query_terms(text))
