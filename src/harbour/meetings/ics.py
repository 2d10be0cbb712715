"""iCalendar (RFC 5545) for weekly meetings, written by hand (no dependency).

Pure Python (no Django). Each meeting is a VEVENT whose DTSTART is its next occurrence in the
meeting's own time zone (``DTSTART;TZID=America/Toronto:...``) with
``RRULE:FREQ=WEEKLY;BYDAY=..``, so calendars keep it at the same local time across daylight-saving
changes. Every TZID used has a VTIMEZONE built from the system's tz database: yearly rules
(``RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU``) when the zone changes the same way every year, else
one observance per change for ten years. Lines end with CRLF and are folded at 75 octets
without splitting a UTF-8 character; text values are escaped (backslash, semicolon, comma,
newline).
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from harbour.meetings.weekly import BYDAY

LIMIT = 75  # octets per line, CRLF excluded
PRODID = "-//Harbour//Peer-support meetings//EN"


@dataclass(frozen=True)
class Event:
    uid: str
    summary: str
    tz: str
    first_day: date  # the local date of the first occurrence
    minute: int  # local start, minutes after midnight
    duration_minutes: int = 60
    days: tuple[int, ...] = ()  # spec days (0 = Sunday) for the weekly rule; () = once
    location: str = ""
    description: str = ""
    url: str = ""


def escape(text: str) -> str:
    """A TEXT value (RFC 5545 3.3.11)."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """One content line folded to at most 75 octets per physical line (RFC 5545 3.1)."""
    data = line.encode("utf-8")
    if len(data) <= LIMIT:
        return line + "\r\n"
    parts = []
    limit = LIMIT
    while data:
        if len(data) <= limit:
            cut = len(data)
        else:
            cut = limit
            while cut > 0 and (data[cut] & 0xC0) == 0x80:  # never inside a UTF-8 character
                cut -= 1
        parts.append(data[:cut])
        data = data[cut:]
        limit = LIMIT - 1  # continuation lines start with a space
    return "\r\n ".join(part.decode("utf-8") for part in parts) + "\r\n"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _local(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def _offset(delta: timedelta | None) -> str:
    seconds = int((delta or timedelta()).total_seconds())
    sign = "+" if seconds >= 0 else "-"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{secs:02d}" if secs else "")


@dataclass(frozen=True)
class Transition:
    at: datetime  # UTC instant
    before: timedelta
    after: timedelta
    dst: bool
    name: str

    @property
    def local_before(self) -> datetime:
        """The wall-clock time of the change, as read on the clock before it."""
        return (self.at + self.before).replace(tzinfo=None)


def transitions(tz: str, year: int) -> list[Transition]:
    """Every UTC-offset change of ``tz`` during ``year``, to the second."""
    zone = ZoneInfo(tz)
    found = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    while day < end:
        nxt = day + timedelta(days=1)
        if day.astimezone(zone).utcoffset() != nxt.astimezone(zone).utcoffset():
            lo, hi = day, nxt
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if mid.astimezone(zone).utcoffset() == lo.astimezone(zone).utcoffset():
                    lo = mid
                else:
                    hi = mid
            after = hi.astimezone(zone)
            found.append(
                Transition(
                    at=hi,
                    before=lo.astimezone(zone).utcoffset() or timedelta(),
                    after=after.utcoffset() or timedelta(),
                    dst=bool(after.dst()),
                    name=after.tzname() or tz,
                )
            )
        day = nxt
    return found


def _rule(moment: datetime) -> tuple[int, str, str]:
    """(month, BYDAY such as 2SU or -1SU, wall time) of a yearly change."""
    last_day = _calendar.monthrange(moment.year, moment.month)[1]
    weekday = BYDAY[(moment.weekday() + 1) % 7]
    nth = "-1" if moment.day > last_day - 7 else str((moment.day - 1) // 7 + 1)
    return moment.month, f"{nth}{weekday}", moment.strftime("%H%M%S")


def vtimezone(tz: str, year: int) -> list[str]:
    """The VTIMEZONE lines for ``tz`` from ``year`` on."""
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tz}"]
    changes = {y: transitions(tz, y) for y in (year, year + 1, year + 2)}
    if not any(changes.values()):
        moment = datetime(year, 1, 1, tzinfo=ZoneInfo(tz))
        offset = _offset(moment.utcoffset())
        lines += [
            "BEGIN:STANDARD", "DTSTART:19700101T000000", f"TZOFFSETFROM:{offset}",
            f"TZOFFSETTO:{offset}", f"TZNAME:{escape(moment.tzname() or tz)}", "END:STANDARD",
        ]  # fmt: skip
        return [*lines, "END:VTIMEZONE"]
    signature = {
        y: [(_rule(t.local_before), t.before, t.after, t.dst) for t in found]
        for y, found in changes.items()
    }
    yearly = len({repr(s) for s in signature.values()}) == 1
    observances = changes[year] if yearly else [
        t for y in range(year, year + 10) for t in transitions(tz, y)
    ]  # fmt: skip
    for change in observances:
        kind = "DAYLIGHT" if change.dst else "STANDARD"
        lines += [
            f"BEGIN:{kind}",
            f"DTSTART:{_local(change.local_before)}",
            f"TZOFFSETFROM:{_offset(change.before)}",
            f"TZOFFSETTO:{_offset(change.after)}",
        ]
        if yearly:
            month, byday, _wall = _rule(change.local_before)
            lines.append(f"RRULE:FREQ=YEARLY;BYMONTH={month};BYDAY={byday}")
        lines += [f"TZNAME:{escape(change.name)}", f"END:{kind}"]
    return [*lines, "END:VTIMEZONE"]


def _duration(minutes: int) -> str:
    hours, rest = divmod(max(minutes, 1), 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{rest}M" if rest else "")


def _event(event: Event, stamp: str) -> list[str]:
    start = datetime.combine(event.first_day, datetime.min.time()) + timedelta(minutes=event.minute)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"DTSTAMP:{stamp}",
        f"DTSTART;TZID={event.tz}:{_local(start)}",
        f"DURATION:{_duration(event.duration_minutes)}",
    ]
    if event.days:
        lines.append("RRULE:FREQ=WEEKLY;BYDAY=" + ",".join(BYDAY[d] for d in sorted(event.days)))
    lines.append(f"SUMMARY:{escape(event.summary)}")
    if event.location:
        lines.append(f"LOCATION:{escape(event.location)}")
    if event.description:
        lines.append(f"DESCRIPTION:{escape(event.description)}")
    if event.url:
        lines.append(f"URL:{event.url}")
    return [*lines, "END:VEVENT"]


def calendar(events: Sequence[Event] | Iterable[Event], *, name: str, now: datetime) -> str:
    """A whole VCALENDAR: one VTIMEZONE per zone used, then the events."""
    events = list(events)
    stamp = _utc(now)
    first_year = min((e.first_day.year for e in events), default=now.year) - 1
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(name)}",
    ]
    for tz in sorted({e.tz for e in events}):
        lines += vtimezone(tz, first_year)
    for event in events:
        lines += _event(event, stamp)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) for line in lines)
