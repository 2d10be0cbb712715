from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harbour.directory.hours import (
    Closure,
    Interval,
    clock,
    describe,
    is_open,
    local_key,
    parse_hsds_schedule,
    status,
    to_hsds,
    weekly_rows,
)

TO = "America/Toronto"
TZ = ZoneInfo(TO)
WEEKDAYS_9_5 = [Interval(d, time(9), time(17)) for d in range(5)]


def at(y: int, mo: int, d: int, h: int, mi: int = 0, tz: str = TO) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(tz))


# 2026-11-23 is a Monday.


def test_a_normal_day():
    s = status(WEEKDAYS_9_5, at(2026, 11, 23, 10), TO)
    assert s.is_open and s.closes_at == at(2026, 11, 23, 17)
    closed = status(WEEKDAYS_9_5, at(2026, 11, 23, 18), TO)
    assert not closed.is_open and closed.next_opens_at == at(2026, 11, 24, 9)
    weekend = status(WEEKDAYS_9_5, at(2026, 11, 28, 12), TO)  # Saturday
    assert weekend.next_opens_at == at(2026, 11, 30, 9)


def test_several_intervals_a_day():
    split = [Interval(0, time(9), time(12)), Interval(0, time(13), time(17))]
    lunch = status(split, at(2026, 11, 23, 12, 30), TO)
    assert not lunch.is_open and lunch.next_opens_at == at(2026, 11, 23, 13)
    assert status(split, at(2026, 11, 23, 11), TO).closes_at == at(2026, 11, 23, 12)


def test_overnight_hours_carry_into_the_next_day():
    shelter = [Interval(0, time(20), time(8))]  # Monday 20:00 -> Tuesday 08:00
    s = status(shelter, at(2026, 11, 24, 2), TO)
    assert s.is_open and s.closes_at == at(2026, 11, 24, 8)
    assert not is_open(shelter, at(2026, 11, 24, 9), TO)
    sunday_night = [Interval(6, time(22), time(6))]
    assert is_open(sunday_night, at(2026, 11, 23, 3), TO)  # Monday 03:00


def test_back_to_back_intervals_merge_into_one_closing_time():
    hours = [
        Interval(0, time(20), time(0)),
        Interval(1, time(0), time(8)),
        Interval(1, time(7), time(10)),
    ]
    assert status(hours, at(2026, 11, 23, 21), TO).closes_at == at(2026, 11, 24, 10)


def test_open_24_7():
    always = [Interval(d, time(0), time(0)) for d in range(7)]
    s = status(always, at(2026, 11, 25, 3), TO)
    assert s.is_open and s.always_open and s.closes_at is None
    assert describe(s, at(2026, 11, 25, 3), "en") == "Open 24 hours"
    assert describe(s, at(2026, 11, 25, 3), "fr") == "Ouvert 24 h sur 24"


def test_validity_dates_and_closures():
    winter = [
        Interval(0, time(9), time(17), valid_from=date(2026, 12, 1), valid_to=date(2027, 3, 31))
    ]
    assert not is_open(winter, at(2026, 11, 23, 10), TO)
    assert is_open(winter, at(2026, 12, 7, 10), TO)
    holiday = [Closure(date(2026, 12, 25), date(2026, 12, 26))]
    daily = [Interval(d, time(9), time(17)) for d in range(7)]
    s = status(daily, at(2026, 12, 25, 10), TO, holiday)
    assert not s.is_open and s.next_opens_at == at(2026, 12, 27, 9)
    overnight = [Interval(4, time(20), time(8))]  # Friday night
    assert not is_open(overnight, at(2026, 12, 26, 2), TO, holiday)  # started on the 25th, closed


def test_time_zones_are_respected():
    vancouver = [Interval(0, time(9), time(17))]
    # 17:30 UTC on Monday is 09:30 in Vancouver
    utc = datetime(2026, 11, 23, 17, 30, tzinfo=ZoneInfo("UTC"))
    assert is_open(vancouver, utc, "America/Vancouver")
    assert not is_open(vancouver, utc - timedelta(hours=1), "America/Vancouver")
    # St. John's is UTC-3:30 in winter
    assert is_open(
        vancouver, datetime(2026, 11, 23, 12, 30, tzinfo=ZoneInfo("UTC")), "America/St_Johns"
    )
    assert not is_open(
        vancouver, datetime(2026, 11, 23, 12, 29, tzinfo=ZoneInfo("UTC")), "America/St_Johns"
    )
    # Regina keeps CST all year (UTC-6): 15:00 UTC is 09:00 in July too
    assert is_open(vancouver, datetime(2026, 7, 6, 15, 0, tzinfo=ZoneInfo("UTC")), "America/Regina")


def test_daylight_saving_days_do_not_break():
    nightly = [Interval(d, time(1), time(4)) for d in range(7)]
    # 2026-03-08: clocks jump from 02:00 to 03:00 in Toronto
    assert is_open(nightly, at(2026, 3, 8, 3, 30), TO)
    # 2026-11-01: 01:00-02:00 happens twice
    assert is_open(nightly, at(2026, 11, 1, 1, 30), TO)
    assert status(nightly, at(2026, 3, 8, 12), TO).next_opens_at == at(2026, 3, 9, 1)


def test_weekly_rows_split_overnight_and_keep_24_hours():
    rows = weekly_rows(
        [Interval(6, time(20), time(8), date(2026, 1, 4), None), Interval(2, time(0), time(0))]
    )
    assert rows == [
        (0, 0, 480, date(2026, 1, 5), None),
        (2, 0, 1440, None, None),
        (6, 1200, 1440, date(2026, 1, 4), None),
    ]
    assert weekly_rows([Interval(1, time(22), time(0))]) == [(1, 1320, 1440, None, None)]


def test_local_key():
    assert local_key(datetime(2026, 11, 23, 3, 15, tzinfo=ZoneInfo("UTC")), TO) == (
        6,
        22 * 60 + 15,
        date(2026, 11, 22),
    )


def test_parse_hsds_schedule_and_round_trip():
    intervals = parse_hsds_schedule("mo, WE,FR", "09:00:00", "17:30", "2026-01-01", None)
    assert intervals == [
        Interval(0, time(9), time(17, 30), date(2026, 1, 1)),
        Interval(2, time(9), time(17, 30), date(2026, 1, 1)),
        Interval(4, time(9), time(17, 30), date(2026, 1, 1)),
    ]
    every_day = parse_hsds_schedule(None, "10:00", "12:00")
    assert [i.weekday for i in every_day] == list(range(7))
    mixed = intervals + parse_hsds_schedule("SA", "10:00", "14:00")
    exported = to_hsds(mixed)
    assert exported == [
        {
            "freq": "WEEKLY",
            "byday": "MO,WE,FR",
            "opens_at": "09:00",
            "closes_at": "17:30",
            "valid_from": "2026-01-01",
        },
        {"freq": "WEEKLY", "byday": "SA", "opens_at": "10:00", "closes_at": "14:00"},
    ]
    again = [i for item in exported for i in parse_hsds_schedule(**item)]
    assert sorted(again) == sorted(mixed)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("XX", "09:00", "17:00"), "unknown day 'XX'"),
        (("MO", "9am", "17:00"), "opens_at must look like 09:00"),
        (("MO", "25:00", "17:00"), "not a time of day"),
        (("MO", "09:00", None), "needs both opens_at and closes_at"),
    ],
)
def test_parse_errors_say_what_is_wrong(args, message):
    with pytest.raises(ValueError, match=message):
        parse_hsds_schedule(*args)
    with pytest.raises(ValueError, match="unsupported freq 'MONTHLY'"):
        parse_hsds_schedule("MO", "09:00", "10:00", freq="MONTHLY")


def test_describe_in_english_and_french():
    now = at(2026, 11, 23, 10)
    open_state = status([Interval(0, time(9), time(23))], now, TO)
    assert describe(open_state, now, "en") == "Open now · closes 11 p.m."
    assert describe(open_state, now, "fr") == "Ouvert maintenant · ferme à 23 h"
    evening = at(2026, 11, 23, 18)
    tomorrow = status(WEEKDAYS_9_5, evening, TO)
    assert describe(tomorrow, evening, "en") == "Closed · opens tomorrow 9 a.m."
    assert describe(tomorrow, evening, "fr") == "Fermé · ouvre demain à 9 h"
    early = at(2026, 11, 23, 7)
    today = status([Interval(0, time(9, 30), time(12))], early, TO)
    assert describe(today, early, "en") == "Closed · opens 9:30 a.m."
    assert describe(today, early, "fr") == "Fermé · ouvre à 9 h 30"
    saturday = at(2026, 11, 28, 12)
    assert (
        describe(status(WEEKDAYS_9_5, saturday, TO), saturday, "en")
        == "Closed · opens Monday 9 a.m."
    )
    assert describe(status([], now, TO), now, "en", has_hours=False) == "Hours not listed"
    assert describe(status([], now, TO), now, "fr", has_hours=False) == "Heures non indiquées"
    assert (clock(0, "en"), clock(720, "en"), clock(0, "fr"), clock(1290, "fr")) == (
        "12 a.m.",
        "12 p.m.",
        "0 h",
        "21 h 30",
    )


intervals_strategy = st.lists(
    st.builds(
        Interval,
        weekday=st.integers(0, 6),
        opens=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
        closes=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    ),
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(intervals=intervals_strategy, minutes=st.integers(0, 7 * 1440 - 1))
def test_is_open_agrees_with_the_sql_rows(intervals, minutes):
    # a UTC city, so that no DST shifts wall-clock times
    moment = datetime(2026, 11, 23, tzinfo=ZoneInfo("UTC")) + timedelta(minutes=minutes)
    weekday, minute, _day = local_key(moment, "UTC")
    by_rows = any(w == weekday and s <= minute < e for w, s, e, _f, _t in weekly_rows(intervals))
    assert is_open(intervals, moment, "UTC") == by_rows
