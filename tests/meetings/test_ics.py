"""iCalendar output, parsed back strictly: CRLF, 75-octet folding, escaping, a VTIMEZONE whose
rules give the same UTC offsets as the tz database all year, and a weekly rule."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from harbour.meetings import ics

NOW = datetime(2026, 11, 20, 15, 4, 5, tzinfo=UTC)


def parse(text: str) -> list[tuple[str, dict[str, str], str]]:
    """Content lines (name, params, value) after checking the physical form strictly."""
    assert text.endswith("\r\n")
    physical = text[:-2].split("\r\n")
    assert "\n" not in "".join(physical) and "\r" not in "".join(physical)
    for line in physical:
        assert len(line.encode("utf-8")) <= 75, line
    unfolded: list[str] = []
    for line in physical:
        if line.startswith((" ", "\t")):
            unfolded[-1] += line[1:]
        else:
            unfolded.append(line)
    out = []
    for line in unfolded:
        head, value = line.split(":", 1) if not line.startswith("DTSTART;") else _split(line)
        name, *params = head.split(";")
        assert re.fullmatch(r"[A-Z][A-Z-]*", name), name
        out.append((name, dict(p.split("=", 1) for p in params), value))
    return out


def _split(line: str) -> tuple[str, str]:
    head, value = line.rsplit(":", 1)
    return head, value


def unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\":
            nxt = value[i + 1]
            assert nxt in "\\;,nN", f"bad escape \\{nxt}"
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
        else:
            assert value[i] not in ";,", f"unescaped {value[i]!r} in {value!r}"
            out.append(value[i])
            i += 1
    return "".join(out)


def components(lines: list[tuple[str, dict[str, str], str]]) -> list[dict]:  # type: ignore[type-arg]
    """Nested BEGIN/END blocks as dicts: {"kind", "props": [(name, params, value)], "children"}."""
    root: dict = {"kind": "ROOT", "props": [], "children": []}  # type: ignore[type-arg]
    stack = [root]
    for name, params, value in lines:
        if name == "BEGIN":
            node = {"kind": value, "props": [], "children": []}
            stack[-1]["children"].append(node)
            stack.append(node)
        elif name == "END":
            assert stack[-1]["kind"] == value, f"END:{value} closes {stack[-1]['kind']}"
            stack.pop()
        else:
            stack[-1]["props"].append((name, params, value))
    assert len(stack) == 1
    return root["children"]  # type: ignore[no-any-return]


def prop(node: dict, name: str) -> str:  # type: ignore[type-arg]
    found = [v for n, _p, v in node["props"] if n == name]
    assert len(found) == 1, (name, found)
    return found[0]


def offset(text: str) -> timedelta:
    sign = -1 if text[0] == "-" else 1
    return sign * timedelta(hours=int(text[1:3]), minutes=int(text[3:5]))


def nth_weekday(year: int, month: int, byday: str) -> date:
    n, weekday = int(byday[:-2]), ["MO", "TU", "WE", "TH", "FR", "SA", "SU"].index(byday[-2:])
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def offset_from_vtimezone(tz: dict, at: datetime) -> timedelta:  # type: ignore[type-arg]
    """The UTC offset the VTIMEZONE's observances give at the UTC instant ``at``."""
    changes = []
    for part in tz["children"]:
        start = datetime.strptime(prop(part, "DTSTART"), "%Y%m%dT%H%M%S")
        before, after = offset(prop(part, "TZOFFSETFROM")), offset(prop(part, "TZOFFSETTO"))
        rules = [v for n, _p, v in part["props"] if n == "RRULE"]
        years = range(start.year, at.year + 2) if rules else [start.year]
        for year in years:
            if rules:
                rule = dict(kv.split("=") for kv in rules[0].split(";"))
                assert rule["FREQ"] == "YEARLY"
                day = nth_weekday(year, int(rule["BYMONTH"]), rule["BYDAY"])
                local = datetime.combine(day, start.time())
            else:
                local = start
            changes.append(((local - before).replace(tzinfo=UTC), after))
    changes.sort()
    current = None
    for instant, after in changes:
        if instant <= at:
            current = after
    assert current is not None
    return current


def event(**kwargs: object) -> ics.Event:
    values: dict = {  # type: ignore[type-arg]
        "uid": "m1@harbour-meetings",
        "summary": "Sunday Serenity (Alcoholics Anonymous)",
        "tz": "America/Toronto",
        "first_day": date(2026, 11, 22),
        "minute": 18 * 60,
        "duration_minutes": 90,
        "days": (0,),
        "location": "Alano Club, 123 Main Street, Kingston",
        "description": "Ring buzzer; 2nd floor, back door\nJoin: https://zoom.example/j/1",
        "url": "https://harbour.example/meetings/sunday-serenity/",
    }
    values.update(kwargs)
    return ics.Event(**values)


def test_a_meeting_calendar_parses_back_exactly():
    # given one weekly meeting
    text = ics.calendar([event()], name="Sunday Serenity", now=NOW)
    # when the text is parsed strictly
    (cal,) = components(parse(text))
    # then it is a valid VCALENDAR with one zone and one event
    assert cal["kind"] == "VCALENDAR"
    assert prop(cal, "VERSION") == "2.0"
    assert prop(cal, "PRODID") == ics.PRODID
    assert [c["kind"] for c in cal["children"]] == ["VTIMEZONE", "VEVENT"]
    tz, ev = cal["children"]
    assert prop(tz, "TZID") == "America/Toronto"
    assert prop(ev, "UID") == "m1@harbour-meetings"
    assert prop(ev, "DTSTAMP") == "20261120T150405Z"
    starts = [(p, v) for n, p, v in ev["props"] if n == "DTSTART"]
    assert starts == [({"TZID": "America/Toronto"}, "20261122T180000")]
    assert prop(ev, "DURATION") == "PT1H30M"
    assert prop(ev, "RRULE") == "FREQ=WEEKLY;BYDAY=SU"
    assert unescape(prop(ev, "SUMMARY")) == "Sunday Serenity (Alcoholics Anonymous)"
    assert unescape(prop(ev, "LOCATION")) == "Alano Club, 123 Main Street, Kingston"
    assert unescape(prop(ev, "DESCRIPTION")) == (
        "Ring buzzer; 2nd floor, back door\nJoin: https://zoom.example/j/1"
    )
    assert prop(ev, "URL") == "https://harbour.example/meetings/sunday-serenity/"


@pytest.mark.parametrize(
    "tz", ["America/Toronto", "America/St_Johns", "America/Regina", "Europe/Paris",
           "Australia/Sydney", "America/Vancouver"],
)  # fmt: skip
def test_the_vtimezone_gives_the_tz_databases_offset_every_day_of_the_year(tz):
    text = ics.calendar([event(tz=tz, first_day=date(2027, 1, 3))], name="x", now=NOW)
    (cal,) = components(parse(text))
    zone = cal["children"][0]
    zinfo = ZoneInfo(tz)
    moment = datetime(2027, 1, 1, 12, tzinfo=UTC)
    while moment.year < 2029:
        assert offset_from_vtimezone(zone, moment) == moment.astimezone(zinfo).utcoffset(), (
            tz, moment,
        )  # fmt: skip
        moment += timedelta(hours=7)  # every hour of the day, over two years


def test_long_lines_fold_at_75_octets_without_splitting_a_character():
    text = ics.calendar(
        [event(description="Réunion ouverte à toutes et à tous, café offert » " * 8,
               summary="Groupe « Sérénité » (Narcotiques anonymes) " * 3)],
        name="Réunions", now=NOW,
    )  # fmt: skip
    lines = parse(text)  # asserts 75 octets per physical line
    description = next(v for n, _p, v in lines if n == "DESCRIPTION")
    assert unescape(description) == "Réunion ouverte à toutes et à tous, café offert » " * 8
    for physical in text.split("\r\n"):
        physical.encode("utf-8").decode("utf-8")  # every physical line is whole UTF-8


def test_several_days_one_rule_and_one_vtimezone_per_zone():
    text = ics.calendar(
        [event(uid="a", days=(1, 3, 5)), event(uid="b", tz="America/Vancouver"),
         event(uid="c")],
        name="Search", now=NOW,
    )  # fmt: skip
    (cal,) = components(parse(text))
    kinds = [c["kind"] for c in cal["children"]]
    assert kinds == ["VTIMEZONE", "VTIMEZONE", "VEVENT", "VEVENT", "VEVENT"]
    assert [prop(c, "TZID") for c in cal["children"][:2]] == [
        "America/Toronto", "America/Vancouver",
    ]  # fmt: skip
    assert prop(cal["children"][2], "RRULE") == "FREQ=WEEKLY;BYDAY=MO,WE,FR"


def test_escaping_and_folding_helpers():
    assert ics.escape("a\\b;c,d\ne\r\nf") == "a\\\\b\\;c\\,d\\ne\\nf"
    assert ics.fold("X:" + "a" * 73) == "X:" + "a" * 73 + "\r\n"
    folded = ics.fold("X:" + "é" * 80)
    assert all(len(p.encode()) <= 75 for p in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == "X:" + "é" * 80 + "\r\n"
