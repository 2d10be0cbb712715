"""Business days for referral reminders: Monday to Friday in the receiving organization's time
zone, without the statutory (general) holidays of its province or territory. Pure Python.

Holidays are computed from their rules (fixed dates, "the third Monday of February", Easter),
moved to the next weekday when they fall on a weekend (as employers observe them), from the
general holidays in each province's employment standards as Harbour knows them in 2025–2026.
Quebec's Easter holiday is Good Friday (employers may choose Easter Monday instead). Optional
or civic holidays that are not statutory (Ontario's Civic Holiday, Alberta's Heritage Day) are
not included. Outside Canada, or without a province, only the national holidays count.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

PROVINCE_ZONES = {
    "BC": "America/Vancouver",
    "AB": "America/Edmonton",
    "SK": "America/Regina",
    "MB": "America/Winnipeg",
    "ON": "America/Toronto",
    "QC": "America/Toronto",
    "NB": "America/Moncton",
    "NS": "America/Halifax",
    "PE": "America/Halifax",
    "NL": "America/St_Johns",
    "YT": "America/Whitehorse",
    "NT": "America/Edmonton",
    "NU": "America/Iqaluit",
}

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def zone_for(province: str, default: str = "America/Toronto") -> str:
    return PROVINCE_ZONES.get((province or "").upper(), default)


def easter(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm, "Meeus/Jones/Butcher")."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def monday_before_may_25(year: int) -> date:
    """Victoria Day (and Quebec's National Patriots' Day)."""
    day = date(year, 5, 24)
    return day - timedelta(days=day.weekday())


# Holidays by rule; each name maps to a function of the year.
RULES = {
    "new_year": lambda y: date(y, 1, 1),
    "family_day": lambda y: nth_weekday(y, 2, MON, 3),  # also Louis Riel, Heritage, Islander Day
    "good_friday": lambda y: easter(y) - timedelta(days=2),
    "victoria_day": monday_before_may_25,
    "indigenous_peoples_day": lambda y: date(y, 6, 21),
    "st_jean_baptiste": lambda y: date(y, 6, 24),
    "canada_day": lambda y: date(y, 7, 1),
    "nunavut_day": lambda y: date(y, 7, 9),
    "august_civic": lambda y: nth_weekday(y, 8, MON, 1),  # BC Day, Saskatchewan Day, NB Day...
    "discovery_day": lambda y: nth_weekday(y, 8, MON, 3),
    "labour_day": lambda y: nth_weekday(y, 9, MON, 1),
    "truth_reconciliation": lambda y: date(y, 9, 30),
    "thanksgiving": lambda y: nth_weekday(y, 10, MON, 2),
    "remembrance_day": lambda y: date(y, 11, 11),
    "christmas": lambda y: date(y, 12, 25),
    "boxing_day": lambda y: date(y, 12, 26),
}

NATIONAL = ("new_year", "good_friday", "canada_day", "labour_day", "christmas")
PROVINCIAL: dict[str, tuple[str, ...]] = {
    "ON": ("family_day", "victoria_day", "thanksgiving", "boxing_day"),
    "QC": ("victoria_day", "st_jean_baptiste", "thanksgiving"),
    "BC": ("family_day", "victoria_day", "august_civic", "truth_reconciliation",
           "thanksgiving", "remembrance_day"),
    "AB": ("family_day", "victoria_day", "thanksgiving", "remembrance_day"),
    "SK": ("family_day", "victoria_day", "august_civic", "thanksgiving", "remembrance_day"),
    "MB": ("family_day", "victoria_day", "truth_reconciliation", "thanksgiving",
           "remembrance_day"),
    "NB": ("family_day", "august_civic", "remembrance_day"),
    "NS": ("family_day",),
    "PE": ("family_day", "truth_reconciliation", "remembrance_day"),
    "NL": ("remembrance_day",),
    "YT": ("victoria_day", "indigenous_peoples_day", "discovery_day", "truth_reconciliation",
           "thanksgiving", "remembrance_day"),
    "NT": ("victoria_day", "indigenous_peoples_day", "august_civic", "truth_reconciliation",
           "thanksgiving", "remembrance_day"),
    "NU": ("victoria_day", "nunavut_day", "august_civic", "truth_reconciliation",
           "thanksgiving", "remembrance_day"),
}  # fmt: skip
# holidays that only exist from a given year
SINCE = {"truth_reconciliation": 2021, "family_day": 2008}


@cache
def holidays(year: int, province: str = "") -> frozenset[date]:
    """The days off for holidays in ``year``: each on its date, or on the next weekday that is
    not already a holiday when it falls on a weekend."""
    names = NATIONAL + PROVINCIAL.get((province or "").upper(), ())
    days = sorted(RULES[name](year) for name in names if year >= SINCE.get(name, 0))
    observed: set[date] = set()
    for day in days:
        while day.weekday() >= SAT or day in observed:
            day += timedelta(days=1)
        observed.add(day)
    return frozenset(observed)


def is_business_day(day: date, province: str = "") -> bool:
    return day.weekday() < SAT and day not in holidays(day.year, province)


def add_business_days(start: datetime, days: int, *, zone: str, province: str = "") -> datetime:
    """The moment ``days`` whole business days after ``start`` (aware), counting only time on
    business days in ``zone``: sent Friday 15:00, two business days later is Tuesday 15:00;
    sent on Saturday, the count starts Monday at midnight (so Wednesday 00:00)."""
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    tz = ZoneInfo(zone)
    local = start.astimezone(tz)
    day = local.date()
    if is_business_day(day, province):
        offset = local - datetime.combine(day, time(0), tz)
    else:
        offset = timedelta(0)
        while not is_business_day(day, province):
            day += timedelta(days=1)
    remaining = days
    while remaining:
        day += timedelta(days=1)
        if is_business_day(day, province):
            remaining -= 1
    # the same wall-clock time (DST-safe: built in local time, then converted)
    return (datetime.combine(day, time(0), tz) + offset).astimezone(start.tzinfo)


def business_days_between(
    start: datetime, end: datetime, *, zone: str, province: str = "", limit: int | None = None
) -> int:
    """Whole business days from ``start`` to ``end``: the largest ``n`` with
    ``add_business_days(start, n) <= end`` (for "waiting 3 business days"), in one pass;
    counting stops at ``limit``."""
    if end <= start:
        return 0
    tz = ZoneInfo(zone)
    local = start.astimezone(tz)
    day = local.date()
    if is_business_day(day, province):
        offset = local - datetime.combine(day, time(0), tz)
    else:
        offset = timedelta(0)
        while not is_business_day(day, province):
            day += timedelta(days=1)
    last = end.astimezone(tz).date()
    count = 0
    while day < last:
        day += timedelta(days=1)
        if not is_business_day(day, province):
            continue
        if day == last and datetime.combine(day, time(0), tz) + offset > end:
            break
        count += 1
        if limit is not None and count >= limit:
            break
    return count
