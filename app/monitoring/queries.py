"""Aggregate reads of the programme dashboard (issue 15).

Every function sends one SQL statement whatever the number of years, municipalities or
applications; :func:`programme_figures` sends a fixed number of them (tested).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import extract, func, select
from sqlalchemy.orm import aliased

from app.budget.models import BudgetYear, Commitment, CommitmentKind
from app.common.dates import legal_date
from app.common.db import today
from app.extensions import db
from app.finance.models import Instalment, OrderStatus, PayoutOrder, RecoveryClaim
from app.grants.models import (
    AWARDED_STATUSES,
    Application,
    Consultation,
    KprRecord,
    KprRecordKind,
    LineCategory,
    PlanLine,
    Status,
)
from app.orgs.models import Organisation, OrgKind

#: Statuses counted as "submitted" (anything that left the applicant's hands).
SUBMITTED_STATUSES = frozenset(Status) - {Status.DRAFT, Status.CONSULTED, Status.WITHDRAWN}
#: Statuses counted as "approved": awarded, and those that follow an award.
APPROVED_STATUSES = AWARDED_STATUSES | {Status.RECOVERY, Status.REVOCATION_CHECK}
#: Payout orders that left the authority (sent to the bank or confirmed).
PAID_ORDER_STATUSES = (OrderStatus.IN_RUN, OrderStatus.RECONCILED)


@dataclass(frozen=True)
class Filters:
    """Dashboard filters; ``None`` means all. ``as_of`` is the reporting date."""

    funding_year: int | None = None
    kreis_key: str | None = None
    polizeidirektion: str | None = None
    as_of: date | None = None


@dataclass(frozen=True)
class MonthPoint:
    """Cumulative figure at the end of one month."""

    month: date
    added: int
    total: int


@dataclass(frozen=True)
class YearRow:
    """Applications of one funding year."""

    year: int
    submitted: int = 0
    approved: int = 0
    rejected: int = 0
    offices: int = 0  # funded coordination offices (approved applications)
    fte_permille: int = 0


@dataclass(frozen=True)
class MoneyRow:
    """Money of one budget year against its cap (cents)."""

    year: int
    cap_cents: int
    approved_cents: int
    paid_cents: int
    recovered_cents: int

    @property
    def share_bp(self) -> int:
        """Approved share of the cap in basis points (integer arithmetic)."""
        return self.approved_cents * 10_000 // self.cap_cents if self.cap_cents else 0


@dataclass
class RegionRow:
    """Figures of one Landkreis / kreisfreie Stadt or Polizeidirektion."""

    key: str
    name: str
    consulted: int = 0
    kpr: int = 0
    approved: int = 0
    approved_cents: int = 0
    paid_cents: int = 0


@dataclass
class OrgStatus:
    """Programme status of one organisation (for the map)."""

    consulted_on: date | None = None
    kpr_on: date | None = None
    funded: bool = False

    @property
    def level(self) -> str:
        """The highest status reached: ``funded`` > ``kpr`` > ``consulted`` > ``none``."""
        if self.funded:
            return "funded"
        if self.kpr_on:
            return "kpr"
        return "consulted" if self.consulted_on else "none"


@dataclass
class ProgrammeFigures:
    filters: Filters
    consulted_total: int
    consulted_by_month: list[MonthPoint]
    resolutions: int
    cooperations: int
    years: list[YearRow]
    money: list[MoneyRow]
    by_kreis: list[RegionRow]
    by_pd: list[RegionRow]
    #: Status per Gemeinde AGS (the map joins on it).
    status_by_ags: dict[str, OrgStatus] = field(default_factory=dict)


def merge_status(a: OrgStatus, b: OrgStatus) -> OrgStatus:
    """Status of a merged territory (R35): the earliest dates and funded if any part was."""
    return OrgStatus(
        consulted_on=min((d for d in (a.consulted_on, b.consulted_on) if d), default=None),
        kpr_on=min((d for d in (a.kpr_on, b.kpr_on) if d), default=None),
        funded=a.funded or b.funded,
    )


def _region_filter(query: Any, f: Filters) -> Any:
    if f.kreis_key:
        query = query.where(Organisation.kreis_key == f.kreis_key)
    if f.polizeidirektion:
        query = query.where(Organisation.polizeidirektion == f.polizeidirektion)
    return query


def _month(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def cumulative_by_month(firsts: list[date], until: date | None = None) -> list[MonthPoint]:
    """Months from the first date to ``until`` (or the last date), each with the number added
    in the month and the running total; months without additions are kept (no gaps)."""
    if not firsts:
        return []
    counts = Counter(_month(day) for day in firsts)
    month, last = min(counts), _month(until or max(firsts))
    points, total = [], 0
    while month <= last:
        total += counts.get(month, 0)
        points.append(MonthPoint(month, counts.get(month, 0), total))
        month = _next_month(month)
    return points


def _org_rows(f: Filters) -> list[Any]:
    """One row per organisation with its region, first consultation, first KPR resolution and
    whether it has an approved application (funding-year filter applies to the latter)."""
    first_consult = (
        select(Consultation.organisation_id, func.min(Consultation.held_on).label("first"))
        .group_by(Consultation.organisation_id)
        .subquery()
    )
    first_kpr = (
        select(KprRecord.organisation_id, func.min(KprRecord.dated).label("first"))
        .where(KprRecord.kind == KprRecordKind.RESOLUTION)
        .group_by(KprRecord.organisation_id)
        .subquery()
    )
    # funded since the first approval booked for one of its (still approved) applications
    funded_q = (
        select(Application.organisation_id, func.min(Commitment.created_at).label("first"))
        .join(Commitment, Commitment.application_id == Application.id)
        .where(
            Application.status.in_(list(APPROVED_STATUSES | {Status.CLOSED})),
            Commitment.kind == CommitmentKind.APPROVAL,
        )
        .group_by(Application.organisation_id)
    )
    if f.funding_year:
        funded_q = funded_q.where(Application.funding_year == f.funding_year)
    funded = funded_q.subquery()
    successor = aliased(Organisation)
    query = (
        select(
            Organisation.id,
            Organisation.ags,
            Organisation.kind,
            Organisation.valid_to,
            successor.ags.label("successor_ags"),
            Organisation.kreis_key,
            Organisation.kreis_name,
            Organisation.polizeidirektion,
            first_consult.c.first.label("consulted_on"),
            first_kpr.c.first.label("kpr_on"),
            funded.c.first.label("funded_at"),
        )
        .outerjoin(first_consult, first_consult.c.organisation_id == Organisation.id)
        .outerjoin(first_kpr, first_kpr.c.organisation_id == Organisation.id)
        .outerjoin(funded, funded.c.organisation_id == Organisation.id)
        .outerjoin(successor, successor.id == Organisation.successor_id)
        .where(
            (first_consult.c.first.is_not(None))
            | (first_kpr.c.first.is_not(None))
            | (funded.c.organisation_id.is_not(None))
        )
    )
    return list(db.session.execute(_region_filter(query, f)))


def _kpr_counts(f: Filters) -> dict[KprRecordKind, int]:
    query = (
        select(KprRecord.kind, func.count(func.distinct(KprRecord.organisation_id)))
        .join(Organisation, Organisation.id == KprRecord.organisation_id)
        .group_by(KprRecord.kind)
    )
    if f.as_of:
        query = query.where(KprRecord.dated <= f.as_of)
    return {KprRecordKind(kind): int(n) for kind, n in db.session.execute(_region_filter(query, f))}


def _year_rows(f: Filters) -> list[YearRow]:
    counts = (
        select(Application.funding_year, Application.status, func.count(Application.id))
        .join(Organisation, Organisation.id == Application.organisation_id)
        .where(Application.status.in_(list(SUBMITTED_STATUSES)))
        .group_by(Application.funding_year, Application.status)
    )
    if f.funding_year:
        counts = counts.where(Application.funding_year == f.funding_year)
    fte = (
        select(Application.funding_year, func.coalesce(func.sum(PlanLine.fte_permille), 0))
        .join(PlanLine, PlanLine.application_id == Application.id)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .where(
            Application.status.in_(list(APPROVED_STATUSES | {Status.CLOSED})),
            PlanLine.category == LineCategory.STAFF,
            PlanLine.in_kind.is_(False),
        )
        .group_by(Application.funding_year)
    )
    if f.funding_year:
        fte = fte.where(Application.funding_year == f.funding_year)
    per_year: dict[int, Counter[str]] = defaultdict(Counter)
    for year, status, n in db.session.execute(_region_filter(counts, f)):
        row = per_year[year]
        row["submitted"] += n
        if Status(status) in APPROVED_STATUSES or Status(status) is Status.CLOSED:
            row["approved"] += n
        if Status(status) is Status.REJECTED:
            row["rejected"] += n
    ftes = {year: int(total) for year, total in db.session.execute(_region_filter(fte, f))}
    return [
        YearRow(
            year,
            submitted=c["submitted"],
            approved=c["approved"],
            rejected=c["rejected"],
            offices=c["approved"],
            fte_permille=ftes.get(year, 0),
        )
        for year, c in sorted(per_year.items())
    ]


def _money_rows(f: Filters) -> tuple[list[MoneyRow], dict[tuple[str, str], list[int]]]:
    """Money per budget year, and per (Kreis, PD) pair the approved and paid cents."""
    commitments = (
        select(
            Commitment.payout_year.label("year"),
            Organisation.kreis_key,
            Organisation.polizeidirektion,
            Commitment.application_id,
            func.sum(Commitment.amount_cents).label("cents"),
        )
        .join(Application, Application.id == Commitment.application_id)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .group_by(
            Commitment.payout_year,
            Organisation.kreis_key,
            Organisation.polizeidirektion,
            Commitment.application_id,
        )
    )
    paid = (
        select(
            Instalment.budget_year.label("year"),
            Organisation.kreis_key,
            Organisation.polizeidirektion,
            func.sum(PayoutOrder.amount_cents).label("cents"),
        )
        .join(Instalment, Instalment.id == PayoutOrder.instalment_id)
        .join(Application, Application.id == PayoutOrder.application_id)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .where(PayoutOrder.status.in_(list(PAID_ORDER_STATUSES)))
        .group_by(Instalment.budget_year, Organisation.kreis_key, Organisation.polizeidirektion)
    )
    recovered = (
        select(
            extract("year", RecoveryClaim.paid_on).label("year"),
            func.sum(RecoveryClaim.principal_paid_cents).label("cents"),
        )
        .join(Application, Application.id == RecoveryClaim.application_id)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .where(RecoveryClaim.paid_on.is_not(None))
        .group_by(extract("year", RecoveryClaim.paid_on))
    )
    if f.funding_year:
        commitments = commitments.where(Application.funding_year == f.funding_year)
        paid = paid.where(Application.funding_year == f.funding_year)
        recovered = recovered.where(Application.funding_year == f.funding_year)
    caps = {
        year: cap
        for year, cap in db.session.execute(
            select(BudgetYear.year, BudgetYear.appropriation_cents + BudgetYear.carryover_cents)
        )
    }
    approved: Counter[int] = Counter()
    paid_by_year: Counter[int] = Counter()
    regions: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    applications: dict[tuple[str, str], set[int]] = defaultdict(set)
    for row in db.session.execute(_region_filter(commitments, f)):
        approved[row.year] += int(row.cents)
        regions[(row.kreis_key, row.polizeidirektion)][0] += int(row.cents)
        applications[(row.kreis_key, row.polizeidirektion)].add(row.application_id)
    for key, ids in applications.items():
        regions[key][2] = len(ids)
    for row in db.session.execute(_region_filter(paid, f)):
        paid_by_year[row.year] += int(row.cents)
        regions[(row.kreis_key, row.polizeidirektion)][1] += int(row.cents)
    back = {
        int(row.year): int(row.cents) for row in db.session.execute(_region_filter(recovered, f))
    }
    years = sorted(set(caps) | set(approved) | set(paid_by_year) | set(back))
    if f.funding_year:
        years = [y for y in years if approved[y] or paid_by_year[y] or back.get(y)]
    money = [
        MoneyRow(y, int(caps.get(y, 0)), approved[y], paid_by_year[y], back.get(y, 0))
        for y in years
    ]
    return money, regions


def regions() -> list[tuple[str, str, str]]:
    """Every (Kreis key, Kreis name, Polizeidirektion) of the reference data (one statement)."""
    query = select(
        Organisation.kreis_key, Organisation.kreis_name, Organisation.polizeidirektion
    ).distinct()
    return [(k, n, pd) for k, n, pd in db.session.execute(query)]


def programme_figures(
    f: Filters, region_rows: list[tuple[str, str, str]] | None = None
) -> ProgrammeFigures:
    """All dashboard figures for the filters: eight SQL statements whatever the data (seven
    when the caller passes the :func:`regions` it already read)."""
    as_of = f.as_of
    org_rows = _org_rows(f)
    kpr = _kpr_counts(f)
    years = _year_rows(f)
    money, money_regions = _money_rows(f)
    kreise: dict[str, RegionRow] = {}
    pds: dict[str, RegionRow] = {}
    for key, name, pd in regions() if region_rows is None else region_rows:
        if (f.kreis_key and key != f.kreis_key) or (
            f.polizeidirektion and pd != f.polizeidirektion
        ):
            continue
        kreise.setdefault(key, RegionRow(key, name))
        pds.setdefault(pd, RegionRow(pd, pd))
    # R35: count the territory valid on the reporting day: an organisation that merged before
    # it counts as (part of) its successor, so a merged Gemeinde is never counted twice.
    day = as_of or today()
    units: dict[str, tuple[Any, OrgStatus]] = {}
    for row in org_rows:
        consulted = row.consulted_on if not as_of or (row.consulted_on or as_of) <= as_of else None
        kpr_on = row.kpr_on if not as_of or (row.kpr_on or as_of) <= as_of else None
        funded_on = legal_date(row.funded_at) if row.funded_at else None
        own = OrgStatus(
            consulted, kpr_on, funded_on is not None and (not as_of or funded_on <= as_of)
        )
        if row.kind is not OrgKind.GEMEINDE or not row.ags:
            key = f"org:{row.id}"
        elif row.valid_to is not None and row.valid_to < day and row.successor_ags:
            key = row.successor_ags
        else:
            key = row.ags
        known = units.get(key)
        units[key] = (row, merge_status(known[1], own) if known else own)
    status: dict[str, OrgStatus] = {}
    firsts: list[date] = []
    for key, (row, unit) in units.items():
        if not key.startswith("org:"):
            status[key] = unit
        for region in (kreise.get(row.kreis_key), pds.get(row.polizeidirektion)):
            if region is not None:
                region.consulted += unit.consulted_on is not None
                region.kpr += unit.kpr_on is not None
        if unit.consulted_on:
            firsts.append(unit.consulted_on)
    for (key, pd), (approved_cents, paid_cents, n) in money_regions.items():
        for region in (kreise.get(key), pds.get(pd)):
            if region is not None:
                region.approved_cents += approved_cents
                region.paid_cents += paid_cents
                region.approved += n
    return ProgrammeFigures(
        filters=f,
        consulted_total=len(firsts),
        consulted_by_month=cumulative_by_month(firsts, as_of),
        resolutions=kpr.get(KprRecordKind.RESOLUTION, 0),
        cooperations=kpr.get(KprRecordKind.COOPERATION, 0),
        years=years,
        money=money,
        by_kreis=sorted(kreise.values(), key=lambda r: r.name),
        by_pd=sorted(pds.values(), key=lambda r: r.name),
        status_by_ags=status,
    )


def filter_choices(
    rows: list[tuple[str, str, str]],
) -> tuple[list[tuple[str, str]], list[str]]:
    """Kreise (key, name) and Polizeidirektionen for the filter form from :func:`regions`."""
    kreise = sorted({(k, n) for k, n, _pd in rows}, key=lambda kn: kn[1])
    pds = sorted({pd for _k, _n, pd in rows})
    return kreise, pds
