"""Payout plan, bank accounts, payout orders (four eyes) and payment runs (R14–R17, R20, R31, R32).

Services flush, never commit; the route or CLI command owns the transaction. Status changes and
money counters use guarded UPDATEs so that double clicks, retries and concurrent users cannot pay
twice or more than the grant.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.auth import mfa
from app.auth import services as auth_services
from app.auth.models import Role, User
from app.common import programme as fcfg
from app.common.audit import record_event
from app.common.dates import runs_longer_than
from app.common.db import today, utcnow
from app.common.errors import DomainError, InvalidTransition, NotPermitted
from app.common.money import format_eur
from app.extensions import db
from app.finance import sepa
from app.finance.models import (
    BankAccount,
    BankAccountStatus,
    EntryKind,
    GrantAccount,
    Instalment,
    InstalmentKind,
    InstalmentStatus,
    OrderStatus,
    PaymentRun,
    PayoutOrder,
)
from app.finance.services import ledger
from app.grants.models import Application, Decision

logger = logging.getLogger(__name__)


def _rowcount(result: Any) -> int:
    """Rows matched by a guarded UPDATE (``CursorResult.rowcount``)."""
    return int(result.rowcount)


def ensure_finance(user: User) -> None:
    if not user.has_role(Role.FINANCE):
        raise NotPermitted(_l("Nur Haushalt und Kasse dürfen Auszahlungen bearbeiten."))


# --- payout plan (created at approval) -----------------------------------------------------------


@dataclass(frozen=True)
class PlannedInstalment:
    number: int
    kind: InstalmentKind
    percent: int
    amount_cents: int
    budget_year: int


def plan_instalments(decision: Decision) -> list[PlannedInstalment]:
    """The payout plan of a Bescheid (see ``split_plan``)."""
    return split_plan(
        decision.grant_cents,
        decision.period_start,
        decision.period_end,
        [y.year for y in decision.years],
    )


def split_plan(
    grant: int, period_start: date, period_end: date, payout_years: Sequence[int]
) -> list[PlannedInstalment]:
    """VVK 7.1/7.2, RL VI.6 — the one place for R15 (split) and R16 (reimbursement): each share
    rounded down, the last instalment takes the remainder. Also printed on the Bescheid."""
    years = sorted(payout_years) or [period_start.year]
    first_year, last_year = years[0], years[-1]
    if grant < fcfg.REIMBURSEMENT_LIMIT_CENTS:  # R16
        return [PlannedInstalment(1, InstalmentKind.REIMBURSEMENT, 100, grant, last_year)]
    long_running = runs_longer_than(period_start, period_end, fcfg.SPLIT_MIN_MONTHS)
    if grant > fcfg.SPLIT_THRESHOLD_CENTS and long_running:  # R15
        shares = [
            (InstalmentKind.FIRST, 40, first_year),
            (InstalmentKind.INTERIM, 25, years[1] if len(years) > 2 else first_year),
            (InstalmentKind.AFTER_VN, 25, last_year),
            (InstalmentKind.FINAL, 10, last_year),
        ]
    else:
        shares = [
            (InstalmentKind.FIRST, 40, first_year),
            (InstalmentKind.AFTER_VN, 50, last_year),
            (InstalmentKind.FINAL, 10, last_year),
        ]
    plan = [
        PlannedInstalment(n, kind, pct, grant * pct // 100, year)
        for n, (kind, pct, year) in enumerate(shares, start=1)
    ]
    remainder = grant - sum(p.amount_cents for p in plan)
    last = plan[-1]
    plan[-1] = PlannedInstalment(
        last.number, last.kind, last.percent, last.amount_cents + remainder, last.budget_year
    )
    return plan


def planned_by_year(plan: Sequence[PlannedInstalment]) -> dict[int, int]:
    """What a payout plan pays per budget year (years with a positive amount only)."""
    years: dict[int, int] = {}
    for item in plan:
        if item.amount_cents:
            years[item.budget_year] = years.get(item.budget_year, 0) + item.amount_cents
    return dict(sorted(years.items()))


def check_r12_years_match_plan(
    grant: int, period_start: date, period_end: date, years: Mapping[int, int]
) -> None:
    """R12: the amount committed per budget year must equal what the payout plan pays in that
    year — otherwise an instalment is paid from a year whose budget or VE never bound it.

    :raises DomainError: at ``years``, listing the plan's amounts for the chosen years.
    """
    expected = planned_by_year(split_plan(grant, period_start, period_end, list(years)))
    given = {year: amount for year, amount in sorted(years.items()) if amount}
    if given != expected:
        raise DomainError(
            _(
                "Die Beträge je Haushaltsjahr müssen dem Auszahlungsplan entsprechen (R12). "
                "Für die gewählten Jahre zahlt der Plan: %(plan)s.",
                plan="; ".join(f"{year}: {format_eur(cents)}" for year, cents in expected.items()),
            ),
            field="years",
            rule="R12",
        )


def create_payout_plan(decision: Decision, *, actor_id: int | None, posting_date: date) -> None:
    """At approval: grant account (R20 counter), instalments and the commitment ledger entries."""
    application = decision.application
    kz = decision.kassenzeichen or ""
    db.session.add(
        GrantAccount(
            application_id=application.id,
            kassenzeichen=kz,
            granted_cents=decision.grant_cents,
            ordered_cents=0,
        )
    )
    for item in plan_instalments(decision):
        db.session.add(
            Instalment(
                application_id=application.id,
                decision_id=decision.id,
                number=item.number,
                kind=item.kind,
                percent=item.percent,
                amount_cents=item.amount_cents,
                budget_year=item.budget_year,
                status=InstalmentStatus.PLANNED,
            )
        )
    for year in decision.years:
        ledger.post_entry(
            kind=EntryKind.APPROVAL,
            posting_date=posting_date,
            fiscal_year=year.year,
            description=f"Bewilligung {application.reference}",
            reference=kz,
            idempotency_key=f"approval-{decision.id}-{year.year}",
            lines=[
                ledger.Line(ledger.committed_account(kz), year.amount_cents, application.id),
                ledger.Line(ledger.budget_account(year.year), -year.amount_cents, application.id),
            ],
            actor_id=actor_id,
        )
    db.session.flush()


# --- project start (T9) and due instalments -------------------------------------------------------


def start_payments(application: Application, started_on: date) -> None:
    """The project started (T9): record the date and make the first instalment (and an interim
    one) due (R14). Reimbursement plans stay planned (R16). The grant's status is changed by
    the caller (``app.postaward.services.start``)."""
    db.session.execute(
        update(GrantAccount)
        .where(GrantAccount.application_id == application.id)
        .values(start_notified_on=started_on)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Instalment)
        .where(
            Instalment.application_id == application.id,
            Instalment.kind.in_([InstalmentKind.FIRST, InstalmentKind.INTERIM]),
            Instalment.status == InstalmentStatus.PLANNED,
        )
        .values(status=InstalmentStatus.DUE, due_since=today())
        .execution_options(synchronize_session=False)
    )


def mark_due(application: Application, kinds: Sequence[InstalmentKind]) -> int:
    """Make planned instalments of ``kinds`` due (after VN completeness or check, issue 7)."""
    result = db.session.execute(
        update(Instalment)
        .where(
            Instalment.application_id == application.id,
            Instalment.kind.in_(list(kinds)),
            Instalment.status == InstalmentStatus.PLANNED,
        )
        .values(status=InstalmentStatus.DUE, due_since=today())
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


def small_instalment_warning(instalment: Instalment) -> str | None:
    """R17: instalments below 10,000 EUR (VVK 7.5) — a warning or a refusal by configuration."""
    if instalment.amount_cents >= fcfg.MIN_INSTALMENT_CENTS:
        return None
    return f"Die Rate liegt unter {format_eur(fcfg.MIN_INSTALMENT_CENTS)} (Nr. 7.5 VVK)."


# --- bank accounts -------------------------------------------------------------------------------


def submit_bank_account(
    user: User, *, password: str, holder: str, iban: str, bic: str, second_factor: str = ""
) -> BankAccount:
    """The recipient enters a new account; needs the password again; pending until finance
    confirms it (payments use only confirmed accounts).

    :raises PasswordRejected: wrong password or locked account (field ``password``; the caller
        must commit so that the failure is counted);
    :raises SecondFactorRejected: the user has a second factor and the code is wrong (field
        ``totp``; the caller must commit as well);
    :raises DomainError: invalid IBAN/BIC.
    """
    if not user.has_role(Role.APPLICANT) or user.organisation_id is None:
        raise NotPermitted(
            _l("Nur Antragstellende einer Kommune können die Bankverbindung ändern.")
        )
    # Re-authentication counts failures like a login (the caller commits even on failure).
    auth_services.reauthenticate(user, password, field="password", reason="bank_account_change")
    if user.mfa_enabled:  # and with the second factor when the user has one (issue 14)
        mfa.step_up(user, second_factor, source=auth_services.REAUTH_SOURCE)
    try:
        iban_c = sepa.validate_iban(iban)
        bic_c = sepa.validate_bic(bic) if bic.strip() else ""
    except sepa.BankDetailError as exc:
        raise DomainError(str(exc), field="bic" if "BIC" in str(exc) else "iban") from exc
    # The holder is kept as typed ("Görlitz"); only the SEPA file transliterates it (sepa.py).
    holder_t = " ".join(holder.split())
    if not sepa.transliterate(holder_t).strip():
        raise DomainError(
            _l("Bitte geben Sie die Kontoinhaberin bzw. den Kontoinhaber an."), field="holder"
        )
    account = BankAccount(
        organisation_id=user.organisation_id,
        holder=holder_t[:70],
        iban=iban_c,
        bic=bic_c,
        status=BankAccountStatus.PENDING,
        entered_by_id=user.id,
    )
    db.session.add(account)
    db.session.flush()
    record_event(
        "bank_account_submitted",
        "organisation",
        user.organisation_id,
        actor_id=user.id,
        bank_account_id=account.id,
        iban_tail=iban_c[-4:],
    )
    return account


def confirm_bank_account(finance: User, account: BankAccount) -> None:
    """A finance user confirms a pending account; the previous confirmed one is superseded."""
    ensure_finance(finance)
    result = db.session.execute(
        update(BankAccount)
        .where(BankAccount.id == account.id, BankAccount.status == BankAccountStatus.PENDING)
        .values(
            status=BankAccountStatus.CONFIRMED, confirmed_by_id=finance.id, confirmed_at=utcnow()
        )
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        raise InvalidTransition(_l("Diese Bankverbindung wurde bereits bearbeitet."))
    db.session.execute(
        update(BankAccount)
        .where(
            BankAccount.organisation_id == account.organisation_id,
            BankAccount.id != account.id,
            BankAccount.status == BankAccountStatus.CONFIRMED,
        )
        .values(status=BankAccountStatus.SUPERSEDED)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(account)
    record_event(
        "bank_account_confirmed",
        "organisation",
        account.organisation_id,
        actor_id=finance.id,
        bank_account_id=account.id,
    )


def _settle_pending(account: BankAccount, status: BankAccountStatus, **values: object) -> None:
    """Race-safe: only a still pending account changes (conditional UPDATE)."""
    result = db.session.execute(
        update(BankAccount)
        .where(BankAccount.id == account.id, BankAccount.status == BankAccountStatus.PENDING)
        .values(status=status, **values)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        raise InvalidTransition("Diese Bankverbindung wurde bereits bearbeitet.")
    db.session.refresh(account)


def withdraw_bank_account(user: User, account: BankAccount) -> None:
    """The recipient takes back a pending account it entered by mistake (audited)."""
    if not user.has_role(Role.APPLICANT) or user.organisation_id != account.organisation_id:
        raise NotPermitted(
            "Nur Antragstellende der Kommune können diese Bankverbindung zurückziehen."
        )
    _settle_pending(account, BankAccountStatus.WITHDRAWN)
    record_event(
        "bank_account_withdrawn",
        "organisation",
        account.organisation_id,
        actor_id=user.id,
        bank_account_id=account.id,
    )


def reject_bank_account(finance: User, account: BankAccount, reason: str) -> None:
    """Finance refuses a pending account with a reason the recipient reads (audited)."""
    ensure_finance(finance)
    reason = reason.strip()
    if not reason:
        raise DomainError("Bitte geben Sie einen Grund für die Ablehnung an.", field="reason")
    _settle_pending(account, BankAccountStatus.REJECTED, rejection_reason=reason[:2000])
    record_event(
        "bank_account_rejected",
        "organisation",
        account.organisation_id,
        actor_id=finance.id,
        bank_account_id=account.id,
        reason=reason[:2000],
    )


def current_account(organisation_id: int) -> BankAccount | None:
    return db.session.execute(
        db.select(BankAccount).where(
            BankAccount.organisation_id == organisation_id,
            BankAccount.status == BankAccountStatus.CONFIRMED,
        )
    ).scalar_one_or_none()


# --- payout orders -------------------------------------------------------------------------------


def _end_to_end_id(kassenzeichen: str, instalment: Instalment) -> str:
    """R31: ``<KZ>-R<n>``; a re-issued order (after a cancellation or a returned transfer) gets
    ``-2``, ``-3`` … so that no EndToEndId is ever used for two transfers."""
    earlier = db.session.execute(
        db.select(func.count())
        .select_from(PayoutOrder)
        .where(PayoutOrder.instalment_id == instalment.id)
    ).scalar_one()
    base = sepa.end_to_end_id(kassenzeichen, instalment.number)
    return base if earlier == 0 else f"{base}-{earlier + 1}"


def prepare_order(finance: User, instalment: Instalment, *, idempotency_key: str) -> PayoutOrder:
    """Finance user A prepares the order for a due instalment.

    R14/R16: only due instalments (first: final + start notified; reimbursement: after a VN);
    R20: guarded increment of the grant's ordered total (never above the grant);
    R31: EndToEndId and remittance from the Kassenzeichen. A repeated request with the same
    idempotency key returns the first order — also when it arrives while the first one is still
    in flight: the writes run in a savepoint, and if a guard or the unique key refuses them, a
    concurrent request with the same key has won and its order is returned.
    """
    ensure_finance(finance)
    existing = _order_by_key(idempotency_key)
    if existing is not None:
        return _replay_order(existing, instalment)
    if instalment.status is not InstalmentStatus.DUE:
        raise InvalidTransition(_l("Diese Rate ist nicht zur Auszahlung fällig."))
    warning = small_instalment_warning(instalment)
    if warning and fcfg.SMALL_INSTALMENT_POLICY == "block":
        raise DomainError(warning + " Auszahlung nach Programmeinstellung nicht zulässig.")
    application = instalment.application
    account = current_account(application.organisation_id)
    if account is None:
        raise DomainError(_l("Für die Kommune ist keine bestätigte Bankverbindung hinterlegt."))
    grant = db.session.get(GrantAccount, application.id)
    if grant is None:
        raise DomainError(_l("Für diesen Antrag gibt es keine Bewilligung."))
    savepoint = db.session.begin_nested()
    try:
        order = _write_order(
            finance, instalment, grant, account, idempotency_key=idempotency_key, note=warning
        )
    except (DomainError, IntegrityError):
        # PostgreSQL, READ COMMITTED: a twin request with the same key may have committed
        # between our lookup and our writes (its guarded UPDATEs then refuse ours).
        savepoint.rollback()
        winner = _order_by_key(idempotency_key)
        if winner is None:
            raise
        return _replay_order(winner, instalment)
    savepoint.commit()
    return order


def _order_by_key(idempotency_key: str) -> PayoutOrder | None:
    return db.session.execute(
        db.select(PayoutOrder).where(PayoutOrder.idempotency_key == idempotency_key)
    ).scalar_one_or_none()


def _replay_order(existing: PayoutOrder, instalment: Instalment) -> PayoutOrder:
    if existing.instalment_id != instalment.id:
        raise DomainError(_l("Dieser Vorgang wurde bereits für eine andere Rate verwendet."))
    return existing


def _write_order(
    finance: User,
    instalment: Instalment,
    grant: GrantAccount,
    account: BankAccount,
    *,
    idempotency_key: str,
    note: str | None,
) -> PayoutOrder:
    """The writes of ``prepare_order``: R20 counter, instalment status, order, audit event."""
    application = instalment.application
    counter = db.session.execute(
        update(GrantAccount)
        .where(
            GrantAccount.application_id == application.id,
            GrantAccount.ordered_cents + instalment.amount_cents <= GrantAccount.granted_cents,
        )
        .values(ordered_cents=GrantAccount.ordered_cents + instalment.amount_cents)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(counter) != 1:  # R20
        raise DomainError(_l("Die Summe der Auszahlungen würde die Zuwendung übersteigen (R20)."))
    moved = db.session.execute(
        update(Instalment)
        .where(Instalment.id == instalment.id, Instalment.status == InstalmentStatus.DUE)
        .values(status=InstalmentStatus.ORDERED)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(moved) != 1:
        raise InvalidTransition(_l("Für diese Rate wurde inzwischen ein Auftrag angelegt."))
    kz = grant.kassenzeichen
    order = PayoutOrder(
        instalment_id=instalment.id,
        application_id=application.id,
        bank_account_id=account.id,
        amount_cents=instalment.amount_cents,
        status=OrderStatus.PREPARED,
        end_to_end_id=_end_to_end_id(kz, instalment),
        remittance=sepa.remittance(
            kz,
            application.reference or "",
            instalment.number,
            application.applicant_ags_at_submission or "",
        ),
        idempotency_key=idempotency_key,
        prepared_by_id=finance.id,
        note=note or "",
    )
    db.session.add(order)
    db.session.flush()
    db.session.refresh(instalment)
    record_event(
        "payout_order_prepared",
        "payout_order",
        order.id,
        actor_id=finance.id,
        application_id=application.id,
        amount_cents=order.amount_cents,
    )
    return order


class EarlyPayoutUnconfirmed(DomainError):
    """A payout before its budget year was not explicitly confirmed (``confirm_early``)."""


def payout_before_budget_year(order: PayoutOrder, on: date | None = None) -> str:
    """Issue 12 (F9): the warning shown when an instalment budgeted for a later year would be
    released (and paid) now — empty when the budget year has come."""
    year = (on or today()).year
    budget_year = order.instalment.budget_year
    if budget_year <= year:
        return ""
    return _(
        "Diese Rate ist im Haushaltsjahr %(budget)s veranschlagt, wird aber %(year)s "
        "ausgezahlt. Bitte bestätigen Sie die vorzeitige Auszahlung ausdrücklich.",
        budget=budget_year,
        year=year,
    )


def check_payout_before_budget_year(
    finance: User, order: PayoutOrder, on: date | None, *, confirmed: bool
) -> None:
    """Issue 12 (F9), warn with required confirmation: releasing an instalment budgeted for a
    later year needs ``confirmed``; a confirmed early release is audited.

    :raises EarlyPayoutUnconfirmed: at ``confirm_early``, with the warning.
    """
    warning = payout_before_budget_year(order, on)
    if not warning:
        return
    if not confirmed:
        raise EarlyPayoutUnconfirmed(warning, field="confirm_early")
    record_event(
        "payout_before_budget_year_confirmed",
        "payout_order",
        order.id,
        actor_id=finance.id,
        budget_year=order.instalment.budget_year,
        released_in=(on or today()).year,
        amount_cents=order.amount_cents,
    )


def release_order(
    finance: User, order: PayoutOrder, *, on: date | None = None, confirm_early: bool = False
) -> None:
    """Finance user B (not the preparer) releases the order; the payout is posted to the ledger.
    An instalment budgeted for a later year needs ``confirm_early`` (audited)."""
    ensure_finance(finance)
    if finance.id == order.prepared_by_id:
        raise NotPermitted(
            _l("Vier-Augen-Prinzip: Wer den Auftrag angelegt hat, darf ihn nicht freigeben.")
        )
    check_payout_before_budget_year(finance, order, on, confirmed=confirm_early)
    account = current_account(order.application.organisation_id)
    if account is None or account.id != order.bank_account_id:
        raise DomainError(
            _l("Die Bankverbindung hat sich geändert; bitte legen Sie den Auftrag neu an.")
        )
    result = db.session.execute(
        update(PayoutOrder)
        .where(PayoutOrder.id == order.id, PayoutOrder.status == OrderStatus.PREPARED)
        .values(status=OrderStatus.RELEASED, released_by_id=finance.id, released_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        raise InvalidTransition(_l("Dieser Auftrag wurde bereits freigegeben oder storniert."))
    db.session.refresh(order)
    instalment = order.instalment
    kz = db.session.get(GrantAccount, order.application_id).kassenzeichen  # type: ignore[union-attr]
    year = instalment.budget_year
    a = order.amount_cents
    ledger.post_entry(
        kind=EntryKind.PAYOUT,
        posting_date=on or today(),
        fiscal_year=year,
        description=f"Auszahlung Rate {instalment.number} {order.application.reference}",
        reference=order.end_to_end_id,
        idempotency_key=f"payout-{order.id}",
        lines=[
            ledger.Line(ledger.expense_account(year, kz), a, order.application_id),
            ledger.Line(ledger.payable_account(kz), -a, order.application_id),
            ledger.Line(ledger.budget_account(year), a, order.application_id),
            ledger.Line(ledger.committed_account(kz), -a, order.application_id),
        ],
        actor_id=finance.id,
    )
    record_event("payout_order_released", "payout_order", order.id, actor_id=finance.id)


def cancel_order(finance: User, order: PayoutOrder, reason: str) -> None:
    """Cancel a prepared or released order not yet in a payment run; a released one is reversed
    in the ledger; the instalment becomes due again and the R20 counter is released."""
    ensure_finance(finance)
    if not reason.strip():
        raise DomainError(_l("Bitte geben Sie einen Grund an."), field="reason")
    was_released = order.status is OrderStatus.RELEASED
    result = db.session.execute(
        update(PayoutOrder)
        .where(
            PayoutOrder.id == order.id,
            PayoutOrder.status.in_([OrderStatus.PREPARED, OrderStatus.RELEASED]),
            PayoutOrder.payment_run_id.is_(None),
        )
        .values(status=OrderStatus.CANCELLED, note=reason.strip())
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        raise InvalidTransition(_l("Dieser Auftrag kann nicht mehr storniert werden."))
    db.session.execute(
        update(GrantAccount)
        .where(GrantAccount.application_id == order.application_id)
        .values(ordered_cents=GrantAccount.ordered_cents - order.amount_cents)
        .execution_options(synchronize_session=False)
    )
    _undo_order(order, was_released=was_released, reason=reason.strip(), actor_id=finance.id)
    db.session.refresh(order)
    record_event(
        "payout_order_cancelled",
        "payout_order",
        order.id,
        actor_id=finance.id,
        reason=reason.strip(),
    )


def _undo_order(order: PayoutOrder, *, was_released: bool, reason: str, actor_id: int) -> None:
    """After an order was cancelled: its instalment is due again, and a released order's payout
    posting is reversed in the ledger (append-only: a reversal entry)."""
    db.session.execute(
        update(Instalment)
        .where(Instalment.id == order.instalment_id)
        .values(status=InstalmentStatus.DUE)
        .execution_options(synchronize_session=False)
    )
    if was_released:
        entry = db.session.execute(
            db.select(ledger.JournalEntry).where(
                ledger.JournalEntry.idempotency_key == f"payout-{order.id}"
            )
        ).scalar_one()
        ledger.post_reversal(entry, posting_date=today(), reason=reason, actor_id=actor_id)


def cancel_unsent_orders(actor: User, application_id: int, reason: str) -> int:
    """Cancel every order of the grant that has not gone to the bank (prepared, or released but
    not in a payment run): released ones are reversed in the ledger, their instalments become
    due again (a following reduction cancels them) and the R20 counter is recomputed. Guarded
    per order, so a payment run taking an order at the same time wins and the order stays paid.
    Returns how many were cancelled. Used when the recipient renounces the grant (T22)."""
    orders = (
        db.session.execute(
            db.select(PayoutOrder)
            .where(
                PayoutOrder.application_id == application_id,
                PayoutOrder.status.in_([OrderStatus.PREPARED, OrderStatus.RELEASED]),
                PayoutOrder.payment_run_id.is_(None),
            )
            .order_by(PayoutOrder.id)
        )
        .scalars()
        .all()
    )
    cancelled = 0
    for order in orders:
        was_released = order.status is OrderStatus.RELEASED
        result = db.session.execute(
            update(PayoutOrder)
            .where(
                PayoutOrder.id == order.id,
                PayoutOrder.status == order.status,
                PayoutOrder.payment_run_id.is_(None),
            )
            .values(status=OrderStatus.CANCELLED, note=reason)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result) != 1:
            continue
        cancelled += 1
        _undo_order(order, was_released=was_released, reason=reason, actor_id=actor.id)
        record_event(
            "payout_order_cancelled", "payout_order", order.id, actor_id=actor.id, reason=reason
        )
    ordered = db.session.execute(
        db.select(func.coalesce(func.sum(PayoutOrder.amount_cents), 0)).where(
            PayoutOrder.application_id == application_id,
            PayoutOrder.status.in_(
                [
                    OrderStatus.PREPARED,
                    OrderStatus.RELEASED,
                    OrderStatus.IN_RUN,
                    OrderStatus.RECONCILED,
                ]
            ),
        )
    ).scalar_one()
    db.session.execute(
        update(GrantAccount)
        .where(GrantAccount.application_id == application_id)
        .values(ordered_cents=ordered)
        .execution_options(synchronize_session=False)
    )
    return cancelled


# --- payment runs --------------------------------------------------------------------------------


def new_msg_id(execution_date: date) -> str:
    """A unique MsgId (≤ 35 chars; never reused — unique constraint as backstop)."""
    return f"KP{execution_date:%Y%m%d}{uuid.uuid4().hex[:20].upper()}"


def create_payment_run(
    finance: User, *, execution_date: date, now: datetime | None = None
) -> PaymentRun:
    """Collect all released orders not yet in a run into one pain.001 file (validated against
    the XSD before it is stored); each order can be in at most one run (guarded UPDATE).

    :raises DomainError: nothing to pay or a concurrent run took some orders.
    """
    ensure_finance(finance)
    if execution_date < today():
        raise DomainError(
            _l("Das Ausführungsdatum darf nicht in der Vergangenheit liegen."),
            field="execution_date",
        )
    orders: Sequence[PayoutOrder] = (
        db.session.execute(
            db.select(PayoutOrder)
            .where(PayoutOrder.status == OrderStatus.RELEASED, PayoutOrder.payment_run_id.is_(None))
            .options(selectinload(PayoutOrder.bank_account))  # one statement, not one per order
            .order_by(PayoutOrder.id)
        )
        .scalars()
        .all()
    )
    if not orders:
        raise DomainError(_l("Es gibt keine freigegebenen Auszahlungsaufträge."))
    cfg = current_app.config
    msg_id = new_msg_id(execution_date)
    created = now or utcnow()
    transfers = [
        sepa.Transfer(
            end_to_end_id=o.end_to_end_id,
            creditor_name=o.bank_account.holder,
            creditor_iban=o.bank_account.iban,
            creditor_bic=o.bank_account.bic or None,
            amount_cents=o.amount_cents,
            remittance=o.remittance,
        )
        for o in orders
    ]
    xml = sepa.build_pain001(
        msg_id=msg_id,
        created_at=created,
        execution_date=execution_date,
        debtor_name=cfg["DEBTOR_NAME"],
        debtor_iban=cfg["DEBTOR_IBAN"],
        debtor_bic=cfg.get("DEBTOR_BIC") or None,
        payments=transfers,
        schema=fcfg.PAIN_SCHEMA,
    )
    run = PaymentRun(
        msg_id=msg_id,
        execution_date=execution_date,
        schema=fcfg.PAIN_SCHEMA,
        nb_of_txs=len(orders),
        ctrl_sum_cents=sum(o.amount_cents for o in orders),
        xml=xml,
        sha256=hashlib.sha256(xml).hexdigest(),
        created_by_id=finance.id,
        created_at=created,
    )
    db.session.add(run)
    db.session.flush()
    ids = [o.id for o in orders]
    moved = db.session.execute(
        update(PayoutOrder)
        .where(
            PayoutOrder.id.in_(ids),
            PayoutOrder.status == OrderStatus.RELEASED,
            PayoutOrder.payment_run_id.is_(None),
        )
        .values(status=OrderStatus.IN_RUN, payment_run_id=run.id)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(moved) != len(ids):
        raise DomainError(
            _l(
                "Ein anderer Zahlungslauf hat gleichzeitig Aufträge übernommen; bitte "
                "erneut versuchen."
            )
        )
    db.session.execute(
        update(Instalment)
        .where(Instalment.id.in_([o.instalment_id for o in orders]))
        .values(status=InstalmentStatus.PAID)
        .execution_options(synchronize_session=False)
    )
    record_event(
        "payment_run_created",
        "payment_run",
        run.id,
        actor_id=finance.id,
        msg_id=msg_id,
        nb_of_txs=run.nb_of_txs,
        ctrl_sum_cents=run.ctrl_sum_cents,
    )
    logger.info("payment_run_created", extra={"payment_run_id": run.id, "count": len(ids)})
    return run
