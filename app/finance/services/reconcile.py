"""Bank statement import (camt.053) and reconciliation against payout orders (R33).

Matching, in this order, exact cents only — never a guess:
1. ``EndToEndId`` equals the order's EndToEndId;
2. otherwise the Kassenzeichen appears in the remittance text and exactly one open order of that
   grant has the amount;
3. otherwise exactly one open order has the amount and the counterparty IBAN.
Several candidates → "ambiguous", none → "unmatched": both go to the review queue where a finance
user assigns or explains the line. A match posts the bank entry to the ledger (idempotent per
order) and marks the order reconciled; a returned transfer reopens its order. A statement is
identified by account + statement id + sequence number and by its file hash: importing it again
changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, update

from app.auth.models import User
from app.common.audit import record_event
from app.common.cleaning import visible_text
from app.common.db import today, utcnow
from app.common.errors import DomainError, InvalidTransition
from app.common.formatting import iban as format_iban
from app.common.labels import N_, register_stored
from app.common.money import format_eur
from app.extensions import db
from app.finance import camt
from app.finance.models import (
    BankAccount,
    BankStatement,
    ClaimStatus,
    EntryKind,
    GrantAccount,
    Instalment,
    InstalmentStatus,
    MatchRule,
    MatchStatus,
    OrderStatus,
    PaymentRun,
    PayoutOrder,
    RecoveryClaim,
    StatementLine,
)
from app.finance.services import claims as claim_service
from app.finance.services import ledger
from app.finance.services.payouts import ensure_finance

logger = logging.getLogger(__name__)

_KZ = re.compile(r"KP-\d{4}-\d{4,}")

# Reconciliation hints stored on a statement line: German in the database, shown in the UI
# language through the ``stored`` filter (issue 11).
NOTE_NOT_BOOKED = N_("nicht gebucht")
NOTE_BATCH_UNCLEAR = N_("Sammelbuchung ohne passende Einzelbeträge – bitte prüfen.")
NOTE_E2E_AMOUNT = N_(
    "Ende-zu-Ende-Referenz %(e2e)s gefunden, aber Betrag %(amount)s statt %(expected)s."
)
NOTE_E2E_STATUS = N_(
    "Ende-zu-Ende-Referenz %(e2e)s gehört zu einem Auftrag im Status „%(status)s“."
)
NOTE_NO_ORDER = N_("Kein passender Auszahlungsauftrag gefunden.")
NOTE_AMBIGUOUS = N_("%(n)s mögliche Aufträge – bitte manuell zuordnen.")
NOTE_RECEIPT_NO_CLAIM = N_("Zahlungseingang ohne eindeutige offene Rückforderung – bitte prüfen.")
NOTE_RECEIPT_NO_KZ = N_("Zahlungseingang ohne Kassenzeichen – bitte prüfen.")
NOTE_PART_PAYMENT = N_("Teilzahlung auf %(kz)s: %(paid)s von %(principal)s – bitte prüfen.")
NOTE_CLAIM_REFUSED = N_("Rückforderung %(kz)s: %(reason)s – bitte prüfen.")
NOTE_CLAIM_PAID = N_("Rückforderung %(kz)s")
NOTE_CLAIM_INTEREST_OPEN = N_("Rückforderung %(kz)s – Zinsen noch offen")
NOTE_RETURN_NO_ORDER = N_("Rücküberweisung ohne passenden Auftrag – bitte prüfen.")
NOTE_RETURNED = N_("Rücküberweisung: Rate wieder fällig.")
NOTE_REVERSAL_NO_ORDER = N_(
    "Storno der Bank ohne eindeutigen abgeglichenen Auftrag – bitte prüfen."
)
NOTE_CANCELLED_BY_REVERSAL = N_("durch Storno der Bank aufgehoben")
NOTE_REVERSED = N_("Storno der Bank: Auftrag wieder offen.")
register_stored(
    NOTE_NOT_BOOKED,
    NOTE_BATCH_UNCLEAR,
    NOTE_E2E_AMOUNT,
    NOTE_E2E_STATUS,
    NOTE_NO_ORDER,
    NOTE_AMBIGUOUS,
    NOTE_RECEIPT_NO_CLAIM,
    NOTE_RECEIPT_NO_KZ,
    NOTE_PART_PAYMENT,
    NOTE_CLAIM_REFUSED,
    NOTE_CLAIM_PAID,
    NOTE_CLAIM_INTEREST_OPEN,
    NOTE_RETURN_NO_ORDER,
    NOTE_RETURNED,
    NOTE_REVERSAL_NO_ORDER,
    NOTE_CANCELLED_BY_REVERSAL,
    NOTE_REVERSED,
)
#: Order states as named in a hint (German; the UI labels live in the templates).
ORDER_STATUS_DE = {
    OrderStatus.PREPARED: N_("vorbereitet"),
    OrderStatus.RELEASED: N_("freigegeben"),
    OrderStatus.IN_RUN: N_("an Bank übergeben"),
    OrderStatus.RECONCILED: N_("durch Kontoauszug bestätigt"),
    OrderStatus.RETURNED: N_("zurückgekommen"),
    OrderStatus.CANCELLED: N_("storniert"),
}


class StatementRejected(DomainError):
    """The file cannot be imported (German message for the upload field)."""


@dataclass(frozen=True)
class ZeroBooking:
    """A statement entry of 0,00 € that was read but not stored (nothing to reconcile)."""

    statement_ref: str
    line_no: int
    entry_ref: str
    booking_date: date | None


@dataclass
class ImportResult:
    statements: list[BankStatement] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # statement ids already imported
    matched: int = 0
    open: int = 0
    #: recovery claims this import settled in full; closing their grants (T21) is the caller's
    #: business (``app.postaward.services.settlement``).
    settled_claims: list[RecoveryClaim] = field(default_factory=list)
    #: zero-amount bookings (e.g. a charge-free notice): not stored, reported to the clerk
    #: (issue 14, finding 5) as "statement id, entry reference or line number, booking date".
    zero_amount: list[ZeroBooking] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return sum(len(s.lines) for s in self.statements)


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


# --- import --------------------------------------------------------------------------------------


def import_statement(user: User, data: bytes, filename: str) -> ImportResult:
    """Parse, store and auto-match a camt.053 file (.001.08 or .001.02).

    :raises StatementRejected: hostile, broken, oversized or unsupported files (nothing stored).
    """
    ensure_finance(user)
    try:
        statements = camt.parse_statement(data)
    except camt.CamtError as exc:
        raise StatementRejected(str(exc), field="file") from exc
    _ensure_own_account(statements)
    _ensure_not_future(statements)
    digest = camt.file_sha256(data)
    result = ImportResult()
    for parsed in statements:
        fingerprint = camt.statement_fingerprint(parsed)
        exists = db.session.execute(
            db.select(BankStatement.id).where(BankStatement.fingerprint == fingerprint)
        ).first()
        if exists:
            result.duplicates.append(parsed.statement_id)
            continue
        statement = BankStatement(
            fingerprint=fingerprint,
            file_sha256=digest,
            filename=visible_text(filename)[:255],
            message_version=getattr(parsed, "message_version", "") or "camt.053",
            account_iban=parsed.account_iban or "",
            statement_ref=parsed.statement_id[:35],
            electronic_seq_nb=parsed.electronic_seq_nb,
            from_date=parsed.from_date,
            to_date=parsed.to_date,
            opening_balance_cents=parsed.opening_balance_cents,
            closing_balance_cents=parsed.closing_balance_cents,
            imported_by_id=user.id,
        )
        db.session.add(statement)
        line_no = 0
        for entry in parsed.entries:
            for tx in entry.transactions:
                line_no += 1
                booked = entry.status in ("BOOK", None, "")
                # A batch transaction without its own amount keeps the entry amount and goes to
                # the review queue (never matched automatically).
                amount = tx.amount_cents if tx.amount_cents is not None else entry.amount_cents
                if not amount:  # e.g. a charge-free notice: reconciles nothing, but is reported
                    result.zero_amount.append(
                        ZeroBooking(
                            parsed.statement_id[:35],
                            line_no,
                            (entry.entry_ref or "")[:35],
                            entry.booking_date,
                        )
                    )
                    continue
                unclear = tx.amount_cents is None or bool(getattr(entry, "split_mismatch", False))
                note = "" if booked else NOTE_NOT_BOOKED
                if booked and unclear:
                    note = NOTE_BATCH_UNCLEAR
                db.session.add(
                    StatementLine(
                        statement=statement,
                        line_no=line_no,
                        entry_ref=(entry.entry_ref or "")[:35],
                        booking_date=entry.booking_date,
                        value_date=entry.value_date,
                        amount_cents=abs(amount),
                        credit_debit=entry.credit_debit,
                        reversal=entry.reversal,
                        is_return=tx.is_return,
                        status=entry.status or "BOOK",
                        end_to_end_id=(tx.end_to_end_id or None) and tx.end_to_end_id[:35],
                        remittance=tx.remittance or "",
                        counterparty_name=(tx.counterparty_name or "")[:140],
                        counterparty_iban=(tx.counterparty_iban or "")[:34],
                        match_status=MatchStatus.UNMATCHED if booked else MatchStatus.IGNORED,
                        note=note,
                    )
                )
        db.session.flush()
        result.statements.append(statement)
        ref = parsed.statement_id[:35]
        record_event(
            "bank_statement_imported",
            "bank_statement",
            statement.id,
            actor_id=user.id,
            fingerprint=fingerprint,
            lines=line_no,
            zero_amount_lines=[z.line_no for z in result.zero_amount if z.statement_ref == ref],
        )
    for statement in result.statements:
        # Debits (our payouts) first, then credits (returns), then reversals.
        ordered = sorted(
            statement.lines, key=lambda ln: (ln.reversal, ln.credit_debit != "DBIT", ln.line_no)
        )
        by_e2e = _orders_by_end_to_end(
            ln.end_to_end_id
            for ln in ordered
            if ln.end_to_end_id and ln.credit_debit == "DBIT" and not ln.reversal
        )
        for line in ordered:
            if line.match_status is MatchStatus.UNMATCHED and not line.note:
                auto_match(line, actor_id=user.id, by_e2e=by_e2e, settled=result.settled_claims)
        result.matched += sum(1 for ln in statement.lines if ln.match_status is MatchStatus.MATCHED)
        result.open += sum(
            1
            for ln in statement.lines
            if ln.match_status in (MatchStatus.UNMATCHED, MatchStatus.AMBIGUOUS)
        )
    if not result.statements and not result.duplicates:
        raise StatementRejected(_l("Die Datei enthält keinen Kontoauszug."), field="file")
    return result


# --- matching ------------------------------------------------------------------------------------


def _ensure_own_account(statements: Sequence[Any]) -> None:
    """Only statements of the state cash office's account (``DEBTOR_IBAN``) are reconciled: a
    foreign account's statement would match nothing or, worse, by amount (issue 11)."""
    own = (current_app.config.get("DEBTOR_IBAN") or "").replace(" ", "").upper()
    if not own:
        return
    for parsed in statements:
        iban = (parsed.account_iban or "").replace(" ", "").upper()
        if iban != own:
            shown = format_iban(iban) if iban else "(ohne IBAN)"
            raise StatementRejected(
                _l(
                    "Der Kontoauszug betrifft das Konto %(shown)s, nicht das Konto der "
                    "Landeskasse (%(own)s). Es wurde nichts importiert.",
                    shown=shown,
                    own=format_iban(own),
                ),
                field="file",
            )


def _ensure_not_future(statements: Sequence[Any]) -> None:
    """A bank statement reports what has been booked: a period or booking date after today (Berlin)
    is a wrong or test file, never a real statement (issue 11)."""
    now = today()
    for parsed in statements:
        dates = [parsed.to_date] + [e.booking_date for e in parsed.entries if e.status == "BOOK"]
        future = [d for d in dates if d is not None and d > now]
        if future:
            raise StatementRejected(
                _l(
                    "Der Kontoauszug %(statement_id)s enthält Daten nach dem heutigen Tag "
                    "(%(y)s). Ein Kontoauszug kann nur Gebuchtes enthalten; es wurde nichts "
                    "importiert.",
                    statement_id=parsed.statement_id,
                    y=max(future).strftime("%d.%m.%Y"),
                ),
                field="file",
            )


def _orders(*conditions: Any) -> list[PayoutOrder]:
    return list(db.session.execute(db.select(PayoutOrder).where(*conditions)).scalars())


#: EndToEndIds per ``IN`` query of the batched lookup (far below the bind-parameter limits).
E2E_CHUNK = 1_000


def _orders_by_end_to_end(ids: Iterable[str]) -> dict[str, list[PayoutOrder]]:
    """The orders of many EndToEndIds, one ``IN`` query per ``E2E_CHUNK`` ids; every id asked
    for is a key (an empty list: no order has it)."""
    wanted = sorted(set(ids))
    found: dict[str, list[PayoutOrder]] = {e2e: [] for e2e in wanted}
    for start in range(0, len(wanted), E2E_CHUNK):
        chunk = wanted[start : start + E2E_CHUNK]
        for order in _orders(PayoutOrder.end_to_end_id.in_(chunk)):
            found[order.end_to_end_id].append(order)
    return found


def candidates(
    line: StatementLine, *, by_e2e: Mapping[str, list[PayoutOrder]] | None = None
) -> tuple[list[PayoutOrder], MatchRule | None, str]:
    """R33: orders a booked debit line could belong to, the rule that found them, and a note.

    ``by_e2e``: orders already looked up by EndToEndId (``_orders_by_end_to_end``); a line whose
    EndToEndId is not a key is looked up on its own.
    """
    open_status = PayoutOrder.status == OrderStatus.IN_RUN
    if line.end_to_end_id:
        if by_e2e is not None and line.end_to_end_id in by_e2e:
            by_id = by_e2e[line.end_to_end_id]
        else:
            by_id = _orders(PayoutOrder.end_to_end_id == line.end_to_end_id)
        if by_id:
            exact = [
                o
                for o in by_id
                if o.amount_cents == line.amount_cents and o.status is OrderStatus.IN_RUN
            ]
            if exact:
                return exact, MatchRule.END_TO_END, ""
            order = by_id[0]
            if order.amount_cents != line.amount_cents:
                return (
                    [],
                    None,
                    NOTE_E2E_AMOUNT
                    % {
                        "e2e": line.end_to_end_id,
                        "amount": format_eur(line.amount_cents),
                        "expected": format_eur(order.amount_cents),
                    },
                )
            return (
                [],
                None,
                NOTE_E2E_STATUS
                % {"e2e": line.end_to_end_id, "status": ORDER_STATUS_DE[order.status]},
            )
    kassenzeichen = set(_KZ.findall(line.remittance or ""))
    if kassenzeichen:
        found = _orders(
            open_status,
            PayoutOrder.amount_cents == line.amount_cents,
            PayoutOrder.application_id.in_(
                db.select(GrantAccount.application_id).where(
                    GrantAccount.kassenzeichen.in_(sorted(kassenzeichen))
                )
            ),
        )
        if found:
            return found, MatchRule.KASSENZEICHEN, ""
    if line.counterparty_iban:
        found = _orders(
            open_status,
            PayoutOrder.amount_cents == line.amount_cents,
            PayoutOrder.bank_account_id.in_(
                db.select(BankAccount.id).where(BankAccount.iban == line.counterparty_iban)
            ),
        )
        if found:
            return found, MatchRule.AMOUNT_IBAN, ""
    return [], None, NOTE_NO_ORDER


def auto_match(
    line: StatementLine,
    *,
    actor_id: int | None,
    by_e2e: Mapping[str, list[PayoutOrder]] | None = None,
    settled: list[RecoveryClaim] | None = None,
) -> None:
    """Match one line automatically, or leave it in the review queue with a note.
    ``by_e2e``: see ``candidates``; recovery claims paid in full are appended to ``settled``."""
    if line.reversal:
        _match_reversal(line, actor_id=actor_id)
        return
    if line.credit_debit == "CRDT":
        if line.is_return:
            _match_return(line, actor_id=actor_id)
        else:
            claim = _match_recovery(line, actor_id=actor_id)
            if claim is not None and settled is not None:
                settled.append(claim)
        return
    found, rule, note = candidates(line, by_e2e=by_e2e)
    if len(found) == 1 and rule is not None:
        _confirm(line, found[0], rule, actor_id=actor_id)
    elif len(found) > 1:
        line.match_status = MatchStatus.AMBIGUOUS
        line.note = NOTE_AMBIGUOUS % {"n": len(found)}
    else:
        line.note = note


def bank_value_date(line: StatementLine) -> date:
    """Issue 12 (F9): money moves on the bank's value date, so a bank entry is posted on it and
    booked in *its* fiscal year (a payout valued 31.12. but booked 04.01. belongs to the old
    year); without a value date the booking date, without both today."""
    return line.value_date or line.booking_date or today()


def _confirm(
    line: StatementLine, order: PayoutOrder, rule: MatchRule, *, actor_id: int | None
) -> None:
    """Mark the order reconciled and post the bank entry (idempotent per order)."""
    moved = db.session.execute(
        update(PayoutOrder)
        .where(PayoutOrder.id == order.id, PayoutOrder.status == OrderStatus.IN_RUN)
        .values(status=OrderStatus.RECONCILED)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(moved) != 1:
        raise InvalidTransition(_l("Der Auftrag ist bereits abgeglichen."))
    kz = db.session.get(GrantAccount, order.application_id).kassenzeichen  # type: ignore[union-attr]
    valued = bank_value_date(line)
    ledger.post_entry(
        kind=EntryKind.BANK,
        posting_date=valued,
        fiscal_year=valued.year,
        description=f"Kontoauszug: Auszahlung {order.end_to_end_id}",
        reference=order.end_to_end_id,
        idempotency_key=f"bank-order-{order.id}",
        lines=[
            ledger.Line(ledger.payable_account(kz), order.amount_cents, order.application_id),
            ledger.Line(ledger.BANK_ACCOUNT, -order.amount_cents, order.application_id),
        ],
        actor_id=actor_id,
    )
    line.match_status = MatchStatus.MATCHED
    line.match_rule = rule
    line.matched_order_id = order.id
    line.note = ""
    db.session.refresh(order)


_CLAIM_KZ = re.compile(r"KP-\d{4}-\d{4,}-RF\d+")


def _match_recovery(line: StatementLine, *, actor_id: int | None) -> RecoveryClaim | None:
    """An incoming payment naming a recovery claim's Kassenzeichen in the remittance text
    (refunds rarely carry our EndToEndId): booked on the claim, in full or in part (T21, R27,
    R33). Returns the claim when it is paid in full."""
    found = set(_CLAIM_KZ.findall(line.remittance or ""))
    claims = list(
        db.session.execute(
            db.select(RecoveryClaim).where(
                RecoveryClaim.kassenzeichen.in_(sorted(found)),
                RecoveryClaim.status == ClaimStatus.OPEN,
            )
        ).scalars()
    )
    if len(claims) != 1:
        line.note = NOTE_RECEIPT_NO_CLAIM if found else NOTE_RECEIPT_NO_KZ
        return None
    claim = claims[0]
    # A partial payment is booked as such (costs → interest → principal, § 367 BGB); more than
    # is open is refused by the claim service and left for review.
    actor = db.session.get(User, actor_id) if actor_id else None
    try:
        with db.session.begin_nested():
            paid_in_full = claim_service.record_payment(
                actor, claim, paid_on=line.booking_date or today(), paid_cents=line.amount_cents
            )
    except DomainError as exc:  # e.g. no base rate yet for the payment's half-year
        line.note = NOTE_CLAIM_REFUSED % {"kz": claim.kassenzeichen, "reason": exc.message}
        return None
    line.match_status = MatchStatus.MATCHED
    line.match_rule = MatchRule.KASSENZEICHEN
    line.note = NOTE_CLAIM_PAID % {"kz": claim.kassenzeichen}
    if not paid_in_full:
        line.note += f" – Teilzahlung, noch offen: {format_eur(claim.open_cents)}"
        return None
    return claim


def _match_return(line: StatementLine, *, actor_id: int | None) -> None:
    """A returned transfer: the order becomes RETURNED, its instalment due again, the R20
    counter released, and the ledger reverses the payout (money back in the bank)."""
    orders = _orders(PayoutOrder.end_to_end_id == line.end_to_end_id) if line.end_to_end_id else []
    order = orders[0] if orders else None
    if (
        order is None
        or order.amount_cents != line.amount_cents
        or order.status not in (OrderStatus.IN_RUN, OrderStatus.RECONCILED)
    ):
        line.note = NOTE_RETURN_NO_ORDER
        return
    was_reconciled = order.status is OrderStatus.RECONCILED
    db.session.execute(
        update(PayoutOrder)
        .where(PayoutOrder.id == order.id)
        .values(status=OrderStatus.RETURNED)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Instalment)
        .where(Instalment.id == order.instalment_id)
        .values(status=InstalmentStatus.DUE)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(GrantAccount)
        .where(GrantAccount.application_id == order.application_id)
        .values(ordered_cents=GrantAccount.ordered_cents - order.amount_cents)
        .execution_options(synchronize_session=False)
    )
    grant = db.session.get(GrantAccount, order.application_id)
    kz = grant.kassenzeichen  # type: ignore[union-attr]
    year = order.instalment.budget_year
    a = order.amount_cents
    cash = ledger.BANK_ACCOUNT if was_reconciled else ledger.payable_account(kz)
    valued = bank_value_date(line)
    ledger.post_entry(
        kind=EntryKind.REVERSAL,
        posting_date=valued,
        fiscal_year=valued.year,
        description=f"Rücküberweisung {order.end_to_end_id}",
        reference=order.end_to_end_id,
        idempotency_key=f"return-order-{order.id}",
        lines=[
            ledger.Line(cash, a, order.application_id),
            ledger.Line(ledger.expense_account(year, kz), -a, order.application_id),
            ledger.Line(ledger.committed_account(kz), a, order.application_id),
            ledger.Line(ledger.budget_account(year), -a, order.application_id),
        ],
        actor_id=actor_id,
    )
    line.match_status = MatchStatus.MATCHED
    line.match_rule = MatchRule.RETURN
    line.matched_order_id = order.id
    line.note = NOTE_RETURNED
    record_event(
        "payout_returned", "payout_order", order.id, actor_id=actor_id, statement_line_id=line.id
    )


def _match_reversal(line: StatementLine, *, actor_id: int | None) -> None:
    """The bank reversed an earlier booking of one of our payouts: undo its reconciliation."""
    orders = (
        _orders(
            PayoutOrder.end_to_end_id == line.end_to_end_id,
            PayoutOrder.status == OrderStatus.RECONCILED,
        )
        if line.end_to_end_id
        else []
    )
    if len(orders) != 1 or orders[0].amount_cents != line.amount_cents:
        line.note = NOTE_REVERSAL_NO_ORDER
        return
    order = orders[0]
    entry = db.session.execute(
        db.select(ledger.JournalEntry).where(
            ledger.JournalEntry.idempotency_key == f"bank-order-{order.id}"
        )
    ).scalar_one_or_none()
    if entry is not None:
        ledger.post_reversal(
            entry,
            posting_date=line.booking_date or today(),
            reason="Storno der Bank",
            actor_id=actor_id,
        )
    db.session.execute(
        update(PayoutOrder)
        .where(PayoutOrder.id == order.id)
        .values(status=OrderStatus.IN_RUN)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(StatementLine)
        .where(
            StatementLine.matched_order_id == order.id,
            StatementLine.match_rule.notin_([MatchRule.RETURN, MatchRule.REVERSAL]),
        )
        .values(match_status=MatchStatus.EXPLAINED, note=NOTE_CANCELLED_BY_REVERSAL)
        .execution_options(synchronize_session=False)
    )
    line.match_status = MatchStatus.MATCHED
    line.match_rule = MatchRule.REVERSAL
    line.matched_order_id = order.id
    line.note = NOTE_REVERSED


# --- review queue --------------------------------------------------------------------------------


def assign_line(user: User, line: StatementLine, order: PayoutOrder) -> None:
    """A finance user assigns an open debit line to an order in a sent run (exact cents only)."""
    ensure_finance(user)
    if line.match_status not in (MatchStatus.UNMATCHED, MatchStatus.AMBIGUOUS):
        raise InvalidTransition(_l("Diese Buchung ist bereits erledigt."))
    if line.credit_debit != "DBIT" or line.reversal:
        raise DomainError(_l("Nur Belastungen können Auszahlungsaufträgen zugeordnet werden."))
    if order.amount_cents != line.amount_cents:
        raise DomainError(
            _l(
                "Der Betrag stimmt nicht überein (%(amount_cents)s gegenüber "
                "%(amount_cents_2)s); es wird nur centgenau zugeordnet.",
                amount_cents=format_eur(line.amount_cents),
                amount_cents_2=format_eur(order.amount_cents),
            ),
            field="order",
        )
    if order.status is not OrderStatus.IN_RUN:
        raise DomainError(
            _l("Der Auftrag ist nicht an die Bank übergeben oder bereits abgeglichen."),
            field="order",
        )
    _confirm(line, order, MatchRule.MANUAL, actor_id=user.id)
    line.resolved_by_id, line.resolved_at = user.id, utcnow()
    record_event(
        "statement_line_assigned", "statement_line", line.id, actor_id=user.id, order_id=order.id
    )


def explain_line(user: User, line: StatementLine, text: str) -> None:
    """A finance user explains an open line (nothing is posted)."""
    ensure_finance(user)
    if not text.strip():
        raise DomainError(_l("Bitte geben Sie eine Erläuterung ein."), field="text")
    if line.match_status not in (MatchStatus.UNMATCHED, MatchStatus.AMBIGUOUS):
        raise InvalidTransition(_l("Diese Buchung ist bereits erledigt."))
    line.match_status = MatchStatus.EXPLAINED
    line.note = text.strip()
    line.resolved_by_id, line.resolved_at = user.id, utcnow()
    record_event("statement_line_explained", "statement_line", line.id, actor_id=user.id)


def open_lines(limit: int = 200) -> Sequence[StatementLine]:
    from sqlalchemy.orm import selectinload

    return (
        db.session.execute(
            db.select(StatementLine)
            .where(StatementLine.match_status.in_([MatchStatus.UNMATCHED, MatchStatus.AMBIGUOUS]))
            .options(selectinload(StatementLine.statement))
            .order_by(StatementLine.booking_date, StatementLine.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )


def assignable_orders(line: StatementLine) -> Sequence[PayoutOrder]:
    """Orders in a sent run with exactly the line's amount (for the manual assignment)."""
    from sqlalchemy.orm import selectinload

    return (
        db.session.execute(
            db.select(PayoutOrder)
            .where(
                PayoutOrder.status == OrderStatus.IN_RUN,
                PayoutOrder.amount_cents == line.amount_cents,
            )
            .options(selectinload(PayoutOrder.application))
            .order_by(PayoutOrder.id)
        )
        .scalars()
        .all()
    )


# --- reports -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementReport:
    lines: int
    matched: int
    open: int
    explained: int
    ignored: int
    debit_cents: int
    credit_cents: int
    matched_cents: int


def statement_report(statement: BankStatement) -> StatementReport:
    rows = db.session.execute(
        db.select(
            StatementLine.match_status,
            StatementLine.credit_debit,
            func.count(),
            func.coalesce(func.sum(StatementLine.amount_cents), 0),
        )
        .where(StatementLine.statement_id == statement.id)
        .group_by(StatementLine.match_status, StatementLine.credit_debit)
    ).all()
    counts: dict[MatchStatus, int] = {}
    debit = credit = matched_cents = 0
    for status, cd, n, cents in rows:
        counts[status] = counts.get(status, 0) + int(n)
        if cd == "DBIT":
            debit += int(cents)
        else:
            credit += int(cents)
        if status is MatchStatus.MATCHED:
            matched_cents += int(cents)
    return StatementReport(
        lines=sum(counts.values()),
        matched=counts.get(MatchStatus.MATCHED, 0),
        open=counts.get(MatchStatus.UNMATCHED, 0) + counts.get(MatchStatus.AMBIGUOUS, 0),
        explained=counts.get(MatchStatus.EXPLAINED, 0),
        ignored=counts.get(MatchStatus.IGNORED, 0),
        debit_cents=debit,
        credit_cents=credit,
        matched_cents=matched_cents,
    )


def stale_orders(days: int, on: date | None = None) -> Sequence[PayoutOrder]:
    """Orders sent to the bank more than ``days`` ago and still not confirmed by a statement."""
    limit_day = (on or today()) - timedelta(days=days)
    return (
        db.session.execute(
            db.select(PayoutOrder)
            .join(PaymentRun, PaymentRun.id == PayoutOrder.payment_run_id)
            .where(
                PayoutOrder.status == OrderStatus.IN_RUN,
                or_(PaymentRun.execution_date <= limit_day),
            )
            .order_by(PaymentRun.execution_date, PayoutOrder.id)
        )
        .scalars()
        .all()
    )


def year_report(year: int) -> dict[str, int]:
    """Per budget year: sent, reconciled, returned and open sums (cents) of payout orders."""
    rows = db.session.execute(
        db.select(
            PayoutOrder.status, func.count(), func.coalesce(func.sum(PayoutOrder.amount_cents), 0)
        )
        .join(Instalment, Instalment.id == PayoutOrder.instalment_id)
        .where(Instalment.budget_year == year)
        .group_by(PayoutOrder.status)
    ).all()
    report = {f"{status.value}_count": int(n) for status, n, _ in rows}
    report.update({f"{status.value}_cents": int(c) for status, _, c in rows})
    return report
