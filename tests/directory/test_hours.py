"""Opening hours (harbour.directory.hours): pure Python, no database."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from harbour.directory.hours import (
    Closure,
    Interval,
    OpenStatus,
    clock,
    describe,
    hour_map,
    is_open,
    local_key,
    parse_hsds_schedule,
    status,
    to_hsds,
    weekly_rows,
)

TO = "America/Toronto"
UTC = ZoneInfo("UTC")
WEEKDAYS_9_5 = [Interval(d, time(9), time(17)) for d in range(5)]
EVERY_DAY_9_5 = [Interval(d, time(9), time(17)) for d in range(7)]
ALWAYS = [Interval(d, time(0), time(0)) for d in range(7)]


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0, tz: str = TO, fold: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(tz), fold=fold)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


# 2026-11-23 is a Monday; 2026-11-22 a Sunday.


def test_a_normal_day():
    s = status(WEEKDAYS_9_5, at(2026, 11, 23, 10), TO)
    assert s == OpenStatus(is_open=True, closes_at=at(2026, 11, 23, 17))
    assert is_open(WEEKDAYS_9_5, at(2026, 11, 23, 9), TO)  # opening minute is open
    assert not is_open(WEEKDAYS_9_5, at(2026, 11, 23, 17), TO)  # closing minute is not
    closed = status(WEEKDAYS_9_5, at(2026, 11, 23, 18), TO)
    assert closed == OpenStatus(is_open=False, next_opens_at=at(2026, 11, 24, 9))
    early = status(WEEKDAYS_9_5, at(2026, 11, 23, 7), TO)
    assert early.next_opens_at == at(2026, 11, 23, 9)
    weekend = status(WEEKDAYS_9_5, at(2026, 11, 28, 12), TO)  # Saturday
    assert weekend.next_opens_at == at(2026, 11, 30, 9)
    assert weekend.next_opens_at.tzinfo == ZoneInfo(TO)


def test_several_intervals_a_day():
    split = [Interval(0, time(9), time(12)), Interval(0, time(13), time(17))]
    lunch = status(split, at(2026, 11, 23, 12, 30), TO)
    assert lunch == OpenStatus(is_open=False, next_opens_at=at(2026, 11, 23, 13))
    assert status(split, at(2026, 11, 23, 11), TO).closes_at == at(2026, 11, 23, 12)
    assert status(split, at(2026, 11, 23, 16, 59), TO).closes_at == at(2026, 11, 23, 17)
    assert status(split, at(2026, 11, 23, 17), TO).next_opens_at == at(2026, 11, 30, 9)


def test_overnight_hours_carry_into_the_next_day():
    shelter = [Interval(0, time(20), time(8))]  # Monday 20:00 -> Tuesday 08:00
    tuesday_2am = status(shelter, at(2026, 11, 24, 2), TO)
    assert tuesday_2am == OpenStatus(is_open=True, closes_at=at(2026, 11, 24, 8))
    assert status(shelter, at(2026, 11, 23, 21), TO).closes_at == at(2026, 11, 24, 8)
    later = status(shelter, at(2026, 11, 24, 9), TO)
    assert later == OpenStatus(is_open=False, next_opens_at=at(2026, 11, 30, 20))
    # Monday morning before 08:00: last week's Monday night is long over
    assert not is_open(shelter, at(2026, 11, 23, 2), TO)


def test_sunday_night_wraps_to_monday():
    sunday_night = [Interval(6, time(22), time(6))]
    assert status(sunday_night, at(2026, 11, 22, 23), TO).closes_at == at(2026, 11, 23, 6)
    monday = status(sunday_night, at(2026, 11, 23, 3), TO)
    assert monday == OpenStatus(is_open=True, closes_at=at(2026, 11, 23, 6))
    assert not is_open(sunday_night, at(2026, 11, 23, 6), TO)
    assert not is_open(sunday_night, at(2026, 11, 24, 3), TO)  # Tuesday


def test_back_to_back_and_overlapping_intervals_merge():
    hours = [Interval(0, time(20), time(0)), Interval(1, time(0), time(8))]
    assert status(hours, at(2026, 11, 23, 21), TO).closes_at == at(2026, 11, 24, 8)
    overlapping = [*hours, Interval(1, time(7), time(10))]
    assert status(overlapping, at(2026, 11, 23, 21), TO).closes_at == at(2026, 11, 24, 10)
    assert status(overlapping, at(2026, 11, 24, 9), TO).closes_at == at(2026, 11, 24, 10)
    same_day = [Interval(2, time(9), time(13)), Interval(2, time(12), time(18))]
    assert status(same_day, at(2026, 11, 25, 10), TO).closes_at == at(2026, 11, 25, 18)
    touching = [Interval(2, time(9), time(12)), Interval(2, time(12), time(15))]
    assert status(touching, at(2026, 11, 25, 10), TO).closes_at == at(2026, 11, 25, 15)


def test_open_24_7():
    s = status(ALWAYS, at(2026, 11, 25, 3), TO)
    assert s == OpenStatus(is_open=True, always_open=True)
    assert s.closes_at is None and s.next_opens_at is None
    # the same hours split at midnight some other way are still 24/7
    overnight = [Interval(d, time(12), time(12)) for d in range(7)]
    assert status(overnight, at(2026, 11, 25, 3), TO).always_open
    # a gap on Sunday evening: open, but not around the clock
    gap = [*ALWAYS[:6], Interval(6, time(0), time(23))]
    almost = status(gap, at(2026, 11, 25, 3), TO)
    assert almost == OpenStatus(is_open=True, closes_at=at(2026, 11, 29, 23))
    weekdays = [Interval(d, time(0), time(0)) for d in range(5)]
    assert status(weekdays, at(2026, 11, 25, 3), TO).closes_at == at(2026, 11, 28, 0)


def test_validity_dates():
    winter = [
        Interval(0, time(9), time(17), valid_from=date(2026, 12, 7), valid_to=date(2027, 3, 29))
    ]
    assert not is_open(winter, at(2026, 11, 30, 10), TO)
    assert status(winter, at(2026, 11, 30, 10), TO).next_opens_at == at(2026, 12, 7, 9)
    assert is_open(winter, at(2026, 12, 7, 10), TO)  # valid_from is inclusive
    assert is_open(winter, at(2027, 3, 29, 10), TO)  # so is valid_to
    assert not is_open(winter, at(2027, 4, 5, 10), TO)
    over = status(winter, at(2027, 3, 29, 18), TO)
    assert over == OpenStatus(is_open=False)  # nothing more in the next 14 days
    assert describe(over, at(2027, 3, 29, 18), "en") == "Closed"
    assert describe(over, at(2027, 3, 29, 18), "fr") == "Fermé"
    # validity is about the day an occurrence starts: Friday night runs into Saturday
    friday_night = [Interval(4, time(20), time(8), valid_to=date(2026, 11, 27))]
    assert is_open(friday_night, at(2026, 11, 28, 2), TO)
    assert not is_open(friday_night, at(2026, 12, 5, 2), TO)


def test_closures():
    holiday = [Closure(date(2026, 12, 25), date(2026, 12, 26))]
    s = status(EVERY_DAY_9_5, at(2026, 12, 25, 10), TO, holiday)
    assert s == OpenStatus(is_open=False, next_opens_at=at(2026, 12, 27, 9))
    assert status(EVERY_DAY_9_5, at(2026, 12, 24, 16), TO, holiday).closes_at == at(
        2026, 12, 24, 17
    )
    overnight = [Interval(4, time(20), time(8))]  # Friday night
    # starts on Friday the 25th, a closed day: does not happen at all
    assert not is_open(overnight, at(2026, 12, 25, 21), TO, holiday)
    assert not is_open(overnight, at(2026, 12, 26, 2), TO, holiday)
    # starts the day before a closure: runs into it
    thursday_night = [Interval(3, time(20), time(8))]
    assert is_open(thursday_night, at(2026, 12, 25, 2), TO, holiday)
    # closures longer than the look-ahead: no next opening
    long = [Closure(date(2026, 12, 1), date(2026, 12, 31))]
    assert status(EVERY_DAY_9_5, at(2026, 12, 2, 10), TO, long) == OpenStatus(is_open=False)
    # a 24/7 place closing for a holiday has a real closing time
    assert status(ALWAYS, at(2026, 12, 20, 10), TO, holiday) == OpenStatus(
        is_open=True, closes_at=at(2026, 12, 25)
    )
    with pytest.raises(ValueError, match="before it starts"):
        Closure(date(2026, 12, 26), date(2026, 12, 25))


def test_time_zones():
    monday = [Interval(0, time(9), time(17))]
    # 17:30 UTC on Monday is 09:30 in Vancouver (UTC-8 in November)
    s = status(monday, utc(2026, 11, 23, 17, 30), "America/Vancouver")
    assert s.is_open and s.closes_at == at(2026, 11, 23, 17, tz="America/Vancouver")
    assert s.closes_at.tzinfo == ZoneInfo("America/Vancouver")
    assert s.closes_at == utc(2026, 11, 24, 1)
    assert not is_open(monday, utc(2026, 11, 23, 16, 59), "America/Vancouver")
    # the same instant in Toronto (12:30 local)
    assert is_open(monday, utc(2026, 11, 23, 17, 30), TO)
    # St. John's is UTC-3:30 in winter: 09:00 local is 12:30 UTC
    assert is_open(monday, utc(2026, 11, 23, 12, 30), "America/St_Johns")
    assert not is_open(monday, utc(2026, 11, 23, 12, 29), "America/St_Johns")
    closed = status(monday, utc(2026, 11, 23, 12), "America/St_Johns")
    assert closed.next_opens_at == utc(2026, 11, 23, 12, 30)
    # Regina keeps CST all year (UTC-6): 15:00 UTC is 09:00 in July and in January
    assert is_open(monday, utc(2026, 7, 6, 15), "America/Regina")
    assert not is_open(monday, utc(2026, 7, 6, 14, 59), "America/Regina")
    assert is_open(monday, utc(2026, 1, 5, 15), "America/Regina")
    # a non-UTC input zone works too
    assert is_open(monday, at(2026, 11, 23, 12, 30, tz="America/Vancouver"), TO)
    with pytest.raises(ValueError, match="timezone-aware"):
        status(monday, datetime(2026, 11, 23, 10), TO)


def test_dst_spring_forward_in_toronto():
    # 2026-03-08 (Sunday): clocks jump from 02:00 EST to 03:00 EDT
    nightly = [Interval(d, time(1), time(4)) for d in range(7)]
    s = status(nightly, at(2026, 3, 8, 3, 30), TO)
    assert s == OpenStatus(is_open=True, closes_at=at(2026, 3, 8, 4))
    assert s.closes_at == utc(2026, 3, 8, 8)
    assert status(nightly, at(2026, 3, 8, 12), TO).next_opens_at == at(2026, 3, 9, 1)
    # opening at 02:30, a time that does not exist that day: wall clock fold=0, one hour on
    late = [Interval(6, time(2, 30), time(5))]
    opens = status(late, at(2026, 3, 8, 1), TO).next_opens_at
    assert opens == at(2026, 3, 8, 3, 30) == utc(2026, 3, 8, 7, 30)
    # an interval that falls entirely in the missing hour simply does not happen that day
    missing = [Interval(6, time(2), time(3))]
    assert status(missing, at(2026, 3, 8, 1), TO).next_opens_at == at(2026, 3, 15, 2)
    # overnight across the jump
    saturday_night = [Interval(5, time(20), time(8))]
    assert status(saturday_night, at(2026, 3, 8, 3, 30), TO).closes_at == utc(2026, 3, 8, 12)
    assert status(ALWAYS, at(2026, 3, 8, 2, 30), TO).always_open
    assert local_key(utc(2026, 3, 8, 7, 30), TO) == (6, 3 * 60 + 30, date(2026, 3, 8))


def test_dst_fall_back_in_toronto():
    # 2026-11-01 (Sunday): 01:00-02:00 happens twice (EDT, then EST)
    nightly = [Interval(d, time(1), time(4)) for d in range(7)]
    assert is_open(nightly, at(2026, 11, 1, 1, 30), TO)
    assert is_open(nightly, at(2026, 11, 1, 1, 30, fold=1), TO)
    s = status(nightly, at(2026, 11, 1, 1, 30, fold=1), TO)
    assert s.closes_at == at(2026, 11, 1, 4) == utc(2026, 11, 1, 9)
    # an interval in the repeated hour is read as its first (EDT) occurrence
    repeated = [Interval(6, time(1), time(1, 30))]
    assert is_open(repeated, utc(2026, 11, 1, 5, 15), TO)  # 01:15 EDT
    assert not is_open(repeated, utc(2026, 11, 1, 6, 15), TO)  # 01:15 EST
    saturday_night = [Interval(5, time(20), time(8))]
    assert status(saturday_night, at(2026, 11, 1, 3), TO).closes_at == utc(2026, 11, 1, 13)
    assert status(ALWAYS, at(2026, 11, 1, 1, 30, fold=1), TO).always_open


def test_weekly_rows_split_overnight_and_keep_24_hours():
    rows = weekly_rows(
        [
            Interval(6, time(20), time(8), date(2026, 1, 4), date(2026, 3, 29)),
            Interval(2, time(0), time(0)),
            Interval(3, time(9), time(17)),
            Interval(3, time(9), time(17)),  # duplicates give one row
        ]
    )
    assert rows == [
        (0, 0, 480, date(2026, 1, 5), date(2026, 3, 30)),
        (2, 0, 1440, None, None),
        (3, 540, 1020, None, None),
        (6, 1200, 1440, date(2026, 1, 4), date(2026, 3, 29)),
    ]
    assert weekly_rows([Interval(1, time(22), time(0))]) == [(1, 1320, 1440, None, None)]
    assert weekly_rows([Interval(4, time(9), time(9))]) == [
        (4, 540, 1440, None, None),
        (5, 0, 540, None, None),
    ]
    assert weekly_rows([]) == []


def test_intervals_are_kept_to_the_minute():
    interval = Interval(0, time(9, 0, 30), time(17, 0, 0, 5))
    assert (interval.opens, interval.closes) == (time(9), time(17))
    with pytest.raises(ValueError, match="weekday must be 0"):
        Interval(7, time(9), time(17))


def test_local_key():
    assert local_key(utc(2026, 11, 23, 3, 15), TO) == (6, 22 * 60 + 15, date(2026, 11, 22))
    assert local_key(utc(2026, 11, 23, 3, 15), "America/St_Johns") == (
        6,
        23 * 60 + 45,
        date(2026, 11, 22),
    )
    assert local_key(datetime(2026, 11, 23, 3, 15, 59, tzinfo=UTC), "UTC") == (
        0,
        195,
        date(2026, 11, 23),
    )


def test_parse_hsds_schedule():
    intervals = parse_hsds_schedule("mo, WE ,fr", "09:00:00", "17:30", "2026-01-01", None)
    assert intervals == [
        Interval(0, time(9), time(17, 30), date(2026, 1, 1)),
        Interval(2, time(9), time(17, 30), date(2026, 1, 1)),
        Interval(4, time(9), time(17, 30), date(2026, 1, 1)),
    ]
    assert parse_hsds_schedule(None, "10:00", "12:00") == [
        Interval(d, time(10), time(12)) for d in range(7)
    ]
    assert parse_hsds_schedule("", "10:00", "12:00", freq=None) == parse_hsds_schedule(
        "MO,TU,WE,TH,FR,SA,SU", "10:00", "12:00", freq="weekly"
    )
    assert parse_hsds_schedule("SU", "20:00", "24:00") == [Interval(6, time(20), time(0))]
    assert parse_hsds_schedule("SA", "09:00", "17:00", "2026-01-01T00:00:00", "2026-06-30") == [
        Interval(5, time(9), time(17), date(2026, 1, 1), date(2026, 6, 30))
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"byday": "XX"}, "unknown day 'XX'"),
        ({"byday": "MO,1FR"}, "unknown day '1FR'"),
        ({"opens_at": "9am"}, "opens_at must look like 09:00 or 09:00:00"),
        ({"opens_at": "9:00"}, "opens_at must look like 09:00"),
        ({"closes_at": "1700"}, "closes_at must look like 09:00"),
        ({"closes_at": "17:00:00-05:00"}, "closes_at must look like 09:00"),
        ({"opens_at": "25:00"}, "opens_at is not a time of day: '25:00'"),
        ({"closes_at": "12:60"}, "closes_at is not a time of day"),
        ({"closes_at": None}, "needs both opens_at and closes_at"),
        ({"opens_at": ""}, "needs both opens_at and closes_at"),
        ({"valid_from": "next week"}, "valid_from must be a date"),
        ({"valid_from": "2026-02-01", "valid_to": "2026-01-01"}, "valid_to .* is before"),
        ({"freq": "MONTHLY"}, "unsupported freq 'MONTHLY'"),
        ({"freq": "DAILY"}, "unsupported freq 'DAILY'"),
    ],
)
def test_parse_errors_say_what_is_wrong(kwargs, message):
    args = {"byday": "MO", "opens_at": "09:00", "closes_at": "17:00", **kwargs}
    with pytest.raises(ValueError, match=message):
        parse_hsds_schedule(**args)


def test_to_hsds_round_trip():
    mixed = [
        *parse_hsds_schedule("SA", "10:00", "14:00"),
        *parse_hsds_schedule("MO,WE,FR", "09:00", "17:30", "2026-01-01"),
        *parse_hsds_schedule("FR,SA", "20:00", "08:00", None, "2026-12-31"),
        *parse_hsds_schedule("SU", "00:00", "00:00"),
        *parse_hsds_schedule("MO", "07:00", "08:00"),
    ]
    exported = to_hsds(mixed)
    assert exported == [
        {"freq": "WEEKLY", "byday": "MO", "opens_at": "07:00", "closes_at": "08:00"},
        {
            "freq": "WEEKLY",
            "byday": "MO,WE,FR",
            "opens_at": "09:00",
            "closes_at": "17:30",
            "valid_from": "2026-01-01",
        },
        {
            "freq": "WEEKLY",
            "byday": "FR,SA",
            "opens_at": "20:00",
            "closes_at": "08:00",
            "valid_to": "2026-12-31",
        },
        {"freq": "WEEKLY", "byday": "SA", "opens_at": "10:00", "closes_at": "14:00"},
        {"freq": "WEEKLY", "byday": "SU", "opens_at": "00:00", "closes_at": "00:00"},
    ]
    again = [i for item in exported for i in parse_hsds_schedule(**item)]
    assert set(again) == set(mixed) and len(again) == len(mixed)
    assert to_hsds(reversed(mixed)) == exported  # the order does not depend on the input's
    assert to_hsds([]) == []


def test_describe_in_english_and_french():
    now = at(2026, 11, 23, 10)
    open_state = status([Interval(0, time(9), time(23))], now, TO)
    assert describe(open_state, now, "en") == "Open now · closes 11 p.m."
    assert describe(open_state, now, "fr") == "Ouvert maintenant · ferme à 23 h"
    evening = at(2026, 11, 23, 18)
    tomorrow = status(WEEKDAYS_9_5, evening, TO)
    assert describe(tomorrow, evening, "en") == "Closed · opens tomorrow 9 a.m."
    assert describe(tomorrow, evening, "fr-ca") == "Fermé · ouvre demain à 9 h"
    early = at(2026, 11, 23, 7)
    today = status([Interval(0, time(9), time(12))], early, TO)
    assert describe(today, early, "en") == "Closed · opens 9 a.m."
    assert describe(today, early, "fr") == "Fermé · ouvre à 9 h"
    half_past = status([Interval(0, time(9, 30), time(12))], early, TO)
    assert describe(half_past, early, "en") == "Closed · opens 9:30 a.m."
    assert describe(half_past, early, "fr") == "Fermé · ouvre à 9 h 30"
    saturday = at(2026, 11, 28, 12)
    weekend = status(WEEKDAYS_9_5, saturday, TO)
    assert describe(weekend, saturday, "en") == "Closed · opens Monday 9 a.m."
    assert describe(weekend, saturday, "fr") == "Fermé · ouvre lundi à 9 h"
    # the day is the location's: 02:00 UTC Tuesday is still Monday evening in Toronto
    assert describe(tomorrow, utc(2026, 11, 24, 2), "en") == "Closed · opens tomorrow 9 a.m."


def test_describe_noon_midnight_overnight_and_far_dates():
    now = at(2026, 11, 23, 10)
    noon = status([Interval(0, time(12), time(18))], now, TO)
    assert describe(noon, now, "en") == "Closed · opens 12 p.m."
    assert describe(noon, now, "fr") == "Fermé · ouvre à 12 h"
    until_midnight = status([Interval(0, time(9), time(0))], now, TO)
    assert describe(until_midnight, now, "en") == "Open now · closes 12 a.m."
    assert describe(until_midnight, now, "fr") == "Ouvert maintenant · ferme à 0 h"
    night = at(2026, 11, 23, 22)
    shelter = status([Interval(0, time(20), time(8))], night, TO)
    assert describe(shelter, night, "en") == "Open now · closes tomorrow 8 a.m."
    assert describe(shelter, night, "fr") == "Ouvert maintenant · ferme demain à 8 h"
    small_hours = at(2026, 11, 24, 2)
    assert describe(shelter, small_hours, "en") == "Open now · closes 8 a.m."
    weekdays = status([Interval(d, time(0), time(0)) for d in range(5)], now, TO)
    assert describe(weekdays, now, "en") == "Open now · closes Saturday 12 a.m."
    assert describe(weekdays, now, "fr") == "Ouvert maintenant · ferme samedi à 0 h"
    winter = [Interval(1, time(9), time(17), valid_from=date(2026, 12, 1))]
    far = status(winter, now, TO)
    assert far.next_opens_at == at(2026, 12, 1, 9)
    assert describe(far, now, "en") == "Closed · opens December 1, 9 a.m."
    assert describe(far, now, "fr") == "Fermé · ouvre le 1er décembre à 9 h"
    same_weekday = status([Interval(0, time(9), time(17))], now.replace(hour=18), TO)
    assert describe(same_weekday, now.replace(hour=18), "en") == (
        "Closed · opens November 30, 9 a.m."
    )


def test_describe_open_24_hours_and_no_hours():
    now = at(2026, 11, 25, 3)
    s = status(ALWAYS, now, TO)
    assert describe(s, now, "en") == "Open 24 hours"
    assert describe(s, now, "fr") == "Ouvert 24 h sur 24"
    empty = status([], now, TO)
    assert (empty.is_open, empty.next_opens_at, empty.closes_at) == (False, None, None)
    assert describe(empty, now, "en") == "Hours not listed"
    assert describe(empty, now, "fr") == "Heures non indiquées"
    assert describe(OpenStatus(is_open=False), now, "en", has_hours=False) == "Hours not listed"
    assert describe(OpenStatus(is_open=False), now, "en", has_hours=True) == "Closed"
    assert describe(OpenStatus(is_open=True), now, "en") == "Open now"
    assert describe(OpenStatus(is_open=True), now, "fr") == "Ouvert maintenant"
    assert not is_open([], now, TO)


def test_clock():
    assert [clock(m, "en") for m in (0, 540, 570, 720, 765, 1380, 1440)] == [
        "12 a.m.",
        "9 a.m.",
        "9:30 a.m.",
        "12 p.m.",
        "12:45 p.m.",
        "11 p.m.",
        "12 a.m.",
    ]
    assert [clock(m, "fr") for m in (0, 545, 720, 1290)] == ["0 h", "9 h 05", "12 h", "21 h 30"]


# --- properties -------------------------------------------------------------------------------

ZONES = ["UTC", "America/Regina", "America/St_Johns", "America/Toronto", "America/Vancouver"]
YEAR_START = utc(2026, 1, 1)
minute_times = st.builds(time, st.integers(0, 23), st.integers(0, 59))
intervals_strategy = st.lists(
    st.builds(Interval, weekday=st.integers(0, 6), opens=minute_times, closes=minute_times),
    max_size=6,
)


def _steady(moment: datetime, tz: str) -> bool:
    """No DST change within two days of ``moment``: wall clock and rows agree there."""
    zone = ZoneInfo(tz)
    return (moment - timedelta(days=2)).astimezone(zone).utcoffset() == (
        moment + timedelta(days=2)
    ).astimezone(zone).utcoffset()


def _open_by_rows(intervals: list[Interval], moment: datetime, tz: str) -> bool:
    weekday, minute, day = local_key(moment, tz)
    return any(
        w == weekday and s <= minute < e and (f is None or f <= day) and (t is None or day <= t)
        for w, s, e, f, t in weekly_rows(intervals)
    )


@settings(max_examples=150, deadline=None)
@given(
    intervals=intervals_strategy,
    tz=st.sampled_from(ZONES),
    seconds=st.integers(0, 365 * 86400 - 1),
)
def test_is_open_agrees_with_the_sql_rows(intervals, tz, seconds):
    moment = YEAR_START + timedelta(seconds=seconds)
    assume(_steady(moment, tz))
    assert is_open(intervals, moment, tz) == _open_by_rows(intervals, moment, tz)


@settings(max_examples=100, deadline=None)
@given(
    intervals=st.lists(
        st.builds(
            Interval,
            weekday=st.integers(0, 6),
            opens=minute_times,
            closes=minute_times,
            valid_from=st.none() | st.dates(date(2026, 6, 1), date(2026, 6, 20)),
            valid_to=st.none() | st.dates(date(2026, 6, 10), date(2026, 6, 30)),
        ),
        max_size=5,
    ),
    minutes=st.integers(0, 30 * 1440),
)
def test_rows_respect_validity_dates(intervals, minutes):
    moment = utc(2026, 6, 1) + timedelta(minutes=minutes)
    assert is_open(intervals, moment, TO) == _open_by_rows(intervals, moment, TO)


@settings(max_examples=100, deadline=None)
@given(
    intervals=intervals_strategy,
    tz=st.sampled_from(ZONES),
    minutes=st.integers(0, 365 * 1440 - 1),
)
def test_status_is_consistent_with_is_open(intervals, tz, minutes):
    moment = YEAR_START + timedelta(minutes=minutes)
    s = status(intervals, moment, tz)
    assert s.is_open == is_open(intervals, moment, tz)
    minute = timedelta(minutes=1)
    if s.is_open and not s.always_open:
        assert s.closes_at is not None
        closes = s.closes_at.astimezone(UTC)  # arithmetic in UTC, not on the wall clock
        assert closes > moment
        assert is_open(intervals, closes - minute, tz)
        assert not is_open(intervals, closes, tz)
    if s.next_opens_at is not None:
        opens = s.next_opens_at.astimezone(UTC)
        assert not s.is_open and moment < opens <= moment + timedelta(days=14)
        assert is_open(intervals, opens, tz)
        assert not is_open(intervals, opens - minute, tz)
    if not s.is_open and s.next_opens_at is None:
        assert intervals == []  # weekly hours always open again within a week


def test_hour_map_marks_whole_part_and_closed_hours():
    rows = weekly_rows(
        [
            Interval(0, time(9), time(17)),  # Monday 9-5
            Interval(2, time(9, 30), time(12, 15)),  # Wednesday 9:30-12:15
            Interval(4, time(22), time(2)),  # Friday night into Saturday
        ]
    )
    week = hour_map(rows)
    assert week is not None and len(week) == 168
    monday = week[0:24]
    assert monday == "0" * 9 + "1" * 8 + "0" * 7
    wednesday = week[48:72]
    assert wednesday[9] == "~" and wednesday[10:12] == "11" and wednesday[12] == "~"
    assert wednesday[13] == "0" and wednesday[8] == "0"
    assert week[4 * 24 + 22 : 4 * 24 + 24] == "11"  # Friday 22:00-24:00
    assert week[5 * 24 : 5 * 24 + 3] == "110"  # Saturday 00:00-02:00
    assert week.count("1") == 8 + 2 + 2 + 2


def test_hour_map_gives_up_on_dated_rows():
    dated = Interval(0, time(9), time(17), valid_from=date(2026, 6, 1), valid_to=date(2026, 9, 1))
    assert hour_map(weekly_rows([dated, Interval(1, time(9), time(17))])) is None
    assert hour_map([]) == "0" * 168
