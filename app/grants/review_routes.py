"""Ministry views: review queue, review page, change requests, decisions, Bescheid."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, cast

from flask import abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.decorators import role_required
from app.auth.models import Role, User
from app.common.db import today
from app.common.errors import BudgetCapExceeded, DomainError
from app.common.fields import first_error, options
from app.common.security import parse_id
from app.common.tx import refuse, refuse_at, transactional
from app.common.views import done, render_form
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
from app.grants.models import Application, Decision, Status
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
    keys, uid = [key for key, _name in kreise], _user().id
    f, errors = queue_filter(request.args, user_id=uid, kreis_keys=keys, polizeidirektionen=pds)
    return render_template(
        "grants/review_queue.html",
        page=queries.review_queue(f),
        f=f,
        errors=errors,
        kreise=kreise,
        pds=pds,
        args=request.args,
        page_sizes=queries.QUEUE_PAGE_SIZES,
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
        return refuse(exc, _url(application), status=302)
    return done(_("Sie prüfen jetzt diesen Antrag."), _url(application))


@bp.route("/pruefung/<int:application_id>/zuweisen", methods=["POST"])
@role_required(Role.APPROVER, Role.ADMIN)
@transactional
def assign(application_id: int) -> ResponseReturnValue:
    application, form = _load(application_id), AssignForm()
    reviewer = queries.get_user(parse_id(form.reviewer.data or ""))
    if not form.validate_on_submit() or reviewer is None:
        return refuse(_("Bitte wählen Sie eine Person aus."), _url(application), status=302)
    try:
        review.assign(_user(), application, reviewer)
    except DomainError as exc:
        return refuse(exc, _url(application), status=302)
    message = _("Der Antrag wurde %(name)s zugewiesen.", name=reviewer.name)
    return done(message, _url(application))


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


def _comment_target(user: User, application: Application) -> str:
    """Ministry users go back to the review page, applicants to their application."""
    if user.is_ministry:
        return url_for("grants.review_page", application_id=application.id)
    return url_for("grants.detail", application_id=application.id)


@bp.route("/antraege/<int:application_id>/kommentar", methods=["POST"])
@role_required(Role.APPLICANT, *MINISTRY)
@transactional
def comment(application_id: int) -> ResponseReturnValue:
    application, form, user = _load(application_id), CommentForm(), _user()
    target = _comment_target(user, application)
    if not form.validate_on_submit():  # empty or too long (issue 14, finding 5): its own message
        reason = (form.body.errors or [_("Bitte geben Sie einen Kommentar ein.")])[0]
        return refuse(str(reason), target + "#verlauf", status=302)
    try:
        review.add_comment(user, application, **form.service_input())
    except DomainError as exc:
        return refuse(exc, target, status=302)
    return done(_("Der Kommentar wurde gespeichert."), target + "#verlauf")


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
    return DecisionForm.from_input(review.decision_draft(application, today().year))


def _decision_page(application: Application, form: DecisionForm) -> ResponseReturnValue:
    return render_form(
        "grants/decision_form.html",
        form,
        app=application,
        form=form,
        totals=queries.totals_for(application),
        checklist=review.checklist(application),
        manual=queries.manual_checks_of(application),
        manual_labels=review.MANUAL_CHECK_LABELS,
    )


@bp.route("/pruefung/<int:application_id>/entscheidung", methods=["GET", "POST"])
@role_required(Role.REVIEWER)
@transactional
def prepare_decision(application_id: int) -> ResponseReturnValue:
    application = _load(application_id)
    form = _decision_form(application)
    if form.validate_on_submit():
        try:
            review.prepare_decision(_user(), application, form.to_input())
        except DomainError as exc:
            refuse_at(getattr(form, exc.field or "grant"), exc)
        else:
            message = _(
                "Die Entscheidung ist vorbereitet und wartet auf die Bewilligung durch eine "
                "zweite Person."
            )
            return done(message, _url(application, "#entscheidung"))
    return _decision_page(application, form)


DECISION_URL = "/pruefung/<int:application_id>/entscheidung/<int:decision_id>"


def _decide(
    application_id: int,
    decision_id: int,
    act: Callable[[User, Decision, str], object],
    message: str,
) -> ResponseReturnValue:
    """One decision action of an approver (four eyes and the budget check are in ``act``); a
    refusal rolls back and is shown at the decision."""
    application = _load(application_id)
    decision = queries.get_decision(application, decision_id)
    form = DecideForm()
    target = url_for("grants.review_page", application_id=application_id) + "#entscheidung"
    if not form.validate_on_submit():
        abort(400)
    try:
        act(_user(), decision, form.reasons.data or "")
    except BudgetCapExceeded as exc:
        return refuse(
            _("Nicht bewilligt – Haushaltsmittel reichen nicht: %(msg)s", msg=exc.message), target
        )
    except DomainError as exc:
        return refuse(exc, target)
    return done(message, target)


@bp.route(f"{DECISION_URL}/bewilligen", methods=["POST"])
@role_required(Role.APPROVER)
@transactional
def approve_decision(application_id: int, decision_id: int) -> ResponseReturnValue:
    """T5: approve within the budget and issue the Bescheid."""
    message = _("Bewilligt. Der Zuwendungsbescheid wurde erstellt.")
    return _decide(
        application_id, decision_id, lambda user, d, _r: review.approve(user, d), message
    )


@bp.route(f"{DECISION_URL}/ablehnen", methods=["POST"])
@role_required(Role.APPROVER)
@transactional
def reject_decision(application_id: int, decision_id: int) -> ResponseReturnValue:
    """T6: reject with written reasons."""
    message = _("Der Antrag wurde abgelehnt.")
    return _decide(application_id, decision_id, review.reject, message)


@bp.route(f"{DECISION_URL}/zurueckgeben", methods=["POST"])
@role_required(Role.APPROVER)
@transactional
def send_back_decision(application_id: int, decision_id: int) -> ResponseReturnValue:
    """Return the prepared decision to the reviewer with reasons."""
    message = _("Die Entscheidung wurde zur Überarbeitung zurückgegeben.")
    return _decide(application_id, decision_id, review.send_back, message)


def _record_date(
    application_id: int, record: Callable[[User, Application, date], object]
) -> ResponseReturnValue:
    application = _load(application_id)
    form = DateForm()
    target = url_for("grants.review_page", application_id=application_id) + "#bescheid"
    if not form.validate_on_submit():
        return refuse(first_error(form), target)
    try:
        record(_user(), application, cast(date, form.on.data))
    except DomainError as exc:
        return refuse(exc, target)
    return done(_("Gespeichert."), target)


@bp.route("/pruefung/<int:application_id>/bekanntgabe", methods=["POST"])
@role_required(Role.REVIEWER, Role.APPROVER)
@transactional
def record_notification(application_id: int) -> ResponseReturnValue:
    """T8: the day the Bescheid reached the recipient (starts the remedy period)."""
    return _record_date(application_id, review.record_notification)


@bp.route("/pruefung/<int:application_id>/verzicht", methods=["POST"])
@role_required(Role.REVIEWER, Role.APPROVER)
@transactional
def record_waiver(application_id: int) -> ResponseReturnValue:
    """T8: waiver of legal remedy (final at once)."""
    return _record_date(application_id, review.record_waiver)


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
    form.offer(org_queries.active_organisations())
    org = form.chosen_organisation() if form.validate_on_submit() else None
    if org is not None:
        try:
            review.declare_affiliation(_user(), org.id, form.note.data or "")
        except DomainError as exc:
            refuse_at(form.organisation, exc)
        else:
            message = _("Gespeichert. Sie sind von Anträgen dieser Kommune ausgeschlossen.")
            return done(message, url_for("grants.affiliations"))
    page = "grants/affiliations.html"
    return render_form(page, form, form=form, rows=queries.affiliations_of(_user()))


__all__ = ["Status"]
