"""Finance models: bank accounts of recipients, the payout plan (instalments), payout orders,
payment runs (pain.001) and the append-only double-entry ledger (journal entries + postings).

Money is integer cents. The ledger tables are append-only (database triggers refuse UPDATE and
DELETE); a correction is a reversal entry (``reverses_id``). Only ``app.finance.services.ledger``
writes the ledger.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.common.db import Cents, TimestampMixin, enum_type, utcnow
from app.extensions import Model, db
from app.grants.models import Application, Decision
from app.orgs.models import Organisation

# --- bank accounts ------


class BankAccountStatus(enum.StrEnum):
    PENDING = "pending"  # entered by the recipient, not yet confirmed by finance
    CONFIRMED = "confirmed"  # confirmed by a finance user: payments may use it
    SUPERSEDED = "superseded"  # replaced by a newer confirmed account
    REJECTED = "rejected"


class BankAccount(TimestampMixin, Model):
    """The account an organisation wants its grant paid to (IBAN validated with schwifty)."""

    __tablename__ = "bank_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    holder: Mapped[str] = mapped_column(String(70))
    iban: Mapped[str] = mapped_column(String(34))
    bic: Mapped[str] = mapped_column(String(11), default="")
    status: Mapped[BankAccountStatus] = mapped_column(enum_type(BankAccountStatus), index=True)
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    confirmed_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship()
    entered_by: Mapped[User] = relationship(foreign_keys=[entered_by_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])


# --- payout plan ------


class InstalmentKind(enum.StrEnum):
    """VVK 7.1/7.2, RL VI.6: which instalment of the payout plan."""

    FIRST = "first"  # 40 % after finality + start notice (R14)
    INTERIM = "interim"  # 25 % interim for grants > 150,000 EUR and > 1 year (R15)
    AFTER_VN = "after_vn"  # 50 % (or 25 %) after complete proof of use (R18)
    FINAL = "final"  # 10 % after the check of the proof of use (R19)
    REIMBURSEMENT = "reimbursement"  # Erstattungsverfahren < 20,000 EUR (R16)


class InstalmentStatus(enum.StrEnum):
    PLANNED = "planned"  # condition not yet met
    DUE = "due"  # condition met: finance may prepare an order
    ORDERED = "ordered"  # an open payout order exists
    PAID = "paid"  # sent to the bank (confirmed by reconciliation later)
    CANCELLED = "cancelled"  # e.g. reduced to zero by a recalculation


class Instalment(TimestampMixin, Model):
    """One instalment of the payout plan of an approved grant."""

    __tablename__ = "instalment"
    __table_args__ = (
        UniqueConstraint("decision_id", "number", name="uq_instalment_decision_id_number"),
        CheckConstraint("amount_cents >= 0", name="amount_nonneg"),
        CheckConstraint("number >= 1 AND number <= 9", name="number_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id"), index=True)
    number: Mapped[int]
    kind: Mapped[InstalmentKind] = mapped_column(enum_type(InstalmentKind))
    percent: Mapped[int]
    amount_cents: Mapped[Cents]
    budget_year: Mapped[int]
    status: Mapped[InstalmentStatus] = mapped_column(enum_type(InstalmentStatus), index=True)
    due_since: Mapped[date | None]

    application: Mapped[Application] = relationship()
    decision: Mapped[Decision] = relationship()


class GrantAccount(Model):
    """Per approved grant: granted (possibly reduced) and ordered totals (R20).

    ``ordered_cents`` is raised by a guarded UPDATE when a payout order is prepared; the CHECK
    ``ordered_cents <= granted_cents`` is the database's backstop, so two racing orders cannot pay
    more than the grant.
    """

    __tablename__ = "grant_account"
    __table_args__ = (
        CheckConstraint("granted_cents >= 0", name="granted_nonneg"),
        CheckConstraint("ordered_cents >= 0", name="ordered_nonneg"),
        CheckConstraint("ordered_cents <= granted_cents", name="ordered_le_granted"),
    )

    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id"), primary_key=True, autoincrement=False
    )
    kassenzeichen: Mapped[str] = mapped_column(String(40), unique=True)
    granted_cents: Mapped[Cents]
    ordered_cents: Mapped[Cents] = mapped_column(default=0)
    start_notified_on: Mapped[date | None]


# --- payout orders and payment runs ------


class OrderStatus(enum.StrEnum):
    PREPARED = "prepared"  # prepared by finance user A
    RELEASED = "released"  # released by finance user B (four eyes)
    IN_RUN = "in_run"  # part of a payment run file (sent to bank)
    RECONCILED = "reconciled"  # confirmed by a bank statement
    RETURNED = "returned"  # returned by the bank
    CANCELLED = "cancelled"


class PaymentRun(Model):
    """A SEPA credit-transfer file (pain.001.001.09) with its released orders. Immutable."""

    __tablename__ = "payment_run"
    __table_args__ = (
        CheckConstraint("nb_of_txs > 0", name="txs_positive"),
        CheckConstraint("ctrl_sum_cents > 0", name="sum_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    msg_id: Mapped[str] = mapped_column(String(35), unique=True)
    execution_date: Mapped[date]
    schema: Mapped[str] = mapped_column(String(40))
    nb_of_txs: Mapped[int]
    ctrl_sum_cents: Mapped[Cents]
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    created_by: Mapped[User] = relationship()


class PayoutOrder(TimestampMixin, Model):
    """An order to pay one instalment; four eyes between preparer and releaser."""

    __tablename__ = "payout_order"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint(
            "released_by_id IS NULL OR released_by_id <> prepared_by_id", name="four_eyes"
        ),
        Index(
            "uq_payout_order_open_instalment",
            "instalment_id",
            unique=True,
            sqlite_where=db.text("status <> 'cancelled' AND status <> 'returned'"),
            postgresql_where=db.text("status <> 'cancelled' AND status <> 'returned'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instalment_id: Mapped[int] = mapped_column(ForeignKey("instalment.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_account.id"))
    amount_cents: Mapped[Cents]
    status: Mapped[OrderStatus] = mapped_column(enum_type(OrderStatus), index=True)
    end_to_end_id: Mapped[str] = mapped_column(String(35), unique=True)
    remittance: Mapped[str] = mapped_column(String(140))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    prepared_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    released_at: Mapped[datetime | None]
    payment_run_id: Mapped[int | None] = mapped_column(ForeignKey("payment_run.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")

    instalment: Mapped[Instalment] = relationship()
    application: Mapped[Application] = relationship()
    bank_account: Mapped[BankAccount] = relationship()
    prepared_by: Mapped[User] = relationship(foreign_keys=[prepared_by_id])
    released_by: Mapped[User | None] = relationship(foreign_keys=[released_by_id])
    payment_run: Mapped[PaymentRun | None] = relationship()


# --- ledger ------


class EntryKind(enum.StrEnum):
    APPROVAL = "approval"  # commitment of a grant per payout year
    PAYOUT = "payout"  # released payout order: expense against payable
    BANK = "bank"  # bank statement confirms the payment (reconciliation)
    RECOVERY = "recovery"  # receivable from a revocation
    RECEIPT = "receipt"  # incoming payment of a receivable
    REVERSAL = "reversal"  # correction of an earlier entry


class JournalEntry(Model):
    """A balanced booking: two or more postings whose amounts sum to zero. Append-only."""

    __tablename__ = "journal_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EntryKind] = mapped_column(enum_type(EntryKind), index=True)
    posting_date: Mapped[date] = mapped_column(index=True)
    fiscal_year: Mapped[int] = mapped_column(index=True)
    description: Mapped[str] = mapped_column(String(300))
    reference: Mapped[str] = mapped_column(String(60), index=True)  # Kassenzeichen, EndToEndId …
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    postings: Mapped[list[Posting]] = relationship(
        back_populates="entry", order_by="Posting.id", lazy="selectin"
    )


class Posting(Model):
    """One line of a journal entry: signed amount (debit > 0, credit < 0) on an account."""

    __tablename__ = "posting"
    __table_args__ = (CheckConstraint("amount_cents <> 0", name="amount_nonzero"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entry.id"), index=True)
    account: Mapped[str] = mapped_column(String(120), index=True)
    amount_cents: Mapped[Cents]
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"), index=True)

    entry: Mapped[JournalEntry] = relationship(back_populates="postings")


# --- bank statements and reconciliation (camt.053) ---------------------------------------------


class MatchStatus(enum.StrEnum):
    MATCHED = "matched"  # assigned to exactly one payout order (auto or manual)
    UNMATCHED = "unmatched"  # nothing found: review queue
    AMBIGUOUS = "ambiguous"  # several candidates: review queue
    EXPLAINED = "explained"  # a finance user explained it (no posting)
    IGNORED = "ignored"  # not relevant (e.g. pending status, other currency)


class MatchRule(enum.StrEnum):
    END_TO_END = "end_to_end"  # R33 step 1
    KASSENZEICHEN = "kassenzeichen"  # R33 step 2
    AMOUNT_IBAN = "amount_iban"  # R33 step 3
    MANUAL = "manual"
    RETURN = "return"  # returned transfer reopened its order
    REVERSAL = "reversal"  # bank reversed an earlier booking


class BankStatement(Model):
    """An imported camt.053 statement; identified by account + statement id + sequence number
    (``fingerprint``) and by the file hash, so importing it again changes nothing (R33)."""

    __tablename__ = "bank_statement"

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    message_version: Mapped[str] = mapped_column(String(40))
    account_iban: Mapped[str] = mapped_column(String(34), index=True)
    statement_ref: Mapped[str] = mapped_column(String(35))
    electronic_seq_nb: Mapped[str | None] = mapped_column(String(20))
    from_date: Mapped[date | None]
    to_date: Mapped[date | None]
    opening_balance_cents: Mapped[Cents | None]
    closing_balance_cents: Mapped[Cents | None]
    imported_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)

    imported_by: Mapped[User] = relationship()
    lines: Mapped[list[StatementLine]] = relationship(
        back_populates="statement", order_by="StatementLine.line_no"
    )


class StatementLine(Model):
    """One booked transaction of a statement (batch entries are split into several lines)."""

    __tablename__ = "statement_line"
    __table_args__ = (
        UniqueConstraint("statement_id", "line_no", name="uq_statement_line_statement_id_line_no"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        Index(
            "uq_statement_line_matched_order",
            "matched_order_id",
            unique=True,
            sqlite_where=db.text(
                "match_status = 'matched' AND match_rule <> 'return' AND match_rule <> 'reversal'"
            ),
            postgresql_where=db.text(
                "match_status = 'matched' AND match_rule <> 'return' AND match_rule <> 'reversal'"
            ),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("bank_statement.id"), index=True)
    line_no: Mapped[int]
    entry_ref: Mapped[str] = mapped_column(String(35), default="")
    booking_date: Mapped[date | None] = mapped_column(index=True)
    value_date: Mapped[date | None]
    amount_cents: Mapped[Cents]
    credit_debit: Mapped[str] = mapped_column(String(4))
    reversal: Mapped[bool] = mapped_column(default=False)
    is_return: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(10), default="BOOK")
    end_to_end_id: Mapped[str | None] = mapped_column(String(35), index=True)
    remittance: Mapped[str] = mapped_column(Text, default="")
    counterparty_name: Mapped[str] = mapped_column(String(140), default="")
    counterparty_iban: Mapped[str] = mapped_column(String(34), default="")
    match_status: Mapped[MatchStatus] = mapped_column(enum_type(MatchStatus), index=True)
    match_rule: Mapped[MatchRule | None] = mapped_column(enum_type(MatchRule))
    matched_order_id: Mapped[int | None] = mapped_column(ForeignKey("payout_order.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolved_at: Mapped[datetime | None]

    statement: Mapped[BankStatement] = relationship(back_populates="lines")
    matched_order: Mapped[PayoutOrder | None] = relationship()
    resolved_by: Mapped[User | None] = relationship()


# --- recovery and interest ------------------------------------------------------------------------


class BaseRate(Model):
    """Basiszinssatz (§ 247 BGB) from ``valid_from``, in basis points (may be negative).
    Reference data maintained by an admin; never hard-coded in the calculation (R27)."""

    __tablename__ = "base_rate"

    valid_from: Mapped[date] = mapped_column(primary_key=True)
    rate_bp: Mapped[int]
    source: Mapped[str] = mapped_column(String(300))


class ClaimStatus(enum.StrEnum):
    OPEN = "open"
    PAID = "paid"
    WAIVED = "waived"  # documented waiver (VVK 8.6) or below thresholds


class RecoveryClaim(TimestampMixin, Model):
    """A refund claim from a (partial) revocation, with its own Kassenzeichen (R31)."""

    __tablename__ = "recovery_claim"
    __table_args__ = (
        CheckConstraint("principal_cents > 0", name="principal_positive"),
        CheckConstraint("interest_cents >= 0", name="interest_nonneg"),
        CheckConstraint(
            "principal_paid_cents >= 0 AND principal_paid_cents <= principal_cents",
            name="principal_paid_range",
        ),
        CheckConstraint(
            "interest_paid_cents >= 0 AND interest_paid_cents <= interest_cents",
            name="interest_paid_range",
        ),
        CheckConstraint(
            "costs_paid_cents >= 0 AND costs_paid_cents <= costs_cents", name="costs_paid_range"
        ),
        CheckConstraint("dunning_level BETWEEN 0 AND 3", name="dunning_level_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    kassenzeichen: Mapped[str] = mapped_column(String(40), unique=True)
    principal_cents: Mapped[Cents]
    interest_cents: Mapped[Cents] = mapped_column(default=0)
    effective_from: Mapped[date]  # the date the Bescheid lost effect (interest starts, R27)
    due_on: Mapped[date]
    status: Mapped[ClaimStatus] = mapped_column(enum_type(ClaimStatus), index=True)
    reasons: Mapped[str] = mapped_column(Text)
    paid_on: Mapped[date | None]
    paid_cents: Mapped[Cents | None]
    waiver_reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Partial payments (R27, § 367 BGB): what each payment settled, in the order costs →
    # interest → principal; ``paid_cents`` is the running total of all payments.
    costs_cents: Mapped[Cents] = mapped_column(default=0, server_default="0")
    costs_paid_cents: Mapped[Cents] = mapped_column(default=0, server_default="0")
    interest_paid_cents: Mapped[Cents] = mapped_column(default=0, server_default="0")
    principal_paid_cents: Mapped[Cents] = mapped_column(default=0, server_default="0")
    #: Interest accrued on the open principal up to and including ``interest_until`` (before the
    #: VVK 8.8 threshold; ``interest_cents`` is what is charged).
    interest_accrued_cents: Mapped[Cents] = mapped_column(default=0, server_default="0")
    interest_until: Mapped[date | None]
    payment_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # Dunning (KLB; deadline job): 0 none, 1 Mahnung, 2 zweite Mahnung, 3 Abgabe an die
    # Vollstreckung; ``dunned_on`` is the day of the latest step.
    dunning_level: Mapped[int] = mapped_column(default=0, server_default="0")
    dunned_on: Mapped[date | None]

    application: Mapped[Application] = relationship()

    @property
    def principal_open_cents(self) -> int:
        return self.principal_cents - self.principal_paid_cents

    @property
    def interest_open_cents(self) -> int:
        return self.interest_cents - self.interest_paid_cents

    @property
    def open_cents(self) -> int:
        """Costs, charged interest and principal still unpaid."""
        return (
            self.costs_cents
            - self.costs_paid_cents
            + self.interest_open_cents
            + self.principal_open_cents
        )
