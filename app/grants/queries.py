"""Read-only queries for grant pages, always scoped to what the user may see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func
from sqlalchemy.orm import contains_eager, selectinload
from sqlalchemy.sql.selectable import ScalarSelect

from app.auth.models import Role, User, UserRole
from app.common.db import today
from app.common.errors import NotFound
from app.common.labels import label
from app.common.programme import CONSULTATION_VALID_MONTHS, default_window
from app.extensions import db
from app.finance.interest import SURCHARGE_BP, format_rate_bp
from app.finance.models import BaseRate
from app.grants.labels import QUALIFICATION_LABELS, SMALL_GRANT_REASONS
from app.grants.models import (
    TERMINAL_STATUSES,
    Application,
    ApplicationEvent,
    Bescheid,
    ChangeRequest,
    Consultation,
    Decision,
    Document,
    DocumentType,
    FundingYear,
    KprRecord,
    LineCategory,
    ManualCheck,
    PayScale,
    Qualification,
    ReviewerAffiliation,
    SmallGrantReason,
    Submission,
)
from app.grants.services.financing import PlanTotals, compute_totals
from app.grants.services.rules import SubmissionContext
from app.orgs.models import Organisation


def get_application_for(user: User, application_id: int) -> Application:
    """The application if ``user`` may see it: own organisation, or ministry staff.

    :raises NotFound: unknown id or another organisation's application (no existence leak).
    """
    if not 0 < application_id <= 2**31 - 1:
        raise NotFound("not found")
    application = db.session.execute(
        db.select(Application)
        .where(Application.id == application_id)
        .options(
            selectinload(Application.lines),
            selectinload(Application.documents),
            selectinload(Application.organisation).selectinload(Organisation.parent),
        )
    ).scalar_one_or_none()
    if application is None:
        raise NotFound("not found")
    if user.is_ministry:
        return application
    if user.has_role(Role.APPLICANT) and application.organisation_id == user.organisation_id:
        return application
    raise NotFound("not found")


def applications_of_organisation(organisation_id: int) -> Sequence[Application]:
    """An organisation's applications, newest funding year first (one statement)."""
    return (
        db.session.execute(
            db.select(Application)
            .where(Application.organisation_id == organisation_id)
            .order_by(Application.funding_year.desc(), Application.id.desc())
        )
        .scalars()
        .all()
    )


def same_year_applications(application: Application) -> Sequence[Application]:
    """The organisation's other live applications for the same funding year (the programme
    allows more than one, but it is usually a slip: the applicant is warned, not refused)."""
    return (
        db.session.execute(
            db.select(Application).where(
                Application.organisation_id == application.organisation_id,
                Application.funding_year == application.funding_year,
                Application.id != application.id,
                Application.status.not_in(TERMINAL_STATUSES),
            )
        )
        .scalars()
        .all()
    )


def window_for(funding_year: int) -> tuple[date, date]:
    """Configured window of a funding year, or the RL default (R2)."""
    row = db.session.get(FundingYear, funding_year)
    if row is None:
        return default_window(funding_year)
    return (row.window_opens, row.window_closes)


def consultation_months_for(funding_year: int) -> int:
    """R1: months before submission a consultation counts for ``funding_year``."""
    row = db.session.get(FundingYear, funding_year)
    if row is None or row.consultation_valid_months is None:
        return CONSULTATION_VALID_MONTHS
    return row.consultation_valid_months


def monthly_caps(funding_year: int) -> dict[int, int]:
    """TV-L caps for the funding year, or the latest earlier year maintained (R8)."""
    year = db.session.execute(
        db.select(func.max(PayScale.year)).where(PayScale.year <= funding_year)
    ).scalar_one_or_none()
    if year is None:
        return {}
    rows = db.session.execute(db.select(PayScale).where(PayScale.year == year)).scalars()
    return {row.pay_group: row.monthly_cap_cents for row in rows}


def totals_for(application: Application, caps: dict[int, int] | None = None) -> PlanTotals:
    """Plan totals of ``application`` with the caps of its funding year."""
    return compute_totals(
        application.lines,
        own_cash_cents=application.own_share_cash_cents,
        third_party_cents=application.third_party_cents,
        requested_grant_cents=application.requested_grant_cents,
        monthly_caps=monthly_caps(application.funding_year) if caps is None else caps,
    )


@dataclass(frozen=True)
class ApplicationContent:
    """Everything an application page shows of the submitted content: plan with totals, the
    organisation's KPR records (resolution, cooperation agreement) and the document labels."""

    totals: PlanTotals
    kpr_records: Sequence[KprRecord]
    doc_types: dict[str, DocumentType]
    qualification_labels: dict[Qualification, object]  # lazy strings (per request language)
    small_grant_reasons: dict[SmallGrantReason, object]

    @property
    def staff_fte_permille(self) -> int:
        """Sum of the FTE shares of the grant-funded staff lines (per mille)."""
        return sum(
            f.line.fte_permille or 0
            for f in self.totals.lines
            if f.line.category is LineCategory.STAFF and not f.line.in_kind
        )


def application_content(application: Application) -> ApplicationContent:
    """The content of ``application`` for the reviewer's and the applicant's pages (a fixed number
    of statements: caps, KPR records with their files, document types)."""
    return ApplicationContent(
        totals=totals_for(application),
        kpr_records=kpr_records_of(application.organisation_id),
        doc_types={t.code: t for t in document_types()},
        qualification_labels=QUALIFICATION_LABELS,
        small_grant_reasons=SMALL_GRANT_REASONS,
    )


def consultations_of(organisation_id: int) -> Sequence[Consultation]:
    return (
        db.session.execute(
            db.select(Consultation)
            .where(Consultation.organisation_id == organisation_id)
            .order_by(Consultation.held_on.desc())
        )
        .scalars()
        .all()
    )


def kpr_records_of(organisation_id: int) -> Sequence[KprRecord]:
    return (
        db.session.execute(
            db.select(KprRecord)
            .where(KprRecord.organisation_id == organisation_id)
            .options(selectinload(KprRecord.document))
            .order_by(KprRecord.dated.desc())
        )
        .scalars()
        .all()
    )


def document_types() -> Sequence[DocumentType]:
    return (
        db.session.execute(db.select(DocumentType).order_by(DocumentType.position)).scalars().all()
    )


def document_labels() -> dict[str, str]:
    """Document type code → label in the request's language, for the version comparison (one
    statement; German shows the stored name)."""
    return {t.code: label(t.code, "document_type", t.label_de) for t in document_types()}


def submission_context(application: Application, on: date | None = None) -> SubmissionContext:
    """Load everything the submission rules need (a fixed number of statements)."""
    caps = monthly_caps(application.funding_year)
    return SubmissionContext(
        application=application,
        organisation=application.organisation,
        consultations=consultations_of(application.organisation_id),
        window=window_for(application.funding_year),
        consultation_months=consultation_months_for(application.funding_year),
        totals=totals_for(application, caps),
        document_types=document_types(),
        documents=application.documents,
        caps_known=bool(caps),
        on=on or today(),
    )


def events_for(application: Application, *, include_internal: bool) -> Sequence[ApplicationEvent]:
    query = (
        db.select(ApplicationEvent)
        .where(ApplicationEvent.application_id == application.id)
        .options(selectinload(ApplicationEvent.actor))
        .order_by(ApplicationEvent.occurred_at.desc(), ApplicationEvent.id.desc())
    )
    if not include_internal:
        query = query.where(ApplicationEvent.internal.is_(False))
    return db.session.execute(query).scalars().all()


def submissions_of(application: Application) -> Sequence[Submission]:
    """Submitted versions without loading the PDF bytes."""
    from sqlalchemy.orm import defer

    return (
        db.session.execute(
            db.select(Submission)
            .where(Submission.application_id == application.id)
            .options(defer(Submission.pdf), defer(Submission.data_json))
            .order_by(Submission.version.desc())
        )
        .scalars()
        .all()
    )


def get_submission(application: Application, version: int) -> Submission:
    if not 0 < version < 10_000:
        raise NotFound("not found")
    row = db.session.execute(
        db.select(Submission).where(
            Submission.application_id == application.id, Submission.version == version
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("not found")
    return row


def get_document(application: Application, document_id: int) -> Document:
    if not 0 < document_id <= 2**31 - 1:
        raise NotFound("not found")
    doc = db.session.get(Document, document_id)
    if doc is None or doc.application_id != application.id:
        raise NotFound("not found")
    return doc


def get_decision(application: Application, decision_id: int) -> Decision:
    """A decision of ``application``; :raises NotFound: another application's or none."""
    decision = db.session.get(Decision, decision_id) if 0 < decision_id <= 2**31 - 1 else None
    if decision is None or decision.application_id != application.id:
        raise NotFound("not found")
    return decision


def get_user(user_id: int | None) -> User | None:
    """The user with ``user_id`` (``None`` for none or no id)."""
    return db.session.get(User, user_id) if user_id else None


def get_consultation(consultation_id: int) -> Consultation:
    """:raises NotFound: no such consultation."""
    consultation = (
        db.session.get(Consultation, consultation_id) if 0 < consultation_id <= 2**31 - 1 else None
    )
    if consultation is None:
        raise NotFound("not found")
    return consultation


def get_kpr_document(user: User, record_id: int) -> Document:
    """The document of a KPR record the user may read (their organisation's; the ministry any);
    :raises NotFound: otherwise."""
    record = db.session.get(KprRecord, record_id) if 0 < record_id <= 2**31 - 1 else None
    if (
        record is None
        or record.document is None
        or (not user.is_ministry and record.organisation_id != user.organisation_id)
    ):
        raise NotFound("not found")
    return record.document


def recent_consultations(limit: int = 50) -> Sequence[Consultation]:
    """Latest consultations with their organisation (two statements)."""
    return (
        db.session.execute(
            db.select(Consultation)
            .options(
                selectinload(Consultation.organisation), selectinload(Consultation.recorded_by)
            )
            .order_by(Consultation.held_on.desc(), Consultation.id.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )


# --- review queue (ministry) --------------------------------------------------------------------


@dataclass
class QueueFilter:
    """Filters and sorting of the reviewer queue (all optional)."""

    status: str | None = None
    funding_year: int | None = None
    kreis_key: str | None = None
    polizeidirektion: str | None = None
    min_cents: int | None = None
    max_cents: int | None = None
    assigned_to: int | None = None
    sort: str = "submitted"
    page: int = 1
    per_page: int = 25


#: Page sizes the queue offers (issue 13); the first is the default.
QUEUE_PAGE_SIZES = (25, 50, 100)
#: Page links shown either side of the current page (plus the first and the last page).
QUEUE_LINK_SPAN = 3


QUEUE_STATUSES = (
    "submitted",
    "in_review",
    "incomplete",
    "approved",
    "final",
    "running",
    "vn_due",
    "vn_received",
    "vn_incomplete",
    "vn_complete",
    "vn_audit",
    "vn_checked",
    "revocation_check",
    "recovery",
    "closed",
    "rejected",
)
QUEUE_SORTS = {
    "submitted": (Application.submitted_at.asc(), Application.id.asc()),
    "amount": (Application.requested_grant_cents.desc(), Application.id.asc()),
    "name": (Organisation.name.asc(), Application.id.asc()),
    "year": (Application.funding_year.desc(), Application.id.asc()),
}


@dataclass
class QueuePage:
    items: Sequence[Application]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def links(self) -> list[int | None]:
        """Page numbers to link: the first, the last and ``QUEUE_LINK_SPAN`` either side of the
        current page; ``None`` marks a gap. Capped, however many pages there are (issue 13)."""
        shown = {1, self.pages} | set(
            range(
                max(1, self.page - QUEUE_LINK_SPAN),
                min(self.pages, self.page + QUEUE_LINK_SPAN) + 1,
            )
        )
        out: list[int | None] = []
        for number in sorted(shown):
            if out and out[-1] is not None and number > out[-1] + 1:
                out.append(None)
            out.append(number)
        return out


def review_queue(f: QueueFilter) -> QueuePage:
    """Submitted applications for the ministry, filtered, sorted and paginated (3 statements:
    count, page, organisations+reviewers via selectinload)."""
    query = db.select(Application).join(Application.organisation)
    if f.status in QUEUE_STATUSES:
        query = query.where(Application.status == f.status)
    else:
        query = query.where(Application.status.in_(list(QUEUE_STATUSES)))
    if f.funding_year:
        query = query.where(Application.funding_year == f.funding_year)
    if f.kreis_key:
        query = query.where(Organisation.kreis_key == f.kreis_key)
    if f.polizeidirektion:
        query = query.where(Organisation.polizeidirektion == f.polizeidirektion)
    if f.min_cents is not None:
        query = query.where(Application.requested_grant_cents >= f.min_cents)
    if f.max_cents is not None:
        query = query.where(Application.requested_grant_cents <= f.max_cents)
    if f.assigned_to == 0:
        query = query.where(Application.assigned_reviewer_id.is_(None))
    elif f.assigned_to:
        query = query.where(Application.assigned_reviewer_id == f.assigned_to)
    total = db.session.execute(
        db.select(func.count()).select_from(query.with_only_columns(Application.id).subquery())
    ).scalar_one()
    page = max(1, min(f.page, 10_000))
    items = (
        db.session.execute(
            query.options(
                selectinload(Application.organisation),
                selectinload(Application.assigned_reviewer),
            )
            .order_by(*QUEUE_SORTS.get(f.sort, QUEUE_SORTS["submitted"]))
            .limit(f.per_page)
            .offset((page - 1) * f.per_page)
        )
        .scalars()
        .all()
    )
    return QueuePage(items=items, total=total, page=page, per_page=f.per_page)


def kreise() -> Sequence[tuple[str, str]]:
    """(Kreis key, name) pairs for filters, from the reference data (one statement)."""
    rows = db.session.execute(
        db.select(Organisation.kreis_key, Organisation.kreis_name)
        .distinct()
        .order_by(Organisation.kreis_name)
    ).all()
    return [(key, name) for key, name in rows]


def polizeidirektionen() -> Sequence[str]:
    return (
        db.session.execute(
            db.select(Organisation.polizeidirektion)
            .distinct()
            .order_by(Organisation.polizeidirektion)
        )
        .scalars()
        .all()
    )


def reviewers() -> Sequence[User]:
    """Active users with the reviewer role."""
    return (
        db.session.execute(
            db.select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.REVIEWER, User.active.is_(True))
            .order_by(User.name)
        )
        .scalars()
        .all()
    )


def decisions_of(application: Application) -> Sequence[Decision]:
    return (
        db.session.execute(
            db.select(Decision)
            .where(Decision.application_id == application.id)
            .options(
                selectinload(Decision.years),
                selectinload(Decision.prepared_by),
                selectinload(Decision.decided_by),
            )
            .order_by(Decision.id.desc())
        )
        .scalars()
        .all()
    )


def bescheid_of(application: Application) -> Bescheid | None:
    from sqlalchemy.orm import defer

    return db.session.execute(
        db.select(Bescheid)
        .where(Bescheid.application_id == application.id)
        .options(defer(Bescheid.pdf))
        .order_by(Bescheid.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def get_bescheid_pdf(application: Application) -> Bescheid:
    row = db.session.execute(
        db.select(Bescheid)
        .where(Bescheid.application_id == application.id)
        .order_by(Bescheid.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("not found")
    return row


def open_change_requests(organisation_id: int | None) -> Sequence[ChangeRequest]:
    """The organisation's unanswered change requests (tasks of the applicant), earliest
    deadline first, with their applications (one statement)."""
    if organisation_id is None:
        return []
    return (
        db.session.execute(
            _open_change_requests(db.select(ChangeRequest), organisation_id)
            .options(contains_eager(ChangeRequest.application))
            .order_by(ChangeRequest.due_on.is_(None), ChangeRequest.due_on, ChangeRequest.id)
        )
        .scalars()
        .all()
    )


def open_change_request_count(organisation_id: int) -> ScalarSelect[int]:
    """Scalar subquery counting the organisation's unanswered change requests (so that the
    navigation's task count stays one statement)."""
    stmt = db.select(func.count(ChangeRequest.id))
    return _open_change_requests(stmt, organisation_id).scalar_subquery()


def _open_change_requests(stmt: Select[Any], organisation_id: int) -> Select[Any]:
    return stmt.join(Application, Application.id == ChangeRequest.application_id).where(
        Application.organisation_id == organisation_id,
        ChangeRequest.resolved_at.is_(None),
        Application.status.not_in(TERMINAL_STATUSES),
    )


def change_requests_of(application: Application) -> Sequence[ChangeRequest]:
    return (
        db.session.execute(
            db.select(ChangeRequest)
            .where(ChangeRequest.application_id == application.id)
            .options(selectinload(ChangeRequest.requested_by))
            .order_by(ChangeRequest.id.desc())
        )
        .scalars()
        .all()
    )


def manual_checks_of(application: Application) -> dict[str, ManualCheck]:
    """Saved manual checklist items of ``application`` by item code (one statement, plus one for
    the users who ticked them)."""
    rows = db.session.execute(
        db.select(ManualCheck)
        .where(ManualCheck.application_id == application.id)
        .options(selectinload(ManualCheck.checked_by))
    ).scalars()
    return {row.item: row for row in rows}


def affiliations_of(user: User) -> Sequence[ReviewerAffiliation]:
    return (
        db.session.execute(
            db.select(ReviewerAffiliation)
            .where(ReviewerAffiliation.user_id == user.id)
            .options(selectinload(ReviewerAffiliation.organisation))
        )
        .scalars()
        .all()
    )


@dataclass(frozen=True)
class ReferenceData:
    """What the admin's "Stammdaten" page shows (TV-L caps, windows, base rates)."""

    scales: Sequence[PayScale]
    years: Sequence[FundingYear]
    latest_scale_year: int | None
    base_rates: Sequence[tuple[BaseRate, str, str]]


def reference_data() -> ReferenceData:
    """TV-L caps and funding years newest first; Basiszinssätze newest first with the base and
    the § 49a rate (+5 pp) as German text."""
    scales = db.session.execute(
        db.select(PayScale).order_by(PayScale.year.desc(), PayScale.pay_group)
    ).scalars()
    years = db.session.execute(db.select(FundingYear).order_by(FundingYear.year.desc())).scalars()
    rates = db.session.execute(db.select(BaseRate).order_by(BaseRate.valid_from.desc())).scalars()
    return ReferenceData(
        scales=scales.all(),
        years=years.all(),
        latest_scale_year=db.session.execute(db.select(func.max(PayScale.year))).scalar(),
        base_rates=[
            (row, format_rate_bp(row.rate_bp), format_rate_bp(row.rate_bp + SURCHARGE_BP))
            for row in rates
        ],
    )
