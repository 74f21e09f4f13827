"""Applicant-side services: drafting, documents, submission, withdrawal, consultations.

:raises: ``DomainError`` subclasses only; no Flask request objects, no commits.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, update

from app.auth.models import Role, User
from app.common.audit import record_event
from app.common.dates import legal_date
from app.common.db import BERLIN, as_utc, today, utcnow
from app.common.errors import DomainError, InvalidTransition, NotPermitted, RuleViolation
from app.common.mail import queue_mail
from app.extensions import db
from app.grants import queries
from app.grants.models import (
    EDITABLE_STATUSES,
    Application,
    ApplicationEvent,
    ChangeRequest,
    Consultation,
    Document,
    EventKind,
    KprRecord,
    KprRecordKind,
    LineCategory,
    PlanLine,
    Qualification,
    SmallGrantReason,
    Status,
    Submission,
)
from app.grants.services import documents as files
from app.grants.services.rules import RuleProblem, check_submission, is_in_window
from app.grants.services.snapshot import build_snapshot
from app.orgs.models import Organisation

logger = logging.getLogger(__name__)


# --- permissions ---------------------------------------------------------------------------


def ensure_applicant_of(user: User, application: Application) -> None:
    """Only applicants of the owning organisation edit an application.

    :raises NotPermitted:
    """
    if not (user.has_role(Role.APPLICANT) and user.organisation_id == application.organisation_id):
        raise NotPermitted(_l("Nur die antragstellende Kommune kann den Antrag bearbeiten."))


def ensure_editable(application: Application) -> None:
    """:raises InvalidTransition: the application is submitted or decided."""
    if application.status not in EDITABLE_STATUSES:
        raise InvalidTransition(
            _l("Der Antrag ist eingereicht und kann nur nach einer Nachforderung geändert werden.")
        )


def add_event(
    application: Application,
    kind: EventKind,
    actor: User | None,
    *,
    internal: bool = False,
    message: str = "",
    **data: object,
) -> ApplicationEvent:
    """Append a typed event (and the generic audit row) to the session."""
    event = ApplicationEvent(
        application_id=application.id,
        kind=kind,
        actor_id=actor.id if actor else None,
        internal=internal,
        message=message,
        data=json.dumps(data, default=str, ensure_ascii=False, sort_keys=True),
    )
    db.session.add(event)
    record_event(
        kind.value, "application", application.id, actor_id=actor.id if actor else None, **data
    )
    return event


def notify_organisation(application: Application, subject: str, body: str) -> None:
    """Queue one mail per active user of the applicant organisation (greeting and signature
    added here)."""
    recipients = db.session.execute(
        db.select(User.email).where(
            User.organisation_id == application.organisation_id, User.active.is_(True)
        )
    ).scalars()
    for email in recipients:
        queue_mail(email, subject, f"Guten Tag,\n\n{body}\nIhr Förderportal KommPräv\n")


def transition(application: Application, allowed: Sequence[Status], to: Status) -> None:
    """Guarded status change: one UPDATE ... WHERE status IN (allowed); rowcount must be 1.

    Two concurrent requests cannot both move the same application (RELIABILITY §4).

    :raises InvalidTransition: the status changed meanwhile or never allowed this step.
    """
    db.session.flush()
    result: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(Application)
        .where(Application.id == application.id, Application.status.in_(list(allowed)))
        .values(status=to, version_id=Application.version_id + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise InvalidTransition(_l("Der Antrag hat inzwischen einen anderen Bearbeitungsstand."))
    db.session.refresh(application)


# --- drafting --------------------------------------------------------------------------------


def create_application(user: User, funding_year: int) -> Application:
    """Start a draft for the user's organisation; CONSULTED at once if a consultation exists.

    :raises NotPermitted: the user is not an applicant of an organisation.
    """
    if not user.has_role(Role.APPLICANT) or user.organisation_id is None:
        raise NotPermitted(_l("Nur Antragstellende einer Kommune können Anträge anlegen."))
    consulted = bool(queries.consultations_of(user.organisation_id))
    application = Application(
        organisation_id=user.organisation_id,
        funding_year=funding_year,
        status=Status.CONSULTED if consulted else Status.DRAFT,
        created_by_id=user.id,
    )
    db.session.add(application)
    db.session.flush()
    add_event(application, EventKind.CREATED, user, funding_year=funding_year)
    return application


GENERAL_FIELDS = ("title", "purpose", "project_start", "project_end")
KPR_FIELDS = (
    "kpr_name",
    "kpr_established_on",
    "office_unit",
    "office_contact_name",
    "office_contact_email",
    "office_contact_phone",
    "office_tasks",
)


def update_fields(
    application: Application, user: User, values: dict[str, object], allowed: Sequence[str]
) -> None:
    """Save draft fields of one editor step.

    :raises NotPermitted: not the owning organisation; :raises InvalidTransition: not editable.
    """
    ensure_applicant_of(user, application)
    ensure_editable(application)
    for name in allowed:
        if name in values:
            setattr(application, name, values[name])


@dataclass
class LineInput:
    """One plan line as entered (already parsed into cents and numbers by the form)."""

    category: LineCategory
    description: str
    amount_cents: int
    pay_group: int | None = None
    pay_step: int | None = None
    qualification: Qualification | None = None
    fte_permille: int | None = None
    months: int | None = None
    investive: bool = False
    in_kind: bool = False
    id: int | None = None


def save_plan(
    application: Application,
    user: User,
    *,
    lines: Sequence[LineInput],
    own_share_cash_cents: int,
    third_party_cents: int,
    third_party_source: str,
    requested_grant_cents: int,
    small_grant_reason: SmallGrantReason | None,
    small_grant_note: str,
) -> None:
    """Replace the plan lines and the financing figures of a draft.

    Lines keep their ids where given so that documents attached to a post stay attached.
    """
    ensure_applicant_of(user, application)
    ensure_editable(application)
    existing = {line.id: line for line in application.lines}
    kept: list[PlanLine] = []
    for position, data in enumerate(lines):
        line = existing.pop(data.id, None) if data.id is not None else None
        if line is None:
            line = PlanLine(category=data.category)
        line.position = position
        line.category = data.category
        line.description = data.description.strip()
        line.amount_cents = data.amount_cents
        is_staff = data.category is LineCategory.STAFF
        line.pay_group = data.pay_group if is_staff else None
        line.pay_step = data.pay_step if is_staff else None
        line.qualification = data.qualification if is_staff else None
        line.fte_permille = data.fte_permille if is_staff else None
        line.months = data.months if is_staff else None
        line.investive = data.investive and not is_staff
        line.in_kind = data.in_kind
        kept.append(line)
    application.lines = kept
    application.own_share_cash_cents = own_share_cash_cents
    application.third_party_cents = third_party_cents
    application.third_party_source = third_party_source.strip()
    application.requested_grant_cents = requested_grant_cents
    application.small_grant_reason = small_grant_reason
    application.small_grant_note = small_grant_note.strip()
    db.session.flush()


# --- documents ---------------------------------------------------------------------------------


def add_document(
    application: Application,
    user: User,
    *,
    type_code: str,
    data: bytes,
    filename: str,
    plan_line_id: int | None = None,
) -> Document:
    """Validate and store an uploaded document of a draft.

    :raises UploadRejected: bad file; :raises NotPermitted / InvalidTransition:
    """
    ensure_applicant_of(user, application)
    ensure_editable(application)
    valid_types = {t.code for t in queries.document_types()}
    if type_code not in valid_types:
        raise files.UploadRejected(_l("Unbekannte Dokumentart."), field="type_code")
    if plan_line_id is not None and plan_line_id not in {ln.id for ln in application.lines}:
        raise files.UploadRejected(
            _l("Die Personalposition gehört nicht zu diesem Antrag."), field="plan_line_id"
        )
    stored = files.validate_upload(data, filename)
    files.write_file(stored, data)
    document = Document(
        organisation_id=application.organisation_id,
        application_id=application.id,
        type_code=type_code,
        plan_line_id=plan_line_id,
        original_name=stored.original_name,
        stored_name=stored.stored_name,
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        uploaded_by_id=user.id,
    )
    db.session.add(document)
    db.session.flush()
    db.session.expire(application, ["documents"])
    record_event(
        "document_uploaded",
        "application",
        application.id,
        actor_id=user.id,
        document_id=document.id,
        type=type_code,
        sha256=stored.sha256,
    )
    return document


def remove_document(application: Application, user: User, document: Document) -> None:
    """Detach a document from a draft (the file is kept; submitted copies reference it)."""
    ensure_applicant_of(user, application)
    ensure_editable(application)
    document.removed_at = utcnow()
    db.session.flush()
    db.session.expire(application, ["documents"])
    record_event(
        "document_removed", "application", application.id, actor_id=user.id, document_id=document.id
    )


# --- submission --------------------------------------------------------------------------------


def submission_problems(application: Application, on: date | None = None) -> list[RuleProblem]:
    """What still prevents submission (for the checklist)."""
    return check_submission(queries.submission_context(application, on))


def save_late_justification(application: Application, user: User, text: str) -> None:
    """Keep the late-submission justification typed on the submit step (R2) without submitting,
    e.g. when the user leaves the step through a tab."""
    ensure_applicant_of(user, application)
    if application.status not in EDITABLE_STATUSES:
        raise InvalidTransition(_l("Der Antrag kann nicht mehr bearbeitet werden."))
    application.late_justification = text.strip()


def submit_application(
    application: Application,
    user: User,
    *,
    late_justification: str = "",
    now: datetime | None = None,
) -> Submission:
    """Check R1–R9, freeze a snapshot (JSON + PDF, each hashed) and move to SUBMITTED.

    :raises RuleViolation: with every unmet rule; :raises InvalidTransition: not submittable.
    """
    ensure_applicant_of(user, application)
    now = now or utcnow()
    if application.status not in (Status.CONSULTED, Status.INCOMPLETE, Status.DRAFT):
        raise InvalidTransition(_l("Dieser Antrag kann nicht eingereicht werden."))
    if late_justification.strip():
        application.late_justification = late_justification.strip()
    on = legal_date(now)  # R2: the date in Germany, not the UTC date
    ctx = queries.submission_context(application, on)
    problems = check_submission(ctx)
    if problems:
        raise RuleViolation(
            [InvalidTransition(p.message, field=p.field, rule=p.rule) for p in problems]
        )
    resubmission = application.first_submitted_at is not None
    if not resubmission:
        application.first_submitted_at = now
        application.is_late = not _in_window(ctx.window, on)
        application.reference = f"LPR-KP-{application.funding_year}-{application.id:05d}"
    application.submitted_at = now
    body = application.organisation
    application.applicant_name_at_submission = body.display_name
    application.applicant_ags_at_submission = (
        body.ags if body.ags else (body.parent.ags if body.parent else None)
    )
    version = len(queries.submissions_of(application)) + 1
    transition(application, [Status.CONSULTED, Status.INCOMPLETE], Status.SUBMITTED)
    if resubmission:
        resolve_change_requests(application)
    snapshot = build_snapshot(
        application, ctx.totals, version=version, submitted_at=now, submitted_by=user
    )
    submission = Submission(
        application_id=application.id,
        version=version,
        submitted_at=now,
        submitted_by_id=user.id,
        is_late=application.is_late,
        data_json=snapshot.data_json,
        data_sha256=snapshot.data_sha256,
        pdf=snapshot.pdf,
        pdf_sha256=snapshot.pdf_sha256,
    )
    db.session.add(submission)
    db.session.flush()
    add_event(
        application,
        EventKind.RESUBMITTED if resubmission else EventKind.SUBMITTED,
        user,
        version=version,
        late=application.is_late,
        pdf_sha256=snapshot.pdf_sha256,
    )
    logger.info(
        "application_submitted", extra={"application_id": application.id, "version": version}
    )
    return submission


def _in_window(window: tuple[date, date], on: date) -> bool:
    return is_in_window(window, on)


def withdraw_application(application: Application, user: User, reason: str) -> None:
    """The applicant withdraws a not yet decided application (T22)."""
    ensure_applicant_of(user, application)
    transition(
        application,
        [Status.DRAFT, Status.CONSULTED, Status.SUBMITTED, Status.INCOMPLETE, Status.IN_REVIEW],
        Status.WITHDRAWN,
    )
    add_event(application, EventKind.WITHDRAWN, user, message=reason.strip())


# --- consultations and KPR status ---------------------------------------------------------------


def record_consultation(
    reviewer: User, organisation: Organisation, *, held_on: date, adviser: str, notes: str
) -> Consultation:
    """Record a consultation (T1); the organisation's drafts become CONSULTED.

    :raises NotPermitted: only ministry reviewers/approvers; :raises InvalidTransition: future date.
    """
    if not reviewer.has_role(Role.REVIEWER, Role.APPROVER, Role.ADMIN):
        raise NotPermitted(_l("Beratungsgespräche erfasst die Geschäftsstelle des LPR."))
    if held_on > today():
        raise InvalidTransition(
            _l("Das Datum des Gesprächs darf nicht in der Zukunft liegen."), field="held_on"
        )
    consultation = Consultation(
        organisation_id=organisation.id,
        held_on=held_on,
        adviser=adviser.strip(),
        notes=notes.strip(),
        recorded_by_id=reviewer.id,
    )
    db.session.add(consultation)
    db.session.flush()
    drafts = (
        db.session.execute(
            db.select(Application).where(
                Application.organisation_id == organisation.id, Application.status == Status.DRAFT
            )
        )
        .scalars()
        .all()
    )
    for application in drafts:
        transition(application, [Status.DRAFT], Status.CONSULTED)
        add_event(application, EventKind.CONSULTATION_RECORDED, reviewer, held_on=held_on)
    record_event(
        "consultation_recorded",
        "organisation",
        organisation.id,
        actor_id=reviewer.id,
        held_on=held_on,
        adviser=adviser,
    )
    return consultation


def _ensure_consultation_staff(user: User) -> None:
    if not user.has_role(Role.REVIEWER, Role.APPROVER, Role.ADMIN):
        raise NotPermitted("Beratungsgespräche erfasst die Geschäftsstelle des LPR.")


def _resting_on(consultation: Consultation, held_on: date | None) -> list[Application]:
    """Submitted applications of the organisation whose R1 check rests on ``consultation``: no
    other consultation of the organisation was held by their first submission, and this one —
    dated ``held_on`` (None: deleted) — would no longer be either."""
    others = [
        c.held_on
        for c in queries.consultations_of(consultation.organisation_id)
        if c.id != consultation.id
    ]
    submitted = db.session.execute(
        db.select(Application).where(
            Application.organisation_id == consultation.organisation_id,
            Application.first_submitted_at.is_not(None),
        )
    ).scalars()
    resting = []
    for application in submitted:
        submitted_at = cast(datetime, as_utc(application.first_submitted_at))
        on = submitted_at.astimezone(BERLIN).date()
        if not any(d <= on for d in others) and (held_on is None or held_on > on):
            resting.append(application)
    return resting


def _refuse_if_resting(consultation: Consultation, held_on: date | None, field: str) -> None:
    resting = _resting_on(consultation, held_on)
    if resting:
        refs = ", ".join(a.reference or str(a.id) for a in resting)
        raise InvalidTransition(
            f"Auf diesem Beratungsgespräch beruht die Einreichung von {refs} (R1). "
            "Es kann nicht gelöscht oder auf ein späteres Datum gelegt werden.",
            field=field,
        )


def correct_consultation(
    user: User, consultation: Consultation, *, held_on: date, adviser: str, notes: str
) -> None:
    """Correct a recorded consultation (audited with the old values). The date may not move
    into the future, nor after the submission of an application that relies on it (R1)."""
    _ensure_consultation_staff(user)
    if held_on > today():
        raise InvalidTransition(
            "Das Datum des Gesprächs darf nicht in der Zukunft liegen.", field="held_on"
        )
    if not adviser.strip():
        raise DomainError("Bitte geben Sie die beratende Person an.", field="adviser")
    _refuse_if_resting(consultation, held_on, "held_on")
    before = {"held_on": consultation.held_on, "adviser": consultation.adviser}
    consultation.held_on, consultation.adviser = held_on, adviser.strip()
    consultation.notes = notes.strip()
    record_event(
        "consultation_corrected",
        "organisation",
        consultation.organisation_id,
        actor_id=user.id,
        consultation_id=consultation.id,
        before=before,
        held_on=held_on,
        adviser=consultation.adviser,
    )


def delete_consultation(user: User, consultation: Consultation) -> None:
    """Delete a consultation recorded by mistake — refused while a submitted application relies
    on it (R1). Consulted drafts without any other consultation go back to DRAFT (T1 undone)."""
    _ensure_consultation_staff(user)
    _refuse_if_resting(consultation, None, "consultation")
    organisation_id = consultation.organisation_id
    record_event(
        "consultation_deleted",
        "organisation",
        organisation_id,
        actor_id=user.id,
        consultation_id=consultation.id,
        held_on=consultation.held_on,
        adviser=consultation.adviser,
    )
    db.session.delete(consultation)
    db.session.flush()
    if queries.consultations_of(organisation_id):
        return
    consulted = db.session.execute(
        db.select(Application).where(
            Application.organisation_id == organisation_id, Application.status == Status.CONSULTED
        )
    ).scalars()
    for application in consulted:
        transition(application, [Status.CONSULTED], Status.DRAFT)


def record_kpr(
    user: User,
    *,
    kind: KprRecordKind,
    dated: date,
    partner: str,
    notes: str,
    data: bytes | None,
    filename: str,
) -> KprRecord:
    """An organisation records its KPR resolution or cooperation agreement (with a document)."""
    if not user.has_role(Role.APPLICANT) or user.organisation_id is None:
        raise NotPermitted(_l("Nur Antragstellende einer Kommune können dies erfassen."))
    if dated > today():
        raise InvalidTransition(_l("Das Datum darf nicht in der Zukunft liegen."), field="dated")
    document = None
    if data:
        stored = files.validate_upload(data, filename)
        files.write_file(stored, data)
        document = Document(
            organisation_id=user.organisation_id,
            type_code="kpr_resolution" if kind is KprRecordKind.RESOLUTION else "cooperation",
            original_name=stored.original_name,
            stored_name=stored.stored_name,
            content_type=stored.content_type,
            size_bytes=stored.size_bytes,
            sha256=stored.sha256,
            uploaded_by_id=user.id,
        )
        db.session.add(document)
        db.session.flush()
    record = KprRecord(
        organisation_id=user.organisation_id,
        kind=kind,
        dated=dated,
        partner=partner.strip(),
        notes=notes.strip(),
        document_id=document.id if document else None,
        recorded_by_id=user.id,
    )
    db.session.add(record)
    db.session.flush()
    record_event(
        "kpr_recorded",
        "organisation",
        user.organisation_id,
        actor_id=user.id,
        kind=kind.value,
        dated=dated,
    )
    return record


def resolve_change_requests(application: Application) -> None:
    """Mark open change requests as resolved (called on resubmission, T4)."""
    db.session.execute(
        update(ChangeRequest)
        .where(ChangeRequest.application_id == application.id, ChangeRequest.resolved_at.is_(None))
        .values(resolved_at=utcnow())
        .execution_options(synchronize_session=False)
    )
