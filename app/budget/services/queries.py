"""Read side: available funds and the figures of the budget overview (per year, VE, Landkreis
and Polizeidirektion)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from app.budget.models import BudgetYear, Commitment, CommitmentAuthorisation
from app.budget.services.common import _missing_year_error
from app.common.db import Cents
from app.extensions import db
from app.grants.models import Application
from app.orgs.models import Organisation


def available(year: int) -> Cents:
    """Ansatz + Ausgabereste − committed for ``year`` (R12).

    :raises DomainError: no budget opened for the year.
    """
    value = db.session.execute(
        select(
            BudgetYear.appropriation_cents + BudgetYear.carryover_cents - BudgetYear.committed_cents
        ).where(BudgetYear.year == year)
    ).scalar_one_or_none()
    if value is None:
        raise _missing_year_error(year)
    return int(value)


@dataclass(frozen=True)
class AuthorisationLine:
    """One VE with its use."""

    budget_year: int
    target_year: int
    amount_cents: Cents
    committed_cents: Cents

    @property
    def available_cents(self) -> Cents:
        return self.amount_cents - self.committed_cents


@dataclass(frozen=True)
class RegionTotal:
    """Committed funds of one Landkreis / kreisfreie Stadt or Polizeidirektion."""

    name: str
    committed_cents: Cents


@dataclass(frozen=True)
class YearOverview:
    """Figures of one budget year for the overview page and ``flask budget show``."""

    year: int
    appropriation_cents: Cents
    carryover_cents: Cents
    committed_cents: Cents
    provisional: bool
    closed: bool
    #: VEs granted by this year's budget law (for later years).
    authorisations: list[AuthorisationLine] = field(default_factory=list)
    #: VEs of earlier years that bind this year.
    inbound: list[AuthorisationLine] = field(default_factory=list)
    by_kreis: list[RegionTotal] = field(default_factory=list)
    by_polizeidirektion: list[RegionTotal] = field(default_factory=list)

    @property
    def cap_cents(self) -> Cents:
        return self.appropriation_cents + self.carryover_cents

    @property
    def available_cents(self) -> Cents:
        return self.cap_cents - self.committed_cents


def _region_totals(column: Any, years: Sequence[int] | None) -> dict[int, list[RegionTotal]]:
    total = func.sum(Commitment.amount_cents)
    query = (
        select(Commitment.payout_year, column.label("name"), total.label("total"))
        .join(Application, Application.id == Commitment.application_id)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .group_by(Commitment.payout_year, column)
        .having(total != 0)
        .order_by(Commitment.payout_year, total.desc(), column)
    )
    if years is not None:
        query = query.where(Commitment.payout_year.in_(list(years)))
    result: dict[int, list[RegionTotal]] = {}
    for row in db.session.execute(query):
        result.setdefault(row.payout_year, []).append(RegionTotal(row.name, int(row.total)))
    return result


def budget_overview(years: Sequence[int] | None = None) -> list[YearOverview]:
    """All (or the given) budget years with VEs and committed funds per Landkreis and per
    Polizeidirektion. Four SQL statements whatever the number of years and commitments."""
    year_query = select(BudgetYear).order_by(BudgetYear.year)
    ve_query = select(CommitmentAuthorisation).order_by(
        CommitmentAuthorisation.budget_year, CommitmentAuthorisation.target_year
    )
    if years is not None:
        year_query = year_query.where(BudgetYear.year.in_(list(years)))
        ve_query = ve_query.where(
            (CommitmentAuthorisation.budget_year.in_(list(years)))
            | (CommitmentAuthorisation.target_year.in_(list(years)))
        )
    budget_years = db.session.execute(year_query).scalars().all()
    lines = [
        AuthorisationLine(ve.budget_year, ve.target_year, ve.amount_cents, ve.committed_cents)
        for ve in db.session.execute(ve_query).scalars()
    ]
    by_kreis = _region_totals(Organisation.kreis_name, years)
    by_pd = _region_totals(Organisation.polizeidirektion, years)
    return [
        YearOverview(
            year=by.year,
            appropriation_cents=by.appropriation_cents,
            carryover_cents=by.carryover_cents,
            committed_cents=by.committed_cents,
            provisional=by.provisional,
            closed=by.closed,
            authorisations=[line for line in lines if line.budget_year == by.year],
            inbound=[line for line in lines if line.target_year == by.year],
            by_kreis=by_kreis.get(by.year, []),
            by_polizeidirektion=by_pd.get(by.year, []),
        )
        for by in budget_years
    ]


def year_overview(year: int) -> YearOverview:
    """One budget year's figures.

    :raises DomainError: no budget opened for the year.
    """
    found = budget_overview([year])
    if not found:
        raise _missing_year_error(year)
    return found[0]
