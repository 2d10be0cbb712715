"""Opening hours: "open now", "closes 11 p.m.", "opens tomorrow 9 a.m.", overnight hours.

Pure Python (no Django). Hours are wall-clock times, to the minute, in a location's IANA time
zone. An interval whose closing time is not after its opening time ends the next day
(20:00-08:00); 00:00-00:00 is open all day. ``weekly_rows`` flattens intervals into rows that SQL
can filter on; ``status`` answers for one place, with closures and validity dates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

BYDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
HORIZON_DAYS = 14  # how far ahead "next opens" and "closes" are looked for
MINUTES_PER_DAY = 1440
_TIME = re.compile(r"(\d{2}):(\d{2})(?::(\d{2}))?")

Row = tuple[int, int, int, date | None, date | None]
Span = tuple[datetime, datetime]


@dataclass(frozen=True, order=True)
class Interval:
    """Open on ``weekday`` (0 = Monday, local time) from ``opens`` to ``closes``.

    Times are kept to the minute (seconds are dropped). ``valid_from``/``valid_to`` are
    inclusive local dates on which the interval starts."""

    weekday: int
    opens: time
    closes: time
    valid_from: date | None = None
    valid_to: date | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {self.weekday!r}")
        for name in ("opens", "closes"):
            value: time = getattr(self, name)
            trimmed = time(value.hour, value.minute)
            if value != trimmed or value.tzinfo is not None:
                object.__setattr__(self, name, trimmed)

    @property
    def overnight(self) -> bool:
        """Ends the next day (this includes 24-hour days)."""
        return self.closes <= self.opens

    def applies_on(self, day: date) -> bool:
        """Whether an occurrence starts on local date ``day``."""
        if day.weekday() != self.weekday:
            return False
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_to is None or day <= self.valid_to


@dataclass(frozen=True)
class Closure:
    """Closed from ``start`` to ``end`` (local dates, inclusive); nothing starts on those days."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"closure ends ({self.end}) before it starts ({self.start})")

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class OpenStatus:
    """Open or not at one instant; datetimes are aware, in the location's zone.

    ``has_hours`` is False only for a place with no intervals at all ("Hours not listed")."""

    is_open: bool
    closes_at: datetime | None = None
    next_opens_at: datetime | None = None
    always_open: bool = False
    has_hours: bool = True


NO_HOURS = OpenStatus(is_open=False, has_hours=False)


@cache
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


def _instant(day: date, moment: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time (fold=0: a time skipped by DST lands an hour on)."""
    return datetime.combine(day, moment, tzinfo=zone).astimezone(UTC)


def _spans(
    intervals: Sequence[Interval],
    first_day: date,
    last_day: date,
    zone: ZoneInfo,
    closures: Sequence[Closure],
) -> list[Span]:
    """Merged opening spans (UTC) of the occurrences starting on local days first..last."""
    by_weekday: dict[int, list[Interval]] = {}
    for interval in intervals:
        by_weekday.setdefault(interval.weekday, []).append(interval)
    occurrences = []
    day = first_day
    while day <= last_day:
        if not any(closure.covers(day) for closure in closures):
            for interval in by_weekday.get(day.weekday(), ()):
                if not interval.applies_on(day):
                    continue
                start = _instant(day, interval.opens, zone)
                end_day = day + timedelta(days=1) if interval.overnight else day
                end = _instant(end_day, interval.closes, zone)
                if end > start:  # empty only when DST swallows the whole interval
                    occurrences.append((start, end))
        day += timedelta(days=1)
    occurrences.sort()
    merged: list[Span] = []
    for start, end in occurrences:
        if merged and start <= merged[-1][1]:  # back-to-back or overlapping: one period
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def status(
    intervals: Iterable[Interval], at: datetime, tz: str, closures: Iterable[Closure] = ()
) -> OpenStatus:
    """Whether the place is open at ``at`` (aware, any zone), when the current opening period
    ends, or when it next opens within :data:`HORIZON_DAYS`; computed in the IANA zone ``tz``."""
    _require_aware(at, "at")
    intervals = list(intervals)
    if not intervals:
        return NO_HOURS
    zone = _zone(tz)
    now = at.astimezone(UTC)
    limit = now + timedelta(days=HORIZON_DAYS)
    # an occurrence that started yesterday may still be running (overnight)
    first_day = now.astimezone(zone).date() - timedelta(days=1)
    last_day = limit.astimezone(zone).date()
    for start, end in _spans(intervals, first_day, last_day, zone, list(closures)):
        if end <= now:
            continue
        if start <= now:
            if end > limit:  # no closing in sight: open around the clock
                return OpenStatus(is_open=True, always_open=True)
            return OpenStatus(is_open=True, closes_at=end.astimezone(zone))
        if start <= limit:
            return OpenStatus(is_open=False, next_opens_at=start.astimezone(zone))
        break
    return OpenStatus(is_open=False)


def is_open(
    intervals: Iterable[Interval], at: datetime, tz: str, closures: Iterable[Closure] = ()
) -> bool:
    """Whether the place is open at ``at``; cheaper than :func:`status`."""
    _require_aware(at, "at")
    zone = _zone(tz)
    now = at.astimezone(UTC)
    today = now.astimezone(zone).date()
    spans = _spans(list(intervals), today - timedelta(days=1), today, zone, list(closures))
    return any(start <= now < end for start, end in spans)


# --- rows for SQL -----------------------------------------------------------------------------


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _next_day(day: date | None) -> date | None:
    return day + timedelta(days=1) if day is not None else None


def weekly_rows(intervals: Iterable[Interval]) -> list[Row]:
    """(weekday, start_minute, end_minute, valid_from, valid_to): local time, end exclusive.

    An overnight interval becomes two rows, the second on the next weekday from minute 0 with
    its validity dates shifted a day; a 24-hour day is (weekday, 0, 1440). Open at local weekday
    W, minute M, date D: ``weekday=W AND start<=M AND M<end AND valid_from<=D AND D<=valid_to``
    (None meaning unbounded). Closures are not in the rows."""
    rows: dict[Row, None] = {}
    for interval in intervals:
        start, end = _minutes(interval.opens), _minutes(interval.closes)
        valid = (interval.valid_from, interval.valid_to)
        if not interval.overnight:
            rows[(interval.weekday, start, end, *valid)] = None
            continue
        rows[(interval.weekday, start, MINUTES_PER_DAY, *valid)] = None
        if end > 0:
            tomorrow = (interval.weekday + 1) % 7
            rows[(tomorrow, 0, end, _next_day(valid[0]), _next_day(valid[1]))] = None
    return sorted(
        rows,
        key=lambda r: (r[0], r[1], r[2], r[3] or date.min, r[4] or date.max),
    )


HOURS_PER_WEEK = 7 * 24


def hour_map(rows: Iterable[Row]) -> str | None:
    """The week as 168 characters, one per local hour from Monday 00:00: "1" when open the
    whole hour, "0" when closed the whole hour, "~" when open part of it. None when a row has
    validity dates (the map cannot say which weeks they hold in).

    At weekday W, minute M: ``hour_map[W * 24 + M // 60]`` answers "open?" unless it is "~",
    when the rows themselves must be checked."""
    hours = ["0"] * HOURS_PER_WEEK
    for weekday, start, end, valid_from, valid_to in rows:
        if valid_from is not None or valid_to is not None:
            return None
        for hour in range(start // 60, min(-(-end // 60), 24)):
            slot = weekday * 24 + hour
            whole = start <= hour * 60 and (hour + 1) * 60 <= end
            if whole:
                hours[slot] = "1"
            elif hours[slot] == "0":
                hours[slot] = "~"
    return "".join(hours)


def local_key(at: datetime, tz: str) -> tuple[int, int, date]:
    """The local (weekday, minute of the day, date) of the aware ``at`` in ``tz``."""
    _require_aware(at, "at")
    local = at.astimezone(_zone(tz))
    return local.weekday(), local.hour * 60 + local.minute, local.date()


# --- HSDS 3.0 schedules -----------------------------------------------------------------------


def _parse_time(value: str, name: str) -> time:
    match = _TIME.fullmatch(value.strip())
    if not match:
        raise ValueError(f"{name} must look like 09:00 or 09:00:00 (HH:MM[:SS]), not {value!r}")
    hour, minute, second = (int(part or 0) for part in match.groups())
    if (hour, minute, second) == (24, 0, 0):  # "closes at 24:00": midnight
        return time(0, 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"{name} is not a time of day: {value!r}")
    return time(hour, minute)


def _parse_date(value: str | None, name: str) -> date | None:
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).date()
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
    """Intervals from an HSDS 3.0 weekly schedule; ``byday`` empty means every day."""
    if freq is not None and freq.strip() and freq.strip().upper() != "WEEKLY":
        raise ValueError(f"unsupported freq {freq!r}: only WEEKLY schedules are understood")
    if not opens_at or not closes_at:
        raise ValueError("a weekly schedule needs both opens_at and closes_at")
    opens = _parse_time(opens_at, "opens_at")
    closes = _parse_time(closes_at, "closes_at")
    start, end = _parse_date(valid_from, "valid_from"), _parse_date(valid_to, "valid_to")
    if start and end and end < start:
        raise ValueError(f"valid_to ({end}) is before valid_from ({start})")
    codes = [code.strip().upper() for code in (byday or "").split(",") if code.strip()]
    days = set()
    for code in codes or BYDAY_CODES:
        if code not in BYDAY_CODES:
            raise ValueError(f"unknown day {code!r} in byday: use MO, TU, WE, TH, FR, SA, SU")
        days.add(BYDAY_CODES.index(code))
    return [Interval(day, opens, closes, start, end) for day in sorted(days)]


def to_hsds(intervals: Iterable[Interval]) -> list[dict[str, str]]:
    """Group intervals into HSDS weekly schedule dicts (inverse of :func:`parse_hsds_schedule`),
    ordered by first day, then opening time."""
    groups: dict[tuple[time, time, date | None, date | None], set[int]] = {}
    for interval in intervals:
        key = (interval.opens, interval.closes, interval.valid_from, interval.valid_to)
        groups.setdefault(key, set()).add(interval.weekday)
    result = []
    for (opens, closes, start, end), days in groups.items():
        item = {
            "freq": "WEEKLY",
            "byday": ",".join(BYDAY_CODES[d] for d in sorted(days)),
            "opens_at": opens.strftime("%H:%M"),
            "closes_at": closes.strftime("%H:%M"),
        }
        if start is not None:
            item["valid_from"] = start.isoformat()
        if end is not None:
            item["valid_to"] = end.isoformat()
        order = (min(days), opens, closes, start or date.min, end or date.max)
        result.append((order, item))
    result.sort(key=lambda pair: pair[0])
    return [item for _order, item in result]


# --- words ------------------------------------------------------------------------------------

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "always": "Open 24 hours",
        "open": "Open now",
        "open_until": "Open now · closes {when}",
        "closed": "Closed",
        "closed_until": "Closed · opens {when}",
        "none": "Hours not listed",
        "today": "{time}",
        "tomorrow": "tomorrow {time}",
        "weekday": "{day} {time}",
        "date": "{month} {day}, {time}",
    },
    "fr": {
        "always": "Ouvert 24 h sur 24",
        "open": "Ouvert maintenant",
        "open_until": "Ouvert maintenant · ferme {when}",
        "closed": "Fermé",
        "closed_until": "Fermé · ouvre {when}",
        "none": "Heures non indiquées",
        "today": "à {time}",
        "tomorrow": "demain à {time}",
        "weekday": "{day} à {time}",
        "date": "le {day} {month} à {time}",
    },
}
_DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
}
_MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "fr": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
}


def _lang(lang: str) -> str:
    return "fr" if lang.lower().startswith("fr") else "en"


def clock(minute_of_day: int, lang: str) -> str:
    """9 a.m., 9:30 p.m., 12 p.m. (noon), 12 a.m. (midnight); French 9 h, 21 h 30, 0 h."""
    hour, minutes = divmod(minute_of_day % MINUTES_PER_DAY, 60)
    if _lang(lang) == "fr":
        return f"{hour} h {minutes:02d}" if minutes else f"{hour} h"
    suffix = "a.m." if hour < 12 else "p.m."
    h12 = hour % 12 or 12
    return f"{h12}:{minutes:02d} {suffix}" if minutes else f"{h12} {suffix}"


def _when(moment: datetime, now: datetime, lang: str, *, closing: bool) -> str:
    """ "9 a.m." today, "tomorrow 9 a.m.", "Monday 9 a.m." within a week, else a date."""
    words = _WORDS[lang]
    local_now = now.astimezone(moment.tzinfo) if moment.tzinfo else now
    at = clock(moment.hour * 60 + moment.minute, lang)
    days_ahead = (moment.date() - local_now.date()).days
    # closing at midnight tonight: "closes 12 a.m.", not "closes tomorrow 12 a.m."
    tonight = closing and days_ahead == 1 and (moment.hour, moment.minute) == (0, 0)
    if days_ahead <= 0 or tonight:
        return words["today"].format(time=at)
    if days_ahead == 1:
        return words["tomorrow"].format(time=at)
    if days_ahead < 7:
        return words["weekday"].format(day=_DAYS[lang][moment.weekday()], time=at)
    number = "1er" if lang == "fr" and moment.day == 1 else str(moment.day)
    return words["date"].format(month=_MONTHS[lang][moment.month - 1], day=number, time=at)


def describe(status: OpenStatus, now: datetime, lang: str, has_hours: bool | None = None) -> str:
    """Short text for a person: "Open now · closes 11 p.m.", "Fermé · ouvre demain à 9 h".

    ``has_hours=False`` (or a status from no intervals) gives "Hours not listed"."""
    _require_aware(now, "now")
    lang = _lang(lang)
    words = _WORDS[lang]
    if status.always_open:
        return words["always"]
    if status.is_open:
        if status.closes_at is None:
            return words["open"]
        return words["open_until"].format(when=_when(status.closes_at, now, lang, closing=True))
    if status.next_opens_at is not None:
        when = _when(status.next_opens_at, now, lang, closing=False)
        return words["closed_until"].format(when=when)
    listed = status.has_hours if has_hours is None else has_hours and status.has_hours
    return words["closed"] if listed else words["none"]
