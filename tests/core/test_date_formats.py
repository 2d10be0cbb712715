"""Dates nobody can read two ways: "12 Feb 2026" and "12 fév. 2026" in text, "2026-02-12" in
tables, in both languages; never 12/02/2026."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.template import Context, Template
from django.utils import timezone, translation
from django.utils.formats import date_format

DAY = date(2026, 2, 12)
MOMENT = datetime(2026, 2, 12, 19, 5, tzinfo=UTC)  # 14:05 in Toronto


@pytest.mark.parametrize(
    ("lang", "text", "table", "moment", "short_moment"),
    [
        ("en", "12 Feb 2026", "2026-02-12", "12 Feb 2026, 14:05", "2026-02-12 14:05"),
        ("fr", "12 fév. 2026", "2026-02-12", "12 fév. 2026, 14:05", "2026-02-12 14:05"),
    ],
)
def test_dates_are_unambiguous_in_both_languages(lang, text, table, moment, short_moment):
    local = timezone.localtime(MOMENT)
    with translation.override(lang):
        assert date_format(DAY, "DATE_FORMAT") == text
        assert date_format(DAY, "SHORT_DATE_FORMAT") == table
        assert date_format(local, "DATETIME_FORMAT") == moment
        assert date_format(local, "SHORT_DATETIME_FORMAT") == short_moment
        # templates that use the default filter get the same
        rendered = Template("{{ d|date }} · {{ d|date:'SHORT_DATE_FORMAT' }}").render(
            Context({"d": DAY})
        )
        assert rendered == f"{text} · {table}"
        assert "12/02" not in rendered and "02/12" not in rendered


def test_no_template_writes_day_and_month_as_numbers_side_by_side():
    import re
    from pathlib import Path

    import harbour

    root = Path(harbour.__file__).parent
    pattern = re.compile(r"""date:\s*["'][^"']*[dmjn][/.][dmjn]""")
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.html")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
