"""Read side of the API: cursor pages with the UI's visibility rules (one statement per page
plus eager loads)."""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from app.api.models import ApiIdempotency
from app.auth.models import Role, User
from app.budget.models import BudgetYear
from app.extensions import db
from app.finance.models import BankStatement, Instalment, JournalEntry, PaymentRun, StatementLine
from app.grants.models import Application, ApplicationEvent, Decision, Status
from app.opendata import giving
from app.orgs.models import Organisation, OrgKind
from app.postaward.models import ProofOfUse

T = TypeVar("T")


class BadCursor(ValueError):
    """The ``cursor`` query value was not issued by this API."""


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The id after which the page starts (0 for the first page)."""
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise BadCursor(cursor) from exc
    kind, _sep, value = raw.partition(":")
    if kind != "id" or not value.isascii() or not value.isdigit() or len(value) > 10:
        raise BadCursor(cursor)
    return int(value)


@dataclass(frozen=True)
class Page:
    items: Sequence[Any]
    next_cursor: str | None


def _page(stmt: Select[Any], id_column: Any, cursor: str | None, limit: int) -> Page:
    after = decode_cursor(cursor)
    rows = (
        db.session.execute(stmt.where(id_column > after).order_by(id_column).limit(limit + 1))
        .scalars()
        .all()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1].id) if more and rows else None)


def organisations(kind: OrgKind | None, cursor: str | None, limit: int) -> Page:
    stmt = select(Organisation)
    if kind is not None:
        stmt = stmt.where(Organisation.kind == kind)
    return _page(stmt, Organisation.id, cursor, limit)


def organisation(organisation_id: int) -> Organisation | None:
    return db.session.get(Organisation, organisation_id)


def _visible_applications(user: User) -> Select[Any]:
    """Applications ``user`` may see in the UI: all for ministry staff, else the own
    organisation's (nothing without one)."""
    stmt = select(Application)
    if user.is_ministry:
        return stmt
    if user.has_role(Role.APPLICANT) and user.organisation_id is not None:
        return stmt.where(Application.organisation_id == user.organisation_id)
    return stmt.where(Application.id.is_(None))


def applications(
    user: User, status: Status | None, funding_year: int | None, cursor: str | None, limit: int
) -> Page:
    stmt = _visible_applications(user)
    if status is not None:
        stmt = stmt.where(Application.status == status)
    if funding_year is not None:
        stmt = stmt.where(Application.funding_year == funding_year)
    return _page(stmt, Application.id, cursor, limit)


def application(user: User, application_id: int) -> Application | None:
    return db.session.execute(
        _visible_applications(user)
        .where(Application.id == application_id)
        .options(selectinload(Application.lines))
    ).scalar_one_or_none()


def events(user: User, application: Application) -> Sequence[ApplicationEvent]:
    """Status history; internal notes only for ministry staff (as in the UI)."""
    stmt = select(ApplicationEvent).where(ApplicationEvent.application_id == application.id)
    if not user.is_ministry:
        stmt = stmt.where(ApplicationEvent.internal.is_(False))
    return db.session.execute(stmt.order_by(ApplicationEvent.id)).scalars().all()


@dataclass(frozen=True)
class DecisionView:
    decision: Decision
    instalments: Sequence[Instalment]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.decision, name)


def decisions(application: Application) -> list[DecisionView]:
    """Decisions of an application with their payout plan (years) and instalments."""
    rows = (
        db.session.execute(
            select(Decision)
            .where(Decision.application_id == application.id)
            .options(selectinload(Decision.years))
            .order_by(Decision.id)
        )
        .scalars()
        .all()
    )
    instalments = (
        db.session.execute(
            select(Instalment)
            .where(Instalment.application_id == application.id)
            .order_by(Instalment.number, Instalment.id)
        )
        .scalars()
        .all()
    )
    return [DecisionView(d, [i for i in instalments if i.decision_id == d.id]) for d in rows]


def budget_years() -> Sequence[BudgetYear]:
    return db.session.execute(select(BudgetYear).order_by(BudgetYear.year)).scalars().all()


def budget_year(year: int) -> BudgetYear | None:
    return db.session.get(BudgetYear, year)


def journal_entries(cursor: str | None, limit: int) -> Page:
    stmt = select(JournalEntry).options(selectinload(JournalEntry.postings))
    return _page(stmt, JournalEntry.id, cursor, limit)


def journal_entry(entry_id: int) -> JournalEntry | None:
    return db.session.execute(
        select(JournalEntry)
        .where(JournalEntry.id == entry_id)
        .options(selectinload(JournalEntry.postings))
    ).scalar_one_or_none()


def payment_runs(cursor: str | None, limit: int) -> Page:
    return _page(select(PaymentRun), PaymentRun.id, cursor, limit)


def payment_run(run_id: int) -> PaymentRun | None:
    return db.session.get(PaymentRun, run_id)


@dataclass(frozen=True)
class StatementView:
    statement: BankStatement
    reconciliation: dict[str, int]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.statement, name)


def _reconciliation(statement_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, Counter[str]] = {i: Counter() for i in statement_ids}
    if statement_ids:
        rows = db.session.execute(
            select(StatementLine.statement_id, StatementLine.match_status, func.count())
            .where(StatementLine.statement_id.in_(statement_ids))
            .group_by(StatementLine.statement_id, StatementLine.match_status)
        ).all()
        for statement_id, state, number in rows:
            counts[statement_id][str(state.value)] = int(number)
    return {k: dict(v) for k, v in counts.items()}


def statements(cursor: str | None, limit: int) -> Page:
    page = _page(select(BankStatement), BankStatement.id, cursor, limit)
    states = _reconciliation([s.id for s in page.items])
    return Page([StatementView(s, states[s.id]) for s in page.items], page.next_cursor)


def statement(statement_id: int) -> StatementView | None:
    row = db.session.execute(
        select(BankStatement)
        .where(BankStatement.id == statement_id)
        .options(selectinload(BankStatement.lines))
    ).scalar_one_or_none()
    if row is None:
        return None
    return StatementView(row, _reconciliation([row.id])[row.id])


def programme_figures() -> list[dict[str, int]]:
    """Public figures per funding year from the published (360Giving) grants: number of awarded,
    not revoked grants and their sum after reductions."""
    totals: dict[int, list[int]] = {}
    for grant in giving.awarded_grants():
        if grant.status != "awarded":
            continue
        entry = totals.setdefault(grant.funding_year, [0, 0])
        entry[0] += 1
        entry[1] += grant.amount_cents
    return [
        {"funding_year": year, "grants": n, "awarded_cents": cents}
        for year, (n, cents) in sorted(totals.items())
    ]


def proofs(application: Application) -> Sequence[ProofOfUse]:
    """Proof-of-use versions of an application, newest first (status only; one statement)."""
    return (
        db.session.execute(
            select(ProofOfUse)
            .where(ProofOfUse.application_id == application.id)
            .order_by(ProofOfUse.version.desc())
        )
        .scalars()
        .all()
    )


def idempotency_record(user_id: int, key: str) -> ApiIdempotency | None:
    """The stored response of ``user_id``'s earlier request with this ``Idempotency-Key``."""
    return db.session.execute(
        db.select(ApiIdempotency).where(
            ApiIdempotency.user_id == user_id, ApiIdempotency.key == key
        )
    ).scalar_one_or_none()
