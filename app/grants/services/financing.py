"""The Ausgaben- und Finanzierungsplan: totals and eligible base, in integer cents.

Pure functions over plain values so that the same computation serves the form, the checklist,
the submission snapshot and (mirrored in ``static/js/plan.js``) the live totals in the browser.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from app.common.programme import QUALIFICATION_CAP_GROUP
from app.grants.models import LineCategory, PlanLine, Qualification


@dataclass(frozen=True)
class LineFigures:
    """One line as the rules see it."""

    line: PlanLine
    eligible_cents: int
    cap_cents: int | None  # R8 cap for staff lines, None where no cap applies or is unknown
    capped: bool  # the cap reduced the eligible amount


@dataclass
class PlanTotals:
    """Totals of a financing plan. Rates are basis points of the eligible expenditure."""

    lines: list[LineFigures] = field(default_factory=list)
    staff_cents: int = 0
    running_cents: int = 0
    investive_cents: int = 0
    total_expenditure_cents: int = 0
    eligible_cents: int = 0
    in_kind_cents: int = 0
    own_cash_cents: int = 0
    third_party_cents: int = 0
    requested_grant_cents: int = 0

    @property
    def own_share_cents(self) -> int:
        return self.own_cash_cents + self.in_kind_cents

    @property
    def financing_total_cents(self) -> int:
        return self.own_share_cents + self.third_party_cents + self.requested_grant_cents

    @property
    def difference_cents(self) -> int:
        """Expenditure minus financing; 0 when the plan balances (R5)."""
        return self.total_expenditure_cents - self.financing_total_cents

    @property
    def grant_rate_bp(self) -> int | None:
        if self.eligible_cents == 0:
            return None
        return self.requested_grant_cents * 10000 // self.eligible_cents

    @property
    def own_share_rate_bp(self) -> int | None:
        if self.eligible_cents == 0:
            return None
        return self.own_share_cents * 10000 // self.eligible_cents


def staff_cap_cents(line: PlanLine, monthly_caps: Mapping[int, int]) -> int | None:
    """R8: the most a staff line may count: Stufe-3 monthly cap of the group its qualification
    allows × FTE share × months. ``None`` if data for the computation is missing."""
    if line.qualification is None or line.fte_permille is None or line.months is None:
        return None
    group = QUALIFICATION_CAP_GROUP[Qualification(line.qualification)]
    monthly = monthly_caps.get(group)
    if monthly is None:
        return None
    return monthly * line.fte_permille * line.months // 1000


def compute_totals(
    lines: Iterable[PlanLine],
    *,
    own_cash_cents: int,
    third_party_cents: int,
    requested_grant_cents: int,
    monthly_caps: Mapping[int, int],
) -> PlanTotals:
    """Sum a plan. Investive lines count as expenditure but never as eligible (R7); staff lines
    count at most their TV-L cap (R8); in-kind lines form the itemised in-kind own share (R6)."""
    totals = PlanTotals(
        own_cash_cents=own_cash_cents,
        third_party_cents=third_party_cents,
        requested_grant_cents=requested_grant_cents,
    )
    for line in lines:
        amount = line.amount_cents
        totals.total_expenditure_cents += amount
        if line.in_kind:
            totals.in_kind_cents += amount
        cap: int | None = None
        eligible = amount
        if line.investive:  # R7: capital expenditure is excluded from the eligible base
            totals.investive_cents += amount
            eligible = 0
        elif line.category is LineCategory.STAFF:
            totals.staff_cents += amount
            cap = staff_cap_cents(line, monthly_caps)
            if cap is not None:
                eligible = min(amount, cap)
        else:
            totals.running_cents += amount
        totals.eligible_cents += eligible
        totals.lines.append(LineFigures(line, eligible, cap, eligible < amount and cap is not None))
    return totals
