"""Finance reports: the ledger, the per-grant account statement and the monitoring list
(*Haushaltsüberwachungsliste*, R34, VVK 9.2) as pandas DataFrames, and their files.

The layouts are *design* (RULES.md §10.3: the ledger format is not fixed by law); amounts leave
the system as decimal strings derived from integer cents.

Data builders (one SQL ``SELECT`` each, aggregates in SQL, no N+1)
-----------------------------------------------------------------
Every builder returns a DataFrame whose money columns are named ``*_cents`` and have dtype
``int64`` (integer cents, never float). Other columns: ``int64`` ids/years, nullable ``Int64``
(``reverses_id``), ``object`` text, ``object`` ``datetime.date`` values (or ``None``).

``ledger_frame(year, date_from, date_to)`` — one row per posting, ordered by posting date, entry,
posting: ``entry_id, posting_id, posting_date, fiscal_year, kind, reference, description,
reverses_id, account, debit_cents, credit_cents, aktenzeichen, kassenzeichen, recipient, ags,
kreis_key, landkreis, polizeidirektion``. ``debit_cents``/``credit_cents`` split the signed
posting amount (debit > 0, credit < 0); both are ≥ 0 and exactly one is > 0. ``reference`` is
the entry's Kassenzeichen or EndToEndId; the grant columns are empty for postings without an
application. Recipient name and AGS are those valid at submission (R35).

``grant_statement_frame(application_id)`` — the account statement of one grant: every posting
that carries the application, ordered by account and then date/entry/posting, with
``balance_cents`` = running Σ of the signed amounts per account (SQL window function):
``kassenzeichen, aktenzeichen, account, posting_date, entry_id, posting_id, fiscal_year, kind,
reference, description, reverses_id, debit_cents, credit_cents, balance_cents``.

``monitoring_frame(year)`` — the Haushaltsüberwachungsliste: one row per approved grant with a
commitment (Festlegung) for ``year`` or an expense booked in ``year``: ``budget_year,
application_id, aktenzeichen, kassenzeichen, recipient, ags, kreis_key, landkreis,
polizeidirektion, purpose, decided_on, period_start, period_end, granted_cents,
committed_cents, paid_cents, open_cents, paid_total_cents, vn_deadline, vn_received_on,
vn_checked_on``. ``granted_cents`` is the (possibly reduced) grant, ``committed_cents`` Σ of the
commitment rows for the year (approvals minus reductions), ``paid_cents`` Σ of the ledger expense
(``Expenses:Zuwendungen:Y<year>:…``, i.e. released payout orders minus their reversals) booked in
the year, ``open_cents`` = committed − paid, ``paid_total_cents`` all expense booked for the
grant in any year. ``vn_deadline`` comes from the decision; ``vn_received_on`` is the (local)
date the first *final* proof of use (``ProofKind.FINAL``) was submitted and ``vn_checked_on`` the
date its check was finished (latest ``checked_on`` of a final proof). Both stay empty while no
final proof has been received or checked; partial and provisional proofs are not counted.

``account_totals_frame(...)`` (``account, postings, debit_cents, credit_cents, balance_cents``,
SQL ``GROUP BY``) and ``monitoring_summary(df)`` (per Kreis: ``kreis_key, landkreis, grants,
granted_cents, committed_cents, paid_cents, open_cents``) feed the summary sheets; both end
with a total row (``Summe``).

Writers (generic over these frames)
-----------------------------------
* ``to_csv_de`` — for people/Excel: UTF-8 with BOM, ``;``, CRLF, German headers (``LABELS_DE``),
  amounts ``-1234,56`` (decimal comma, no thousands separator), dates ``TT.MM.JJJJ``, entry
  kinds in German.
* ``to_csv_plain`` — for tools: UTF-8 without BOM, ``,``, CRLF, the column names as headers with
  ``_cents`` dropped from money columns, amounts ``-1234.56``, ISO dates.
* ``to_xlsx(sheets, summary)`` — openpyxl (write-only, streamed): bold German header row,
  frozen, with auto filter; money as *numbers* with the format ``#,##0.00 "€"`` (the € quoted so
  that every spreadsheet program accepts the format; shown as ``1.234,56 €`` in German Excel),
  dates as dates (``DD.MM.YYYY``), ids as integers, entry kinds in German. Summary sheets:
  ``Zusammenfassung je Landkreis`` (monitoring list), ``Summen je Konto`` (ledger, grant).
  A money cell's XML value is the exact decimal text built from the cents (``<v>1234.56</v>``)
  — no float conversion on the way out; Excel/openpyxl read it as the double nearest to that
  decimal, and every amount below 10^13 € (15 significant digits) reads back to exactly the
  same cents. Larger amounts are refused.
* ``to_json`` — a JSON array, one object per row (one per line), UTF-8; each money column twice:
  ``"debit_cents": 123456`` (integer) and ``"debit": "1234.56"`` (decimal string); ISO dates;
  empty values are ``null``. Never a JSON float.

Text cells starting with ``= + - @``, tab, CR or NUL get a leading ``'`` in CSV and XLSX
(formula injection); money cells are numbers, so a negative amount stays ``-1234,56``. XLSX
also replaces characters that XML cannot hold with U+FFFD.

Files and streaming
-------------------
``export_filename`` builds ``<kind>-<scope>-<JJJJMMTT>T<HHMMSS>.<ext>`` in local time, e.g.
``ledger-2027-20261124T101500.csv``, ``monitoring-2027-….xlsx``, ``grant-KP-2027-0001-….json``;
the plain CSV ends in ``-plain.csv``. ``iter_ledger_csv`` / ``iter_ledger_json`` stream the
ledger in chunks of ``chunk_rows`` postings (SQLAlchemy ``yield_per``), so memory stays bounded;
``ledger_export`` / ``monitoring_export`` / ``grant_export`` return an ``ExportFile`` (name,
MIME type, byte chunks) used by the CLI and the download routes.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import math
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import BigInteger, ColumnElement, Integer, Select, case, cast, func, or_, select

from app.common.db import as_utc, utcnow
from app.common.errors import NotFound
from app.common.formatting import BERLIN
from app.extensions import db
from app.finance.models import EntryKind, GrantAccount, JournalEntry, Posting
from app.grants.models import Application, Decision, DecisionStatus
from app.orgs.models import Organisation

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

logger = logging.getLogger(__name__)

FORMATS = ("csv", "csv-plain", "xlsx", "json")
MIME_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "csv-plain": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
CHUNK_ROWS = 50_000
#: Excel shows 15 significant digits; below this bound every amount round-trips exactly.
MAX_XLSX_CENTS = 10**15
MONEY_FORMAT = '#,##0.00 "€"'
DATE_FORMAT = "DD.MM.YYYY"
SUMMARY_BY_KREIS = "Zusammenfassung je Landkreis"
SUMMARY_BY_ACCOUNT = "Summen je Konto"
TOTAL_LABEL = "Summe"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")
#: Root of the expense accounts (``ledger.expense_account``: ``Expenses:Zuwendungen:Y<year>:<KZ>``).
_EXPENSE_ROOT = "Expenses:Zuwendungen:"

#: German column headers for the CSV (de) and XLSX files.
LABELS_DE: dict[str, str] = {
    "entry_id": "Buchungs-Nr.",
    "posting_id": "Zeilen-Nr.",
    "posting_date": "Buchungsdatum",
    "fiscal_year": "Haushaltsjahr",
    "kind": "Buchungsart",
    "reference": "Referenz (Kassenzeichen/EndToEndId)",
    "description": "Buchungstext",
    "reverses_id": "Storno zu Buchungs-Nr.",
    "account": "Konto",
    "debit_cents": "Soll (EUR)",
    "credit_cents": "Haben (EUR)",
    "balance_cents": "Saldo (EUR)",
    "application_id": "Antrags-ID",
    "aktenzeichen": "Aktenzeichen",
    "kassenzeichen": "Kassenzeichen",
    "recipient": "Zuwendungsempfänger",
    "ags": "AGS",
    "kreis_key": "Kreisschlüssel",
    "landkreis": "Landkreis / kreisfreie Stadt",
    "polizeidirektion": "Polizeidirektion",
    "budget_year": "Haushaltsjahr",
    "purpose": "Zuwendungszweck",
    "decided_on": "Bescheid vom",
    "period_start": "Bewilligungszeitraum von",
    "period_end": "Bewilligungszeitraum bis",
    "granted_cents": "Zuwendung (EUR)",
    "committed_cents": "Festlegung im Haushaltsjahr (EUR)",
    "paid_cents": "Ausgezahlt im Haushaltsjahr (EUR)",
    "open_cents": "Offene Festlegung (EUR)",
    "paid_total_cents": "Ausgezahlt insgesamt (EUR)",
    "vn_deadline": "VN fällig am",
    "vn_received_on": "VN eingegangen am",
    "vn_checked_on": "VN geprüft am",
    "grants": "Anzahl Zuwendungen",
    "postings": "Anzahl Buchungszeilen",
}

#: German display values of coded columns (CSV de and XLSX only; plain CSV/JSON keep codes).
VALUES_DE: dict[str, dict[str, str]] = {
    "kind": {
        EntryKind.APPROVAL.value: "Bewilligung",
        EntryKind.PAYOUT.value: "Auszahlung",
        EntryKind.BANK.value: "Bank",
        EntryKind.RECOVERY.value: "Rückforderung",
        EntryKind.RECEIPT.value: "Zahlungseingang",
        EntryKind.REVERSAL.value: "Storno",
    }
}

# Column kinds: "int" (int64), "money" (int64 cents, name ends in _cents), "optint" (Int64),
# "text" (object), "code" (enum value as text), "date" (object: datetime.date or None).
LEDGER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("entry_id", "int"),
    ("posting_id", "int"),
    ("posting_date", "date"),
    ("fiscal_year", "int"),
    ("kind", "code"),
    ("reference", "text"),
    ("description", "text"),
    ("reverses_id", "optint"),
    ("account", "text"),
    ("debit_cents", "money"),
    ("credit_cents", "money"),
    ("aktenzeichen", "text"),
    ("kassenzeichen", "text"),
    ("recipient", "text"),
    ("ags", "text"),
    ("kreis_key", "text"),
    ("landkreis", "text"),
    ("polizeidirektion", "text"),
)
STATEMENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("kassenzeichen", "text"),
    ("aktenzeichen", "text"),
    ("account", "text"),
    ("posting_date", "date"),
    ("entry_id", "int"),
    ("posting_id", "int"),
    ("fiscal_year", "int"),
    ("kind", "code"),
    ("reference", "text"),
    ("description", "text"),
    ("reverses_id", "optint"),
    ("debit_cents", "money"),
    ("credit_cents", "money"),
    ("balance_cents", "money"),
)
MONITORING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("budget_year", "int"),
    ("application_id", "int"),
    ("aktenzeichen", "text"),
    ("kassenzeichen", "text"),
    ("recipient", "text"),
    ("ags", "text"),
    ("kreis_key", "text"),
    ("landkreis", "text"),
    ("polizeidirektion", "text"),
    ("purpose", "text"),
    ("decided_on", "date"),
    ("period_start", "date"),
    ("period_end", "date"),
    ("granted_cents", "money"),
    ("committed_cents", "money"),
    ("paid_cents", "money"),
    ("open_cents", "money"),
    ("paid_total_cents", "money"),
    ("vn_deadline", "date"),
    ("vn_received_on", "date"),
    ("vn_checked_on", "date"),
)
MONITORING_SUMMARY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("kreis_key", "text"),
    ("landkreis", "text"),
    ("grants", "int"),
    ("granted_cents", "money"),
    ("committed_cents", "money"),
    ("paid_cents", "money"),
    ("open_cents", "money"),
)
ACCOUNT_TOTALS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("account", "text"),
    ("postings", "int"),
    ("debit_cents", "money"),
    ("credit_cents", "money"),
    ("balance_cents", "money"),
)


# --- frames ---------------------------------------------------------------------------------------


def _frame(rows: Sequence[Sequence[Any]], columns: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Build a DataFrame with fixed dtypes: integers stay ``int64`` (never float), text and dates
    stay Python objects."""
    data: dict[str, Any] = {}
    by_column = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    for (name, kind), values in zip(columns, by_column, strict=True):
        if kind in ("int", "money"):
            data[name] = pd.Series([_strict_int(v, name) for v in values], dtype="int64")
        elif kind == "optint":
            data[name] = pd.array(
                [None if v is None else _strict_int(v, name) for v in values], dtype="Int64"
            )
        elif kind == "text":
            data[name] = pd.Series([None if v is None else str(v) for v in values], dtype=object)
        elif kind == "code":  # an enum member from the database → its value
            data[name] = pd.Series([_kind_value(v) for v in values], dtype=object)
        else:
            data[name] = pd.Series(values, dtype=object)
    return pd.DataFrame(data, columns=[name for name, _kind in columns])


def _strict_int(value: Any, name: str) -> int:
    """An integer from the database (PostgreSQL sums may arrive as ``Decimal``): exact or error."""
    if isinstance(value, bool) or value is None:
        raise TypeError(f"{name}: expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    as_int = int(value)
    if as_int != value:
        raise TypeError(f"{name}: {value!r} is not a whole number of cents")
    return as_int


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


def _kind_value(kind: Any) -> str:
    return kind.value if isinstance(kind, EntryKind) else str(kind)


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
    from app.budget.models import BudgetYear

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
        raise NotFound("Zu diesem Kassenzeichen gibt es keine Bewilligung.", field="kassenzeichen")
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


def _local_date(value: datetime | None) -> date | None:
    aware = as_utc(value)
    return None if aware is None else aware.astimezone(BERLIN).date()


def monitoring_frame(year: int) -> pd.DataFrame:
    """The Haushaltsüberwachungsliste of ``year`` (R34, VVK 9.2) — one SQL statement with three
    aggregated subqueries (commitments of the year; ledger expense per grant; final proofs of
    use for the VN received/checked dates).
    """
    from app.budget.models import Commitment
    from app.postaward.models import ProofKind, ProofOfUse

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


# --- cell values ----------------------------------------------------------------------------------


def is_money(column: str) -> bool:
    """Money columns are named ``*_cents`` (HOUSE-STYLE convention 5)."""
    return column.endswith("_cents")


def plain_name(column: str) -> str:
    """Header of a column in the plain CSV/JSON: money columns without ``_cents``."""
    return column[: -len("_cents")] if is_money(column) else column


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _cents(value: Any, column: str) -> int | None:
    """A money cell as ``int`` cents; floats are refused (they may have lost a cent already)."""
    if _missing(value):
        return None
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value)
    raise TypeError(f"{column}: money must be integer cents, not {type(value).__name__}")


def cents_text(cents: int, decimal_sep: str = ".") -> str:
    """Integer cents → exact decimal text: ``-123456`` → ``"-1234.56"`` (no float, no rounding)."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{euros}{decimal_sep}{rest:02d}"


def neutralise(text: str) -> str:
    """Formula injection: a cell starting with ``= + - @``, tab, CR or NUL gets a leading ``'``."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _text_cell(value: Any, *, german: bool, column: str) -> str:
    """A non-money cell as CSV text."""
    if _missing(value):
        return ""
    if isinstance(value, datetime):
        aware = as_utc(value)
        assert aware is not None  # noqa: S101 - _missing() excluded None
        if german:
            return aware.astimezone(BERLIN).strftime("%d.%m.%Y %H:%M")
        return aware.isoformat()
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y") if german else value.isoformat()
    if isinstance(value, str):
        shown = VALUES_DE.get(column, {}).get(value, value) if german else value
        return neutralise(shown)
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return str(int(value))
    raise TypeError(f"{column}: unexpected {type(value).__name__} value")


def _csv_columns(df: pd.DataFrame, *, german: bool) -> list[list[str]]:
    sep = "," if german else "."
    out: list[list[str]] = []
    for column in df.columns:
        values = df[column].tolist()
        int64 = df[column].dtype == np.int64  # ``tolist`` gives Python ints, never missing
        if is_money(column):
            if int64:
                out.append([cents_text(v, sep) for v in values])
            else:
                out.append(
                    ["" if (c := _cents(v, column)) is None else cents_text(c, sep) for v in values]
                )
        elif int64:
            out.append([str(v) for v in values])
        else:
            out.append(_text_cells(values, german=german, column=column))
    return out


def _text_cells(values: list[Any], *, german: bool, column: str) -> list[str]:
    """``_text_cell`` of every value; texts and dates repeat a lot (accounts, names, posting
    dates), so their cell text is computed once per distinct value."""
    memo: dict[Any, str] = {}
    cells: list[str] = []
    append = cells.append
    for value in values:
        kind = type(value)
        if kind is str or kind is date:
            text = memo.get(value)
            if text is None:
                text = memo[value] = _text_cell(value, german=german, column=column)
            append(text)
        elif value is None:
            append("")
        else:
            append(_text_cell(value, german=german, column=column))
    return cells


def _csv_chunk(df: pd.DataFrame, *, german: bool, header: bool) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=";" if german else ",",
        lineterminator="\r\n",  # RFC 4180; CR and LF inside a value are then quoted
        quoting=csv.QUOTE_MINIMAL,
    )
    if header:
        labels = [neutralise(LABELS_DE.get(c, c)) if german else plain_name(c) for c in df.columns]
        writer.writerow(labels)
    writer.writerows(zip(*_csv_columns(df, german=german), strict=True))
    text = buffer.getvalue()
    if german and header:
        return text.encode("utf-8-sig")
    return text.encode("utf-8")


def iter_csv(frames: Iterable[pd.DataFrame], *, german: bool) -> Iterator[bytes]:
    """CSV bytes of consecutive frames with the same columns (header once; BOM once)."""
    header = True
    for df in frames:
        yield _csv_chunk(df, german=german, header=header)
        header = False


def to_csv_de(df: pd.DataFrame) -> bytes:
    """German CSV for Excel: ``;``, decimal comma, ``TT.MM.JJJJ``, UTF-8 with BOM, CRLF."""
    return b"".join(iter_csv([df], german=True))


def to_csv_plain(df: pd.DataFrame) -> bytes:
    """Plain CSV for tools: ``,``, decimal point, ISO dates, UTF-8 without BOM, CRLF."""
    return b"".join(iter_csv([df], german=False))


def _json_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    columns = list(df.columns)
    lists = [df[c].tolist() for c in columns]
    records: list[dict[str, Any]] = []
    for values in zip(*lists, strict=True):
        record: dict[str, Any] = {}
        for column, value in zip(columns, values, strict=True):
            if is_money(column):
                cents = _cents(value, column)
                record[column] = cents
                record[plain_name(column)] = None if cents is None else cents_text(cents)
            elif _missing(value):
                record[column] = None
            elif isinstance(value, datetime):
                record[column] = as_utc(value).isoformat()  # type: ignore[union-attr]
            elif isinstance(value, date):
                record[column] = value.isoformat()
            elif isinstance(value, str | bool):
                record[column] = value
            elif isinstance(value, float):
                raise TypeError(f"{column}: unexpected float value")
            else:
                record[column] = int(value)
        records.append(record)
    return records


def iter_json(frames: Iterable[pd.DataFrame]) -> Iterator[bytes]:
    """A JSON array of row objects (one per line), built chunk by chunk."""
    first = True
    yield b"["
    for df in frames:
        lines = [json.dumps(r, ensure_ascii=False) for r in _json_records(df)]
        if not lines:
            continue
        body = ",\n".join(lines)
        yield (("\n" if first else ",\n") + body).encode("utf-8")
        first = False
    yield b"\n]\n"


def to_json(df: pd.DataFrame) -> bytes:
    """JSON for machines: money as integer cents and as decimal string, ISO dates, UTF-8."""
    return b"".join(iter_json([df]))


# --- XLSX -----------------------------------------------------------------------------------------

_BOLD = Font(bold=True)
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(title: str) -> str:
    return _SHEET_TITLE_BAD.sub("-", title)[:31] or "Tabelle"


def _width(column: str) -> float:
    label = LABELS_DE.get(column, column)
    if is_money(column):
        return max(16, min(len(label), 24) + 2)
    if column in ("description", "purpose", "recipient", "account"):
        return 42
    return max(10, min(len(label) + 2, 30))


def _xlsx_text(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", neutralise(text))


def _money_cell(ws: WriteOnlyWorksheet, cents: int) -> WriteOnlyCell:
    """A numeric cell whose stored value is the exact decimal text of ``cents``.

    openpyxl would write a ``Decimal`` via ``"%.16g"`` (a float conversion); here the cell holds
    the decimal string and is typed as a number, so the XML says ``<v>1234.56</v>`` exactly.
    """
    if abs(cents) >= MAX_XLSX_CENTS:
        raise ValueError("Betrag zu groß für eine exakte Darstellung in Excel.")
    cell = WriteOnlyCell(ws, value=cents_text(cents))
    cell.data_type = "n"
    cell.number_format = MONEY_FORMAT
    return cell


def _xlsx_column(ws: WriteOnlyWorksheet, column: str, values: list[Any]) -> list[Any]:
    """The cells of one column (money columns as exact numeric cells)."""
    if is_money(column):
        return [None if (c := _cents(v, column)) is None else _money_cell(ws, c) for v in values]
    return [_xlsx_cell(ws, column, v) for v in values]


def _xlsx_cell(ws: WriteOnlyWorksheet, column: str, value: Any) -> Any:
    if _missing(value):
        return None
    if isinstance(value, datetime):
        local = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        cell = WriteOnlyCell(ws, value=local.astimezone(BERLIN).replace(tzinfo=None))
        cell.number_format = "DD.MM.YYYY HH:MM"
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if isinstance(value, str):
        return _xlsx_text(VALUES_DE.get(column, {}).get(value, value))
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value)
    raise TypeError(f"{column}: unexpected {type(value).__name__} value")


def _write_sheet(
    wb: Workbook,
    title: str,
    frames: pd.DataFrame | Iterable[pd.DataFrame],
    progress: Callable[[int], None] | None = None,
) -> None:
    ws = wb.create_sheet(_sheet_title(title))
    chunks: Iterator[pd.DataFrame] = iter([frames] if isinstance(frames, pd.DataFrame) else frames)
    first = next(chunks, None)
    if first is None:
        return
    columns = list(first.columns)
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = _width(column)
    ws.freeze_panes = "A2"
    header = []
    for column in columns:
        cell = WriteOnlyCell(ws, value=_xlsx_text(LABELS_DE.get(column, column)))
        cell.font = _BOLD
        header.append(cell)
    ws.append(header)
    rows = 0
    for df in _chain(first, chunks):
        cells = [_xlsx_column(ws, c, df[c].tolist()) for c in columns]
        for row in zip(*cells, strict=True):
            ws.append(list(row))
        rows += len(df)
        if progress is not None:
            progress(len(df))
    ws.auto_filter.ref = f"A1:{get_column_letter(max(len(columns), 1))}{rows + 1}"


def _chain(first: pd.DataFrame, rest: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    yield first
    yield from rest


def write_xlsx(
    out: IO[bytes],
    sheets: Mapping[str, pd.DataFrame | Iterable[pd.DataFrame]],
    summary: pd.DataFrame | None = None,
    *,
    summary_title: str = SUMMARY_BY_KREIS,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write a workbook (streamed, write-only) to ``out``: one sheet per entry of ``sheets``
    (a frame or an iterable of frame chunks), then the ``summary`` sheet."""
    wb = Workbook(write_only=True)
    try:
        for title, frames in sheets.items():
            _write_sheet(wb, title, frames, progress)
        if summary is not None:
            _write_sheet(wb, summary_title, summary)
    except BaseException:
        _abort(wb)
        raise
    wb.save(out)


def _abort(wb: Workbook) -> None:
    """Close the half-written sheets of a failed export (their streaming writers and temporary
    files), so that nothing fails later when the workbook is garbage-collected."""
    for ws in wb.worksheets:
        with contextlib.suppress(Exception):
            if not ws.closed:
                ws.close()
            writer = getattr(ws, "_writer", None)
            if writer is not None:
                writer.cleanup()


def to_xlsx(
    sheets: Mapping[str, pd.DataFrame],
    summary: pd.DataFrame | None = None,
    *,
    summary_title: str = SUMMARY_BY_KREIS,
) -> bytes:
    """An XLSX workbook with one sheet per frame plus an optional summary sheet."""
    buffer = io.BytesIO()
    write_xlsx(buffer, sheets, summary, summary_title=summary_title)
    return buffer.getvalue()


def _spooled(write: Callable[[IO[bytes]], None], block: int = 1 << 16) -> Iterator[bytes]:
    """Run ``write`` into a spooled temporary file (memory up to 8 MiB, then disk) and yield it."""
    with tempfile.SpooledTemporaryFile(max_size=8 << 20) as tmp:
        write(tmp)  # type: ignore[arg-type]
        tmp.seek(0)
        while chunk := tmp.read(block):
            yield chunk


# --- files ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFile:
    """A file to download or write: name, MIME type and its bytes as chunks (lazy for the
    ledger, which streams from the database while the chunks are consumed)."""

    filename: str
    mimetype: str
    chunks: Iterator[bytes]


_SCOPE_BAD = re.compile(r"[^A-Za-z0-9_-]+")


def export_filename(kind: str, scope: str, fmt: str, *, now: datetime | None = None) -> str:
    """``<kind>-<scope>-<JJJJMMTT>T<HHMMSS>.<ext>`` (local time), e.g.
    ``ledger-2027-20261124T101500.csv``; the plain CSV ends in ``-plain.csv``."""
    _check_format(fmt)
    stamp = (as_utc(now) or utcnow()).astimezone(BERLIN).strftime("%Y%m%dT%H%M%S")
    safe_scope = _SCOPE_BAD.sub("_", scope).strip("_") or "alle"
    suffix = {"csv": ".csv", "csv-plain": "-plain.csv", "xlsx": ".xlsx", "json": ".json"}[fmt]
    return f"{kind}-{safe_scope}-{stamp}{suffix}"


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"Unbekanntes Format {fmt!r} (erlaubt: {', '.join(FORMATS)}).")


def ledger_scope(
    year: int | None = None, date_from: date | None = None, date_to: date | None = None
) -> str:
    """File-name scope of a ledger export: ``2027``, ``20270101-20270331``, ``alle`` …"""
    parts = [] if year is None else [str(year)]
    if date_from is not None or date_to is not None:
        parts.append(
            f"{date_from.strftime('%Y%m%d') if date_from else 'anfang'}-"
            f"{date_to.strftime('%Y%m%d') if date_to else 'ende'}"
        )
    return "-".join(parts) or "alle"


def iter_ledger_csv(
    year: int | None = None,
    fmt: str = "csv",
    chunk_rows: int = CHUNK_ROWS,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """Stream the ledger as CSV (``fmt`` ``csv`` = German, ``csv-plain``) in chunks of
    ``chunk_rows`` postings; ``progress`` gets the number of rows of each chunk."""
    if fmt not in ("csv", "csv-plain"):
        raise ValueError(f"iter_ledger_csv: kein CSV-Format: {fmt!r}")
    frames = iter_ledger_frames(year, date_from, date_to, chunk_rows=chunk_rows)
    yield from iter_csv(_reporting(frames, progress), german=fmt == "csv")


def iter_ledger_json(
    year: int | None = None,
    chunk_rows: int = CHUNK_ROWS,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """Stream the ledger as a JSON array in chunks of ``chunk_rows`` postings."""
    frames = iter_ledger_frames(year, date_from, date_to, chunk_rows=chunk_rows)
    yield from iter_json(_reporting(frames, progress))


def _reporting(
    frames: Iterable[pd.DataFrame], progress: Callable[[int], None] | None
) -> Iterator[pd.DataFrame]:
    for df in frames:
        yield df
        if progress is not None:
            progress(len(df))


def ledger_export(
    fmt: str,
    *,
    year: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    now: datetime | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[int], None] | None = None,
) -> ExportFile:
    """The ledger file in ``fmt``; CSV and JSON stream from the database, XLSX is written
    streamed into a spooled temporary file (sheet ``Hauptbuch …`` plus ``Summen je Konto``)."""
    name = export_filename("ledger", ledger_scope(year, date_from, date_to), fmt, now=now)
    chunks: Iterator[bytes]
    if fmt in ("csv", "csv-plain"):
        chunks = iter_ledger_csv(
            year, fmt, chunk_rows, date_from=date_from, date_to=date_to, progress=progress
        )
    elif fmt == "json":
        chunks = iter_ledger_json(
            year, chunk_rows, date_from=date_from, date_to=date_to, progress=progress
        )
    else:
        title = "Hauptbuch" + (f" {year}" if year is not None else "")

        def write(out: IO[bytes]) -> None:
            totals = account_totals_frame(year, date_from, date_to)
            frames = iter_ledger_frames(year, date_from, date_to, chunk_rows=chunk_rows)
            write_xlsx(
                out,
                {title: frames},
                totals,
                summary_title=SUMMARY_BY_ACCOUNT,
                progress=progress,
            )

        chunks = _spooled(write)
    logger.info("finance_export_ledger", extra={"format": fmt, "budget_year": year})
    return ExportFile(name, MIME_TYPES[fmt], chunks)


def render(
    df: pd.DataFrame,
    fmt: str,
    *,
    sheet_title: str,
    summary: pd.DataFrame | None = None,
    summary_title: str = SUMMARY_BY_KREIS,
) -> bytes:
    """One frame in ``fmt`` (the summary is used by XLSX only)."""
    _check_format(fmt)
    if fmt == "csv":
        return to_csv_de(df)
    if fmt == "csv-plain":
        return to_csv_plain(df)
    if fmt == "json":
        return to_json(df)
    return to_xlsx({sheet_title: df}, summary, summary_title=summary_title)


def monitoring_export(year: int, fmt: str, *, now: datetime | None = None) -> ExportFile:
    """The Haushaltsüberwachungsliste of ``year`` (R34); XLSX adds ``Zusammenfassung je
    Landkreis``."""
    _check_format(fmt)
    df = monitoring_frame(year)
    body = render(
        df,
        fmt,
        sheet_title=f"Überwachungsliste {year}",
        summary=monitoring_summary(df) if fmt == "xlsx" else None,
    )
    logger.info(
        "finance_export_monitoring", extra={"format": fmt, "budget_year": year, "rows": len(df)}
    )
    name = export_filename("monitoring", str(year), fmt, now=now)
    return ExportFile(name, MIME_TYPES[fmt], iter([body]))


def grant_export(kassenzeichen: str, fmt: str, *, now: datetime | None = None) -> ExportFile:
    """The account statement of the grant with ``kassenzeichen``; XLSX adds ``Summen je Konto``.

    :raises NotFound: unknown Kassenzeichen.
    """
    _check_format(fmt)
    application_id = application_id_for(kassenzeichen)
    df = grant_statement_frame(application_id)
    kz = kassenzeichen.strip()
    body = render(
        df,
        fmt,
        sheet_title=f"Kontoauszug {kz}",
        summary=account_totals_frame(application_id=application_id) if fmt == "xlsx" else None,
        summary_title=SUMMARY_BY_ACCOUNT,
    )
    logger.info(
        "finance_export_grant",
        extra={"format": fmt, "application_id": application_id, "rows": len(df)},
    )
    return ExportFile(export_filename("grant", kz, fmt, now=now), MIME_TYPES[fmt], iter([body]))
