from __future__ import annotations

import re

from django import template

register = template.Library()


@register.filter
def tel(number: str) -> str:
    """A dialable ``tel:`` target: digits and a leading + ("1-800-668-6868 x2" -> 18006686868)."""
    text = str(number or "").strip()
    match = re.match(r"^\+?[\d\s().-]+", text)
    digits = re.sub(r"[^\d]", "", match.group(0) if match else text)
    return ("+" if text.startswith("+") else "") + digits
