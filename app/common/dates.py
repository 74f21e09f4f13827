"""Calendar arithmetic shared by every package."""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """Calendar months later, clamped to the month's last day (31.01. + 1 → 28./29.02.)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def last_day_of_period(start: date, months: int) -> date:
    """The last day of a period of ``months`` calendar months beginning on ``start`` (the start
    day counts, § 187 (2), § 188 (2) BGB): the day before the corresponding day, or the month's
    last day if that month has no corresponding day (§ 188 (3) BGB: 29.02.2028 + 1 year ends on
    28.02.2029)."""
    corresponding = add_months(start, months)
    if corresponding.day != start.day:  # clamped: no corresponding day in that month
        return corresponding
    return corresponding - timedelta(days=1)


def runs_longer_than(start: date, end: date, months: int) -> bool:
    """A period from ``start`` to ``end`` (both days included) runs longer than ``months``
    calendar months — counted in the calendar, not as 365 days (01.01.2027–01.01.2028 is more
    than a year, the leap year 01.01.–31.12.2028 is exactly one)."""
    return end > last_day_of_period(start, months)
