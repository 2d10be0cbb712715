"""Opening hours written as free text, as 211 and provincial directories export them.

``parse("Mon-Fri 9am-5pm; Sat 10am-2pm")`` gives weekly :class:`hours.Interval` s; so do
"Monday to Friday 9:00-17:00", "M-F 9-5", "24/7", "Lun-ven 9 h à 17 h", "lundi au vendredi de
9h à 17h", "samedi 10 h - 14 h; fermé le dimanche". Pure Python (no Django).

The parser is strict: a text is understood whole or not at all. Any word it does not know
("by appointment", "holidays vary", "sur rendez-vous"), a time with no day, or a day both open
and closed gives ``None``: the hours are unknown and the importer keeps the text as written.
A day is closed only because the text says so ("Sun closed") or because the text lists its
open days ("Mon-Fri 9-5": open on weekdays, so not on the weekend); a text that says only when
a place is closed ("fermé le dimanche") gives ``None``, never a week of closed days.

Times without a.m./p.m. are read the way people write them: "9-5" is 9:00 to 17:00 and "1-4" is
13:00 to 16:00 (an opening hour from 1 to 6 is in the afternoon, and so is a closing hour earlier
than the opening one); "9:00-17:00" and
French "9 h à 17 h" are 24-hour clocks. A closing time at or before the opening time ends the
next day ("10pm-6am"), as in :mod:`hours`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import time
from functools import lru_cache

from harbour.directory.hours import Interval

__all__ = ["parse"]

ALL_WEEK = frozenset(range(7))
_DAY_KINDS = {"day", "daily", "weekdays", "weekend"}
_DAY_WORDS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        "mon monday mo lun lundi lu m",
        "tue tues tuesday tu mardi ma",
        "wed weds wednesday we mer mercredi me w",
        "thu thur thurs thursday th jeu jeudi je r",
        "fri friday fr ven vendredi ve f",
        "sat saturday sa sam samedi",
        "sun sunday su dim dimanche di",
    )
):
    for _name in _names.split():
        _DAY_WORDS[_name] = _index
_DAY_WORDS["mar"] = 1  # French "mardi"; no English word is written "mar"

_TO = {"to", "through", "thru", "till", "until", "au", "a", "jusqu", "jusqua"}
_AND = {"and", "et", "&", ","}
_FILLER = {
    "from", "de", "du", "des", "d", "le", "la", "les", "l", "on", "open", "opened", "ouvert",
    "ouverte", "ouverts", "at", "the", "is", "are", "hours", "heures", "every", "each", "chaque",
    "par",
}  # fmt: skip
_CLOSED = {"closed", "ferme", "fermee", "fermes", "fermees"}
_NOON = {"noon", "midi"}
_MIDNIGHT = {"midnight", "minuit"}

# Whole phrases, replaced by one word before the text is cut into tokens.
_PHRASES = [
    (r"(?<!\d)(?:24\s*/\s*7|24\s*h(?:eures?|ours?|rs?)?\s*(?:/|sur)\s*24"
     r"|24\s*hours?(?:\s*a\s*day)?|24\s*heures|24\s*hrs?)|around the clock", " always "),
    (r"(?<!\d)(?:7\s*j(?:ours)?\s*(?:/|sur)\s*7|7\s*days?\s*(?:a|per)\s*week|7\s*/\s*7|7\s*days)"
     r"|tous les jours|every ?day|daily|chaque jour", " daily "),
    (r"week-?days?|en semaine|jours de semaine|jours ouvrables", " weekdays "),
    (r"week-?ends?|fins? de semaine", " weekend "),
]  # fmt: skip

_TOKEN = re.compile(
    r"""
    (?P<time>\d{1,2}(?:\s*[:.h]\s*\d{2}|\s*h(?![a-z]))?\s*(?:[ap]\.?\s?m\b\.?)?(?![\d:])
    )
    |(?P<word>[a-z]+)
    |(?P<dash>-)
    |(?P<sep>[;|\n])
    |(?P<comma>[,&+/])
    """,
    re.VERBOSE,
)
_TIME = re.compile(
    r"(\d{1,2})(?:\s*([:.h])\s*(\d{2})|\s*(h))?\s*(?:(a)\.?\s?m\b\.?|(p)\.?\s?m\b\.?)?"
)


@dataclass
class _Time:
    hour: int
    minute: int
    suffix: str  # "a", "p" or ""
    clock24: bool  # written 17:00, 09:00 or 17 h: a 24-hour clock

    def resolved(self, suffix: str = "") -> time | None:
        suffix = self.suffix or suffix
        hour = self.hour
        if suffix:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if suffix == "p" else 0)
        if hour == 24 and self.minute == 0:
            return time(0, 0)
        if hour > 23 or self.minute > 59:
            return None
        return time(hour, self.minute)


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[\u2010-\u2015\u2212~]", "-", text)  # dashes of every width
    text = text.replace("'", " ").replace("\u2019", " ")
    for pattern, word in _PHRASES:
        text = re.sub(pattern, word, text)
    return text


def _tokens(text: str) -> list[tuple[str, object]] | None:
    """(kind, value) pairs; None when something is not understood."""
    out: list[tuple[str, object]] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        gap = text[pos : match.start()]
        if gap.strip(" \t\r.:()"):
            return None  # a character that means nothing here
        pos = match.end()
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "time":
            t = _TIME.fullmatch(value.strip())
            if t is None:
                return None
            hour, sep, minute, h, am, pm = t.groups()
            out.append(
                (
                    "time",
                    _Time(
                        int(hour),
                        int(minute or 0),
                        "a" if am else "p" if pm else "",
                        clock24=bool(
                            sep == "h"
                            or h
                            or int(hour) > 12
                            or int(hour) == 0
                            or (len(hour) == 2 and hour.startswith("0"))
                        ),
                    ),
                )
            )
        elif kind == "word":
            if value in _DAY_WORDS:
                out.append(("day", _DAY_WORDS[value]))
            elif value in _TO:
                out.append(("to", None))
            elif value in _AND:
                out.append(("and", None))
            elif value in _CLOSED:
                out.append(("closed", None))
            elif value in _NOON:
                out.append(("time", _Time(12, 0, "", clock24=True)))
            elif value in _MIDNIGHT:
                out.append(("time", _Time(0, 0, "", clock24=True)))
            elif value in {"always", "daily", "weekdays", "weekend"}:
                out.append((value, None))
            elif value in _FILLER:
                continue
            else:
                return None
        elif kind == "dash":
            out.append(("to", None))
        elif kind == "sep":
            out.append(("sep", None))
        else:
            out.append(("and", None))
        if len(out) > 1 and out[-1][0] == out[-2][0] == "to":
            out.pop()  # "jusqu'a": one "to"
    if text[pos:].strip(" \t\r.:()"):
        return None
    return out


def _span(first: int, last: int) -> set[int]:
    """Days from ``first`` to ``last`` inclusive, wrapping past Sunday (Fri-Mon)."""
    days = {first}
    day = first
    while day != last:
        day = (day + 1) % 7
        days.add(day)
    return days


def _time_range(start: _Time, end: _Time) -> tuple[time, time] | None:
    if start.suffix or end.suffix:
        # "9am-5pm", "9-5pm" (9 takes the p.m. only when that keeps it before 5)
        start_suffix = start.suffix
        if not start_suffix and end.suffix and not start.clock24 and start.hour <= 12:
            start_suffix = end.suffix
            as_written = start.resolved(end.suffix)
            closes = end.resolved()
            if as_written and closes and as_written > closes:
                start_suffix = "a" if end.suffix == "p" else "p"
        end_suffix = end.suffix
        if not end_suffix and start.suffix and not end.clock24 and end.hour <= 12:
            end_suffix = start.suffix
            opens = start.resolved()
            as_written = end.resolved(start.suffix)
            if opens and as_written and as_written <= opens:
                end_suffix = "p" if start.suffix == "a" else "a"
        opens, closes = start.resolved(start_suffix), end.resolved(end_suffix)
    elif start.clock24 or end.clock24:
        opens, closes = start.resolved(), end.resolved()  # "9:00-17:00", "9 h à 17 h"
    else:
        # bare hours, "9-5", "1-4": nobody opens at 1 to 6 in the night without saying so, and
        # a closing hour before the opening one is in the afternoon
        opens, closes = start.resolved(), end.resolved()
        if opens and 1 <= opens.hour <= 6:
            opens = time(opens.hour + 12, opens.minute)
        if opens and closes and closes <= opens and closes.hour < 12:
            closes = time(closes.hour + 12, closes.minute)
    if opens is None or closes is None:
        return None
    return opens, closes


def parse(text: str) -> list[Interval] | None:
    """Weekly intervals from free-text hours, or None when the text is not fully understood.

    An empty text is None too (unknown), never "closed"."""
    found = _parse(text)
    return None if found is None else list(found)


@lru_cache(maxsize=4096)  # a directory repeats the same few hundred texts
def _parse(text: str) -> tuple[Interval, ...] | None:
    if not text or not text.strip() or len(text) > 500:
        return None
    tokens = _tokens(_normalize(text))
    if not tokens:
        return None
    opened: dict[int, list[tuple[time, time]]] = {}
    closed: set[int] = set()
    days: set[int] = set()  # the days being described
    days_done = False  # times were given for `days`: a new day starts a new group
    closing = False  # "closed" came before its days ("ferme le dimanche")
    pending: list[tuple[time, time]] = []  # times still waiting for their days
    i = 0
    n = len(tokens)
    while i < n:
        kind, value = tokens[i]
        if kind in _DAY_KINDS:
            if days_done:
                days, days_done = set(), False
            if kind == "day":
                first = int(value)  # type: ignore[call-overload]
                if i + 2 < n and tokens[i + 1][0] == "to" and tokens[i + 2][0] == "day":
                    days |= _span(first, int(tokens[i + 2][1]))  # type: ignore[call-overload]
                    i += 2
                else:
                    days.add(first)
            elif kind == "daily":
                days |= ALL_WEEK
            elif kind == "weekdays":
                days |= {0, 1, 2, 3, 4}
            else:
                days |= {5, 6}
            more = i + 1 < n and (
                tokens[i + 1][0] in _DAY_KINDS
                or (tokens[i + 1][0] == "and" and i + 2 < n and tokens[i + 2][0] in _DAY_KINDS)
            )
            if pending and not closing and not more:  # "10pm-6am daily": the times came first
                for day in days:
                    opened.setdefault(day, []).extend(pending)
                pending, days_done = [], True
            if closing:
                closed |= days
                # the days run on while a list goes on: "ferme samedi et dimanche"
                if not more:
                    closing, days, days_done = False, set(), False
            i += 1
        elif kind == "time":
            if not (i + 2 < n and tokens[i + 1][0] == "to" and tokens[i + 2][0] == "time"):
                return None  # a lone time: "opens at 9"
            span = _time_range(tokens[i][1], tokens[i + 2][1])  # type: ignore[arg-type]
            if span is None:
                return None
            if days:
                for day in days:
                    opened.setdefault(day, []).append(span)
                days_done = True
            else:
                pending.append(span)  # the days may follow: "9-5 weekdays"
            i += 3
        elif kind == "always":
            for day in days or ALL_WEEK:
                opened.setdefault(day, []).append((time(0, 0), time(0, 0)))
            days, days_done = (days or set(ALL_WEEK)), True
            i += 1
        elif kind == "closed":
            if days and not days_done:
                closed |= days
                days, days_done = set(), False
            else:
                closing, days, days_done = True, set(), False
            i += 1
        elif kind == "sep":
            if pending or (days and not days_done):
                return None  # days with no hours: "Mon-Fri;"
            days, days_done, closing = set(), False, False
            i += 1
        elif kind == "and":
            i += 1
        else:  # a "to" out of place
            return None
    if closing or pending or (days and not days_done):
        return None  # "closed" with no day, or days with no hours
    if not opened or closed & opened.keys():
        return None
    intervals = {
        Interval(day, opens, closes) for day, spans in opened.items() for opens, closes in spans
    }
    return tuple(sorted(intervals))
