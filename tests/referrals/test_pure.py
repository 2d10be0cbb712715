"""The pure parts of referrals: the lifecycle table, business days and holidays, the
service-gap figures with suppression."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from harbour.referrals import business, report
from harbour.referrals.lifecycle import (
    Action,
    Side,
    Status,
    TransitionError,
    acknowledged,
    actions_for,
    move,
    next_status,
)

TORONTO = ZoneInfo("America/Toronto")

# --- lifecycle ------------------------------------------------------------------------------


def test_the_happy_path_is_sent_received_accepted_in_progress_completed():
    # given a draft
    status = Status.DRAFT
    # when each side does its part
    path = [
        (Action.SEND, Side.SENDER),
        (Action.RECEIVE, Side.RECEIVER),
        (Action.ACCEPT, Side.RECEIVER),
        (Action.START, Side.RECEIVER),
        (Action.COMPLETE, Side.RECEIVER),
    ]
    seen = []
    for action, side in path:
        status = move(status, action, side=side).after
        seen.append(status)
    # then
    assert seen == [
        Status.SENT,
        Status.RECEIVED,
        Status.ACCEPTED,
        Status.IN_PROGRESS,
        Status.COMPLETED,
    ]


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Status.DRAFT, Action.ACCEPT),
        (Status.ACCEPTED, Action.DECLINE),
        (Status.DECLINED, Action.ACCEPT),
        (Status.COMPLETED, Action.HOLD),
        (Status.SENT, Action.COMPLETE),
        (Status.ENTERED_IN_ERROR, Action.ENTERED_IN_ERROR),
        (Status.WITHDRAWN, Action.RESUME),
    ],
)
def test_illegal_changes_are_refused(status, action):
    with pytest.raises(TransitionError) as err:
        next_status(status, action)
    assert err.value.code == "illegal"


def test_each_side_does_only_its_own_steps():
    with pytest.raises(TransitionError) as err:
        move(Status.SENT, Action.ACCEPT, side=Side.SENDER)
    assert err.value.code == "side"
    with pytest.raises(TransitionError) as err:
        move(Status.SENT, Action.WITHDRAW, side=Side.RECEIVER)
    assert err.value.code == "side"
    assert move(Status.ACCEPTED, Action.ENTERED_IN_ERROR, side=Side.RECEIVER).after == (
        Status.ENTERED_IN_ERROR
    )


def test_reasons_are_required_known_and_other_needs_a_note():
    with pytest.raises(TransitionError) as err:
        move(Status.SENT, Action.DECLINE, side=Side.RECEIVER)
    assert err.value.code == "reason"
    with pytest.raises(TransitionError) as err:
        move(Status.SENT, Action.DECLINE, side=Side.RECEIVER, reason_code="no_show")
    assert err.value.code == "reason_unknown"
    with pytest.raises(TransitionError) as err:
        move(Status.SENT, Action.DECLINE, side=Side.RECEIVER, reason_code="other")
    assert err.value.code == "note"
    done = move(
        Status.RECEIVED, Action.DECLINE, side=Side.RECEIVER, reason_code="other", note="moved"
    )
    assert done.after == Status.DECLINED


def test_on_hold_remembers_where_it_was_and_allows_what_was_allowed_there():
    # given a received referral put on the waitlist
    held = move(Status.RECEIVED, Action.HOLD, side=Side.RECEIVER, reason_code="waitlist")
    assert (held.after, held.held_from) == (Status.ON_HOLD, Status.RECEIVED)
    # then a place opens: it can be accepted straight from the waitlist
    accepted = move(Status.ON_HOLD, Action.ACCEPT, side=Side.RECEIVER, held_from=held.held_from)
    assert (accepted.after, accepted.held_from) == (Status.ACCEPTED, None)
    # or resumed where it was; but never started (it was not accepted when held)
    resumed = move(Status.ON_HOLD, Action.RESUME, side=Side.RECEIVER, held_from=Status.RECEIVED)
    assert resumed.after == Status.RECEIVED
    with pytest.raises(TransitionError):
        move(Status.ON_HOLD, Action.START, side=Side.RECEIVER, held_from=Status.RECEIVED)
    # held after acceptance: it can be completed or cancelled, not declined
    assert actions_for(Status.ON_HOLD, Side.RECEIVER, held_from=Status.IN_PROGRESS) == [
        Action.COMPLETE,
        Action.UNSUCCESSFUL,
        Action.CANCEL,
        Action.RESUME,
        Action.ENTERED_IN_ERROR,
    ]


def test_what_each_side_can_do_when_a_referral_arrives():
    assert actions_for(Status.SENT, Side.RECEIVER) == [
        Action.RECEIVE,
        Action.ACCEPT,
        Action.DECLINE,
        Action.REDIRECT,
        Action.HOLD,
        Action.ENTERED_IN_ERROR,
    ]
    assert actions_for(Status.SENT, Side.SENDER) == [Action.WITHDRAW, Action.ENTERED_IN_ERROR]
    assert actions_for(Status.DRAFT, Side.SENDER) == [
        Action.SEND,
        Action.DISCARD,
        Action.ENTERED_IN_ERROR,
    ]
    assert actions_for(Status.COMPLETED, Side.RECEIVER) == [Action.ENTERED_IN_ERROR]


def test_the_first_answer_acknowledges():
    assert acknowledged(Status.SENT, Status.RECEIVED)
    assert acknowledged(Status.SENT, Status.DECLINED)
    assert not acknowledged(Status.DRAFT, Status.SENT)
    assert not acknowledged(Status.RECEIVED, Status.ACCEPTED)


# --- business days --------------------------------------------------------------------------


def test_easter_and_ontario_holidays_2025():
    assert business.easter(2025) == date(2025, 4, 20)
    assert business.easter(2026) == date(2026, 4, 5)
    assert sorted(business.holidays(2025, "ON")) == [
        date(2025, 1, 1),
        date(2025, 2, 17),  # Family Day
        date(2025, 4, 18),  # Good Friday
        date(2025, 5, 19),  # Victoria Day
        date(2025, 7, 1),
        date(2025, 9, 1),  # Labour Day
        date(2025, 10, 13),  # Thanksgiving
        date(2025, 12, 25),
        date(2025, 12, 26),
    ]


def test_quebec_has_st_jean_and_no_family_day_or_boxing_day():
    days = business.holidays(2026, "QC")
    assert date(2026, 6, 24) in days
    assert date(2026, 5, 18) in days  # Journée nationale des patriotes
    assert date(2026, 2, 16) not in days
    assert date(2026, 12, 26) not in days


def test_a_weekend_holiday_is_observed_on_the_next_free_weekday():
    # Christmas 2027 is a Saturday and Boxing Day a Sunday: Monday and Tuesday are off
    days = business.holidays(2027, "ON")
    assert date(2027, 12, 27) in days and date(2027, 12, 28) in days
    # Canada Day 2023 was a Saturday: observed Monday 3 July
    assert date(2023, 7, 3) in business.holidays(2023, "BC")


def _local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TORONTO)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (_local(2026, 11, 16, 10, 0), _local(2026, 11, 18, 10, 0)),  # Monday -> Wednesday
        (_local(2026, 11, 20, 15, 0), _local(2026, 11, 24, 15, 0)),  # Friday -> Tuesday
        (_local(2026, 11, 21, 10, 0), _local(2026, 11, 25, 0, 0)),  # Saturday -> Wednesday 0:00
        # Thursday before Christmas (Friday) and Boxing Day (Saturday, observed Monday 28)
        (_local(2026, 12, 24, 9, 0), _local(2026, 12, 30, 9, 0)),
        (_local(2026, 10, 9, 12, 0), _local(2026, 10, 14, 12, 0)),  # over Thanksgiving Monday
    ],
)
def test_two_business_days_in_ontario(start, expected):
    due = business.add_business_days(
        start.astimezone(UTC), 2, zone="America/Toronto", province="ON"
    )
    assert due == expected


def test_business_days_follow_the_organization_time_zone_across_daylight_saving():
    # Friday 31 Oct 2025, 18:00 in Vancouver (DST ends Sunday): Tuesday 18:00 local time
    start = datetime(2025, 11, 1, 1, 0, tzinfo=UTC)
    due = business.add_business_days(start, 2, zone="America/Vancouver", province="BC")
    assert due.astimezone(ZoneInfo("America/Vancouver")) == datetime(
        2025, 11, 4, 18, 0, tzinfo=ZoneInfo("America/Vancouver")
    )
    assert business.zone_for("bc") == "America/Vancouver"
    assert business.zone_for("") == "America/Toronto"


# --- the service-gap report -----------------------------------------------------------------

T = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


def rows(kind: str, status: str, n: int, *, reason: str = "", area: str = "K7L", hours: int = 0):
    accepted = T + timedelta(hours=hours) if hours else None
    return [report.Row(kind, area, status, reason, T, accepted) for _ in range(n)]


def test_gap_report_counts_outcomes_times_and_unmet_need_by_area():
    # given 40 recovery and 30 housing referrals, none of the table's counts small
    data = (
        rows("recovery", "completed", 20, hours=10)
        + rows("recovery", "declined", 10, reason="no_capacity", area="K7L")
        + rows("recovery", "declined", 2, reason="no_capacity", area="K7K")
        + rows("recovery", "accepted", 8, hours=30)
        + rows("housing", "completed", 15, hours=4)
        + rows("housing", "declined", 9, reason="no_capacity", area="K7K")
        + rows("housing", "accepted", 6, hours=50)
        + rows("recovery", "entered_in_error", 4)  # never counted
        + rows("recovery", "draft", 2)
    )
    # when
    built = report.build(data)
    # then
    housing, recovery = built.lines
    assert (housing.service_type, str(housing.total)) == ("housing", "30")
    assert [str(c) for c in housing.cells] == ["15", "9", "0", "6", "0"]
    assert [str(c) for c in recovery.cells] == ["20", "12", "0", "8", "0"]
    assert (str(built.total), [str(c) for c in built.column_totals]) == (
        "70",
        ["35", "21", "0", "14", "0"],
    )
    assert recovery.completion == pytest.approx(20 / 32)  # of those with an outcome
    assert (housing.accept_hours, recovery.accept_hours, built.accept_hours) == (4.0, 10.0, 10.0)
    # unmet need by area: recovery's 2 in K7K is hidden, and so is K7L (12 - 10 would tell)
    assert [(u.service_type, str(u.total), [(a, str(c)) for a, c in u.areas])
            for u in built.unmet] == [
        ("housing", "9", [("K7K", "9")]),
        ("recovery", "12", [("K7L", "x"), ("K7K", "<5")]),
    ]  # fmt: skip


def test_small_counts_are_hidden_across_the_whole_table_and_shares_withheld():
    # given 30 recovery referrals with two small cells, and 3 housing referrals
    data = (
        rows("recovery", "completed", 12, hours=10)
        + rows("recovery", "declined", 6, reason="no_capacity")
        + rows("recovery", "declined", 2, reason="not_eligible")
        + rows("recovery", "accepted", 7, hours=30)
        + rows("recovery", "unsuccessful", 3, hours=5)
        + rows("housing", "declined", 3, reason="no_capacity", area="K7K")
    )
    # when
    built = report.build(data)
    # then: housing is small everywhere; recovery's no-capacity count is hidden because the
    # column total (9) minus it would give housing's 3, and recovery's total because the grand
    # total (33) minus it would give housing's total
    housing, recovery = built.lines
    assert ([str(c) for c in housing.cells], str(housing.total)) == (
        ["0", "<5", "0", "0", "0"],
        "<5",
    )
    assert ([str(c) for c in recovery.cells], str(recovery.total)) == (
        ["12", "x", "<5", "7", "<5"],
        "x",
    )
    assert (str(built.total), [str(c) for c in built.column_totals]) == (
        "33",
        ["12", "9", "<5", "7", "<5"],
    )
    # a share of a row with hidden counts could help work them out: withheld
    assert (recovery.completion, built.completion) == (None, None)
    assert recovery.accept_hours == 10.0 and housing.accept_hours is None
    assert built.unmet == []  # no shown no-capacity count to break down


def test_an_empty_period_gives_an_empty_report():
    built = report.build([])
    assert built.lines == [] and str(built.total) == "0" and built.unmet == []


def test_business_days_between_agrees_with_adding_them():
    start = _local(2026, 12, 23, 16, 30)
    for days in range(0, 15):
        due = business.add_business_days(start, days, zone="America/Toronto", province="ON")
        assert (
            business.business_days_between(start, due, zone="America/Toronto", province="ON")
            == days
        )
        just_before = due - timedelta(seconds=1)
        expected = max(days - 1, 0)
        assert (
            business.business_days_between(
                start, just_before, zone="America/Toronto", province="ON"
            )
            == expected
        )


def test_a_quarter_and_its_months_are_suppressed_together_and_stored_as_strings():
    # given a quarter whose first month has 2 completed referrals and its second month 10
    july, august, september = (datetime(2026, m, 1, tzinfo=UTC) for m in (7, 8, 9))
    parts = [
        report.Part("p1", july, august),
        report.Part("p2", august, september),
        report.Part("p3", september, datetime(2026, 10, 1, tzinfo=UTC)),
    ]
    data = [report.Row("recovery", "K7K", "completed", "", july, None) for _ in range(2)] + [
        report.Row("recovery", "K7K", "completed", "", august, None) for _ in range(10)
    ]
    # when
    built = report.build_release(data, parts)
    # then July's 2 is "<5", and August's 10 "x": the quarter's 12 minus it would tell
    completed = {k: str(r.lines[0].cell("completed")) for k, r in built.items()}
    assert completed == {"all": "12", "p1": "<5", "p2": "x", "p3": "0"}
    # and what a release stores reads back the same
    stored = report.to_data(built["p2"])
    assert stored["lines"][0]["cells"] == ["x", "0", "0", "0", "0"]
    assert report.from_data(stored) == built["p2"]
