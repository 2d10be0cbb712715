from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harbour.directory.textsearch import (
    MAX_TERMS,
    STOPWORDS,
    document,
    fts5_query,
    matches,
    normalize,
    query_terms,
    stem,
    tokens,
    tsquery,
)


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("Désintoxication — Œuvre d’Hôpital!", "desintoxication oeuvre d hopital"),
        ("  Sans-abri / L'Écho   (24/7)  ", "sans abri l echo 24 7"),
        ("STRAẞE Straße Æsop ﬁn", "strasse strasse aesop fin"),
        ("Çà et là: naïve façade", "ca et la naive facade"),
        ("", ""),
        ("—!?", ""),
    ],
)
def test_normalize_strips_accents_case_and_punctuation(text, normalized):
    assert normalize(text) == normalized


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [
        ("kits", "kit"),
        ("naloxone", "naloxone"),
        ("services", "service"),
        ("centres", "centre"),
        ("desintoxication", "desintoxication"),
        ("hopitaux", "hopital"),
        ("sociaux", "social"),
        ("refuges", "refuge"),
        ("families", "family"),
        ("communities", "community"),
        ("reseaux", "reseau"),
        ("bureaux", "bureau"),
        ("travaux", "travail"),
        ("jeux", "jeu"),
        ("pharmacies", "pharmacy"),
        ("pharmacie", "pharmacy"),
        ("pharmacy", "pharmacy"),
        ("therapie", "therapy"),
        ("access", "access"),
        ("bus", "bus"),
        ("gas", "gas"),
        ("2026", "2026"),
        ("1990s", "1990"),
    ],
)
def test_stem(word, stemmed):
    assert stem(word) == stemmed


def test_queries_match_across_accents_plurals_and_prefixes():
    assert matches(document("Désintoxication et gestion du sevrage"), query_terms("desintox"))
    assert query_terms("naloxone kits") == ["naloxone", "kit"]
    assert matches(document("Naloxone kit"), query_terms("naloxone kits"))
    assert matches(document("Naloxone kits"), query_terms("naloxone kit"))
    assert matches(document("Hôpital général"), query_terms("hopital"))
    assert matches(document("Hopital general"), query_terms("hôpital"))
    assert matches(document("Hôpitaux"), query_terms("hôpital"))
    assert matches(document("Réseau communautaire"), query_terms("réseaux"))
    assert matches(document("Pharmacie"), query_terms("pharmacies"))
    assert matches(document("Pharmacies"), query_terms("pharmacie"))
    assert matches(document("Pharmacy"), query_terms("pharmacie"))
    assert matches(document("Services sociaux"), query_terms("service social"))
    assert matches(document("Refuges pour familles"), query_terms("refuge famille"))
    assert not matches(document("Food bank"), query_terms("naloxone"))
    assert not matches(document("Naloxone kit"), query_terms("naloxone food"))


def test_document_and_query_values():
    assert document("Désintoxication et gestion du sevrage") == "desintoxication gestion sevrage"
    assert document("Hôpitaux et services sociaux", "Hospital and social services") == (
        "hopital service social hospital"
    )
    assert query_terms("Trousses de naloxone GRATUITES!") == ["trousse", "naloxone", "gratuite"]
    assert query_terms("") == []
    assert query_terms(None) == []


def test_stopwords_and_single_letters_are_dropped():
    brief = {
        "the", "and", "of", "for", "a", "an", "in", "to",
        "le", "la", "les", "des", "de", "du", "et", "pour", "en",
        "un", "une", "au", "aux", "d", "l",
    }  # fmt: skip
    assert brief <= STOPWORDS
    assert tokens("Le centre de la santé et des services pour les jeunes") == [
        "centre",
        "sante",
        "service",
        "jeune",
    ]
    assert tokens("Aux soins d'urgence, l'accès") == ["soin", "urgence", "acce"]
    assert tokens("x y z 7") == []
    assert query_terms("the a of") == []
    assert tokens(None) == []


def test_document_keeps_first_appearance_order_without_repeats():
    assert document("Kits kits", None, "naloxone KIT", "") == "kit naloxone"
    assert document() == ""


def test_query_has_at_most_eight_unique_terms():
    assert MAX_TERMS == 8
    assert query_terms(" ".join(f"word{n}" for n in range(20))) == [f"word{n}" for n in range(8)]
    assert query_terms("kit kits KIT naloxone") == ["kit", "naloxone"]


def test_matches_is_a_prefix_test_on_whole_tokens():
    doc = document("Naloxone kit distribution")
    assert matches(doc, ["nal", "dist"])
    assert matches(doc, [])
    assert not matches(doc, ["oxone"])  # not a prefix
    assert not matches(doc, ["naloxonekit"])  # terms do not span tokens
    assert not matches("", ["kit"])


def test_fts_and_tsquery_syntax_is_safe():
    assert fts5_query(["desintox", "kit"]) == '"desintox"* AND "kit"*'
    assert tsquery(["desintox", "kit"]) == "desintox:* & kit:*"
    assert fts5_query(query_terms("Désintox kits")) == '"desinto"* AND "kit"*'
    assert tsquery(query_terms("Désintox kits")) == "desinto:* & kit:*"
    # anything outside [a-z0-9] is stripped, whatever the caller passes
    assert fts5_query(['a"b) OR (c']) == '"aborc"*'
    assert tsquery(["a'b | !c & d:*"]) == "abcd:*"
    assert fts5_query(["KIT"]) == '"kit"*'
    with pytest.raises(ValueError):
        tsquery(["***"])
    with pytest.raises(ValueError):
        fts5_query(['"'])


@given(st.text(max_size=80))
def test_every_text_finds_itself_and_normalize_is_idempotent(text):
    assert normalize(normalize(text)) == normalize(text)
    assert re.fullmatch(r"(?:[a-z0-9]+(?: [a-z0-9]+)*)?", normalize(text))
    assert matches(document(text), query_terms(text))
    for token in tokens(text):
        assert matches(document(text), [token])
        assert re.fullmatch(r"[a-z0-9]{2,}", token)


@given(st.lists(st.text(max_size=20), max_size=4))
def test_document_holds_every_token_of_every_text(texts):
    doc = document(*texts)
    assert len(doc.split()) == len(set(doc.split()))
    for text in texts:
        assert matches(doc, tokens(text))


@given(st.text(max_size=80))
def test_built_queries_are_always_well_formed(text):
    terms = query_terms(text)
    assert len(terms) <= MAX_TERMS
    if terms:
        assert re.fullmatch(r'"[a-z0-9]+"\*(?: AND "[a-z0-9]+"\*)*', fts5_query(terms))
        assert re.fullmatch(r"[a-z0-9]+:\*(?: & [a-z0-9]+:\*)*", tsquery(terms))
