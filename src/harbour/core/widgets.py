"""Form widgets shared by every app."""

from __future__ import annotations

from typing import Any

from django import forms

ISO_DATE = "%Y-%m-%d"


class DateInput(forms.DateInput):
    """A browser date picker (``type=date``). Its value is always ISO (``2026-02-12``), as
    browsers require whatever the page's language: a localized value ("12/02/2026") leaves the
    field empty."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=ISO_DATE)
