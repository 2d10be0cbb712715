"""Search the whole database for a value: the proof that something erased is erased everywhere.

``find_everywhere(value)`` reads every row of every table the database has (Harbour's, Django's,
allauth's, the task queue's, SQLite's full-text shadow tables: whatever introspection lists),
every column, and answers the ``(table, column)`` pairs where ``value`` appears:

- as text, case-insensitively, anywhere inside the cell (so a phone number inside a message body
  or a JSON document is found);
- inside JSON stored with escapes (``"Zo\\u00e9"``): the escaped form is searched too;
- inside an encrypted value: every Fernet token found in a cell (``EncryptedTextField`` columns,
  or a token copied anywhere else) is decrypted with Harbour's keys and searched too, so
  encryption at rest never hides a value from this scan;
- in binary columns, decoded as UTF-8 where it can be;
- a phone number (a value starting with "+") by its last ten digits, in whatever format it was
  stored ("613 555 0100", "(613) 555-0100").

It reads raw rows through the connection, not models, so a table no model knows about is not
skipped. Small test databases only: it reads everything.
"""

from __future__ import annotations

import json
import re
from typing import Any

from cryptography.fernet import InvalidToken
from django.db import connection

from harbour.notify.crypto import decrypt

FERNET_TOKEN = re.compile(r"gAAAAA[A-Za-z0-9_\-]+=*")


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, memoryview):
        cell = cell.tobytes()
    if isinstance(cell, bytes | bytearray):
        return bytes(cell).decode("utf-8", "ignore")
    if isinstance(cell, str):
        return cell
    if isinstance(cell, dict | list):
        return json.dumps(cell, ensure_ascii=False)
    return str(cell)


def _plain(text: str) -> str:
    """The cell's text with every Fernet token it holds decrypted and appended."""
    found = []
    for token in FERNET_TOKEN.findall(text):
        try:
            found.append(decrypt(token))
        except (InvalidToken, ValueError):
            continue
    return text if not found else "\n".join([text, *found])


def tables() -> list[str]:
    with connection.cursor() as cursor:
        return sorted(connection.introspection.table_names(cursor, include_views=False))


def find_everywhere(value: str) -> list[tuple[str, str]]:
    """Every ``(table, column)`` whose cells hold ``value`` (see the module's docstring)."""
    needles = {value.casefold(), json.dumps(value)[1:-1].casefold()}
    needles.discard("")
    phone = re.sub(r"\D", "", value)[-10:] if value.startswith("+") else ""
    hits: set[tuple[str, str]] = set()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in tables():
            cursor.execute(f"SELECT * FROM {quote(table)}")  # noqa: S608 (introspected names)
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, cell in zip(columns, row, strict=True):
                    if (table, column) in hits:
                        continue
                    text = _plain(_text(cell)).casefold()
                    if any(needle in text for needle in needles) or (
                        phone and phone in re.sub(r"\D", "", text)
                    ):
                        hits.add((table, column))
    return sorted(hits)


def assert_nowhere(*values: str) -> None:
    """Fail naming where each value was still found."""
    left = {value: found for value in values if (found := find_everywhere(value))}
    assert not left, f"still in the database: {left}"
