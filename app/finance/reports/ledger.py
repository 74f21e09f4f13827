"""Ledger data builders: the ledger (one row per posting), account totals and the account
statement of one grant — one SQL statement each."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import pandas as pd
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, ColumnElement, Integer, Select, case, cast, func, select

from app.budget.models import BudgetYear
from app.common.errors import NotFound
from app.extensions import db
from app.finance.models import GrantAccount, JournalEntry, Posting
from app.finance.reports.cells import _frame
from app.finance.reports.columns import (
    ACCOUNT_TOTALS_COLUMNS,
    CHUNK_ROWS,
    LEDGER_COLUMNS,
    STATEMENT_COLUMNS,
    TOTAL_LABEL,
)
from app.grants.models import Application
from app.orgs.models import Organisation

# --- shared SQL expressions -----------------------------------------------------------------------


def _sum_cents(expr: Any) -> ColumnElement[int]:
    """``CAST(COALESCE(SUM(expr), 0) AS BIGINT)``: an integer on SQLite and PostgreSQL."""
    return cast(func.coalesce(func.sum(expr), 0), BigInteger)


def _debit(amount: Any) -> ColumnElement[int]:
    return case((amount > 0, amount), else_=0)


def _credit(amount: Any) -> ColumnElement[int]:
    return case((amount < 0, -amount), else_=0)


def _recipient() -> ColumnElement[str]:
    """Name valid at submission (R35), else the organisation's current name."""
    return func.coalesce(Application.applicant_name_at_submission, Organisation.name)


def _ags() -> ColumnElement[str]:
    return func.coalesce(Application.applicant_ags_at_submission, Organisation.ags)


def _ledger_select(year: int | None, date_from: date | None, date_to: date | None) -> Select[Any]:
    amount = Posting.amount_cents
    stmt = (
        select(
            JournalEntry.id,
            Posting.id,
            JournalEntry.posting_date,
            JournalEntry.fiscal_year,
            JournalEntry.kind,
            JournalEntry.reference,
            JournalEntry.description,
            JournalEntry.reverses_id,
            Posting.account,
            _debit(amount),
            _credit(amount),
            Application.reference,
            GrantAccount.kassenzeichen,
            _recipient(),
            _ags(),
            Organisation.kreis_key,
            Organisation.kreis_name,
            Organisation.polizeidirektion,
        )
        .select_from(Posting)
        .join(JournalEntry, Posting.entry_id == JournalEntry.id)
        .outerjoin(Application, Posting.application_id == Application.id)
        .outerjoin(Organisation, Application.organisation_id == Organisation.id)
        .outerjoin(GrantAccount, GrantAccount.application_id == Posting.application_id)
        .order_by(JournalEntry.posting_date, JournalEntry.id, Posting.id)
    )
    return _ledger_filter(stmt, year, date_from, date_to)


def _ledger_filter(
    stmt: Any, year: int | None, date_from: date | None, date_to: date | None
) -> Any:
    """``stmt`` restricted to a fiscal year and/or a posting-date range (journal entry joined)."""
    if year is not None:
        stmt = stmt.where(JournalEntry.fiscal_year == year)
    if date_from is not None:
        stmt = stmt.where(JournalEntry.posting_date >= date_from)
    if date_to is not None:
        stmt = stmt.where(JournalEntry.posting_date <= date_to)
    return stmt


def _ledger_rows_frame(rows: Sequence[Sequence[Any]]) -> pd.DataFrame:
    return _frame(rows, LEDGER_COLUMNS)


def ledger_frame(
    year: int | None = None, date_from: date | None = None, date_to: date | None = None
) -> pd.DataFrame:
    """The ledger (of one fiscal year and/or a posting-date range, or all), one row per
    posting — one SQL statement. Columns: see the module docstring."""
    rows = db.session.execute(_ledger_select(year, date_from, date_to)).all()
    return _ledger_rows_frame(rows)


def iter_ledger_frames(
    year: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[pd.DataFrame]:
    """The ledger frame in chunks of ``chunk_rows`` postings (one streamed statement,
    ``yield_per``). Always yields at least one (possibly empty) frame."""
    stmt = _ledger_select(year, date_from, date_to).execution_options(yield_per=chunk_rows)
    result = db.session.execute(stmt)
    empty = True
    try:
        for rows in result.partitions():
            empty = False
            yield _ledger_rows_frame(rows)
    finally:
        result.close()
    if empty:
        yield _ledger_rows_frame([])


def ledger_row_count(
    year: int | None = None, date_from: date | None = None, date_to: date | None = None
) -> int:
    """Number of postings the ledger export will contain (for a progress bar)."""
    stmt = (
        select(func.count())
        .select_from(Posting)
        .join(JournalEntry, Posting.entry_id == JournalEntry.id)
    )
    return int(db.session.execute(_ledger_filter(stmt, year, date_from, date_to)).scalar_one())


def account_totals_frame(
    year: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    application_id: int | None = None,
) -> pd.DataFrame:
    """Σ debit, Σ credit and balance per account (SQL ``GROUP BY``), plus a total row."""
    amount = Posting.amount_cents
    stmt = (
        select(
            Posting.account,
            cast(func.count(Posting.id), Integer),
            _sum_cents(_debit(amount)),
            _sum_cents(_credit(amount)),
            _sum_cents(amount),
        )
        .join(JournalEntry, Posting.entry_id == JournalEntry.id)
        .group_by(Posting.account)
        .order_by(Posting.account)
    )
    stmt = _ledger_filter(stmt, year, date_from, date_to)
    if application_id is not None:
        stmt = stmt.where(Posting.application_id == application_id)
    rows: list[tuple[Any, ...]] = [tuple(row) for row in db.session.execute(stmt).all()]
    total = (
        TOTAL_LABEL,
        sum(int(r[1]) for r in rows),
        sum(int(r[2]) for r in rows),
        sum(int(r[3]) for r in rows),
        sum(int(r[4]) for r in rows),
    )
    return _frame([*rows, total], ACCOUNT_TOTALS_COLUMNS)


def available_years() -> list[int]:
    """Budget years and fiscal years of the ledger, newest first (choices of the export page)."""
    stmt = select(BudgetYear.year).union(select(JournalEntry.fiscal_year).distinct())
    return sorted({int(y) for y in db.session.execute(stmt).scalars()}, reverse=True)


def application_id_for(kassenzeichen: str) -> int:
    """The application of a Kassenzeichen.

    :raises NotFound: no approved grant has this Kassenzeichen.
    """
    found = db.session.execute(
        select(GrantAccount.application_id).where(
            GrantAccount.kassenzeichen == kassenzeichen.strip()
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(
            _l("Zu diesem Kassenzeichen gibt es keine Bewilligung."), field="kassenzeichen"
        )
    return int(found)


def grant_statement_frame(application_id: int) -> pd.DataFrame:
    """Account statement of one grant (approval, payouts, reversals, bank): every posting of the
    application with a running balance per account — one SQL statement (window function)."""
    amount = Posting.amount_cents
    running = cast(
        func.sum(amount).over(
            partition_by=Posting.account,
            order_by=(JournalEntry.posting_date, JournalEntry.id, Posting.id),
        ),
        BigInteger,
    )
    stmt = (
        select(
            GrantAccount.kassenzeichen,
            Application.reference,
            Posting.account,
            JournalEntry.posting_date,
            JournalEntry.id,
            Posting.id,
            JournalEntry.fiscal_year,
            JournalEntry.kind,
            JournalEntry.reference,
            JournalEntry.description,
            JournalEntry.reverses_id,
            _debit(amount),
            _credit(amount),
            running,
        )
        .select_from(Posting)
        .join(JournalEntry, Posting.entry_id == JournalEntry.id)
        .join(Application, Posting.application_id == Application.id)
        .outerjoin(GrantAccount, GrantAccount.application_id == Application.id)
        .where(Posting.application_id == application_id)
        .order_by(Posting.account, JournalEntry.posting_date, JournalEntry.id, Posting.id)
    )
    return _frame(db.session.execute(stmt).all(), STATEMENT_COLUMNS)
