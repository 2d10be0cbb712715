"""Weekly times: the spec's day numbers, local wall-clock times in each meeting's zone, the next
occurrence across daylight-saving changes, "starting within the hour", how people attend."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from harbour.meetings import weekly


def test_times_are_five_character_24_hour_strings():
    # given the spec's HH:MM times
    # then valid ones become minutes after midnight, and anything else is refused by name
    assert weekly.parse_hhmm("00:00") == 0
    assert weekly.parse_hhmm("18:30") == 1110
    assert weekly.parse_hhmm("23:59") == 1439
    for bad in ("24:00", "7:00", "18:60", "1830", "18:30:00", "", None, 1830, "6 pm"):
        with pytest.raises(weekly.TimeError) as err:
            weekly.parse_hhmm(bad)
        assert "is not a time in the HH:MM 24-hour format" in str(err.value)
    assert weekly.hhmm(1110) == "18:30"
    assert weekly.hhmm(0) == "00:00"


def test_days_are_0_sunday_to_6_saturday_alone_or_in_a_list():
    assert weekly.parse_days(0) == [0]
    assert weekly.parse_days([5, 1, 3, 1]) == [1, 3, 5]
    assert weekly.parse_days("4") == [4]
    for bad in (7, -1, [1, 9], [], True, "Monday", 1.5):
        with pytest.raises(weekly.TimeError):
            weekly.parse_days(bad)
    assert weekly.spec_day(date(2026, 11, 22)) == 0  # a Sunday
    assert weekly.spec_day(date(2026, 11, 28)) == 6  # a Saturday


def test_time_zones_must_be_iana_names():
    assert str(weekly.zone("America/Toronto")) == "America/Toronto"
    assert str(weekly.zone("UTC")) == "UTC"
    for bad in ("EST", "EST5EDT", "America/Nowhere", "Toronto", "", "../etc/passwd", None):
        with pytest.raises(weekly.TimeError) as err:
            weekly.zone(bad)  # type: ignore[arg-type]
        assert "is not an IANA time zone" in str(err.value)


def test_next_start_is_in_the_meetings_own_zone():
    # given a Monday-Wednesday 19:00 meeting in Vancouver, asked on a Monday at 18:00 Toronto
    after = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)  # Mon 18:00 EST, Mon 15:00 PST
    # then it starts today at 19:00 Vancouver time (03:00 UTC on Tuesday)
    assert weekly.next_start([1, 3], 19 * 60, "America/Vancouver", after) == datetime(
        2026, 11, 24, 3, 0, tzinfo=UTC
    )
    # and a meeting that started a minute ago comes next week
    started = datetime(2026, 11, 24, 3, 1, tzinfo=UTC)
    assert weekly.next_start([1], 19 * 60, "America/Vancouver", started) == datetime(
        2026, 12, 1, 3, 0, tzinfo=UTC
    )
    assert weekly.next_start([], 600, "America/Toronto", after) is None
    assert weekly.next_start([1], None, "America/Toronto", after) is None


def test_next_start_keeps_the_wall_clock_time_across_daylight_saving():
    # given a Sunday 10:00 meeting in Toronto, before and after the fall-back of 2026-11-01
    before = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)
    # then 10:00 EST is 15:00 UTC (after the change), not 14:00
    assert weekly.next_start([0], 600, "America/Toronto", before) == datetime(
        2026, 11, 1, 15, 0, tzinfo=UTC
    )
    # and a 02:30 meeting on the spring-forward night (02:00-03:00 does not exist) is at 03:30
    spring = datetime(2027, 3, 13, 12, 0, tzinfo=UTC)
    start = weekly.next_start([0], 150, "America/Toronto", spring)
    assert start == datetime(2027, 3, 14, 7, 30, tzinfo=UTC)
    assert start.astimezone(weekly.zone("America/Toronto")).strftime("%H:%M") == "03:30"


def test_windows_group_zones_that_share_a_wall_clock_and_split_at_midnight():
    # given 23:30 UTC on a Saturday: 18:30 in Toronto and Montréal, 15:30 in Vancouver
    now = datetime(2026, 11, 28, 23, 30, 20, tzinfo=UTC)
    found = weekly.windows(now, 60, ["America/Toronto", "America/Vancouver", "America/Montreal"])
    assert {w.zones: w.spans for w in found} == {
        ("America/Montreal", "America/Toronto"): ((6, 1110, 1170),),
        ("America/Vancouver",): ((6, 930, 990),),
    }
    # and a window across midnight becomes two spans, Saturday's end and Sunday's start
    late = datetime(2026, 11, 29, 4, 40, tzinfo=UTC)  # 23:40 Saturday in Toronto
    (window,) = weekly.windows(late, 60, ["America/Toronto"])
    assert window.spans == ((6, 1420, 1440), (0, 0, 40))


def test_starting_within_the_hour_to_the_minute():
    now = datetime(2026, 11, 28, 23, 30, 20, tzinfo=UTC)  # Saturday 18:30:20 in Toronto
    zone = "America/Toronto"
    assert weekly.starts_within([6], 18 * 60 + 30, zone, now, 60) is not None  # this minute
    assert weekly.starts_within([6], 19 * 60 + 29, zone, now, 60) is not None
    assert weekly.starts_within([6], 19 * 60 + 30, zone, now, 60) is None  # 60 min away
    assert weekly.starts_within([6], 18 * 60 + 29, zone, now, 60) is None  # started
    assert weekly.starts_within([5], 19 * 60, zone, now, 60) is None  # another day
    late = datetime(2026, 11, 29, 4, 40, tzinfo=UTC)
    assert weekly.starts_within([0], 30, zone, late, 60) == datetime(
        2026, 11, 29, 5, 30, tzinfo=UTC
    )


def test_attendance_is_derived_as_the_spec_and_tsml_do():
    approx = weekly.address_is_approximate
    assert approx("", "123 Main St", "") is False
    assert approx("", "", "123 Test St, Test City, TX 12345, USA") is False
    assert approx("", "", "New York, NY, USA") is True
    assert approx("", "", "New York, NY, USA", has_position=True) is False
    assert approx("yes", "123 Main St", "") is True
    assert approx("no", "", "Chicago, IL, USA") is False
    attend = weekly.attendance
    assert attend(approximate=False, online=False, temporarily_closed=False) == "in_person"
    assert attend(approximate=False, online=True, temporarily_closed=False) == "hybrid"
    assert attend(approximate=True, online=True, temporarily_closed=False) == "online"
    assert attend(approximate=False, online=True, temporarily_closed=True) == "online"
    assert attend(approximate=True, online=False, temporarily_closed=False) == "inactive"
    assert attend(approximate=False, online=False, temporarily_closed=True) == "inactive"
