"""Opening hours: "open now", "closes 11 p.m.", "opens tomorrow 9 a.m.", overnight hours.

Pure Python (no Django). Hours are wall-clock times in a location's IANA time zone. An interval
whose closing time is not after its opening time ends the next day (20:00-08:00); 00:00-00:00
is open all day. ``weekly_rows`` flattens intervals into rows that SQL can filter on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

BYDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
HORIZON_DAYS = 14
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


@dataclass(frozen=True, order=True)
class Interval:
    weekday: int  # 0 = Monday .. 6 = Sunday, local time
    opens: time
    closes: time
    valid_from: date | None = None
    valid_to: date | None = None

    def applies_on(self, day: date) -> bool:
        if day.weekday() != self.weekday:
            return False
        if self.valid_from is not None and day < self.valid_from:
            return False
        return not (self.valid_to is not None and day > self.valid_to)


@dataclass(frozen=True)
class Closure:
    start: date
    end: date  # inclusive

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class OpenStatus:
    is_open: bool
    closes_at: datetime | None = None
    next_opens_at: datetime | None = None
    always_open: bool = False


@cache
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def _utc(day: date, moment: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, moment, tzinfo=zone).astimezone(ZoneInfo("UTC"))


def _spans(
    intervals: Sequence[Interval],
    start_day: date,
    days: int,
    zone: ZoneInfo,
    closures: Sequence[Closure],
) -> list[tuple[datetime, datetime]]:
    """Merged opening spans (UTC) of every occurrence starting on local days in the window."""
    occurrences = []
    for offset in range(days):
        day = start_day + timedelta(days=offset)
        if any(closure.covers(day) for closure in closures):
            continue
        for interval in intervals:
            if not interval.applies_on(day):
                continue
            start = _utc(day, interval.opens, zone)
            end_day = day + timedelta(days=1) if interval.closes <= interval.opens else day
            end = _utc(end_day, interval.closes, zone)
            if end > start:
                occurrences.append((start, end))
    occurrences.sort()
    merged: list[tuple[datetime, datetime]] = []
    for start, end in occurrences:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def status(
    intervals: Iterable[Interval], at: datetime, tz: str, closures: Iterable[Closure] = ()
) -> OpenStatus:
    """Whether the place is open at ``at`` (aware), when it closes, or when it next opens."""
    intervals = list(intervals)
    if not intervals:
        return OpenStatus(is_open=False)
    zone = _zone(tz)
    local = at.astimezone(zone)
    first_day = local.date() - timedelta(days=1)
    window = HORIZON_DAYS + 2
    spans = _spans(intervals, first_day, window, zone, list(closures))
    now = at.astimezone(ZoneInfo("UTC"))
    horizon_end = _utc(first_day + timedelta(days=window), time(0), zone)
    for start, end in spans:
        if start <= now < end:
            if end >= horizon_end and start <= now - timedelta(hours=24):
                return OpenStatus(is_open=True, always_open=True)
            return OpenStatus(is_open=True, closes_at=end.astimezone(zone))
        if start > now:
            return OpenStatus(is_open=False, next_opens_at=start.astimezone(zone))
    return OpenStatus(is_open=False)


def is_open(
    intervals: Iterable[Interval], at: datetime, tz: str, closures: Iterable[Closure] = ()
) -> bool:
    return status(intervals, at, tz, closures).is_open


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _shift(day: date | None) -> date | None:
    return day + timedelta(days=1) if day is not None else None


def weekly_rows(
    intervals: Iterable[Interval],
) -> list[tuple[int, int, int, date | None, date | None]]:
    """(weekday, start_minute, end_minute, valid_from, valid_to), end exclusive, local time;
    overnight intervals become two rows, the second on the next weekday."""
    rows = []
    for interval in intervals:
        start, end = _minutes(interval.opens), _minutes(interval.closes)
        if end > start:
            rows.append((interval.weekday, start, end, interval.valid_from, interval.valid_to))
            continue
        rows.append((interval.weekday, start, 1440, interval.valid_from, interval.valid_to))
        if end > 0:
            rows.append(
                (
                    (interval.weekday + 1) % 7,
                    0,
                    end,
                    _shift(interval.valid_from),
                    _shift(interval.valid_to),
                )
            )
    return sorted(rows, key=lambda row: (row[0], row[1], row[2]))


def local_key(at: datetime, tz: str) -> tuple[int, int, date]:
    """The local (weekday, minute of the day, date) of ``at`` in ``tz``."""
    local = at.astimezone(_zone(tz))
    return local.weekday(), local.hour * 60 + local.minute, local.date()


def _parse_time(value: str, name: str) -> time:
    match = _TIME.match(value.strip())
    if not match:
        raise ValueError(f"{name} must look like 09:00 or 09:00:00, not {value!r}")
    hour, minute = int(match.group(1)), int(match.group(2))
    second = int(match.group(3) or 0)
    if hour == 24 and minute == 0 and second == 0:
        return time(0, 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"{name} is not a time of day: {value!r}")
    return time(hour, minute)


def _parse_date(value: str | None, name: str) -> date | None:
    if value is None or not str(value).strip():
        return None
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError as exc:
        raise ValueError(f"{name} must be a date such as 2026-01-31, not {value!r}") from exc


def parse_hsds_schedule(
    byday: str | None,
    opens_at: str | None,
    closes_at: str | None,
    valid_from: str | None = None,
    valid_to: str | None = None,
    freq: str | None = "WEEKLY",
) -> list[Interval]:
    """Intervals from the RRULE subset HSDS 3.0 uses: weekly ``byday`` with opening times."""
    if freq and freq.strip().upper() != "WEEKLY":
        raise ValueError(f"unsupported freq {freq!r}: only WEEKLY schedules are understood")
    if not opens_at or not closes_at:
        raise ValueError("a weekly schedule needs both opens_at and closes_at")
    opens = _parse_time(opens_at, "opens_at")
    closes = _parse_time(closes_at, "closes_at")
    start, end = _parse_date(valid_from, "valid_from"), _parse_date(valid_to, "valid_to")
    if start and end and end < start:
        raise ValueError("valid_to is before valid_from")
    codes = [code.strip().upper() for code in (byday or "").split(",") if code.strip()]
    days = []
    for code in codes or list(BYDAY_CODES):
        if code not in BYDAY_CODES:
            raise ValueError(f"unknown day {code!r} in byday: use MO, TU, WE, TH, FR, SA, SU")
        days.append(BYDAY_CODES.index(code))
    return [Interval(day, opens, closes, start, end) for day in sorted(set(days))]


def to_hsds(intervals: Iterable[Interval]) -> list[dict[str, str]]:
    """Group intervals into HSDS weekly schedules (inverse of :func:`parse_hsds_schedule`)."""
    groups: dict[tuple[time, time, date | None, date | None], list[int]] = {}
    for interval in intervals:
        key = (interval.opens, interval.closes, interval.valid_from, interval.valid_to)
        groups.setdefault(key, []).append(interval.weekday)
    result = []
    for (opens, closes, start, end), days in groups.items():
        item = {
            "freq": "WEEKLY",
            "byday": ",".join(BYDAY_CODES[d] for d in sorted(set(days))),
            "opens_at": opens.strftime("%H:%M"),
            "closes_at": closes.strftime("%H:%M"),
        }
        if start is not None:
            item["valid_from"] = start.isoformat()
        if end is not None:
            item["valid_to"] = end.isoformat()
        result.append((min(days), opens, item))
    return [item for _day, _opens, item in sorted(result, key=lambda r: (r[0], r[1]))]


# --- words ----------------------------------------------------------------------------------

_WORDS = {
    "en": {
        "always": "Open 24 hours",
        "open": "Open now · closes {when}",
        "closed_next": "Closed · opens {when}",
        "closed": "Closed",
        "none": "Hours not listed",
        "tomorrow": "tomorrow {time}",
        "days": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
        "day": "{day} {time}",
    },
    "fr": {
        "always": "Ouvert 24 h sur 24",
        "open": "Ouvert maintenant · ferme à {when}",
        "closed_next": "Fermé · ouvre {when}",
        "closed": "Fermé",
        "none": "Heures non indiquées",
        "tomorrow": "demain à {time}",
        "days": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
        "day": "{day} à {time}",
    },
}


def clock(minute_of_day: int, lang: str) -> str:
    """9 a.m., 9:30 p.m., 12 p.m. (noon) in English; 9 h, 21 h 30, 0 h in French."""
    hour, minutes = divmod(minute_of_day % 1440, 60)
    if lang.startswith("fr"):
        return f"{hour} h {minutes:02d}" if minutes else f"{hour} h"
    suffix = "a.m." if hour < 12 else "p.m."
    h12 = hour % 12 or 12
    return f"{h12}:{minutes:02d} {suffix}" if minutes else f"{h12} {suffix}"


def describe(state: OpenStatus, now: datetime, lang: str, has_hours: bool = True) -> str:
    """Short text for a person: "Open now · closes 11 p.m.", "Fermé · ouvre demain à 9 h"."""
    words = _WORDS["fr" if lang.startswith("fr") else "en"]
    if state.always_open:
        return str(words["always"])
    if state.is_open and state.closes_at is not None:
        closes = state.closes_at
        return str(words["open"]).format(when=clock(closes.hour * 60 + closes.minute, lang))
    if state.next_opens_at is None:
        return str(words["none"] if not has_hours else words["closed"])
    opens = state.next_opens_at
    today = now.astimezone(opens.tzinfo).date()
    at = clock(opens.hour * 60 + opens.minute, lang)
    days_ahead = (opens.date() - today).days
    if days_ahead <= 0:
        when = at if not lang.startswith("fr") else f"à {at}"
    elif days_ahead == 1:
        when = str(words["tomorrow"]).format(time=at)
    else:
        when = str(words["day"]).format(day=words["days"][opens.weekday()], time=at)
    return str(words["closed_next"]).format(when=when)
