"""Stock arithmetic without a database: first expiring first out, low stock, order size."""

from __future__ import annotations

from datetime import date

from harbour.outreach import inventory
from harbour.outreach.inventory import Lot

TODAY = date(2026, 11, 20)


def test_allocate_takes_the_lot_that_expires_first_then_the_next():
    # given two lots, the later one listed first, and one without a date
    lots = [
        Lot("late", "L2", date(2027, 6, 1), 5),
        Lot("soon", "L1", date(2026, 12, 1), 2),
        Lot("undated", "", None, 10),
    ]
    # when 4 are given
    taken = inventory.allocate(lots, 4)
    # then the soon lot empties first, the rest comes from the later one, undated last
    assert taken == [("soon", 2), ("late", 2)]
    assert inventory.allocate(lots, 17) == [("soon", 2), ("late", 5), ("undated", 10)]


def test_allocate_refuses_more_than_there_is():
    lots = [Lot("a", "A", date(2027, 1, 1), 2), Lot("b", "B", None, 0)]
    assert inventory.allocate(lots, 3) is None
    assert inventory.allocate([], 1) is None
    assert inventory.allocate(lots, 0) == []


def test_order_suggestion_covers_the_weeks_at_recent_pace_less_stock_in_date():
    # given 40 used in 4 weeks (10 a week), a 4-week cover, 12 on hand of which 5 expire
    # before the cover period ends
    lots = [Lot(1, "A", date(2026, 12, 1), 5), Lot(2, "B", date(2027, 6, 1), 7)]
    # when
    suggested = inventory.order_suggestion(used_in_window=40, lots=lots, today=TODAY, cover_weeks=4)
    # then 40 needed, 7 still usable: order 33
    assert suggested == 33
    assert inventory.order_suggestion(used_in_window=0, lots=lots, today=TODAY, cover_weeks=4) == 0
    assert inventory.order_suggestion(used_in_window=6, lots=lots, today=TODAY, cover_weeks=2) == 0
    # 6 in 4 weeks over 3 weeks: 4.5 -> 5, nothing in date: 5
    assert inventory.order_suggestion(used_in_window=6, lots=[], today=TODAY, cover_weeks=3) == 5


def test_low_stock_is_less_than_the_chosen_weeks_of_use_or_none_left():
    assert inventory.is_low(on_hand=9, used_in_window=40, low_weeks=1) is True
    assert inventory.is_low(on_hand=10, used_in_window=40, low_weeks=1) is False
    assert inventory.is_low(on_hand=19, used_in_window=40, low_weeks=2) is True
    assert inventory.is_low(on_hand=0, used_in_window=1, low_weeks=1) is True
    assert inventory.is_low(on_hand=0, used_in_window=0, low_weeks=1) is False
    assert inventory.weeks_left(on_hand=25, used_in_window=40) == 2.5
    assert inventory.weeks_left(on_hand=25, used_in_window=0) is None
