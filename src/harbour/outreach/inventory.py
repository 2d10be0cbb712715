"""Stock arithmetic, without Django: which lots a distribution takes (first to expire, first
out), when stock is low, and how much to order.

The order suggestion (documented for coordinators on the stock page and in
docs/architecture.md)::

    weekly use   = given out in the last 4 weeks / 4
    needed       = ceil(weekly use x cover weeks)
    usable stock = what is on hand, less lots that expire before the cover period ends
    suggestion   = max(0, needed - usable stock)

Stock is *low* when what is on hand covers less than ``low_weeks`` weeks of that use (and
something was used), or when nothing is left of a supply given out in the last 4 weeks.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

USE_WINDOW_DAYS = 28


@dataclass(frozen=True)
class Lot:
    key: Hashable
    lot: str
    expires_on: date | None
    quantity: int


def fefo(lots: Sequence[Lot]) -> list[Lot]:
    """First expiring first; lots without a date after dated ones; then by lot number."""
    return sorted(lots, key=lambda x: (x.expires_on is None, x.expires_on or date.max, x.lot))


def allocate(lots: Sequence[Lot], quantity: int) -> list[tuple[Hashable, int]] | None:
    """Take ``quantity`` from ``lots`` first-expiring-first; None when there is not enough."""
    if quantity <= 0:
        return []
    taken: list[tuple[Hashable, int]] = []
    left = quantity
    for lot in fefo([x for x in lots if x.quantity > 0]):
        take = min(lot.quantity, left)
        taken.append((lot.key, take))
        left -= take
        if left == 0:
            return taken
    return None


def weekly_use(used_in_window: int) -> float:
    return used_in_window * 7 / USE_WINDOW_DAYS


def usable(lots: Sequence[Lot], *, until: date) -> int:
    """Units still in date on ``until`` (undated lots always count)."""
    return sum(x.quantity for x in lots if x.expires_on is None or x.expires_on > until)


def order_suggestion(
    *, used_in_window: int, lots: Sequence[Lot], today: date, cover_weeks: int
) -> int:
    needed = math.ceil(round(weekly_use(used_in_window) * cover_weeks, 9))
    in_date = usable(lots, until=today + timedelta(weeks=cover_weeks))
    return max(0, needed - in_date)


def is_low(*, on_hand: int, used_in_window: int, low_weeks: int) -> bool:
    if used_in_window <= 0:
        return False
    if on_hand <= 0:
        return True
    return on_hand < weekly_use(used_in_window) * low_weeks


def weeks_left(*, on_hand: int, used_in_window: int) -> float | None:
    """How many weeks the stock lasts at the recent pace (None when nothing was used)."""
    if used_in_window <= 0:
        return None
    return on_hand / weekly_use(used_in_window)
