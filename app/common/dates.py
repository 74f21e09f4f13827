"""Calendar arithmetic shared by every package, and the one source of legal dates.

R2 and every other rule that counts calendar days judge the date in Germany (Europe/Berlin), never
the UTC date of a timestamp: a submission at 16.10. 00:30 in Dresden is 15.10. 22:30 UTC and late.
Use ``legal_date`` for any date that has legal effect (window, 42-day rule, deadlines, budget year).
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from app.common.db import BERLIN, as_utc, today


def add_months(day: date, months: int) -> date:
    """Calendar months later, clamped to the month's last day (31.01. + 1 → 28./29.02.)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def legal_date(moment: datetime | None = None) -> date:
    """R2: the calendar date in Europe/Berlin of ``moment`` (aware, or naive UTC as SQLite returns
    it); today's date in Berlin when ``moment`` is None."""
    aware = as_utc(moment)
    if aware is None:
        return today()
    return aware.astimezone(BERLIN).date()


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
