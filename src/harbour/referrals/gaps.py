"""The service-gap report as releases (``core.releases`` kind "service-gaps"): one per closed
quarter (January–March, April–June, ...; tiled, so two releases never overlap), built once by
the scheduler a week after the quarter closes from the referrals of every organization sent in
it, stored, and served as stored to coordinators. Each offers the quarter and its three months,
suppressed jointly; the page offers the last four releases (the last 12 months, as four
disjoint quarters, never added up). See ``report.py`` for the suppression."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from harbour.referrals import report

KIND = "service-gaps"
PERIODS = 3  # months in a release: a calendar quarter
OFFERED = 4  # releases the page offers: the last 12 months
LAG_DAYS = 7  # a quarter is released a week after it closes


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _moment(day: date) -> datetime:
    """Local midnight starting ``day`` (periods are calendar months where Harbour runs)."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def parts(start: date, end: date) -> list[tuple[str, date, date]]:
    """[start, end) cut into its whole months: the disjoint parts a release offers."""
    cuts: list[tuple[str, date, date]] = []
    first = start
    while first < end:
        last = min(_add_months(first, 1), end)
        cuts.append((f"p{len(cuts) + 1}", first, last))
        first = last
    return cuts


def rows(start: datetime, end: datetime) -> Iterator[report.Row]:
    from harbour.referrals.models import Referral

    referrals = Referral.objects.exclude(status__in=report.EXCLUDED).filter(
        sent_at__gte=start, sent_at__lt=end
    )
    for values in referrals.values_list(
        "service_type", "area", "status", "reason_code", "sent_at", "accepted_at"
    ).iterator(chunk_size=5000):
        yield report.Row(*values)


def build(start: date, end: date) -> dict[str, Any]:
    """The release's data: the quarter and its months, each a suppressed report (strings)."""
    cuts = parts(start, end)
    built = report.build_release(
        rows(_moment(start), _moment(end)),
        [report.Part(key, _moment(a), _moment(b)) for key, a, b in cuts],
    )
    periods = [(report.TOTAL, start, end), *cuts]
    return {
        "periods": [
            {"key": key, "start": a.isoformat(), "end": b.isoformat()} for key, a, b in periods
        ],
        "reports": {key: report.to_data(built[key]) for key, _a, _b in periods},
    }


def register() -> None:
    from harbour.core import releases

    releases.register(
        KIND, build=build, period="month", periods=PERIODS, lag_days=LAG_DAYS, tiled=True
    )
