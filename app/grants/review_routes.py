"""Ministry views: review queue, review page, change requests, decisions, Bescheid."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.decorators import role_required
from app.auth.models import Role, User
from app.common.db import today
from app.common.errors import BudgetCapExceeded, DomainError
from app.common.fields import first_error, options
from app.common.security import parse_id
from app.common.tx import refuse_at, transactional
from app.common.views import done
from app.extensions import db
from app.grants import queries
from app.grants.blueprint import bp
from app.grants.forms import (
    AffiliationForm,
    AssignForm,
    ChangeRequestForm,
    CommentForm,
    DateForm,
    DecideForm,
    DecisionForm,
    ManualChecksForm,
    manual_checks_form,
    queue_filter,
)
from app.grants.models import Application, Decision, FinancingType, Status
from app.grants.routes import _attachment
from app.grants.services import review
from app.grants.services.compare import diff_versions
from app.orgs import queries as org_queries
from app.postaward.forms import NoteForm, RevocationCheckForm, RevokeForm
from app.postaward.services import proof as proof_service
from app.postaward.services import revocation

MINISTRY = (Role.REVIEWER, Role.APPROVER, Role.ADMIN)


def _user() -> User:
    return cast(User, current_user._get_current_object())


def _load(application_id: int) -> Application:
    return queries.get_application_for(_user(), application_id)


def _int_arg(name: str, low: int = 0, high: int = 10_000) -> int | None:
    raw = request.args.get(name, "")
    value = parse_id(raw, high) if raw != "0" else 0
    if value is not None and low <= value <= high:
        return value
    return None


@bp.route("/pruefung")
@role_required(*MINISTRY)
def queue() -> ResponseReturnValue:
    kreise, pds = queries.kreise(), queries.polizeidirektionen()
    f, errors = queue_filter(
        request.args,
        user_id=_user().id,
        kreis_keys=[key for key, _name in kreise],
        polizeidirektionen=pds,
    )
    return render_template(
        "grants/review_queue.html",
        page=queries.review_queue(f),
        f=f,
        errors=errors,
        kreise=kreise,
        pds=pds,
        args=request.args,
    )


def _render_review(
    application: Application, status: int = 200, **forms: Any
) -> ResponseReturnValue:
    """The review page; ``forms`` replace the empty forms (a refused one keeps what was typed)."""
    user = _user()
    submissions = queries.submissions_of(application)
    assign_form = AssignForm()
    assign_form.reviewer.choices = options(
        (str(r.id), r.name)
        for r in queries.reviewers()
        if not review.has_conflict(r, application.organisation_id)
    )
    manual = queries.manual_checks_of(application)
    context: dict[str, Any] = {
        "assign_form": assign_form,
        "change_form": ChangeRequestForm(formdata=None),
        "manual_form": manual_checks_form(manual),
        "comment_form": CommentForm(formdata=None),
        "decide_form": DecideForm(formdata=None),
        "date_form": DateForm(formdata=None),
        "check_form": RevocationCheckForm(formdata=None),
        "revoke_form": RevokeForm(formdata=None),
        "note_form": NoteForm(formdata=None),
    } | forms
    return render_template(
        "grants/review.html",
        app=application,
        user=user,
        conflict=review.has_conflict(user, application.organisation_id),
        checklist=review.checklist(application) if submissions else [],
        manual=manual,
        manual_labels=review.MANUAL_CHECK_LABELS,
        content=queries.application_content(application),
        submissions=submissions,
        events=queries.events_for(application, include_internal=True),
        decisions=queries.decisions_of(application),
        decision=review.open_decision(application),
        change_requests=queries.change_requests_of(application),
        bescheid=queries.bescheid_of(application),
        finality=review.finality_date(application),
        proof=proof_service.latest_proof(application),
        case=revocation.open_case(application),
        **context,
    ), status


@bp.route("/pruefung/<int:application_id>")
@role_required(*MINISTRY)
def review_page(application_id: int) -> ResponseReturnValue:
    return _render_review(_load(application_id))


@bp.route("/pruefung/<int:application_id>/pruefpunkte", methods=["POST"])
@role_required(Role.REVIEWER, Role.APPROVER)
@transactional
def save_manual_checks(application_id: int) -> ResponseReturnValue:
    application = _load(application_id)
    form = ManualChecksForm()
    if form.validate_on_submit():
        try:
            review.save_manual_checks(_user(), application, form.entries())
        except DomainError as exc:
            refuse_at(form.items, exc)
        else:
            return done(_("Die Prüfpunkte wurden gespeichert."), _url(application, "#pruefliste"))
    return _render_review(application, 422, manual_form=form)


def _url(application: Application, anchor: str = "") -> str:
    return url_for("grants.review_page", application_id=application.id) + anchor


def _back(application: Application, anchor: str = "") -> ResponseReturnValue:
    return redirect(url_for("grants.review_page", application_id=application.id) + anchor)


@bp.route("/pruefung/<int:application_id>/uebernehmen", methods=["POST"])
@role_required(Role.REVIEWER)
@transactional
def start_review(application_id: int) -> ResponseReturnValue:
    application = _load(application_id)
    try:
        review.start_review(_user(), application)
    except DomainError as exc:
        flash(exc.message, "error")
        return _back(application)
    flash(_("Sie prüfen jetzt diesen Antrag."), "success")
    return _back(application)


@bp.route("/pruefung/<int:application_id>/zuweisen", methods=["POST"])
@role_required(Role.APPROVER, Role.ADMIN)
@transactional
def assign(application_id: int) -> ResponseReturnValue:
    application = _load(application_id)
    form = AssignForm()
    raw = form.reviewer.data or ""
    reviewer_id = parse_id(raw)
    reviewer = db.session.get(User, reviewer_id) if reviewer_id else None
    if not form.validate_on_submit() or reviewer is None:
        flash(_("Bitte wählen Sie eine Person aus."), "error")
        return _back(application)
    try:
        review.assign(_user(), application, reviewer)
    except DomainError as exc:
        flash(exc.message, "error")
        return _back(application)
    flash(_("Der Antrag wurde %(name)s zugewiesen.", name=reviewer.name), "success")
    return _back(application)


@bp.route("/pruefung/<int:application_id>/nachforderung", methods=["POST"])
@role_required(Role.REVIEWER, Role.APPROVER)
@transactional
def request_changes(application_id: int) -> ResponseReturnValue:
    application = _load(application_id)
    form = ChangeRequestForm()
    if form.validate_on_submit():
        try:
            review.request_changes(_user(), application, **form.inputs())
        except DomainError as exc:
            refuse_at(getattr(form, exc.field or "message", form.message), exc)
        else:
            return done(_("Die Nachforderung wurde an die Kommune gesendet."), _url(application))
    return _render_review(application, 422, change_form=form)


@bp.route("/antraege/<int:application_id>/kommentar", methods=["POST"])
@role_required(Role.APPLICANT, *MINISTRY)
@transactional
def comment(application_id: int) -> ResponseReturnValue:
    application = _load(application_id)
    form = CommentForm()
    user = _user()
    target = (
        url_for("grants.review_page", application_id=application.id)
        if user.is_ministry
        else url_for("grants.detail", application_id=application.id)
    )
    if form.validate_on_submit():
        try:
            review.add_comment(
                user, application, form.body.data or "", internal=bool(form.internal.data)
            )
        except DomainError as exc:
            flash(exc.message, "error")
            return redirect(target)
        flash(_("Der Kommentar wurde gespeichert."), "success")
    else:  # empty or too long (issue 14, finding 5): the field's own message
        flash(str((form.body.errors or [_("Bitte geben Sie einen Kommentar ein.")])[0]), "error")
    return redirect(target + "#verlauf")


@bp.route("/pruefung/<int:application_id>/vergleich")
@role_required(*MINISTRY)
def compare(application_id: int) -> ResponseReturnValue:
    application = _load(application_id)
    old_v, new_v = _int_arg("von", 1, 9999), _int_arg("bis", 1, 9999)
    if old_v is None or new_v is None:
        abort(404)
    old = queries.get_submission(application, old_v)
    new = queries.get_submission(application, new_v)
    return render_template(
        "grants/compare.html",
        app=application,
        old=old,
        new=new,
        changes=diff_versions(old, new, queries.document_labels()),
    )


def _decision_form(application: Application) -> DecisionForm:
    if request.method == "POST":
        return DecisionForm()
    existing = review.open_decision(application)
    if existing is not None:
        data = review.DecisionInput(
            financing_type=existing.financing_type,
            override_note=existing.override_note,
            rate_bp=existing.rate_bp,
            eligible_base_cents=existing.eligible_base_cents,
            max_amount_cents=existing.max_amount_cents,
            grant_cents=existing.grant_cents,
            purpose=existing.purpose,
            period_start=existing.period_start,
            period_end=existing.period_end,
            vn_deadline=existing.vn_deadline,
            years={y.year: y.amount_cents for y in existing.years},
            late_accepted=existing.late_accepted,
            pass_through_allowed=existing.pass_through_allowed,
            pass_through_recipient=existing.pass_through_recipient,
        )
    else:
        data = review.proposal(application, today().year)
    return DecisionForm(
        financing_type=data.financing_type.value,
        override_note=data.override_note,
        rate=data.rate_bp,
        eligible_base=data.eligible_base_cents,
        max_amount=data.max_amount_cents,
        grant=data.grant_cents,
        purpose=data.purpose,
        period_start=data.period_start,
        period_end=data.period_end,
        vn_deadline=data.vn_deadline,
        years=dict(data.years),
        late_accepted=data.late_accepted,
        pass_through_allowed=data.pass_through_allowed,
        pass_through_recipient=data.pass_through_recipient,
    )


@bp.route("/pruefung/<int:application_id>/entscheidung", methods=["GET", "POST"])
@role_required(Role.REVIEWER)
@transactional
def prepare_decision(application_id: int) -> ResponseReturnValue:
    application = _load(application_id)
    form = _decision_form(application)
    if form.validate_on_submit():
        data = review.DecisionInput(
            financing_type=FinancingType(form.financing_type.data),
            override_note=form.override_note.data or "",
            rate_bp=cast(int, form.rate.data),
            eligible_base_cents=cast(int, form.eligible_base.data),
            max_amount_cents=cast(int, form.max_amount.data),
            grant_cents=cast(int, form.grant.data),
            purpose=form.purpose.data or "",
            period_start=cast(date, form.period_start.data),
            period_end=cast(date, form.period_end.data),
            vn_deadline=cast(date, form.vn_deadline.data),
            years=cast(dict[int, int], form.years.data),
            late_accepted=bool(form.late_accepted.data),
            pass_through_allowed=bool(form.pass_through_allowed.data),
            pass_through_recipient=form.pass_through_recipient.data or "",
        )
        try:
            review.prepare_decision(_user(), application, data)
        except DomainError as exc:
            getattr(form, exc.field or "grant").errors.append(exc.message)
        else:
            flash(
                _(
                    "Die Entscheidung ist vorbereitet und wartet auf die Bewilligung durch eine "
                    "zweite Person."
                ),
                "success",
            )
            return _back(application, "#entscheidung")
    return render_template(
        "grants/decision_form.html",
        app=application,
        form=form,
        totals=queries.totals_for(application),
        checklist=review.checklist(application),
        manual=queries.manual_checks_of(application),
        manual_labels=review.MANUAL_CHECK_LABELS,
    ), (422 if form.errors else 200)


def _decision(application: Application, decision_id: int) -> Decision:
    decision = db.session.get(Decision, decision_id) if 0 < decision_id <= 2**31 - 1 else None
    if decision is None or decision.application_id != application.id:
        abort(404)
    return decision


@bp.route(
    "/pruefung/<int:application_id>/entscheidung/<int:decision_id>/<action>", methods=["POST"]
)
@role_required(Role.APPROVER)
@transactional
def decide(application_id: int, decision_id: int, action: str) -> ResponseReturnValue:
    if action not in ("bewilligen", "ablehnen", "zurueckgeben"):
        abort(404)
    application = _load(application_id)
    decision = _decision(application, decision_id)
    form = DecideForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if action == "bewilligen":
            review.approve(_user(), decision)
            flash(_("Bewilligt. Der Zuwendungsbescheid wurde erstellt."), "success")
        elif action == "ablehnen":
            review.reject(_user(), decision, form.reasons.data or "")
            flash(_("Der Antrag wurde abgelehnt."), "success")
        else:
            review.send_back(_user(), decision, form.reasons.data or "")
            flash(_("Die Entscheidung wurde zur Überarbeitung zurückgegeben."), "success")
    except BudgetCapExceeded as exc:
        db.session.rollback()
        flash(
            _("Nicht bewilligt – Haushaltsmittel reichen nicht: %(msg)s", msg=exc.message), "error"
        )
        return redirect(
            url_for("grants.review_page", application_id=application_id) + "#entscheidung"
        ), 303
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(
            url_for("grants.review_page", application_id=application_id) + "#entscheidung"
        ), 303
    return _back(application, "#entscheidung")


@bp.route("/pruefung/<int:application_id>/<kind>", methods=["POST"])
@role_required(Role.REVIEWER, Role.APPROVER)
@transactional
def record_date(application_id: int, kind: str) -> ResponseReturnValue:
    if kind not in ("bekanntgabe", "verzicht"):
        abort(404)
    application = _load(application_id)
    form = DateForm()
    if not form.validate_on_submit():
        flash(first_error(form), "error")
        return _back(application, "#bescheid")
    try:
        if kind == "bekanntgabe":
            review.record_notification(_user(), application, cast(date, form.on.data))
        else:
            review.record_waiver(_user(), application, cast(date, form.on.data))
    except DomainError as exc:
        flash(exc.message, "error")
        return _back(application, "#bescheid")
    flash(_("Gespeichert."), "success")
    return _back(application, "#bescheid")


@bp.route("/antraege/<int:application_id>/bescheid.pdf")
@role_required(Role.APPLICANT, Role.REVIEWER, Role.APPROVER, Role.FINANCE, Role.ADMIN)
def bescheid_pdf(application_id: int) -> ResponseReturnValue:
    application = _load(application_id)
    row = queries.get_bescheid_pdf(application)
    return _attachment(
        row.pdf, f"Zuwendungsbescheid-{application.reference}.pdf", "application/pdf"
    )


@bp.route("/befangenheit", methods=["GET", "POST"])
@role_required(Role.REVIEWER, Role.APPROVER, Role.ADMIN, Role.FINANCE)
@transactional
def affiliations() -> ResponseReturnValue:
    form = AffiliationForm()
    form.organisation.choices = options(
        [("", "—")] + [(str(o.id), o.display_name) for o in org_queries.active_organisations()]
    )
    if form.validate_on_submit():
        org = org_queries.get_organisation(form.organisation.data)
        if org is None:
            form.organisation.errors.append(_("Bitte wählen Sie die Kommune."))
        else:
            try:
                review.declare_affiliation(_user(), org.id, form.note.data or "")
            except DomainError as exc:
                form.organisation.errors.append(exc.message)
            else:
                flash(
                    _("Gespeichert. Sie sind von Anträgen dieser Kommune ausgeschlossen."),
                    "success",
                )
                return redirect(url_for("grants.affiliations"))
    return render_template(
        "grants/affiliations.html", form=form, rows=queries.affiliations_of(_user())
    ), (422 if form.errors else 200)


__all__ = ["Status"]
