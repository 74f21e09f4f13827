"""Post-award models: proof of use with its lines, the yearly audit sample, revocation cases and
notifications (tasks and reminders of the deadline job)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.common.db import Cents, TimestampMixin, enum_type, utcnow
from app.extensions import Model
from app.grants.models import Application, PlanLine, Status


class ProofKind(enum.StrEnum):
    FINAL = "final"  # Verwendungsnachweis
    PROVISIONAL = "provisional"  # vorläufiger VN (ANBK 6.1: deadline before purpose fulfilled)
    PARTIAL = "partial"  # Teil-VN (Erstattungsverfahren, R16)


class ProofStatus(enum.StrEnum):
    RECEIVED = "received"
    INCOMPLETE = "incomplete"
    COMPLETE = "complete"
    CHECKED = "checked"


class ProofOfUse(TimestampMixin, Model):
    """A submitted proof of use (Sachbericht + numeric proof per plan line; no receipts)."""

    __tablename__ = "proof_of_use"
    __table_args__ = (
        UniqueConstraint("application_id", "version", name="uq_proof_of_use_application_version"),
        CheckConstraint("actual_own_cents >= 0", name="own_nonneg"),
        CheckConstraint("actual_third_party_cents >= 0", name="third_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    version: Mapped[int]
    kind: Mapped[ProofKind] = mapped_column(enum_type(ProofKind))
    status: Mapped[ProofStatus] = mapped_column(enum_type(ProofStatus), index=True)
    report: Mapped[str] = mapped_column(Text)
    publicity_confirmed: Mapped[bool] = mapped_column(default=False)
    publicity_note: Mapped[str] = mapped_column(Text, default="")
    publicity_cure_until: Mapped[date | None]  # R29: eight weeks to cure missing publicity
    actual_own_cents: Mapped[Cents] = mapped_column(default=0)
    actual_third_party_cents: Mapped[Cents] = mapped_column(default=0)
    ngo_share_cents: Mapped[Cents] = mapped_column(default=0)  # R30: passed on to an NGO
    # R30 (ANBK 6.6): the NGO's own proof of use (ANBest-P, with Belegliste), its six-month
    # deadline, the day the municipality received it and the day the authority checked it.
    ngo_proof_due_on: Mapped[date | None]
    ngo_proof_received_on: Mapped[date | None]
    ngo_proof_checked_on: Mapped[date | None]
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    check_due_on: Mapped[date]  # R18: completeness check within 30 days, restarts per version
    completed_on: Mapped[date | None]
    checked_on: Mapped[date | None]
    audit_selected: Mapped[bool] = mapped_column(default=False)
    final_eligible_cents: Mapped[Cents | None]
    reviewer_note: Mapped[str] = mapped_column(Text, default="")

    lines: Mapped[list[ProofLine]] = relationship(
        back_populates="proof", cascade="all, delete-orphan", order_by="ProofLine.id"
    )


class ProofLine(Model):
    """Actual expenditure for one line of the financing plan."""

    __tablename__ = "proof_line"
    __table_args__ = (CheckConstraint("actual_cents >= 0", name="actual_nonneg"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proof_id: Mapped[int] = mapped_column(ForeignKey("proof_of_use.id", ondelete="CASCADE"))
    plan_line_id: Mapped[int] = mapped_column(ForeignKey("plan_line.id"))
    planned_cents: Mapped[Cents]
    actual_cents: Mapped[Cents]

    proof: Mapped[ProofOfUse] = relationship(back_populates="lines")
    plan_line: Mapped[PlanLine] = relationship()


class AuditSample(Model):
    """R25: the yearly risk-weighted random draw of proofs for in-depth audit (logged)."""

    __tablename__ = "audit_sample"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)
    drawn_at: Mapped[datetime] = mapped_column(default=utcnow)
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    seed: Mapped[str] = mapped_column(String(64))
    population: Mapped[int]
    selected: Mapped[int]
    details: Mapped[str] = mapped_column(Text)  # JSON: weights and selected proof ids


class RevocationReason(enum.StrEnum):
    NO_START = "no_start"  # R24
    VN_OVERDUE = "vn_overdue"  # R21
    PUBLICITY = "publicity"  # R29
    RECALCULATION = "recalculation"  # R22 overpayment
    MISUSE = "misuse"  # T25
    WRONG_DATA = "wrong_data"  # T25
    OTHER = "other"


class RevocationCase(TimestampMixin, Model):
    """An open revocation check (T23–T27) with the date the facts were fully known (R26)."""

    __tablename__ = "revocation_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    reason: Mapped[RevocationReason] = mapped_column(enum_type(RevocationReason))
    previous_status: Mapped[Status] = mapped_column(enum_type(Status))
    facts_known_on: Mapped[date]
    cure_deadline: Mapped[date | None]  # R29: 8 weeks for missing publicity
    note: Mapped[str] = mapped_column(Text, default="")
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    closed_on: Mapped[date | None]
    outcome: Mapped[str] = mapped_column(String(20), default="")  # revoked / no_revocation

    application: Mapped[Application] = relationship()


class Notification(Model):
    """A task or reminder for a user or an organisation; ``dedupe_key`` makes the deadline job
    idempotent (running it twice on a day creates nothing twice)."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    for_ministry: Mapped[bool] = mapped_column(default=False)
    due_on: Mapped[date | None]
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]

    application: Mapped[Application | None] = relationship()
