"""Applicant views: my applications, the step-by-step editor, documents, submission."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from app.auth.decorators import role_required
from app.auth.models import Role, User
from app.common.db import today
from app.common.errors import DomainError, RuleViolation
from app.common.fields import options
from app.common.labels import label
from app.common.programme import QUALIFICATION_CAP_GROUP
from app.common.security import parse_id
from app.common.tx import refuse, refuse_at, transactional
from app.common.views import done, render_form
from app.extensions import db
from app.finance import queries as finance_queries
from app.grants import queries
from app.grants.blueprint import bp
from app.grants.forms import (
    AddressForm,
    CommentForm,
    ConsultationEditForm,
    ConsultationForm,
    DocumentForm,
    GeneralForm,
    KprForm,
    KprRecordForm,
    LineForm,
    NewApplicationForm,
    PlanForm,
    SubmitForm,
    WithdrawForm,
)
from app.grants.models import AWARDED_STATUSES as AWARDED
from app.grants.models import (
    Application,
    LineCategory,
    Status,
)
from app.grants.services import applications as svc
from app.grants.services import documents as files
from app.grants.services.rules import check_r4_documents
from app.monitoring.services import record_milestones
from app.orgs import queries as org_queries
from app.orgs import services as org_services
from app.postaward.forms import FulfilledForm, NoteForm, StartForm
from app.postaward.services import proof as proof_service

STEPS = ("general", "kpr", "finance", "documents", "submit")


def _user():  # type: ignore[no-untyped-def]
    return current_user._get_current_object()


def _load(application_id: int) -> Application:
    return queries.get_application_for(_user(), application_id)


def _next_step(step: str) -> str:
    target = request.form.get("goto", "")
    if target in STEPS:
        return target
    index = STEPS.index(step)
    return STEPS[min(index + 1, len(STEPS) - 1)]


# --- overview ---------------------------------------------------------------------------------


@bp.route("/antraege")
@role_required(Role.APPLICANT)
def my_applications() -> ResponseReturnValue:
    user = _user()
    applications = queries.applications_of_organisation(user.organisation_id)
    form = NewApplicationForm()
    year = today().year
    form.funding_year.choices = options([(y, str(y)) for y in (year + 1, year, year + 2)])
    return render_template(
        "grants/my_applications.html",
        applications=applications,
        form=form,
        consultations=queries.consultations_of(user.organisation_id),
        account_missing=any(a.status in AWARDED for a in applications)
        and not finance_queries.has_usable_account(user.organisation_id),
    )


@bp.route("/antraege/neu", methods=["POST"])
@role_required(Role.APPLICANT)
@transactional
def new_application() -> ResponseReturnValue:
    form = NewApplicationForm()
    year = today().year
    form.funding_year.choices = options([(y, str(y)) for y in (year + 1, year, year + 2)])
    if not form.validate_on_submit():
        flash(_("Bitte wählen Sie ein Förderjahr."), "error")
        return redirect(url_for("grants.my_applications"))
    application = svc.create_application(_user(), form.funding_year.data)
    for other in queries.same_year_applications(application):
        flash(same_year_warning(other), "warning")
    return redirect(url_for("grants.edit", application_id=application.id, step="general"))


def same_year_warning(other: Application) -> str:
    return _(
        "Achtung: Ihre Kommune hat für das Förderjahr %(y)s bereits den Antrag „%(t)s“ "
        "(%(ref)s). Ein zweiter Antrag für dasselbe Jahr ist möglich, aber meist ein Versehen – "
        "bitte prüfen Sie, ob Sie nicht den bestehenden Antrag bearbeiten wollen.",
        y=other.funding_year,
        t=other.title or _("(ohne Titel)"),
        ref=other.reference or _("noch nicht eingereicht"),
    )


def _detail_context(application: Application, user: User) -> dict[str, Any]:
    """What the application page shows: content, history, money, post-award state and the forms
    the user may use on it."""
    applicant = user.has_role(Role.APPLICANT)
    return {
        "app": application,
        "content": queries.application_content(application),
        "problems": svc.submission_problems(application) if application.is_editable else [],
        "events": queries.events_for(application, include_internal=user.is_ministry),
        "submissions": queries.submissions_of(application),
        "withdraw_form": WithdrawForm(),
        "can_edit": application.is_editable and applicant,
        "change_requests": queries.change_requests_of(application),
        "bescheid": queries.bescheid_of(application),
        "comment_form": CommentForm() if application.submitted_at else None,
        "instalments": finance_queries.instalments_of(application.id),
        "confirmed": finance_queries.bank_confirmations(application.id),
        "account_missing": application.status in AWARDED
        and applicant
        and not finance_queries.has_usable_account(application.organisation_id),
        "proof": proof_service.latest_proof(application),
        "claims": finance_queries.claims_of(application.id),
        "fulfilled_form": FulfilledForm()
        if application.status is Status.RUNNING and applicant
        else None,
        "note_form": NoteForm(),
        "start_form": StartForm() if application.status is Status.FINAL and applicant else None,
    }


@bp.route("/antraege/<int:application_id>")
@role_required(Role.APPLICANT, Role.REVIEWER, Role.APPROVER, Role.FINANCE, Role.ADMIN)
def detail(application_id: int) -> ResponseReturnValue:
    context = _detail_context(_load(application_id), _user())
    return render_template("grants/detail.html", **context)


# --- editor -------------------------------------------------------------------------------------


@bp.route("/antraege/<int:application_id>/bearbeiten/<step>", methods=["GET", "POST"])
@role_required(Role.APPLICANT)
@transactional
def edit(application_id: int, step: str) -> ResponseReturnValue:
    """One step of the editor (``EDIT_STEPS``); a submitted application is read-only."""
    if step not in STEPS:
        abort(404)
    application = _load(application_id)
    if not application.is_editable:
        flash(_("Der Antrag ist eingereicht und kann nicht mehr bearbeitet werden."), "info")
        return redirect(url_for("grants.detail", application_id=application.id))
    try:
        return EDIT_STEPS[step](application)
    except StaleDataError:
        return _changed_meanwhile(application_id, step)


def _changed_meanwhile(application_id: int, step: str) -> ResponseReturnValue:
    """Someone else saved the application in between: roll back and show the step again."""
    message = _(
        "Der Antrag wurde zwischenzeitlich von jemand anderem geändert. Bitte prüfen "
        "Sie die Angaben und speichern Sie erneut."
    )
    target = url_for("grants.edit", application_id=application_id, step=step)
    return refuse(message, target, status=302)


def _render_step(
    application: Application, step: str, status: int = 200, **context: object
) -> ResponseReturnValue:
    return render_template(
        f"grants/edit_{step}.html", app=application, step=step, steps=STEPS, **context
    ), status


def _saved(application: Application, step: str) -> ResponseReturnValue:
    if request.form.get("action") == "stay":
        flash(_("Gespeichert."), "success")
        return redirect(url_for("grants.edit", application_id=application.id, step=step))
    return redirect(url_for("grants.edit", application_id=application.id, step=_next_step(step)))


def _edit_general(application: Application) -> ResponseReturnValue:
    form = GeneralForm(obj=application)
    if form.validate_on_submit():
        svc.update_fields(application, _user(), form.data, svc.GENERAL_FIELDS)
        return _saved(application, "general")
    status = 422 if form.errors else 200
    return _render_step(application, "general", status, form=form)


def _edit_kpr(application: Application) -> ResponseReturnValue:
    form = KprForm(obj=application)
    if form.validate_on_submit():
        svc.update_fields(application, _user(), form.data, svc.KPR_FIELDS)
        return _saved(application, "kpr")
    user = _user()
    return _render_step(
        application,
        "kpr",
        422 if form.errors else 200,
        form=form,
        kpr_records=queries.kpr_records_of(user.organisation_id),
    )


def _plan_form(application: Application) -> PlanForm:
    if request.method == "POST":
        return PlanForm()
    form = PlanForm(
        # Empty instead of "0,00" so that typing into a new plan does not produce "0,0018.000".
        own_share_cash=application.own_share_cash_cents or None,
        third_party=application.third_party_cents or None,
        third_party_source=application.third_party_source,
        requested_grant=application.requested_grant_cents or None,
        small_grant_reason=application.small_grant_reason.value
        if application.small_grant_reason
        else "",
        small_grant_note=application.small_grant_note,
    )
    for line in application.lines:
        form.lines.append_entry(
            {
                "id": str(line.id),
                "category": line.category.value,
                "description": line.description,
                "pay_group": line.pay_group,
                "pay_step": line.pay_step,
                "qualification": line.qualification.value if line.qualification else "",
                "fte": line.fte_permille,
                "months": line.months,
                "amount": line.amount_cents,
                "investive": line.investive,
                "in_kind": line.in_kind,
            }
        )
    return form


def _line_inputs(form: PlanForm, application: Application) -> list[svc.LineInput]:
    own_ids = {line.id for line in application.lines}
    inputs = []
    for entry in form.lines:
        sub = entry.form
        if sub.remove.data:
            continue
        raw_id = sub.id.data or ""
        parsed = parse_id(raw_id)
        line_id = parsed if parsed in own_ids else None
        if not (sub.description.data or sub.amount.data):
            continue  # an empty row the user added but did not fill
        inputs.append(
            svc.LineInput(
                id=line_id,
                category=LineCategory(sub.category.data),
                description=sub.description.data or "",
                amount_cents=sub.amount.data or 0,
                pay_group=sub.pay_group.data,
                pay_step=sub.pay_step.data,
                qualification=PlanForm.qualification_of(sub.qualification.data),
                fte_permille=sub.fte.data,
                months=sub.months.data,
                investive=bool(sub.investive.data),
                in_kind=bool(sub.in_kind.data),
            )
        )
    return inputs


def _edit_finance(application: Application) -> ResponseReturnValue:
    form = _plan_form(application)
    add = request.form.get("add_line")
    if request.method == "POST" and add in ("staff", "running"):
        # Server-side "add a row" for browsers without JavaScript: keep what was typed.
        form.lines.append_entry({"category": add})
        return _render_finance(application, form)
    if form.validate_on_submit():
        svc.save_plan(
            application,
            _user(),
            lines=_line_inputs(form, application),
            own_share_cash_cents=form.own_share_cash.data or 0,
            third_party_cents=form.third_party.data or 0,
            third_party_source=form.third_party_source.data or "",
            requested_grant_cents=form.requested_grant.data or 0,
            small_grant_reason=PlanForm.reason_of(form.small_grant_reason.data),
            small_grant_note=form.small_grant_note.data or "",
        )
        return _saved(application, "finance")
    return _render_finance(application, form, 422 if form.errors else 200)


def _render_finance(
    application: Application, form: PlanForm, status: int = 200
) -> ResponseReturnValue:
    caps = queries.monthly_caps(application.funding_year)
    blank = LineForm(prefix="lines-__index__-")
    return _render_step(
        application,
        "finance",
        status,
        form=form,
        totals=queries.totals_for(application, caps),
        caps=caps,
        cap_groups=dict(QUALIFICATION_CAP_GROUP),
        blank=blank,
    )


def _document_form(application: Application) -> DocumentForm:
    form = DocumentForm()
    form.type_code.choices = options(
        (t.code, label(t.code, "document_type", t.label_de))
        for t in queries.document_types()
        if t.code not in ("kpr_resolution", "cooperation")
    )
    form.plan_line_id.choices = options(
        [("", "—")]
        + [
            (str(line.id), line.description or f"Personalposition {line.position + 1}")
            for line in application.lines
            if line.is_grant_funded_staff
        ]
    )
    return form


def _edit_documents(application: Application) -> ResponseReturnValue:
    form = _document_form(application)
    if form.validate_on_submit():
        upload = form.file.data
        raw_line = form.plan_line_id.data or ""
        try:
            svc.add_document(
                application,
                _user(),
                type_code=form.type_code.data or "",
                data=upload.read(),
                filename=upload.filename or "",
                plan_line_id=parse_id(raw_line),
            )
        except files.UploadRejected as exc:
            getattr(form, exc.field or "file").errors.append(exc.message)
            return _render_documents(application, form, 422)
        flash(_("Das Dokument wurde hochgeladen."), "success")
        return redirect(url_for("grants.edit", application_id=application.id, step="documents"))
    if request.method == "POST" and request.form.get("goto") in STEPS and not form.file.data:
        return redirect(
            url_for("grants.edit", application_id=application.id, step=request.form["goto"])
        )
    return _render_documents(application, form, 422 if form.errors else 200)


def _render_documents(
    application: Application, form: DocumentForm, status: int = 200
) -> ResponseReturnValue:
    ctx = queries.submission_context(application)

    return _render_step(
        application,
        "documents",
        status,
        form=form,
        doc_types=ctx.document_types,
        missing=check_r4_documents(application, ctx.document_types, ctx.documents),
    )


def _edit_submit(application: Application) -> ResponseReturnValue:
    form = SubmitForm(late_justification=application.late_justification)
    if request.method == "POST" and request.form.get("action") != "submit":
        # A step tab or a linked open item: keep what was typed and go there, never submit.
        svc.save_late_justification(application, _user(), form.late_justification.data or "")
        return redirect(
            url_for("grants.edit", application_id=application.id, step=_next_step("submit"))
        )
    problems = svc.submission_problems(application)
    window = queries.window_for(application.funding_year)
    if form.validate_on_submit():
        try:
            submission = svc.submit_application(
                application, _user(), late_justification=form.late_justification.data or ""
            )
        except RuleViolation as exc:
            db.session.rollback()
            application = _load(application.id)
            for problem in exc.problems:
                if problem.field == "late_justification":
                    form.late_justification.errors.append(problem.message)
            return _render_step(
                application,
                "submit",
                422,
                form=form,
                problems=svc.submission_problems(application),
                window=window,
                failed=True,
            )
        flash(_("Der Antrag wurde eingereicht (Version %(v)s).", v=submission.version), "success")
        return redirect(url_for("grants.detail", application_id=application.id))
    return _render_step(
        application,
        "submit",
        422 if form.errors else 200,
        form=form,
        problems=problems,
        window=window,
        same_year=[same_year_warning(o) for o in queries.same_year_applications(application)],
    )


EDIT_STEPS: dict[str, Callable[[Application], ResponseReturnValue]] = {
    "general": _edit_general,
    "kpr": _edit_kpr,
    "finance": _edit_finance,
    "documents": _edit_documents,
    "submit": _edit_submit,
}


# --- documents and snapshots --------------------------------------------------------------------


@bp.route("/antraege/<int:application_id>/dokumente/<int:document_id>")
@role_required(Role.APPLICANT, Role.REVIEWER, Role.APPROVER, Role.FINANCE, Role.ADMIN)
def download_document(application_id: int, document_id: int) -> ResponseReturnValue:
    application = _load(application_id)
    document = queries.get_document(application, document_id)
    return _attachment(
        files.read_file(document.stored_name), document.original_name, document.content_type
    )


@bp.route("/antraege/<int:application_id>/dokumente/<int:document_id>/entfernen", methods=["POST"])
@role_required(Role.APPLICANT)
@transactional
def remove_document(application_id: int, document_id: int) -> ResponseReturnValue:
    application = _load(application_id)
    document = queries.get_document(application, document_id)
    svc.remove_document(application, _user(), document)
    flash(_("Das Dokument wurde entfernt."), "success")
    return redirect(url_for("grants.edit", application_id=application.id, step="documents"))


@bp.route("/antraege/<int:application_id>/einreichungen/<int:version>.pdf")
@role_required(Role.APPLICANT, Role.REVIEWER, Role.APPROVER, Role.FINANCE, Role.ADMIN)
def submission_pdf(application_id: int, version: int) -> ResponseReturnValue:
    application = _load(application_id)
    submission = queries.get_submission(application, version)
    name = f"{application.reference}-v{version}.pdf"
    return _attachment(submission.pdf, name, "application/pdf")


@bp.route("/antraege/<int:application_id>/einreichungen/<int:version>.json")
@role_required(Role.APPLICANT, Role.REVIEWER, Role.APPROVER, Role.FINANCE, Role.ADMIN)
def submission_json(application_id: int, version: int) -> ResponseReturnValue:
    application = _load(application_id)
    submission = queries.get_submission(application, version)
    name = f"{application.reference}-v{version}.json"
    return _attachment(submission.data_json.encode(), name, "application/json")


def _attachment(data: bytes, name: str, mimetype: str) -> ResponseReturnValue:
    import io

    return send_file(
        io.BytesIO(data),
        mimetype=mimetype,
        as_attachment=True,
        download_name=files.safe_filename(name),
    )


@bp.route("/antraege/<int:application_id>/zurueckziehen", methods=["POST"])
@role_required(Role.APPLICANT)
@transactional
def withdraw(application_id: int) -> ResponseReturnValue:
    application = _load(application_id)
    form, target = WithdrawForm(), url_for("grants.detail", application_id=application_id)
    if not form.validate_on_submit():
        return redirect(target)
    try:
        svc.withdraw_application(application, _user(), form.reason.data or "")
    except DomainError as exc:
        return refuse(exc, target, status=302)
    return done(_("Der Antrag wurde zurückgezogen."), target)


# --- organisation (KPR status) and consultations ---------------------------------------------


@bp.route("/kommune", methods=["GET", "POST"])
@role_required(Role.APPLICANT)
@transactional
def organisation() -> ResponseReturnValue:
    """The organisation's KPR records (with a form for a new one) and its postal address."""
    form = KprRecordForm()
    if form.validate_on_submit():
        try:
            svc.record_kpr(_user(), **form.service_input())
        except DomainError as exc:
            refuse_at(getattr(form, exc.field or "file"), exc)
        else:
            return done(_("Gespeichert."), url_for("grants.organisation"))
    return _organisation_page(form)


def _organisation_page(form: KprRecordForm) -> ResponseReturnValue:
    user = _user()
    return render_form(
        "grants/organisation.html",
        form,
        org=user.organisation,
        form=form,
        address_form=AddressForm(address=user.organisation.address),
        consultations=queries.consultations_of(user.organisation_id),
        records=queries.kpr_records_of(user.organisation_id),
    )


@bp.route("/kommune/anschrift", methods=["POST"])
@role_required(Role.APPLICANT)
@transactional
def organisation_address() -> ResponseReturnValue:
    form = AddressForm()
    target = url_for("grants.organisation") + "#anschrift"
    if not form.validate_on_submit():
        return refuse(_("Bitte geben Sie die Postanschrift ein (höchstens 300 Zeichen)."), target)
    try:
        org_services.set_address(_user(), _user().organisation, form.address.data or "")
    except DomainError as exc:
        return refuse(exc, target)
    flash(_("Die Anschrift wurde gespeichert."), "success")
    return redirect(target)


@bp.route("/kommune/dokumente/<int:record_id>")
@role_required(Role.APPLICANT, Role.REVIEWER, Role.APPROVER, Role.ADMIN)
def kpr_document(record_id: int) -> ResponseReturnValue:
    doc = queries.get_kpr_document(_user(), record_id)
    return _attachment(files.read_file(doc.stored_name), doc.original_name, doc.content_type)


@bp.route("/beratungen", methods=["GET", "POST"])
@role_required(Role.REVIEWER, Role.APPROVER, Role.ADMIN)
@transactional
def consultations() -> ResponseReturnValue:
    """Search a Kommune (``?suche=``) and record a consultation with it (T1)."""
    form, term = ConsultationForm(), request.args.get("suche", "")
    orgs = org_queries.search_organisations(term)
    form.offer_found(orgs)
    org = form.chosen_organisation() if form.validate_on_submit() else None
    if org is not None:
        try:
            svc.record_consultation(_user(), org, **form.service_input())
        except DomainError as exc:
            refuse_at(getattr(form, exc.field or "held_on"), exc)
        else:
            record_milestones(today(), current_app.config["MILESTONE_RECIPIENTS"])
            return done(_("Das Beratungsgespräch wurde erfasst."), url_for(".consultations"))
    return _consultations_page(form, term, len(orgs))


def _consultations_page(form: ConsultationForm, term: str, matches: int) -> ResponseReturnValue:
    recent = queries.recent_consultations()
    page = "grants/consultations.html"
    return render_form(page, form, form=form, recent=recent, term=term, matches=matches)


@bp.route("/beratungen/<int:consultation_id>", methods=["GET", "POST"])
@role_required(Role.REVIEWER, Role.APPROVER, Role.ADMIN)
@transactional
def correct_consultation(consultation_id: int) -> ResponseReturnValue:
    consultation = queries.get_consultation(consultation_id)
    form = ConsultationEditForm(obj=consultation)
    if form.validate_on_submit():
        try:
            svc.correct_consultation(_user(), consultation, **form.service_input())
        except DomainError as exc:
            refuse_at(getattr(form, exc.field or "held_on"), exc)
        else:
            return done(_("Das Beratungsgespräch wurde korrigiert."), url_for(".consultations"))
    page = "grants/consultation_edit.html"
    return render_form(page, form, form=form, consultation=consultation)


@bp.route("/beratungen/<int:consultation_id>/loeschen", methods=["POST"])
@role_required(Role.REVIEWER, Role.APPROVER, Role.ADMIN)
@transactional
def delete_consultation(consultation_id: int) -> ResponseReturnValue:
    consultation = queries.get_consultation(consultation_id)
    try:
        svc.delete_consultation(_user(), consultation)
    except DomainError as exc:
        return refuse(exc, url_for(".consultations"))
    return done(_("Das Beratungsgespräch wurde gelöscht."), url_for(".consultations"))
