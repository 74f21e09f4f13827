"""Grant application models: consultations, KPR records, applications, financing plans,
documents, frozen submissions and the applicant-visible event trail."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.common.db import Cents, TimestampMixin, enum_type, utcnow
from app.extensions import Model
from app.orgs.models import Organisation


class Status(enum.StrEnum):
    """Application lifecycle (RULES.md §4)."""

    DRAFT = "draft"
    CONSULTED = "consulted"
    SUBMITTED = "submitted"
    INCOMPLETE = "incomplete"
    IN_REVIEW = "in_review"
    REJECTED = "rejected"
    APPROVED = "approved"
    FINAL = "final"
    RUNNING = "running"
    VN_DUE = "vn_due"
    VN_RECEIVED = "vn_received"
    VN_INCOMPLETE = "vn_incomplete"
    VN_COMPLETE = "vn_complete"
    VN_AUDIT = "vn_audit"
    VN_CHECKED = "vn_checked"
    RECOVERY = "recovery"
    REVOCATION_CHECK = "revocation_check"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


EDITABLE_STATUSES = frozenset({Status.DRAFT, Status.CONSULTED, Status.INCOMPLETE})
TERMINAL_STATUSES = frozenset({Status.REJECTED, Status.WITHDRAWN, Status.CLOSED})
# Approved and not yet closed: instalments may still be paid, so a bank account is needed.
AWARDED_STATUSES = frozenset(
    {
        Status.APPROVED,
        Status.FINAL,
        Status.RUNNING,
        Status.VN_DUE,
        Status.VN_RECEIVED,
        Status.VN_INCOMPLETE,
        Status.VN_COMPLETE,
        Status.VN_AUDIT,
        Status.VN_CHECKED,
    }
)


class LineCategory(enum.StrEnum):
    """Kind of expenditure line in the financing plan."""

    STAFF = "staff"  # Personalausgaben
    RUNNING = "running"  # Sachausgaben (laufende Kosten)


class Qualification(enum.StrEnum):
    """Recorded qualification of a post; decides the TV-L cap group (R8, RL V.4)."""

    VOCATIONAL = "vocational"  # abgeschlossene Berufsausbildung → EG 7
    UNIVERSITY_APPLIED = "university_applied"  # abgeschlossene Fachhochschulausbildung → EG 11
    UNIVERSITY = "university"  # abgeschlossene wissenschaftliche Hochschulausbildung → EG 14
    UNIVERSITY_LEAD = "university_lead"  # … und Führungsfunktion → EG 15


class SmallGrantReason(enum.StrEnum):
    """RL V.6 exceptions that allow a grant of at most 10,000 EUR (R9)."""

    REGIONAL_NEED = "regional_need"  # kurzfristig auf konkrete regionale Bedarfe
    LOCAL_EVENT = "local_event"  # anlassbezogene lokale Ereignisse oder empirische Befunde
    CURRENT_SITUATION = "current_situation"  # aktuelle Lagen, in Gesamtstrategie integriert


class EventKind(enum.StrEnum):
    """Typed events on an application, shown on its page."""

    CREATED = "created"
    CONSULTATION_RECORDED = "consultation_recorded"
    SUBMITTED = "submitted"
    RESUBMITTED = "resubmitted"
    WITHDRAWN = "withdrawn"
    ASSIGNED = "assigned"
    REVIEW_STARTED = "review_started"
    CHANGES_REQUESTED = "changes_requested"
    COMMENT = "comment"
    DECISION_PREPARED = "decision_prepared"
    APPROVED = "approved"
    REJECTED = "rejected"
    SENT_BACK = "sent_back"
    BESCHEID_ISSUED = "bescheid_issued"
    WAIVER_RECORDED = "waiver_recorded"
    NOTIFICATION_RECORDED = "notification_recorded"
    FINAL = "final"
    START_NOTIFIED = "start_notified"
    PURPOSE_FULFILLED = "purpose_fulfilled"
    VN_SUBMITTED = "vn_submitted"
    VN_INCOMPLETE = "vn_incomplete"
    VN_COMPLETE = "vn_complete"
    VN_AUDIT = "vn_audit"
    VN_CHECKED = "vn_checked"
    RECALCULATED = "recalculated"
    REVOCATION_CHECK = "revocation_check"
    REVOCATION_CLOSED = "revocation_closed"
    REVOKED = "revoked"
    RECOVERY_PAID = "recovery_paid"
    CLOSED = "closed"
    REMINDER = "reminder"


class Consultation(TimestampMixin, Model):
    """Consultation of an organisation by the LPR Geschäftsstelle (RL IV.2, R1)."""

    __tablename__ = "consultation"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    held_on: Mapped[date]
    adviser: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    organisation: Mapped[Organisation] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class KprRecordKind(enum.StrEnum):
    """KPR status documents an organisation keeps."""

    RESOLUTION = "resolution"  # council resolution founding the KPR
    COOPERATION = "cooperation"  # cooperation agreement with the Polizeidirektion and the LPR


class KprRecord(TimestampMixin, Model):
    """A KPR council resolution or cooperation agreement of an organisation."""

    __tablename__ = "kpr_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    kind: Mapped[KprRecordKind] = mapped_column(enum_type(KprRecordKind))
    dated: Mapped[date]
    partner: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    document: Mapped[Document | None] = relationship(foreign_keys=[document_id])


class FundingYear(Model):
    """Per funding year: the application window (R2; default 31.08.–15.10. of the year before)
    and how many months before submission a consultation still counts (R1; NULL = programme
    default ``CONSULTATION_VALID_MONTHS``)."""

    __tablename__ = "funding_year"
    __table_args__ = (
        CheckConstraint("window_opens <= window_closes", name="window_order"),
        CheckConstraint(
            "consultation_valid_months IS NULL OR consultation_valid_months > 0",
            name="consultation_months_positive",
        ),
    )

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    window_opens: Mapped[date]
    window_closes: Mapped[date]
    consultation_valid_months: Mapped[int | None]


class PayScale(TimestampMixin, Model):
    """Eligible monthly maximum per full-time post for a TV-L group at Stufe 3 (R8).

    Reference data maintained by an admin per year; ``source`` names where the figure comes from.
    """

    __tablename__ = "pay_scale"
    __table_args__ = (
        UniqueConstraint("year", "pay_group", name="uq_pay_scale_year_pay_group"),
        CheckConstraint("monthly_cap_cents > 0", name="cap_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    pay_group: Mapped[int]
    monthly_cap_cents: Mapped[Cents]
    source: Mapped[str] = mapped_column(String(300))


class DocumentType(Model):
    """Configurable document types; ``required`` ones must be present at submission (R4)."""

    __tablename__ = "document_type"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label_de: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    required: Mapped[bool] = mapped_column(default=False)
    per_staff_line: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    rule: Mapped[str] = mapped_column(String(40), default="")


class Application(TimestampMixin, Model):
    """A funding application for a KPR Koordinierungsstelle; mutable until submitted."""

    __tablename__ = "application"
    __table_args__ = (
        CheckConstraint("own_share_cash_cents >= 0", name="own_cash_nonneg"),
        CheckConstraint("third_party_cents >= 0", name="third_party_nonneg"),
        CheckConstraint("requested_grant_cents >= 0", name="grant_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    funding_year: Mapped[int] = mapped_column(index=True)
    status: Mapped[Status] = mapped_column(enum_type(Status), default=Status.DRAFT, index=True)
    reference: Mapped[str | None] = mapped_column(String(40), unique=True)

    title: Mapped[str] = mapped_column(String(200), default="")
    purpose: Mapped[str] = mapped_column(Text, default="")
    project_start: Mapped[date | None]
    project_end: Mapped[date | None]

    kpr_name: Mapped[str] = mapped_column(String(200), default="")
    kpr_established_on: Mapped[date | None]
    office_unit: Mapped[str] = mapped_column(String(200), default="")
    office_contact_name: Mapped[str] = mapped_column(String(200), default="")
    office_contact_email: Mapped[str] = mapped_column(String(254), default="")
    office_contact_phone: Mapped[str] = mapped_column(String(50), default="")
    office_tasks: Mapped[str] = mapped_column(Text, default="")

    own_share_cash_cents: Mapped[Cents] = mapped_column(default=0)
    third_party_cents: Mapped[Cents] = mapped_column(default=0)
    third_party_source: Mapped[str] = mapped_column(String(300), default="")
    requested_grant_cents: Mapped[Cents] = mapped_column(default=0)
    small_grant_reason: Mapped[SmallGrantReason | None] = mapped_column(enum_type(SmallGrantReason))
    small_grant_note: Mapped[str] = mapped_column(Text, default="")

    is_late: Mapped[bool] = mapped_column(default=False)
    late_justification: Mapped[str] = mapped_column(Text, default="")
    first_submitted_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    # R35: name and key of the applicant as valid at submission time.
    applicant_name_at_submission: Mapped[str | None] = mapped_column(String(200))
    applicant_ags_at_submission: Mapped[str | None] = mapped_column(String(8))

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version_id: Mapped[int] = mapped_column(default=1)
    # Review (issue 4)
    assigned_reviewer_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), index=True
    )
    late_accepted: Mapped[bool] = mapped_column(default=False)
    notified_on: Mapped[date | None]  # Bescheid received (Bekanntgabe)
    waiver_on: Mapped[date | None]  # Rechtsbehelfsverzicht recorded
    final_on: Mapped[date | None]  # bestandskräftig
    # Proof of use (issue 7)
    purpose_fulfilled_on: Mapped[date | None]
    vn_due_on: Mapped[date | None]  # R21
    final_payment_due_on: Mapped[date | None]  # R19: at the latest 6 months after complete VN

    organisation: Mapped[Organisation] = relationship()
    assigned_reviewer: Mapped[User | None] = relationship(foreign_keys=[assigned_reviewer_id])
    lines: Mapped[list[PlanLine]] = relationship(
        back_populates="application",
        cascade="all, delete-orphan",
        order_by="PlanLine.position",
    )
    documents: Mapped[list[Document]] = relationship(
        back_populates="application",
        primaryjoin=(
            "and_(Document.application_id == Application.id, Document.removed_at.is_(None))"
        ),
        viewonly=True,
        order_by="Document.uploaded_at",
    )
    submissions: Mapped[list[Submission]] = relationship(
        back_populates="application", order_by="Submission.version"
    )

    __mapper_args__ = {"version_id_col": version_id}

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES


class PlanLine(Model):
    """One expenditure line of the Ausgaben- und Finanzierungsplan."""

    __tablename__ = "plan_line"
    __table_args__ = (
        CheckConstraint("amount_cents >= 0", name="amount_nonneg"),
        CheckConstraint(
            "fte_permille IS NULL OR (fte_permille > 0 AND fte_permille <= 1000)", name="fte_range"
        ),
        CheckConstraint("months IS NULL OR (months > 0 AND months <= 60)", name="months_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    category: Mapped[LineCategory] = mapped_column(enum_type(LineCategory))
    description: Mapped[str] = mapped_column(String(300), default="")
    pay_group: Mapped[int | None]
    pay_step: Mapped[int | None]
    qualification: Mapped[Qualification | None] = mapped_column(enum_type(Qualification))
    fte_permille: Mapped[int | None]
    months: Mapped[int | None]
    amount_cents: Mapped[Cents] = mapped_column(default=0)
    investive: Mapped[bool] = mapped_column(default=False)
    in_kind: Mapped[bool] = mapped_column(default=False)

    application: Mapped[Application] = relationship(back_populates="lines")

    @property
    def is_grant_funded_staff(self) -> bool:
        """Staff line paid from the grant (not municipal staff contributed in kind)."""
        return self.category is LineCategory.STAFF and not self.in_kind


class Document(Model):
    """An uploaded file, stored outside ``static/`` under a generated name."""

    __tablename__ = "document"
    __table_args__ = (CheckConstraint("size_bytes > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"), index=True)
    type_code: Mapped[str] = mapped_column(ForeignKey("document_type.code"))
    plan_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_line.id", ondelete="SET NULL")
    )
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]

    application: Mapped[Application | None] = relationship(back_populates="documents")
    doc_type: Mapped[DocumentType] = relationship()


class Submission(Model):
    """Frozen copy of an application as submitted: JSON data and PDF, each with its sha256.

    Append-only (database triggers refuse UPDATE and DELETE).
    """

    __tablename__ = "submission"
    __table_args__ = (
        UniqueConstraint("application_id", "version", name="uq_submission_application_id_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    version: Mapped[int]
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    is_late: Mapped[bool] = mapped_column(default=False)
    data_json: Mapped[str] = mapped_column(Text)
    data_sha256: Mapped[str] = mapped_column(String(64))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(String(64))

    application: Mapped[Application] = relationship(back_populates="submissions")


class ApplicationEvent(Model):
    """Typed, append-only event on an application; ``internal`` ones are for ministry staff."""

    __tablename__ = "application_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[EventKind] = mapped_column(enum_type(EventKind))
    internal: Mapped[bool] = mapped_column(default=False)
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[str] = mapped_column(Text, default="{}")

    actor: Mapped[User | None] = relationship()


# --- review and decision (issue "Review and approval within the annual budget cap") -----------


class FinancingType(enum.StrEnum):
    """VVK 2.2: Anteilfinanzierung by default; Festbetrag exceptionally; Fehlbedarf only with an
    override note (R11); Vollfinanzierung is not offered."""

    SHARE = "share"  # Anteilfinanzierung
    FIXED = "fixed"  # Festbetragsfinanzierung
    DEFICIT = "deficit"  # Fehlbedarfsfinanzierung


class DecisionStatus(enum.StrEnum):
    PREPARED = "prepared"
    APPROVED = "approved"
    REJECTED = "rejected"
    SENT_BACK = "sent_back"


class ReviewerAffiliation(TimestampMixin, Model):
    """A ministry user's declared affiliation with an organisation (conflict of interest)."""

    __tablename__ = "reviewer_affiliation"
    __table_args__ = (
        UniqueConstraint("user_id", "organisation_id", name="uq_reviewer_affiliation_user_org"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    note: Mapped[str] = mapped_column(String(300), default="")

    organisation: Mapped[Organisation] = relationship()


class ManualCheck(Model):
    """A manual checklist item of the review (beside the automatic rule checks): ticked or not,
    with the reviewer's note; one row per application and item."""

    __tablename__ = "manual_check"
    __table_args__ = (
        UniqueConstraint("application_id", "item", name="uq_manual_check_application_item"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    item: Mapped[str] = mapped_column(String(40))
    done: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)

    checked_by: Mapped[User | None] = relationship()


class ChangeRequest(TimestampMixin, Model):
    """A reviewer's request for changes or missing documents (T3); resolved on resubmission."""

    __tablename__ = "change_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    sections: Mapped[str] = mapped_column(String(200), default="")  # comma-separated step keys
    message: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date | None]
    resolved_at: Mapped[datetime | None]

    requested_by: Mapped[User] = relationship()
    application: Mapped[Application] = relationship(viewonly=True)


class Decision(TimestampMixin, Model):
    """The prepared and then approved/rejected decision on an application (R10, R11).

    Only one decision per application may be open or approved at a time (service guard).
    """

    __tablename__ = "decision"
    __table_args__ = (
        CheckConstraint("grant_cents >= 0", name="grant_nonneg"),
        CheckConstraint("max_amount_cents >= 0", name="max_nonneg"),
        CheckConstraint("rate_bp >= 0 AND rate_bp < 10000", name="rate_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    status: Mapped[DecisionStatus] = mapped_column(enum_type(DecisionStatus), index=True)
    financing_type: Mapped[FinancingType] = mapped_column(enum_type(FinancingType))
    override_note: Mapped[str] = mapped_column(Text, default="")
    rate_bp: Mapped[int]
    eligible_base_cents: Mapped[Cents]
    max_amount_cents: Mapped[Cents]
    grant_cents: Mapped[Cents]
    purpose: Mapped[str] = mapped_column(Text)
    period_start: Mapped[date]
    period_end: Mapped[date]
    vn_deadline: Mapped[date]
    anbest_version: Mapped[str] = mapped_column(String(100))
    late_accepted: Mapped[bool] = mapped_column(default=False)
    pass_through_allowed: Mapped[bool] = mapped_column(default=False)  # R30 (RL III)
    pass_through_recipient: Mapped[str] = mapped_column(String(200), default="")  # R30: the NGO
    prepared_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]
    reasons: Mapped[str] = mapped_column(Text, default="")
    kassenzeichen: Mapped[str | None] = mapped_column(String(40), unique=True)

    application: Mapped[Application] = relationship()
    prepared_by: Mapped[User] = relationship(foreign_keys=[prepared_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    years: Mapped[list[DecisionYear]] = relationship(
        back_populates="decision", cascade="all, delete-orphan", order_by="DecisionYear.year"
    )


class DecisionYear(Model):
    """Amount of a decision falling due in one budget (payout) year."""

    __tablename__ = "decision_year"
    __table_args__ = (
        UniqueConstraint("decision_id", "year", name="uq_decision_year_decision_id_year"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id", ondelete="CASCADE"))
    year: Mapped[int]
    amount_cents: Mapped[Cents]

    decision: Mapped[Decision] = relationship(back_populates="years")


class Bescheid(Model):
    """The issued Zuwendungsbescheid: immutable PDF with its sha256 (append-only table).

    Notification, waiver and finality are recorded as events and on the application.
    """

    __tablename__ = "bescheid"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id"), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
