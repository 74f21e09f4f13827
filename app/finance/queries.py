"""Read-only queries for the finance pages (eager loading; constant statements per page)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func
from sqlalchemy.orm import defer, selectinload

from app.common.security import parse_id
from app.extensions import db
from app.finance.models import (
    BankAccount,
    BankAccountStatus,
    BankStatement,
    ClaimStatus,
    GrantAccount,
    Instalment,
    InstalmentStatus,
    MatchStatus,
    OrderStatus,
    PaymentRun,
    PayoutOrder,
    RecoveryClaim,
    StatementLine,
)
from app.grants.models import Application


def due_instalments(limit: int = 200) -> Sequence[Instalment]:
    return (
        db.session.execute(
            db.select(Instalment)
            .where(Instalment.status == InstalmentStatus.DUE)
            .options(selectinload(Instalment.application).selectinload(Application.organisation))
            .order_by(Instalment.due_since, Instalment.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )


def orders_with_status(status: OrderStatus, limit: int = 200) -> Sequence[PayoutOrder]:
    return (
        db.session.execute(
            db.select(PayoutOrder)
            .where(PayoutOrder.status == status)
            .options(
                selectinload(PayoutOrder.application).selectinload(Application.organisation),
                selectinload(PayoutOrder.instalment),
                selectinload(PayoutOrder.prepared_by),
                selectinload(PayoutOrder.released_by),
                selectinload(PayoutOrder.bank_account),
            )
            .order_by(PayoutOrder.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )


def recent_runs(limit: int = 20) -> Sequence[PaymentRun]:
    return (
        db.session.execute(
            db.select(PaymentRun)
            .options(defer(PaymentRun.xml), selectinload(PaymentRun.created_by))
            .order_by(PaymentRun.id.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )


def payment_run_by_ref(ref: str) -> PaymentRun | None:
    """A payment run by its number or its MsgId (``flask finance payment-run-file``)."""
    number = parse_id(ref)
    condition = PaymentRun.id == number if number is not None else PaymentRun.msg_id == ref[:35]
    return db.session.execute(db.select(PaymentRun).where(condition)).scalar_one_or_none()


def pending_accounts() -> Sequence[BankAccount]:
    return (
        db.session.execute(
            db.select(BankAccount)
            .where(BankAccount.status == BankAccountStatus.PENDING)
            .options(selectinload(BankAccount.organisation), selectinload(BankAccount.entered_by))
            .order_by(BankAccount.id)
        )
        .scalars()
        .all()
    )


def has_usable_account(organisation_id: int | None) -> bool:
    """True when the organisation has a confirmed account or one waiting for confirmation."""
    if organisation_id is None:
        return False
    found = db.session.execute(
        db.select(BankAccount.id)
        .where(
            BankAccount.organisation_id == organisation_id,
            BankAccount.status.in_([BankAccountStatus.CONFIRMED, BankAccountStatus.PENDING]),
        )
        .limit(1)
    ).first()
    return found is not None


def accounts_of(organisation_id: int) -> Sequence[BankAccount]:
    return (
        db.session.execute(
            db.select(BankAccount)
            .where(BankAccount.organisation_id == organisation_id)
            .order_by(BankAccount.id.desc())
        )
        .scalars()
        .all()
    )


def instalments_of(application_id: int) -> Sequence[Instalment]:
    return (
        db.session.execute(
            db.select(Instalment)
            .where(Instalment.application_id == application_id)
            .order_by(Instalment.number)
        )
        .scalars()
        .all()
    )


def bank_confirmations(application_id: int) -> dict[int, date]:
    """Instalment id → booking date of the bank statement line that confirmed its payout (the
    order is RECONCILED): the instalment is then shown as paid, not only as sent (issue 11)."""
    rows = db.session.execute(
        db.select(PayoutOrder.instalment_id, func.max(StatementLine.booking_date))
        .join(StatementLine, StatementLine.matched_order_id == PayoutOrder.id)
        .where(
            PayoutOrder.application_id == application_id,
            PayoutOrder.status == OrderStatus.RECONCILED,
            StatementLine.match_status == MatchStatus.MATCHED,
        )
        .group_by(PayoutOrder.instalment_id)
    ).all()
    return {instalment_id: booked for instalment_id, booked in rows if booked is not None}


def run_confirmations(run_ids: Sequence[int]) -> dict[int, int]:
    """Payment run id → number of its orders confirmed by a bank statement (one statement)."""
    if not run_ids:
        return {}
    rows = db.session.execute(
        db.select(PayoutOrder.payment_run_id, func.count())
        .where(
            PayoutOrder.payment_run_id.in_(list(run_ids)),
            PayoutOrder.status == OrderStatus.RECONCILED,
        )
        .group_by(PayoutOrder.payment_run_id)
    ).all()
    return {int(run_id): int(count) for run_id, count in rows}


def grant_account(application_id: int) -> GrantAccount | None:
    return db.session.get(GrantAccount, application_id)


def claims_of(application_id: int) -> Sequence[RecoveryClaim]:
    return (
        db.session.execute(
            db.select(RecoveryClaim)
            .where(RecoveryClaim.application_id == application_id)
            .order_by(RecoveryClaim.id)
        )
        .scalars()
        .all()
    )


def open_claims() -> Sequence[RecoveryClaim]:
    return (
        db.session.execute(
            db.select(RecoveryClaim)
            .where(RecoveryClaim.status == ClaimStatus.OPEN)
            .options(selectinload(RecoveryClaim.application).selectinload(Application.organisation))
            .order_by(RecoveryClaim.due_on)
        )
        .scalars()
        .all()
    )


def dashboard() -> dict[str, object]:
    """Everything the finance dashboard lists (a fixed number of statements)."""
    runs = recent_runs()
    return {
        "due": due_instalments(),
        "prepared": orders_with_status(OrderStatus.PREPARED),
        "released": orders_with_status(OrderStatus.RELEASED),
        "runs": runs,
        "run_confirmed": run_confirmations([r.id for r in runs]),
        "accounts": pending_accounts(),
        "claims": open_claims(),
    }


def recent_statements(limit: int = 50) -> Sequence[BankStatement]:
    return (
        db.session.execute(
            db.select(BankStatement)
            .options(selectinload(BankStatement.imported_by))
            .order_by(BankStatement.id.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )


def statement_lines(statement_id: int) -> Sequence[StatementLine]:
    return (
        db.session.execute(
            db.select(StatementLine)
            .where(StatementLine.statement_id == statement_id)
            .options(selectinload(StatementLine.matched_order))
            .order_by(StatementLine.line_no)
        )
        .scalars()
        .all()
    )
