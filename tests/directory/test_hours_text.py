"""Free-text opening hours (hours_text): English and French forms, and nothing invented."""

from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harbour.directory.hours_text import parse

WEEKDAYS = [0, 1, 2, 3, 4]
ALL = list(range(7))


def week(text: str) -> dict[int, list[tuple[str, str]]] | None:
    found = parse(text)
    if found is None:
        return None
    out: dict[int, list[tuple[str, str]]] = {}
    for interval in found:
        out.setdefault(interval.weekday, []).append(
            (interval.opens.strftime("%H:%M"), interval.closes.strftime("%H:%M"))
        )
    return out


def days(ds: list[int], *spans: tuple[str, str]) -> dict[int, list[tuple[str, str]]]:
    return {d: list(spans) for d in ds}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon-Fri 9am-5pm", days(WEEKDAYS, ("09:00", "17:00"))),
        ("Monday to Friday 9:00-17:00", days(WEEKDAYS, ("09:00", "17:00"))),
        ("M-F 9-5", days(WEEKDAYS, ("09:00", "17:00"))),
        ("Mon-Fri: 9:00 AM – 5:00 PM", days(WEEKDAYS, ("09:00", "17:00"))),
        ("Monday - Friday 9:00 a.m. - 5:00 p.m.", days(WEEKDAYS, ("09:00", "17:00"))),
        ("Mon-Fri 9:00-5:00", days(WEEKDAYS, ("09:00", "17:00"))),
        ("Sat 10am-2pm; Sun closed", days([5], ("10:00", "14:00"))),
        ("Tues & Thurs 10am-noon", days([1, 3], ("10:00", "12:00"))),
        ("Tuesday 1pm to 4pm", days([1], ("13:00", "16:00"))),
        ("Mon-Fri 9-12, 1-5", days(WEEKDAYS, ("09:00", "12:00"), ("13:00", "17:00"))),
        ("Weekdays 8:30-4:30, weekends closed", days(WEEKDAYS, ("08:30", "16:30"))),
        ("9-5 weekdays", days(WEEKDAYS, ("09:00", "17:00"))),
        ("Open daily 8am to 8pm", days(ALL, ("08:00", "20:00"))),
        ("10pm-6am daily", days(ALL, ("22:00", "06:00"))),
        ("Fri-Mon 10-6", days([4, 5, 6, 0], ("10:00", "18:00"))),
        ("24/7", days(ALL, ("00:00", "00:00"))),
        ("24 hours", days(ALL, ("00:00", "00:00"))),
        ("Open 24 hours", days(ALL, ("00:00", "00:00"))),
        ("Sat-Sun 24 hours", days([5, 6], ("00:00", "00:00"))),
        # French
        ("Lun-ven 9 h à 17 h", days(WEEKDAYS, ("09:00", "17:00"))),
        ("lundi au vendredi de 9h à 17h", days(WEEKDAYS, ("09:00", "17:00"))),
        ("samedi 10 h - 14 h", days([5], ("10:00", "14:00"))),
        (
            "lundi au vendredi de 9h à 17h, fermé le dimanche",
            days(WEEKDAYS, ("09:00", "17:00")),
        ),
        ("Du lundi au vendredi, de 8 h 30 à 16 h 30", days(WEEKDAYS, ("08:30", "16:30"))),
        (
            "Lundi : 8h30-16h30; mardi au jeudi 9 h à midi",
            {0: [("08:30", "16:30")], **days([1, 2, 3], ("09:00", "12:00"))},
        ),
        ("mardi 13 h jusqu'à 16 h", days([1], ("13:00", "16:00"))),
        ("7 jours sur 7, 24 h sur 24", days(ALL, ("00:00", "00:00"))),
        ("Tous les jours de 8 h à 20 h", days(ALL, ("08:00", "20:00"))),
        ("Samedi et dimanche : 10 h à 16 h", days([5, 6], ("10:00", "16:00"))),
    ],
)
def test_understood(text: str, expected: dict[int, list[tuple[str, str]]]) -> None:
    assert week(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "by appointment",
        "By appointment only",
        "Sur rendez-vous",
        "Hours vary: call ahead",
        "Mon-Fri 9am-5pm (closed holidays)",  # a part not understood: all of it is unknown
        "fermé le dimanche",  # says only when it is closed: never a week of closed days
        "Closed Sunday",
        "Samedi et dimanche : fermé",
        "9am-5pm",  # on which days?
        "Mon-Fri",  # at what times?
        "Mon-Fri 9-5; Sat",
        "Sun 9-5; Sun closed",  # contradicts itself
        "Mon 9-5 closed",
        "Mon 25:00-26:00",
        "Mon 9:75-10:00",
        "Mon 13pm-2pm",
        "",
        "   ",
        "TBD",
        "see website",
    ],
)
def test_unknown(text: str) -> None:
    assert parse(text) is None


EN_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
EN_LONG = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
FR_DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
FR_SHORT = ["lun", "mar", "mer", "jeu", "ven", "sam", "dim"]


def _en_time(minutes: int) -> str:
    hour, minute = divmod(minutes, 60)
    suffix = "am" if hour < 12 else "pm"
    h12 = hour % 12 or 12
    return f"{h12}:{minute:02d}{suffix}" if minute else f"{h12}{suffix}"


def _fr_time(minutes: int) -> str:
    hour, minute = divmod(minutes, 60)
    return f"{hour} h {minute:02d}" if minute else f"{hour} h"


@settings(max_examples=300, deadline=None)
@given(
    first=st.integers(0, 6),
    length=st.integers(0, 6),
    opens=st.integers(0, 23 * 4).map(lambda q: q * 15),
    duration=st.integers(1, 12 * 4).map(lambda q: q * 15),
    style=st.sampled_from(["en", "en-long", "en-24", "fr", "fr-short"]),
)
def test_generated_day_ranges_and_times(
    first: int, length: int, opens: int, duration: int, style: str
) -> None:
    """Any day range and times written in an English or French form read back exactly."""
    last = (first + length) % 7
    closes = (opens + duration) % 1440
    if style == "en":
        text = f"{EN_DAYS[first]}-{EN_DAYS[last]} {_en_time(opens)}-{_en_time(closes)}"
    elif style == "en-long":
        text = f"{EN_LONG[first]} to {EN_LONG[last]} {_en_time(opens)} to {_en_time(closes)}"
    elif style == "en-24":
        text = (
            f"{EN_DAYS[first]}-{EN_DAYS[last]} "
            f"{opens // 60:02d}:{opens % 60:02d}-{closes // 60:02d}:{closes % 60:02d}"
        )
    elif style == "fr":
        text = f"du {FR_DAYS[first]} au {FR_DAYS[last]} de {_fr_time(opens)} à {_fr_time(closes)}"
    else:
        text = f"{FR_SHORT[first]}-{FR_SHORT[last]} {_fr_time(opens)} - {_fr_time(closes)}"
    if length == 0:  # one day: "Mon 9am-5pm"
        text = text.replace(f"-{EN_DAYS[last]}", "").replace(f" to {EN_LONG[last]}", "")
        text = text.replace(f" au {FR_DAYS[last]}", "").replace(f"-{FR_SHORT[last]}", "")
    expected_days = {(first + k) % 7 for k in range(length + 1)}
    found = parse(text)
    assert found is not None, text
    assert {i.weekday for i in found} == expected_days, text
    for interval in found:
        assert interval.opens == time(opens // 60, opens % 60), text
        assert interval.closes == time(closes // 60, closes % 60), text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_gives_hours_or_none(text: str) -> None:
    """Never an error, and hours only with a time or a 24-hour phrase in the text."""
    found = parse(text)
    assert found is None or isinstance(found, list)
    if found:
        assert any(ch.isdigit() for ch in text) or any(
            word in text.casefold() for word in ("noon", "midnight", "midi", "minuit", "clock")
        )
        assert all(0 <= i.weekday <= 6 for i in found)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "closed", "fermé", "Sun", "dimanche", "Mon-Fri", "samedi", "et", "and", ",",
                ";", "le", "on", "weekends", "holidays", "by appointment", "sur rendez-vous",
            ]
        ),
        max_size=8,
    )
)  # fmt: skip
def test_words_without_times_are_never_hours(words: list[str]) -> None:
    """Days, "closed" and notes without any time never make a schedule, open or closed."""
    assert parse(" ".join(words)) is None
