"""The Haushaltsüberwachungsliste (R34, VVK 9.2): ``monitoring_frame`` and its per-Kreis
summary."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import BigInteger, case, cast, func, or_, select

from app.budget.models import Commitment
from app.common.db import as_utc
from app.common.formatting import BERLIN
from app.extensions import db
from app.finance.models import GrantAccount, JournalEntry, Posting
from app.finance.reports.cells import _frame, _strict_int
from app.finance.reports.columns import (
    _EXPENSE_ROOT,
    MONITORING_COLUMNS,
    MONITORING_SUMMARY_COLUMNS,
    TOTAL_LABEL,
)
from app.finance.reports.ledger import _ags, _recipient, _sum_cents
from app.grants.models import Application, Decision, DecisionStatus
from app.orgs.models import Organisation
from app.postaward.models import ProofKind, ProofOfUse


def _local_date(value: datetime | None) -> date | None:
    aware = as_utc(value)
    return None if aware is None else aware.astimezone(BERLIN).date()


def monitoring_frame(year: int) -> pd.DataFrame:
    """The Haushaltsüberwachungsliste of ``year`` (R34, VVK 9.2) — one SQL statement with three
    aggregated subqueries (commitments of the year; ledger expense per grant; final proofs of
    use for the VN received/checked dates).
    """
    year_commitments = (
        select(
            Commitment.application_id.label("application_id"),
            _sum_cents(Commitment.amount_cents).label("committed"),
        )
        .where(Commitment.payout_year == year)
        .group_by(Commitment.application_id)
        .subquery("year_commitments")
    )
    in_year = JournalEntry.fiscal_year == year
    expense = (
        select(
            Posting.application_id.label("application_id"),
            _sum_cents(case((in_year, Posting.amount_cents), else_=0)).label("paid_year"),
            _sum_cents(Posting.amount_cents).label("paid_total"),
            _sum_cents(case((in_year, 1), else_=0)).label("year_postings"),
        )
        .join(JournalEntry, Posting.entry_id == JournalEntry.id)
        .where(
            Posting.account.startswith(_EXPENSE_ROOT, autoescape=True),
            Posting.application_id.is_not(None),
        )
        .group_by(Posting.application_id)
        .subquery("expense")
    )
    final = ProofOfUse.kind == ProofKind.FINAL
    proofs = (
        select(
            ProofOfUse.application_id.label("application_id"),
            func.min(case((final, ProofOfUse.submitted_at))).label("received_at"),
            func.max(case((final, ProofOfUse.checked_on))).label("checked_on"),
        )
        .group_by(ProofOfUse.application_id)
        .subquery("proofs")
    )
    committed = func.coalesce(year_commitments.c.committed, 0)
    paid = func.coalesce(expense.c.paid_year, 0)
    stmt = (
        select(
            Application.id,
            Application.reference,
            Decision.kassenzeichen,
            _recipient(),
            _ags(),
            Organisation.kreis_key,
            Organisation.kreis_name,
            Organisation.polizeidirektion,
            Decision.purpose,
            Decision.decided_at,
            Decision.period_start,
            Decision.period_end,
            func.coalesce(GrantAccount.granted_cents, Decision.grant_cents),
            cast(committed, BigInteger),
            cast(paid, BigInteger),
            cast(committed - paid, BigInteger),
            cast(func.coalesce(expense.c.paid_total, 0), BigInteger),
            Decision.vn_deadline,
            proofs.c.received_at,
            proofs.c.checked_on,
        )
        .select_from(Decision)
        .join(Application, Decision.application_id == Application.id)
        .join(Organisation, Application.organisation_id == Organisation.id)
        .outerjoin(GrantAccount, GrantAccount.application_id == Application.id)
        .outerjoin(year_commitments, year_commitments.c.application_id == Application.id)
        .outerjoin(expense, expense.c.application_id == Application.id)
        .outerjoin(proofs, proofs.c.application_id == Application.id)
        .where(
            Decision.status == DecisionStatus.APPROVED,
            or_(
                year_commitments.c.application_id.is_not(None),
                func.coalesce(expense.c.year_postings, 0) > 0,
            ),
        )
        .order_by(Application.reference, Application.id)
    )
    rows = [
        (year, *row[:9], _local_date(row[9]), *row[10:18], _local_date(row[18]), row[19])
        for row in db.session.execute(stmt).all()
    ]
    return _frame(rows, MONITORING_COLUMNS)


def monitoring_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Totals of a monitoring frame per Kreis (integer sums, exact) plus a total row."""
    money = ("granted_cents", "committed_cents", "paid_cents", "open_cents")
    groups: dict[tuple[str, str], list[int]] = {}
    for key, name, *amounts in zip(
        df["kreis_key"].tolist(),
        df["landkreis"].tolist(),
        *(df[c].tolist() for c in money),
        strict=True,
    ):
        sums = groups.setdefault((key or "", name or ""), [0] * (1 + len(money)))
        sums[0] += 1
        for i, amount in enumerate(amounts, start=1):
            sums[i] += _strict_int(amount, money[i - 1])
    ordered = sorted(groups.items())
    total = [sum(sums[i] for _key, sums in ordered) for i in range(1 + len(money))]
    rows: list[tuple[Any, ...]] = [(key, name, *sums) for (key, name), sums in ordered]
    return _frame([*rows, ("", TOTAL_LABEL, *total)], MONITORING_SUMMARY_COLUMNS)
