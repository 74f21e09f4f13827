"""Budget models: ``BudgetYear`` (Ansatz, Ausgabereste, committed cache, R13 flags),
``CommitmentAuthorisation`` (Verpflichtungsermächtigung) and the append-only ``Commitment``
ledger (Festlegungen).

All amounts are integer cents (``Cents`` → BIGINT). The CHECK constraints are the backstop of the
guarded UPDATEs in ``app.budget.services``; the migration adds triggers that refuse UPDATE and
DELETE on ``commitment``.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.common.db import Cents, TimestampMixin, utcnow
from app.extensions import Model

#: Default Ansatz: about 1.3 M EUR per year (RULES.md §2, a secondary figure [S]; data, not law).
DEFAULT_APPROPRIATION_CENTS: Cents = 130_000_000

#: Plausible range for a Haushaltsjahr (keeps path and CLI integers bounded).
MIN_YEAR = 2000
MAX_YEAR = 2100


class CommitmentKind(enum.StrEnum):
    """Why a ledger row was written: positive on approval, negative on reduction/revocation."""

    APPROVAL = "approval"
    REDUCTION = "reduction"
    REVOCATION = "revocation"


class BudgetYear(TimestampMixin, Model):
    """One Haushaltsjahr of the programme's budget title (§ 4 SäHO: the calendar year).

    ``committed_cents`` caches Σ ``Commitment.amount_cents`` of every commitment whose payout year
    is this year, including those made in earlier years under a VE (``self_check`` compares).
    """

    __tablename__ = "budget_year"
    __table_args__ = (
        CheckConstraint(f"year >= {MIN_YEAR} AND year <= {MAX_YEAR}", name="year_range"),
        CheckConstraint("appropriation_cents >= 0", name="appropriation_nonneg"),
        CheckConstraint("carryover_cents >= 0", name="carryover_nonneg"),
        CheckConstraint("committed_cents >= 0", name="committed_nonneg"),
        CheckConstraint(
            "committed_cents <= appropriation_cents + carryover_cents", name="committed_le_cap"
        ),
    )

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: Ansatz: the annual appropriation of the budget law.
    appropriation_cents: Mapped[Cents] = mapped_column(default=DEFAULT_APPROPRIATION_CENTS)
    #: Approved Ausgabereste carried into this year (§ 45 SäHO, with SMF consent).
    carryover_cents: Mapped[Cents] = mapped_column(default=0)
    #: Cache of all commitments whose payout year is this year.
    committed_cents: Mapped[Cents] = mapped_column(default=0)
    #: Vorläufige Haushaltsführung: no budget law yet, approvals in this year are blocked (R13).
    provisional: Mapped[bool] = mapped_column(default=False)
    #: Year-end closing done: no approvals, no releases.
    closed: Mapped[bool] = mapped_column(default=False)

    @property
    def cap_cents(self) -> Cents:
        """Ansatz + Ausgabereste: the most that may be committed for this year (R12)."""
        return self.appropriation_cents + self.carryover_cents

    @property
    def available_cents(self) -> Cents:
        """Cap minus what is already committed."""
        return self.cap_cents - self.committed_cents


class CommitmentAuthorisation(TimestampMixin, Model):
    """Verpflichtungsermächtigung (VE, § 38 SäHO): the budget law of ``budget_year`` allows
    commitments payable in ``target_year`` up to ``amount_cents``."""

    __tablename__ = "commitment_authorisation"
    __table_args__ = (
        UniqueConstraint(
            "budget_year", "target_year", name="uq_commitment_authorisation_budget_year_target"
        ),
        CheckConstraint("target_year > budget_year", name="target_after_budget_year"),
        CheckConstraint(f"target_year <= {MAX_YEAR}", name="target_year_range"),
        CheckConstraint("amount_cents >= 0", name="amount_nonneg"),
        CheckConstraint("committed_cents >= 0", name="committed_nonneg"),
        CheckConstraint("committed_cents <= amount_cents", name="committed_le_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_year: Mapped[int] = mapped_column(ForeignKey("budget_year.year"), index=True)
    target_year: Mapped[int]
    amount_cents: Mapped[Cents]
    committed_cents: Mapped[Cents] = mapped_column(default=0)

    @property
    def available_cents(self) -> Cents:
        """VE amount not yet used by commitments."""
        return self.amount_cents - self.committed_cents


class Commitment(Model):
    """One Festlegung: a signed amount bound for ``payout_year`` for an application.

    Append-only (triggers refuse UPDATE and DELETE): a reduction or revocation is a new negative
    row. ``authorised_in`` names the year whose VE covers the row; it is NULL when the payout year
    is the approval year itself.
    """

    __tablename__ = "commitment"
    __table_args__ = (
        ForeignKeyConstraint(
            ["authorised_in", "payout_year"],
            ["commitment_authorisation.budget_year", "commitment_authorisation.target_year"],
            name="fk_commitment_authorised_in_commitment_authorisation",
        ),
        CheckConstraint("amount_cents <> 0", name="amount_nonzero"),
        CheckConstraint(
            "(kind = 'approval' AND amount_cents > 0) OR (kind <> 'approval' AND amount_cents < 0)",
            name="sign_matches_kind",
        ),
        CheckConstraint("kind IN ('approval', 'reduction', 'revocation')", name="kind_known"),
        CheckConstraint(
            "authorised_in IS NULL OR authorised_in < payout_year", name="authorised_before_payout"
        ),
        CheckConstraint(
            f"payout_year >= {MIN_YEAR} AND payout_year <= {MAX_YEAR}", name="year_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    payout_year: Mapped[int] = mapped_column(index=True)
    authorised_in: Mapped[int | None]
    amount_cents: Mapped[Cents]
    kind: Mapped[CommitmentKind] = mapped_column(
        Enum(
            CommitmentKind,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The person who decided; None only for system jobs.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
