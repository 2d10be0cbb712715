"""Weekly meeting times: days as the Meeting Guide spec numbers them (0 = Sunday), local
wall-clock start times in each meeting's IANA time zone, the next occurrence, "starting within
the hour", and how people attend (in person, online, hybrid, inactive).

Pure Python (no Django). Times are minutes after local midnight. A wall-clock time that a
daylight-saving change skips (02:30 on the spring-forward night) happens an hour later, as
``harbour.directory.hours`` does; a repeated one (fall back) happens the first time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY = 1440
HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
BYDAY = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")  # index = spec day


class TimeError(ValueError):
    pass


def parse_hhmm(text: object) -> int:
    """Minutes after midnight of a five-character 24-hour time ("18:30" -> 1110)."""
    match = HHMM.match(str(text).strip()) if isinstance(text, str) else None
    if match is None:
        raise TimeError(f"{text!r} is not a time in the HH:MM 24-hour format (e.g. 18:30)")
    return int(match.group(1)) * 60 + int(match.group(2))


def hhmm(minute: int) -> str:
    hour, rest = divmod(minute % MINUTES_PER_DAY, 60)
    return f"{hour:02d}:{rest:02d}"


@cache
def zone(name: str) -> ZoneInfo:
    """The IANA zone, or TimeError. Only names with a region ("America/Toronto") or UTC are
    accepted: abbreviations such as "EST" and POSIX strings do not follow daylight time."""
    if not isinstance(name, str) or not re.match(
        r"^(?:[A-Za-z_]+(?:/[A-Za-z0-9_+-]+)+|UTC)$", name
    ):
        raise TimeError(f"{name!r} is not an IANA time zone (e.g. America/Toronto)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TimeError(f"{name!r} is not an IANA time zone (e.g. America/Toronto)") from exc


def spec_day(day: date) -> int:
    """0 = Sunday ... 6 = Saturday (Python's weekday() has Monday = 0)."""
    return (day.weekday() + 1) % 7


def local_start(day: date, minute: int, tz: str) -> datetime:
    """The instant (UTC) a meeting starting at ``minute`` on local date ``day`` begins."""
    wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone(tz))
    return wall.astimezone(UTC)  # fold=0: a skipped time lands an hour on


def next_start(
    days: Sequence[int], minute: int | None, tz: str, after: datetime
) -> datetime | None:
    """The first start at or after ``after`` (aware), in UTC; None for meetings by appointment."""
    if minute is None or not days:
        return None
    local = after.astimezone(zone(tz))
    for offset in range(0, 8):
        day = local.date() + timedelta(days=offset)
        if spec_day(day) in days:
            start = local_start(day, minute, tz)
            if start >= after:
                return start
    return None  # unreachable with at least one day, kept for the type checker


def floor_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


@dataclass(frozen=True)
class Window:
    """Local (spec day, first minute, last minute + 1) spans that the same local times share:
    ``zones`` are the time zones whose wall clocks agree over the whole window."""

    zones: tuple[str, ...]
    spans: tuple[tuple[int, int, int], ...]


def _spans(lo: datetime, hi: datetime) -> tuple[tuple[int, int, int], ...]:
    """Wall-clock spans from ``lo`` to ``hi`` (local, hi exclusive) split at midnight."""
    spans = []
    cursor = lo.replace(tzinfo=None)
    end = hi.replace(tzinfo=None)
    while cursor < end:
        midnight = datetime.combine(cursor.date() + timedelta(days=1), time())
        stop = min(end, midnight)
        first = cursor.hour * 60 + cursor.minute
        last = MINUTES_PER_DAY if stop == midnight else stop.hour * 60 + stop.minute
        spans.append((spec_day(cursor.date()), first, last))
        cursor = stop
    return tuple(spans)


def windows(now: datetime, minutes: int, zones: Iterable[str]) -> list[Window]:
    """For "starting within ``minutes``": per group of zones sharing the same wall-clock
    window, the local spans to look in. A daylight-saving change inside the window makes it
    longer or shorter in wall-clock time, as it is; :func:`starts_within` then checks each
    candidate exactly."""
    start = floor_minute(now)
    end = start + timedelta(minutes=minutes)
    groups: dict[tuple[tuple[int, int, int], ...], list[str]] = {}
    for name in sorted(set(zones)):
        try:
            tz = zone(name)
        except TimeError:
            continue
        spans = _spans(start.astimezone(tz), end.astimezone(tz))
        groups.setdefault(spans, []).append(name)
    return [Window(tuple(names), spans) for spans, names in groups.items()]


def starts_within(
    days: Sequence[int], minute: int | None, tz: str, now: datetime, minutes: int
) -> datetime | None:
    """The start (UTC) if the meeting begins in [now, now + minutes), to the minute."""
    start = floor_minute(now)
    found = next_start(days, minute, tz, start)
    if found is not None and found < start + timedelta(minutes=minutes):
        return found
    return None


def parse_days(value: object) -> list[int]:
    """The spec's ``day``: an integer 0-6 or an array of them (sorted, without repeats)."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise TimeError(f"{item!r} is not a day: use 0 (Sunday) to 6 (Saturday)")
        text = str(item).strip()
        if not re.fullmatch(r"[0-6]", text):
            raise TimeError(f"{item!r} is not a day: use 0 (Sunday) to 6 (Saturday)")
        out.append(int(text))
    if not out:
        raise TimeError("the list of days is empty: use 0 (Sunday) to 6 (Saturday)")
    return sorted(set(out))


def days_text(days: Iterable[int]) -> str:
    """Stored form of days: "135" for Monday, Wednesday, Friday."""
    return "".join(str(d) for d in sorted(set(days)))


def days_of(text: str) -> list[int]:
    return [int(c) for c in text]


# --- how people attend ------------------------------------------------------------------------

IN_PERSON, ONLINE, HYBRID, INACTIVE = "in_person", "online", "hybrid", "inactive"


def address_is_approximate(
    approximate: str, address: str, formatted_address: str, has_position: bool = False
) -> bool:
    """Whether a meeting's place is only approximate (a city, for an online meeting).

    The spec's ``approximate`` ("yes"/"no") decides when given; else a street address, or a
    formatted address whose first part holds a number ("123 Main St, ..."), or a position
    given with the listing, makes it specific."""
    if approximate in ("yes", "no"):
        return approximate == "yes"
    if address.strip():
        return False
    first = formatted_address.split(",", 1)[0]
    if any(ch.isdigit() for ch in first):
        return False
    return not has_position


def attendance(*, approximate: bool, online: bool, temporarily_closed: bool) -> str:
    """As the spec and TSML derive it: a conference link or phone makes a meeting online; a
    specific address makes it in person; both, hybrid. "Location temporarily closed" (TC)
    leaves only the online part; with neither, the meeting is inactive."""
    in_person = not approximate and not temporarily_closed
    if online and in_person:
        return HYBRID
    if online:
        return ONLINE
    if in_person:
        return IN_PERSON
    return INACTIVE
