"""Recovery interest (§ 49a (3) VwVfG, R27), interest and recovery thresholds (R28, VVK 8.7/8.8)
and the small-amount rules of the VwV-SäHO Anlage „Kleinbeträge“ (KLB).

Pure functions, no database: the caller passes the Basiszinssatz table as ``Rate`` values (see
``app.finance.base_rates.load_rates``). Money is integer cents; rates are basis points
(``-88`` = −0,88 %). Every intermediate value is an exact ``fractions.Fraction``.

Interest (R27)::

    interest = Σ_p round_half_up(principal × (Basiszinssatz_p + 500 bp) × days_p / year_days_p)

Conventions (all [K – confirm with finance], see docs/interest.md):

* **Period**: ``start`` is the day the Bescheid lost effect and bears interest (inclusive);
  ``end`` is the payment day and is *exclusive* — interest runs for the days ``start ≤ d < end``,
  i.e. ``(end - start).days`` days. To include the payment day as well (as Zins-A 2.3 to § 34
  SäHO does for other claims), pass ``end = payment day + 1 day``.
* **Half-years**: the Basiszinssatz changes on 1 January and 1 July (§ 247 (1) BGB); the span is
  split at every such date and each half-year needs its own row in the table (the Bundesbank
  publishes a value every half-year, unchanged or not). A missing half-year is a gap: the
  calculation refuses rather than silently carrying an old rate forward.
* **Day count** (``day_count``): ``"act/act"`` (default) — actual days over 365 or 366 days of
  the period's calendar year (a half-year never crosses a year end); ``"act/365"`` — actual days
  over 365; ``"30/360"`` — German 30E/360 (every month 30 days, year 360 days; the 31st bears
  no interest of its own, so paying on the 30th or 31st costs the same).
* **Rounding**: each period exactly, then half-up to whole cents once per period; the total is
  the sum of the rounded periods.
* **No negative interest**: a period whose total rate (base + 5 pp) is below zero bears 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from fractions import Fraction

from app.common.dates import add_months
from app.common.money import format_eur
from app.common.programme import (  # noqa: F401 - re-exported for callers and tests
    DAY_COUNTS,
    DEFAULT_DAY_COUNT,
    DUNNING_MIN_CENTS,
    DUNNING_MIN_CENTS_PUBLIC_BODY,
    ENFORCEMENT_MIN_CENTS,
    INTEREST_MIN_CHARGE_CENTS,
    PAYOUT_ON_REQUEST_BELOW_CENTS,
    RECOVERY_BAND_UPPER_BOUND_INCLUSIVE,
    RECOVERY_BANDS,
    RECOVERY_LIMIT_ABOVE_BANDS_CENTS,
    SMALL_PRINCIPAL_BELOW_CENTS,
    SMALL_PRINCIPAL_MAX_OVERDUE_DAYS,
    SMALL_PRINCIPAL_MAX_OVERDUE_MONTHS,
    SURCHARGE_BP,
    DayCount,
)

__all__ = [
    "DAY_COUNTS",
    "DEFAULT_DAY_COUNT",
    "DUNNING_MIN_CENTS",
    "DUNNING_MIN_CENTS_PUBLIC_BODY",
    "ENFORCEMENT_MIN_CENTS",
    "INTEREST_MIN_CHARGE_CENTS",
    "PAYOUT_ON_REQUEST_BELOW_CENTS",
    "RECOVERY_BANDS",
    "RECOVERY_BAND_UPPER_BOUND_INCLUSIVE",
    "RECOVERY_LIMIT_ABOVE_BANDS_CENTS",
    "SMALL_PRINCIPAL_BELOW_CENTS",
    "SMALL_PRINCIPAL_MAX_OVERDUE_DAYS",
    "SMALL_PRINCIPAL_MAX_OVERDUE_MONTHS",
    "SURCHARGE_BP",
    "DayCount",
    "InterestError",
    "InterestPeriod",
    "InterestResult",
    "Rate",
    "apply_thresholds",
    "assess_total",
    "compute_interest",
    "dunning_step_waived",
    "dunning_waived",
    "enforcement_waived",
    "format_rate_bp",
    "is_half_year_start",
    "overdue_more_than_months",
    "payout_only_on_request",
    "recovery_limit_cents",
    "recovery_waived",
]


class InterestError(ValueError):
    """The interest cannot be calculated; ``str(exc)`` is a German message for the user."""


@dataclass(frozen=True, slots=True)
class Rate:
    """One Basiszinssatz: valid for the half-year starting ``valid_from`` (1 Jan or 1 Jul)."""

    valid_from: date
    rate_bp: int


@dataclass(frozen=True, slots=True)
class InterestPeriod:
    """One piece of the calculation. ``start`` and ``end`` are both *inclusive* (the first and the
    last day bearing interest); ``days``/``year_days`` are the day-count fraction used."""

    start: date
    end: date
    days: int
    base_rate_bp: int
    rate_bp: int  # base + SURCHARGE_BP; may be negative, then the interest is 0
    interest_cents: int
    year_days: int


@dataclass(frozen=True, slots=True)
class InterestResult:
    """Interest calculated (``total_cents``) and whether it is charged, with a German reason."""

    total_cents: int
    periods: tuple[InterestPeriod, ...]
    charged: bool
    reason: str

    @property
    def charged_cents(self) -> int:
        """The interest to claim: ``total_cents`` if charged, else 0."""
        return self.total_cents if self.charged else 0


# --- helpers ---------------------------------------------------------------------------------


def _de(d: date) -> str:
    return d.strftime("%d.%m.%Y")


def format_rate_bp(rate_bp: int) -> str:
    """Basis points as a German percentage without sign: ``-88`` → ``"-0,88"``, ``127`` →
    ``"1,27"``."""
    sign = "-" if rate_bp < 0 else ""
    whole, frac = divmod(abs(rate_bp), 100)
    return f"{sign}{whole},{frac:02d}"


def is_half_year_start(d: date) -> bool:
    """True for 1 January and 1 July — the only days the Basiszinssatz changes (§ 247 BGB)."""
    return d.day == 1 and d.month in (1, 7)


def _half_year_start(d: date) -> date:
    return date(d.year, 1 if d.month <= 6 else 7, 1)


def _next_half_year(half_year_start: date) -> date:
    if half_year_start.month == 1:
        return date(half_year_start.year, 7, 1)
    return date(half_year_start.year + 1, 1, 1)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _serial_30e_360(d: date) -> int:
    """A day number on the 30E/360 calendar (every month 30 days, a year 360 days).

    The 31st bears no interest of its own: it gets the number of the 1st of the next month, so an
    exclusive end on the 31st (payment on the 30th, counted up to and including that day) keeps
    the 30th (R27, F12), and a payment on the 30th or on the 31st costs the same."""
    return 360 * d.year + 30 * (d.month - 1) + min(d.day, 31)


def _days_30e_360(start: date, end: date) -> int:
    """German 30E/360 days from ``start`` (inclusive) to ``end`` (exclusive): differences of
    ``_serial_30e_360``, hence additive when a span is split (half-years, partial payments)."""
    return _serial_30e_360(end) - _serial_30e_360(start)


def _day_fraction(start: date, end: date, day_count: DayCount) -> tuple[int, int]:
    """(days, year_days) for ``start ≤ d < end``; both dates inside one half-year (+ its end)."""
    if day_count == "30/360":
        return _days_30e_360(start, end), 360
    days = (end - start).days
    if day_count == "act/365":
        return days, 365
    return days, 366 if _is_leap(start.year) else 365


def _round_half_up(value: Fraction) -> int:
    """Half-up to an integer for ``value ≥ 0`` (exact, no float)."""
    return (2 * value.numerator + value.denominator) // (2 * value.denominator)


def _rate_table(rates: Sequence[Rate]) -> dict[date, int]:
    table: dict[date, int] = {}
    for rate in rates:
        if not is_half_year_start(rate.valid_from):
            raise InterestError(
                f"Der Basiszinssatz ab {_de(rate.valid_from)} beginnt nicht am 01.01. oder "
                "01.07. eines Jahres."
            )
        known = table.get(rate.valid_from)
        if known is not None and known != rate.rate_bp:
            raise InterestError(
                f"Für das Halbjahr ab {_de(rate.valid_from)} sind zwei verschiedene "
                "Basiszinssätze angegeben."
            )
        table[rate.valid_from] = rate.rate_bp
    return table


def assess_total(total_cents: int, periods: tuple[InterestPeriod, ...] = ()) -> InterestResult:
    """R28 / VVK 8.8: charge only if the total interest exceeds 250 € (also for a total summed
    over several calculations, e.g. the segments between partial payments)."""
    if total_cents == 0:
        return InterestResult(0, periods, False, "Es sind keine Zinsen angefallen.")
    if total_cents <= INTEREST_MIN_CHARGE_CENTS:
        return InterestResult(
            total_cents,
            periods,
            False,
            f"Zinsen von {format_eur(total_cents)} werden nicht erhoben: Der Gesamtzinsanspruch "
            f"übersteigt {format_eur(INTEREST_MIN_CHARGE_CENTS)} nicht (VVK 8.8).",
        )
    return InterestResult(
        total_cents,
        periods,
        True,
        f"Zinsen von {format_eur(total_cents)} werden erhoben: Der Gesamtzinsanspruch übersteigt "
        f"{format_eur(INTEREST_MIN_CHARGE_CENTS)} (VVK 8.8).",
    )


# --- interest (R27, R28) ---------------------------------------------------------------------


def compute_interest(
    principal_cents: int,
    start: date,
    end: date,
    rates: Sequence[Rate],
    *,
    day_count: DayCount = DEFAULT_DAY_COUNT,
) -> InterestResult:
    """Interest under § 49a (3) VwVfG on ``principal_cents`` for the days ``start ≤ d < end``.

    ``start`` is the day the Bescheid lost effect (inclusive), ``end`` the payment day
    (exclusive). The span is split at every 1 January / 1 July; each half-year takes its own
    Basiszinssatz from ``rates`` plus 5 percentage points. ``charged``/``reason`` apply VVK 8.8
    (more than 250 €); ``apply_thresholds`` adds the Kleinbeträge rule.

    :raises InterestError: principal ≤ 0, ``start`` after ``end``, an unknown day count, a rate not
        starting on 1 January/1 July, or a half-year without a rate.
    """
    if principal_cents <= 0:
        raise InterestError("Der zu verzinsende Betrag muss größer als 0 € sein.")
    if start > end:
        raise InterestError(
            f"Der Zinsbeginn ({_de(start)}) liegt nach dem Zahlungstag ({_de(end)})."
        )
    if day_count not in DAY_COUNTS:
        raise InterestError(f"Unbekannte Zinstagezählung: {day_count}.")
    table = _rate_table(rates)
    periods: list[InterestPeriod] = []
    cursor = start
    while cursor < end:
        half_year = _half_year_start(cursor)
        stop = min(_next_half_year(half_year), end)
        base_bp = table.get(half_year)
        if base_bp is None:
            raise InterestError(
                f"Für das Halbjahr ab {_de(half_year)} ist kein Basiszinssatz hinterlegt. "
                "Bitte ergänzen Sie ihn unter Stammdaten (§ 247 BGB)."
            )
        rate_bp = base_bp + SURCHARGE_BP
        days, year_days = _day_fraction(cursor, stop, day_count)
        exact = Fraction(principal_cents * max(rate_bp, 0) * days, 10_000 * year_days)
        periods.append(
            InterestPeriod(
                start=cursor,
                end=stop - timedelta(days=1),
                days=days,
                base_rate_bp=base_bp,
                rate_bp=rate_bp,
                interest_cents=_round_half_up(exact),
                year_days=year_days,
            )
        )
        cursor = stop
    result = tuple(periods)
    return assess_total(sum(p.interest_cents for p in result), result)


def overdue_more_than_months(due_on: date, paid_on: date, months: int) -> bool:
    """True if ``paid_on`` lies more than ``months`` calendar months after ``due_on``."""
    return paid_on > add_months(due_on, months)


def apply_thresholds(
    result: InterestResult,
    *,
    principal_cents: int,
    principal_overdue_days: int | None = None,
    due_on: date | None = None,
    paid_on: date | None = None,
) -> InterestResult:
    """VVK 8.8 (already in ``result``) plus KLB 5: no interest if the principal is below 50 € and
    not more than six months overdue.

    Give the overdue time either as calendar dates (``due_on``, ``paid_on``: six calendar months,
    preferred) or as ``principal_overdue_days`` (≤ ``SMALL_PRINCIPAL_MAX_OVERDUE_DAYS``).
    ``total_cents`` is kept for the file; ``charged_cents`` is 0 when waived.
    """
    if principal_overdue_days is not None and due_on is None and paid_on is None:
        within = principal_overdue_days <= SMALL_PRINCIPAL_MAX_OVERDUE_DAYS
    elif principal_overdue_days is None and due_on is not None and paid_on is not None:
        within = not overdue_more_than_months(due_on, paid_on, SMALL_PRINCIPAL_MAX_OVERDUE_MONTHS)
    else:
        raise InterestError(
            "Bitte geben Sie die Überfälligkeit entweder in Tagen oder als Fälligkeits- und "
            "Zahlungsdatum an."
        )
    if result.total_cents > 0 and principal_cents < SMALL_PRINCIPAL_BELOW_CENTS and within:
        return replace(
            result,
            charged=False,
            reason=(
                f"Zinsen werden nicht berechnet: Die Hauptforderung von "
                f"{format_eur(principal_cents)} liegt unter "
                f"{format_eur(SMALL_PRINCIPAL_BELOW_CENTS)} und ist nicht länger als sechs "
                "Monate rückständig (Kleinbeträge Nr. 5)."
            ),
        )
    return result


# --- recovery thresholds (R28, VVK 8.7) -----------------------------------------------------


def recovery_limit_cents(grant_cents: int) -> int:
    """The VVK 8.7 no-recovery limit for a grant, in whole cents (rounded down — the comparison
    with an integer recovery amount is therefore exact). Upper band bounds are inclusive."""
    if grant_cents <= 0:
        raise InterestError("Die Zuwendung muss größer als 0 € sein.")
    for upper, percent_bp, cap in RECOVERY_BANDS:
        if grant_cents <= upper:
            limit = grant_cents * percent_bp // 10_000
            return limit if cap is None else min(limit, cap)
    return RECOVERY_LIMIT_ABOVE_BANDS_CENTS


def recovery_waived(grant_cents: int, recovery_cents: int) -> str | None:
    """VVK 8.7: a German reason if no recovery should be raised, else None.

    No recovery if the amount *equals or is below* (≤): 10 % of a grant up to and including
    5,000 €; 5 % (at most 500 €) for more than 5,000 € up to and including 20,000 €; 3 % (at most
    1,000 €) up to and including 50,000 €; 2 % (at most 1,500 €) up to and including 125,000 €;
    2,500 € above 125,000 € (``RECOVERY_BAND_UPPER_BOUND_INCLUSIVE``, RULES §13.11).

    VVK 8.7 covers only the cases of VVK 8.2.1 and 8.2.3–8.2.4 (and also waives when no statutory
    funding rate is exceeded); deciding whether the case qualifies is the caller's job.
    """
    if recovery_cents <= 0:
        raise InterestError("Der Rückforderungsbetrag muss größer als 0 € sein.")
    limit = recovery_limit_cents(grant_cents)
    if recovery_cents <= limit:
        return (
            f"Keine Rückforderung: {format_eur(recovery_cents)} liegen bei einer Zuwendung von "
            f"{format_eur(grant_cents)} nicht über der Bagatellgrenze von {format_eur(limit)} "
            "(VVK 8.7)."
        )
    return None


# --- Kleinbeträge (KLB) --------------------------------------------------------------------


def payout_only_on_request(amount_cents: int) -> bool:
    """KLB 1.2/2.2: an amount below 5 € is paid out only if the recipient asks for it."""
    return 0 < amount_cents < PAYOUT_ON_REQUEST_BELOW_CENTS


def dunning_waived(arrears_cents: int, *, public_body: bool = True) -> bool:
    """KLB 2.1: no dunning for total arrears below 10 € — below 25 € when the debtor is a legal
    person under public law (KLB 2.1 S. 4, 1.1 S. 2), the default for this programme's recipients.
    The same limits apply to raising a claim at all (KLB 1.1)."""
    limit = DUNNING_MIN_CENTS_PUBLIC_BODY if public_body else DUNNING_MIN_CENTS
    return arrears_cents < limit


def enforcement_waived(arrears_cents: int) -> bool:
    """KLB 3.1: as a rule no enforcement (or Mahnbescheid) for total arrears below 25 €."""
    return arrears_cents < ENFORCEMENT_MIN_CENTS


def dunning_step_waived(level: int, arrears_cents: int) -> bool:
    """F15: the KLB limit for dunning step ``level`` (1 reminder, 2 second reminder, 3 handover
    to enforcement): reminders follow KLB 2.1 (public body), the handover KLB 3.1."""
    if level >= 3:
        return enforcement_waived(arrears_cents)
    return dunning_waived(arrears_cents)
