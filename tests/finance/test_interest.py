"""Recovery interest § 49a (3) VwVfG (R27), the VVK 8.8 / 8.7 thresholds (R28) and Kleinbeträge.

Pure calculations: the rate table comes from ``BASE_RATE_SEED`` (the values seeded into
``base_rate``), so these tests also pin the seeded Basiszinssätze. All figures below are checked by
hand in the comments; "x.5 → up" is half-up rounding to whole cents per period.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.finance.base_rates import BASE_RATE_SEED
from app.finance.interest import (
    DAY_COUNTS,
    InterestError,
    InterestPeriod,
    InterestResult,
    Rate,
    apply_thresholds,
    compute_interest,
    dunning_step_waived,
    dunning_waived,
    enforcement_waived,
    format_rate_bp,
    overdue_more_than_months,
    payout_only_on_request,
    recovery_limit_cents,
    recovery_waived,
)

RATES = [Rate(valid_from, rate_bp) for valid_from, rate_bp, _ in BASE_RATE_SEED]
FIRST, LAST_DAY = date(2019, 1, 1), date(2026, 12, 31)  # the seeded table covers 2019-H1 … 2026-H2


def _period(start: date, end: date, days: int, base: int, cents: int, year: int) -> InterestPeriod:
    return InterestPeriod(start, end, days, base, base + 500, cents, year)


# --- worked examples (R27) -------------------------------------------------------------------


def test_R27_worked_example_across_three_rate_changes_act_act():
    # 10,000.00 € (1,000,000 ct) from 15.05.2023 (inclusive) to 15.02.2024 (payment, exclusive):
    # P1 15.05.–30.06.2023: 17 + 30 = 47 days, 1.62 + 5 = 6.62 %, year 2023 = 365 days
    #    1,000,000 × 0.0662 × 47 / 365 = 31,114,000 / 3,650 = 8,524.38 ct → 85.24 €
    # P2 01.07.–31.12.2023: 31+31+30+31+30+31 = 184 days, 3.12 + 5 = 8.12 %, 365 days
    #    1,000,000 × 0.0812 × 184 / 365 = 149,408,000 / 3,650 = 40,933.70 ct → 409.34 €
    # P3 01.01.–14.02.2024: 31 + 14 = 45 days, 3.62 + 5 = 8.62 %, 2024 is a leap year: 366 days
    #    1,000,000 × 0.0862 × 45 / 366 = 38,790,000 / 3,660 = 10,598.36 ct → 105.98 €
    # total 85.24 + 409.34 + 105.98 = 600.56 € > 250 € → charged (VVK 8.8)
    result = compute_interest(1_000_000, date(2023, 5, 15), date(2024, 2, 15), RATES)
    assert result.periods == (
        _period(date(2023, 5, 15), date(2023, 6, 30), 47, 162, 8_524, 365),
        _period(date(2023, 7, 1), date(2023, 12, 31), 184, 312, 40_934, 365),
        _period(date(2024, 1, 1), date(2024, 2, 14), 45, 362, 10_598, 366),
    )
    assert result.total_cents == 60_056
    assert result.charged and result.charged_cents == 60_056
    assert "600,56" in result.reason and "VVK 8.8" in result.reason


def test_R27_worked_example_alternative_day_counts():
    # act/365: P1 and P2 as above (2023 has 365 days); P3 over 365 instead of 366:
    #    38,790,000 / 3,650 = 10,627.40 ct → 106.27 €; total 85.24 + 409.34 + 106.27 = 600.85 €
    act365 = compute_interest(
        1_000_000, date(2023, 5, 15), date(2024, 2, 15), RATES, day_count="act/365"
    )
    assert [p.interest_cents for p in act365.periods] == [8_524, 40_934, 10_627]
    assert act365.total_cents == 60_085
    # 30E/360: P1 15.05.→01.07. = 30 × 2 + (1 − 15) = 46 days: 1,000,000 × 0.0662 × 46 / 360
    #    = 30,452,000 / 3,600 = 8,458.89 ct → 84.59 €
    # P2 = 180 days: 1,000,000 × 0.0812 × 180 / 360 = 40,600.00 ct → 406.00 €
    # P3 01.01.→15.02. = 30 + 14 = 44 days: 1,000,000 × 0.0862 × 44 / 360 = 37,928,000 / 3,600
    #    = 10,535.56 ct → 105.36 €; total 84.59 + 406.00 + 105.36 = 595.95 €
    d30 = compute_interest(
        1_000_000, date(2023, 5, 15), date(2024, 2, 15), RATES, day_count="30/360"
    )
    assert [(p.days, p.year_days) for p in d30.periods] == [(46, 360), (180, 360), (44, 360)]
    assert [p.interest_cents for p in d30.periods] == [8_459, 40_600, 10_536]
    assert d30.total_cents == 59_595


def test_R27_30e_360_payment_on_the_30th_of_a_31_day_month_keeps_that_day():
    # The audit's case (F12): 9,000.00 € from 01.12.2022, paid on 30.05.2023, 30E/360 with the
    # payment day included (end = 31.05.2023, exclusive), as ``claims.interest_due`` calls it.
    # P1 01.12.–31.12.2022: 30 days at −0.88 + 5 = 4.12 %: 900,000 × 0.0412 × 30 / 360
    #    = 3,090.00 ct → 30.90 €
    # P2 01.01.–30.05.2023: January … April 4 × 30 + 30 May days = 150 days at 1.62 + 5 = 6.62 %:
    #    900,000 × 0.0662 × 150 / 360 = 24,825.00 ct → 248.25 €
    # total 30.90 + 248.25 = 279.15 € (the old count took 31.05. as the 30th and lost the 30th
    # of May: 149 days → 246.60 €, total 277.50 €).
    result = compute_interest(
        900_000, date(2022, 12, 1), date(2023, 5, 31), RATES, day_count="30/360"
    )
    assert [(p.days, p.interest_cents) for p in result.periods] == [(30, 3_090), (150, 24_825)]
    assert result.total_cents == 27_915
    # Paying on the 31st costs the same (a 30E/360 month has 30 days) …
    on_31st = compute_interest(
        900_000, date(2022, 12, 1), date(2023, 6, 1), RATES, day_count="30/360"
    )
    assert on_31st.total_cents == 27_915
    # … and paying on the 29th one day less: 149 days → 246.60 €, total 277.50 €.
    on_29th = compute_interest(
        900_000, date(2022, 12, 1), date(2023, 5, 30), RATES, day_count="30/360"
    )
    assert on_29th.total_cents == 27_750


def test_R27_negative_base_rate_years_2019_to_2022():
    # 50,000.00 € (5,000,000 ct) from 01.10.2020 to 01.04.2021; Basiszinssatz −0.88 % in both
    # half-years → −0.88 + 5 = 4.12 %.
    # P1 01.10.–31.12.2020: 31 + 30 + 31 = 92 days, 2020 leap year = 366 days
    #    5,000,000 × 0.0412 × 92 / 366 = 18,952,000 / 366 = 51,781.42 ct → 517.81 €
    # P2 01.01.–31.03.2021: 31 + 28 + 31 = 90 days, 365 days
    #    5,000,000 × 0.0412 × 90 / 365 = 18,540,000 / 365 = 50,794.52 ct → 507.95 €
    # total 517.81 + 507.95 = 1,025.76 €
    result = compute_interest(5_000_000, date(2020, 10, 1), date(2021, 4, 1), RATES)
    assert result.periods == (
        _period(date(2020, 10, 1), date(2020, 12, 31), 92, -88, 51_781, 366),
        _period(date(2021, 1, 1), date(2021, 3, 31), 90, -88, 50_795, 365),
    )
    assert all(p.rate_bp == 412 for p in result.periods)
    assert result.total_cents == 102_576 and result.charged


def test_R27_end_is_exclusive_and_a_single_day_bears_one_day_of_interest():
    # 36,500.00 € for one day (01.02.2025 → 02.02.2025) at 2.27 + 5 = 7.27 %:
    # 3,650,000 × 0.0727 / 365 = 727.00 ct
    result = compute_interest(3_650_000, date(2025, 2, 1), date(2025, 2, 2), RATES)
    assert [(p.start, p.end, p.days) for p in result.periods] == [
        (date(2025, 2, 1), date(2025, 2, 1), 1)
    ]
    assert result.total_cents == 727


def test_R27_zero_days_is_zero_even_without_rates():
    result = compute_interest(1_000_000, date(2010, 3, 1), date(2010, 3, 1), [])
    assert result == InterestResult(0, (), False, "Es sind keine Zinsen angefallen.")


def test_R27_negative_total_rate_bears_no_interest():
    # A base rate of −6.00 % would give −1.00 % in total: that half-year bears 0, not a credit.
    # 10,000.00 € from 01.06.2030 to 02.07.2030: June (30 days) at −6 + 5 = −1 % → 0;
    # 01.07.2030 (1 day) at 1 + 5 = 6 %: 1,000,000 × 0.06 × 1 / 365 = 164.38 ct → 1.64 €
    rates = [Rate(date(2030, 1, 1), -600), Rate(date(2030, 7, 1), 100)]
    result = compute_interest(1_000_000, date(2030, 6, 1), date(2030, 7, 2), rates)
    assert [(p.days, p.rate_bp, p.interest_cents) for p in result.periods] == [
        (30, -100, 0),
        (1, 600, 164),
    ]
    assert result.total_cents == 164


# --- refusals ---------------------------------------------------------------------------------


def test_R27_refuses_a_period_before_the_first_rate():
    with pytest.raises(InterestError, match=r"Halbjahr ab 01\.07\.2018 .*kein Basiszinssatz"):
        compute_interest(1_000_000, date(2018, 12, 1), date(2019, 2, 1), RATES)


def test_R27_refuses_a_gap_in_the_table():
    gap = [r for r in RATES if r.valid_from != date(2024, 1, 1)]
    with pytest.raises(InterestError, match=r"Halbjahr ab 01\.01\.2024"):
        compute_interest(1_000_000, date(2023, 12, 1), date(2024, 2, 1), gap)
    # the half-years on either side still work
    assert compute_interest(1_000_000, date(2023, 12, 1), date(2024, 1, 1), gap).total_cents > 0


def test_R27_refuses_a_period_after_the_last_rate():
    with pytest.raises(InterestError, match=r"Halbjahr ab 01\.01\.2027"):
        compute_interest(1_000_000, date(2026, 12, 1), date(2027, 1, 2), RATES)


def test_R27_refuses_start_after_end_and_non_positive_principal():
    with pytest.raises(InterestError, match="liegt nach dem Zahlungstag"):
        compute_interest(1_000_000, date(2024, 2, 2), date(2024, 2, 1), RATES)
    for principal in (0, -1):
        with pytest.raises(InterestError, match="größer als 0"):
            compute_interest(principal, date(2024, 1, 1), date(2024, 1, 1), RATES)


def test_R27_refuses_malformed_rate_tables_and_unknown_day_counts():
    with pytest.raises(InterestError, match="nicht am 01.01. oder 01.07."):
        compute_interest(100, date(2024, 1, 1), date(2024, 1, 2), [Rate(date(2024, 3, 1), 0)])
    conflicting = [Rate(date(2024, 1, 1), 362), Rate(date(2024, 1, 1), 361)]
    with pytest.raises(InterestError, match="zwei verschiedene"):
        compute_interest(100, date(2024, 1, 1), date(2024, 1, 2), conflicting)
    with pytest.raises(InterestError, match="Zinstagezählung"):
        compute_interest(100, date(2024, 1, 1), date(2024, 1, 2), RATES, day_count="act/360")  # type: ignore[arg-type]


# --- properties -------------------------------------------------------------------------------

dates = st.dates(min_value=FIRST, max_value=LAST_DAY)
principals = st.integers(min_value=1, max_value=10**11)
day_counts = st.sampled_from(DAY_COUNTS)


@given(principal=principals, three=st.lists(dates, min_size=3, max_size=3), day_count=day_counts)
def test_R27_property_monotonic_in_the_payment_day(principal, three, day_count):
    start, end, later_end = sorted(three)
    earlier = compute_interest(principal, start, end, RATES, day_count=day_count)
    later = compute_interest(principal, start, later_end, RATES, day_count=day_count)
    assert later.total_cents >= earlier.total_cents >= 0


@given(p=principals, q=principals, a=dates, b=dates, day_count=day_counts)
def test_R27_property_monotonic_in_the_principal(p, q, a, b, day_count):
    start, end = min(a, b), max(a, b)
    small = compute_interest(min(p, q), start, end, RATES, day_count=day_count)
    large = compute_interest(max(p, q), start, end, RATES, day_count=day_count)
    assert large.total_cents >= small.total_cents


@given(principal=principals, day=dates, day_count=day_counts)
def test_R27_property_zero_days_zero_interest(principal, day, day_count):
    assert compute_interest(principal, day, day, RATES, day_count=day_count).total_cents == 0


@given(
    principal=principals,
    half_year=st.sampled_from([r.valid_from for r in RATES]),
    cuts=st.lists(st.integers(min_value=0, max_value=184), min_size=3, max_size=3),
    day_count=day_counts,
)
def test_R27_property_additive_within_one_rate_period(principal, half_year, cuts, day_count):
    next_half = date(half_year.year + (half_year.month == 7), 7 if half_year.month == 1 else 1, 1)
    a, b, c = (min(half_year + timedelta(days=n), next_half) for n in sorted(cuts))
    whole = compute_interest(principal, a, c, RATES, day_count=day_count).total_cents
    parts = (
        compute_interest(principal, a, b, RATES, day_count=day_count).total_cents
        + compute_interest(principal, b, c, RATES, day_count=day_count).total_cents
    )
    assert abs(whole - parts) <= 1  # one rounding per period, at most ½ cent each


@given(principal=principals, a=dates, b=dates)
def test_R28_property_charged_exactly_above_250_euro(principal, a, b):
    result = compute_interest(principal, min(a, b), max(a, b), RATES)
    assert result.charged == (result.total_cents > 25_000)
    assert result.total_cents == sum(p.interest_cents for p in result.periods)


# --- R28: VVK 8.8 -----------------------------------------------------------------------------

ZERO_BASE = [Rate(date(2031, 1, 1), 0)]  # a Basiszinssatz of 0.00 % → 5.00 % in total


def test_R28_interest_of_exactly_250_euro_is_not_charged():
    # 50,000.00 € × 5 % × 36/360 (30/360: 01.01. → 07.02. = 30 + 6 = 36 days) = 250.00 € exactly
    result = compute_interest(
        5_000_000, date(2031, 1, 1), date(2031, 2, 7), ZERO_BASE, day_count="30/360"
    )
    assert result.total_cents == 25_000
    assert not result.charged and result.charged_cents == 0
    assert "nicht erhoben" in result.reason and "250,00" in result.reason


def test_R28_interest_of_250_euro_and_one_cent_is_charged():
    # 50,002.00 € × 5 % × 36/360 = 5,000,200 ct / 200 = 25,001 ct = 250.01 €
    result = compute_interest(
        5_000_200, date(2031, 1, 1), date(2031, 2, 7), ZERO_BASE, day_count="30/360"
    )
    assert result.total_cents == 25_001
    assert result.charged and result.charged_cents == 25_001


def test_R28_act_act_boundary():
    # act/act, 2031 has 365 days; 73 days (01.01. → 15.03.) = 1/5 year: 25,000.00 € × 5 % / 5
    # = 250.00 € → not charged; 25,001.00 € → 250.01 € → charged
    assert not compute_interest(2_500_000, date(2031, 1, 1), date(2031, 3, 15), ZERO_BASE).charged
    assert compute_interest(2_500_100, date(2031, 1, 1), date(2031, 3, 15), ZERO_BASE).charged


# --- R28: VVK 8.7 bands -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grant", "limit"),
    [
        (500_000, 50_000),  # 5,000.00 € is in the 10 % band: 500.00 €
        (500_001, 25_000),  # 5,000.01 €: 5 % = 250.0005 € → 250.00 €
        (2_000_000, 50_000),  # 20,000.00 €: 5 % = 1,000 €, capped at 500.00 €
        (2_000_001, 60_000),  # 20,000.01 €: 3 % = 600.0003 € → 600.00 €
        (5_000_000, 100_000),  # 50,000.00 €: 3 % = 1,500 €, capped at 1,000.00 €
        (5_000_001, 100_000),  # 50,000.01 €: 2 % = 1,000.0002 € → 1,000.00 €
        (12_500_000, 150_000),  # 125,000.00 €: 2 % = 2,500 €, capped at 1,500.00 €
        (12_500_001, 250_000),  # 125,000.01 €: fixed 2,500.00 €
        (123_457, 12_345),  # 1,234.57 €: 10 % = 123.457 € → 123.45 €
    ],
)
def test_R28_vvk_8_7_limits_at_the_band_boundaries(grant, limit):
    assert recovery_limit_cents(grant) == limit
    reason = recovery_waived(grant, limit)
    assert reason is not None and "VVK 8.7" in reason  # equal to the limit: no recovery
    assert recovery_waived(grant, limit + 1) is None  # one cent more: recover


def test_R28_vvk_8_7_refuses_non_positive_amounts():
    with pytest.raises(InterestError):
        recovery_waived(0, 100)
    with pytest.raises(InterestError):
        recovery_waived(100_000, 0)


# --- Kleinbeträge (KLB) -----------------------------------------------------------------------


def _charged(total: int) -> InterestResult:
    return InterestResult(total, (), True, "…")


def test_KLB5_no_interest_on_a_small_principal_within_six_months():
    # principal 49.99 € overdue from 31.08.2025: six calendar months end on 28.02.2026
    within = apply_thresholds(
        _charged(30_000), principal_cents=4_999, due_on=date(2025, 8, 31), paid_on=date(2026, 2, 28)
    )
    assert not within.charged and within.total_cents == 30_000
    assert "Kleinbeträge" in within.reason
    later = apply_thresholds(
        _charged(30_000), principal_cents=4_999, due_on=date(2025, 8, 31), paid_on=date(2026, 3, 1)
    )
    assert later.charged
    fifty = apply_thresholds(
        _charged(30_000), principal_cents=5_000, due_on=date(2025, 8, 31), paid_on=date(2025, 9, 1)
    )
    assert fifty.charged


def test_KLB5_days_variant_and_its_interplay_with_R28():
    assert not apply_thresholds(
        _charged(1), principal_cents=4_999, principal_overdue_days=183
    ).charged
    assert apply_thresholds(_charged(1), principal_cents=4_999, principal_overdue_days=184).charged
    # In practice VVK 8.8 already waives: 49.99 € never earns 250 € of interest. The reason then
    # names the Kleinbeträge rule only while it applies.
    real = compute_interest(4_999, date(2024, 1, 1), date(2024, 3, 1), RATES)
    assert not real.charged and real.total_cents > 0
    waived = apply_thresholds(real, principal_cents=4_999, principal_overdue_days=60)
    assert "Kleinbeträge" in waived.reason
    kept = apply_thresholds(real, principal_cents=4_999, principal_overdue_days=400)
    assert kept == real
    with pytest.raises(InterestError):
        apply_thresholds(real, principal_cents=4_999)


def test_KLB_overdue_months_are_calendar_months():
    assert not overdue_more_than_months(date(2025, 1, 15), date(2025, 7, 15), 6)
    assert overdue_more_than_months(date(2025, 1, 15), date(2025, 7, 16), 6)
    assert not overdue_more_than_months(date(2023, 8, 31), date(2024, 2, 29), 6)  # leap February
    assert overdue_more_than_months(date(2023, 8, 31), date(2024, 3, 1), 6)


def test_KLB_payout_dunning_and_enforcement_limits():
    assert payout_only_on_request(499) and not payout_only_on_request(500)
    assert dunning_waived(999, public_body=False) and not dunning_waived(1_000, public_body=False)
    # municipalities are legal persons under public law: 25 € (KLB 2.1 S. 4 with 1.1 S. 2)
    assert dunning_waived(2_499) and not dunning_waived(2_500)
    assert enforcement_waived(2_499) and not enforcement_waived(2_500)


def test_format_rate_bp():
    assert [format_rate_bp(bp) for bp in (-88, 0, 127, 1_234, -5)] == [
        "-0,88",
        "0,00",
        "1,27",
        "12,34",
        "-0,05",
    ]


# --- cases the mutation run (docs/mutation.md) found untested ------------------------------------


def test_R28_vvk_8_7_accepts_the_smallest_amounts():
    assert recovery_limit_cents(1) == 0  # 10 % of one cent, rounded down
    assert recovery_waived(4_000_000, 1) is not None  # one cent is within the limit


@pytest.mark.parametrize(
    ("level", "arrears", "waived"),
    [(1, 2_499, True), (1, 2_500, False), (2, 2_499, True), (3, 2_499, True), (3, 2_500, False)],
)
def test_R28_boundary_dunning_steps_use_the_kleinbetrag_limits(level, arrears, waived):
    # KLB 2.1 (public body) for both reminders, KLB 3.1 for the handover: both 25 € today
    assert dunning_step_waived(level, arrears) is waived


def test_R28_handover_uses_the_enforcement_limit_and_reminders_the_dunning_limit(monkeypatch):
    from app.finance import interest

    monkeypatch.setattr(interest, "ENFORCEMENT_MIN_CENTS", 5_000)  # make the two limits differ
    assert dunning_step_waived(3, 4_999) is True
    assert dunning_step_waived(2, 4_999) is False
    assert dunning_step_waived(1, 4_999) is False
