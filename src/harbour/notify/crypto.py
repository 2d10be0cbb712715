"""Field encryption at rest and blind indexes (keyed hashes for lookups on encrypted values).

Keys come from settings: ``HARBOUR_FIELD_KEYS`` (Fernet keys, newest first: values are written
with the first and read with any, so a key can be rotated: add the new key first, run
``harbour rotate-field-keys``, then drop the old one) and ``HARBOUR_BLIND_INDEX_KEY``. Without
them (development, tests) both are derived from ``SECRET_KEY``, and ``harbour check --deploy``
warns (harbour.W001); production refuses to start without them (settings.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


def _derived(purpose: str) -> bytes:
    return hashlib.sha256(f"harbour:{purpose}:{settings.SECRET_KEY}".encode()).digest()


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        keys = (base64.urlsafe_b64encode(_derived("field-key")).decode(),)
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(getattr(settings, "HARBOUR_FIELD_KEYS", ()) or ()))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return fernet().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """The same value encrypted with the newest key."""
    return fernet().rotate(token.encode()).decode()


def blind_index(value: str, *, kind: str) -> str:
    """A keyed hash of a normalized value: equal values give equal indexes, and the index
    reveals nothing without the key. ``kind`` keeps phone and email indexes apart."""
    key = getattr(settings, "HARBOUR_BLIND_INDEX_KEY", "") or ""
    secret = key.encode() if key else _derived("blind-index")
    return hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:40]


class EncryptedTextField(models.TextField):
    """Text stored encrypted (Fernet: AES-128-CBC with HMAC-SHA256). No lookups: index what
    must be found with ``blind_index`` in a second column."""

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        try:
            return decrypt(value)
        except InvalidToken as exc:
            raise ValueError(
                "an encrypted field could not be read: is the key that wrote it in "
                "HARBOUR_FIELD_KEYS?"
            ) from exc
