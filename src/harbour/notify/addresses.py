"""Phone numbers and email addresses in one form each, so that blind indexes match."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}\.[^@\s]{2,}$")


def normalize_phone(raw: str) -> str:
    """E.164 (``+16135550142``). North American numbers may come without +1; anything else
    must start with + and a country code. ValueError when it is not a phone number."""
    text = raw.strip()
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        number = "+" + digits
    elif len(digits) == 10:
        number = "+1" + digits
    elif len(digits) == 11 and digits.startswith("1"):
        number = "+" + digits
    else:
        raise ValueError(f"not a phone number: {raw!r}")
    if not 9 <= len(number) <= 16 or (number.startswith("+1") and len(number) != 12):
        raise ValueError(f"not a phone number: {raw!r}")
    return number


def normalize_email(raw: str) -> str:
    text = raw.strip()
    if not _EMAIL.match(text):
        raise ValueError(f"not an email address: {raw!r}")
    local, domain = text.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def normalize(channel: str, raw: str) -> str:
    if channel == "sms":
        return normalize_phone(raw)
    if channel == "email":
        return normalize_email(raw)
    return raw.strip()  # push: the subscription's JSON, as the browser gave it
