"""Accent- and plural-insensitive search terms for English and French. Pure Python.

A service's searchable texts become a *document* of normalized, lightly stemmed tokens; a query
becomes a few terms, each matched as a prefix of a document token ("desintox" finds
"désintoxication", "naloxone kits" finds "Naloxone kit"). The same document feeds SQLite FTS5
and PostgreSQL's ``to_tsvector('simple', ...)``.
"""

from __future__ import annotations

import re
import unicodedata

STOPWORDS = frozenset(
    {
        # English
        "the", "and", "of", "for", "a", "an", "in", "to", "or", "with", "at", "on", "by",
        # French
        "le", "la", "les", "des", "de", "du", "et", "pour", "en", "un", "une", "au", "aux",
        "d", "l", "dans", "sur", "avec", "ou",
    }
)  # fmt: skip
MAX_TERMS = 8
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss"})  # after casefold: lower case only
# plurals no suffix rule gets right ("travaux" would otherwise become "traval")
_IRREGULAR = {"travaux": "travail", "baux": "bail", "yeux": "oeil"}
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalize(text: str) -> str:
    """Lowercase, without accents or punctuation, single spaces."""
    text = text.casefold().translate(_LIGATURES)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", text).strip()


def stem(token: str) -> str:
    """Strip plural endings of a normalized token, the same way in documents and queries.

    kits -> kit, services -> service, families -> family, hopitaux -> hopital,
    reseaux -> reseau; French singulars in -ie meet their plurals and the English -y words:
    pharmacie, pharmacies and pharmacy all give pharmacy. Tokens of 3 characters or fewer,
    numbers and words in -ss are kept as they are."""
    if len(token) <= 3 or token.isdigit():
        return token
    if token in _IRREGULAR:
        return _IRREGULAR[token]
    if token.endswith("eaux"):  # reseaux -> reseau, bureaux -> bureau
        return token[:-1]
    if token.endswith("aux") and len(token) > 4:  # hopitaux -> hopital
        return token[:-3] + "al"
    if token.endswith("ies") and len(token) > 4:  # families -> family, therapies -> therapy
        return token[:-3] + "y"
    if token.endswith("ie"):  # therapie -> therapy, so that it meets "therapies"
        return token[:-2] + "y"
    if token.endswith("ss"):
        return token
    if token.endswith(("s", "x")):
        return token[:-1]
    return token


def tokens(text: str | None) -> list[str]:
    if not text:
        return []
    return [
        stem(word) for word in normalize(text).split() if len(word) > 1 and word not in STOPWORDS
    ]


def document(*texts: str | None) -> str:
    """The space-joined unique tokens of every text, in order of first appearance."""
    seen: dict[str, None] = {}
    for text in texts:
        for token in tokens(text):
            seen.setdefault(token, None)
    return " ".join(seen)


def query_terms(query: str | None) -> list[str]:
    return list(dict.fromkeys(tokens(query)))[:MAX_TERMS]


def matches(doc: str, terms: list[str]) -> bool:
    """Every term is a prefix of some token of ``doc`` (the reference for the SQL versions)."""
    words = doc.split()
    return all(any(word.startswith(term) for word in words) for term in terms)


def _safe(term: str) -> str:
    cleaned = _NON_WORD.sub("", term.lower())
    if not cleaned:
        raise ValueError(f"not a search term: {term!r}")
    return cleaned


def fts5_query(terms: list[str]) -> str:
    """SQLite FTS5: ``"desintox"* AND "kit"*``."""
    return " AND ".join(f'"{_safe(term)}"*' for term in terms)


def tsquery(terms: list[str]) -> str:
    """PostgreSQL ``to_tsquery('simple', ...)``: ``desintox:* & kit:*``."""
    return " & ".join(f"{_safe(term)}:*" for term in terms)
