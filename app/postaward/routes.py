"""Views for the project start, proof of use, audit sample and revocation (thin wrappers)."""

from __future__ import annotations

from datetime import date
from typing import cast

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.decorators import role_required
from app.auth.models import Role, User
from app.common.errors import DomainError
from app.common.fields import amount_problem
from app.common.money import MoneyError, parse_eur
from app.common.tx import refuse, transactional
from app.extensions import db
from app.finance.services import adjust
from app.grants import queries
from app.grants.models import Application
from app.postaward.blueprint import bp
from app.postaward.forms import (
    AuditSampleForm,
    CheckForm,
    FulfilledForm,
    NoteForm,
    ProofForm,
    RevocationCheckForm,
    RevokeForm,
    StartForm,
)
from app.postaward.models import AuditSample, ProofKind, RevocationReason
from app.postaward.services import proof as vn
from app.postaward.services import revocation
from app.postaward.services import start as start_service


def _user() -> User:
    return cast(User, current_user._get_current_object())


def _load(application_id: int) -> Application:
    return queries.get_application_for(_user(), application_id)


# --- applicant ---------------------------------------------------------------------------------


@bp.route("/antraege/<int:application_id>/zweckerfuellung", methods=["POST"])
@role_required(Role.APPLICANT)
@transactional
def purpose_fulfilled(application_id: int) -> ResponseReturnValue:
    application = _load(application_id)
    target = url_for("grants.detail", application_id=application.id)
    form = FulfilledForm()
    if not form.validate_on_submit():
        flash(_("Bitte geben Sie ein Datum im Format TT.MM.JJJJ ein."), "error")
        return redirect(target)
    try:
        vn.declare_purpose_fulfilled(_user(), application, cast(date, form.fulfilled_on.data))
    except DomainError as exc:
        return refuse(exc, target)
    flash(
        _(
            "Der Verwendungsnachweis ist bis %(d)s einzureichen.",
            d=application.vn_due_on.strftime("%d.%m.%Y") if application.vn_due_on else "",
        ),
        "success",
    )
    return redirect(target)


@bp.route("/antraege/<int:application_id>/verwendungsnachweis", methods=["GET", "POST"])
@role_required(Role.APPLICANT)
@transactional
def submit_proof(application_id: int) -> ResponseReturnValue:
    application = _load(application_id)
    form = ProofForm()
    line_errors: dict[int, str] = {}
    raw: dict[int, str] = {}
    if request.method == "POST":
        actuals: dict[int, int] = {}
        for line in application.lines:
            text = request.form.get(f"actual-{line.id}", "").strip()
            raw[line.id] = text
            try:
                actuals[line.id] = parse_eur(text) if text else 0
            except MoneyError as exc:
                line_errors[line.id] = amount_problem(exc)
        if form.validate_on_submit() and not line_errors:
            data = vn.ProofInput(
                kind=ProofKind(form.kind.data),
                report=form.report.data or "",
                publicity_confirmed=bool(form.publicity_confirmed.data),
                publicity_note=form.publicity_note.data or "",
                actuals=actuals,
                actual_own_cents=form.actual_own.data or 0,
                actual_third_party_cents=form.actual_third_party.data or 0,
                ngo_share_cents=form.ngo_share.data or 0,
            )
            try:
                vn.submit_proof(_user(), application, data)
            except DomainError as exc:
                getattr(form, exc.field or "report", form.report).errors.append(exc.message)
            else:
                flash(_("Der Verwendungsnachweis wurde eingereicht."), "success")
                return redirect(url_for("grants.detail", application_id=application.id))
    failed = bool(form.errors or line_errors)
    return render_template(
        "postaward/proof_form.html", app=application, form=form, line_errors=line_errors, raw=raw
    ), (422 if failed else 200)


@bp.route("/antraege/<int:application_id>/oeffentlichkeit", methods=["POST"])
@role_required(Role.APPLICANT)
@transactional
def confirm_publicity(application_id: int) -> ResponseReturnValue:
    application = _load(application_id)
    form = NoteForm()
    target = url_for("grants.detail", application_id=application.id)
    if form.validate_on_submit():
        try:
            vn.confirm_publicity(_user(), application, form.note.data or "")
        except DomainError as exc:
            return refuse(exc, target)
        flash(_("Vielen Dank. Die Öffentlichkeitsarbeit ist bestätigt."), "success")
    return redirect(target)


# --- ministry ----------------------------------------------------------------------------------


@bp.route("/pruefung/<int:application_id>/verwendungsnachweis")
@role_required(Role.REVIEWER, Role.APPROVER)
def proof_review(application_id: int) -> ResponseReturnValue:
    application = _load(application_id)
    proof = vn.latest_proof(application)
    if proof is None:
        abort(404)
    planned = queries.totals_for(application)
    actual = vn.actual_totals(application, proof)
    decision = vn.approved_decision(application)
    projected = vn.recalculated_grant(decision, planned, actual, application.third_party_cents)
    return render_template(
        "postaward/proof_review.html",
        app=application,
        proof=proof,
        planned=planned,
        actual=actual,
        projected=projected,
        current=adjust.current_grant(application),
        change_notice=vn.change_notice_required(
            planned.total_expenditure_cents, actual.total_expenditure_cents
        ),
        note_form=NoteForm(),
        check_form=CheckForm(),
    )


@bp.route("/pruefung/<int:application_id>/verwendungsnachweis/<action>", methods=["POST"])
@role_required(Role.REVIEWER, Role.APPROVER)
@transactional
def proof_action(application_id: int, action: str) -> ResponseReturnValue:
    if action not in ("vollstaendig", "unvollstaendig", "geprueft"):
        abort(404)
    application = _load(application_id)
    proof = vn.latest_proof(application)
    if proof is None:
        abort(404)
    target = url_for("postaward.proof_review", application_id=application.id)
    note_form, check_form = NoteForm(), CheckForm()
    try:
        if action == "vollstaendig":
            vn.mark_complete(_user(), proof)
        elif action == "unvollstaendig":
            note_form.validate_on_submit()
            vn.mark_incomplete(_user(), proof, note_form.note.data or "")
        else:
            if not check_form.validate_on_submit():
                errors = [*check_form.final_eligible.errors, amount_problem(MoneyError())]
                flash(str(errors[0]), "error")
                return redirect(target), 303
            vn.mark_checked(
                _user(), application, final_eligible_cents=check_form.final_eligible.data
            )
    except DomainError as exc:
        return refuse(exc, target)
    flash(_("Gespeichert."), "success")
    return redirect(target)


@bp.route("/pruefung/stichprobe", methods=["GET", "POST"])
@role_required(Role.REVIEWER, Role.APPROVER)
@transactional
def audit_sample() -> ResponseReturnValue:
    form = AuditSampleForm()
    if form.validate_on_submit():
        try:
            sample = vn.draw_audit_sample(_user(), cast(int, form.year.data))
        except DomainError as exc:
            form.year.errors.append(exc.message)
        else:
            flash(
                _(
                    "Stichprobe gezogen: %(s)s von %(p)s Nachweisen (Startwert %(seed)s).",
                    s=sample.selected,
                    p=sample.population,
                    seed=sample.seed,
                ),
                "success",
            )
            return redirect(url_for("postaward.audit_sample"))
    samples = (
        db.session.execute(db.select(AuditSample).order_by(AuditSample.year.desc())).scalars().all()
    )
    return render_template("postaward/audit_sample.html", form=form, samples=samples), (
        422 if form.errors else 200
    )


@bp.route("/pruefung/<int:application_id>/widerruf/<action>", methods=["POST"])
@role_required(Role.REVIEWER, Role.APPROVER)
@transactional
def revocation_action(application_id: int, action: str) -> ResponseReturnValue:
    if action not in ("pruefen", "einstellen", "widerrufen"):
        abort(404)
    application = _load(application_id)
    target = url_for("grants.review_page", application_id=application.id) + "#widerruf"
    try:
        if action == "pruefen":
            form = RevocationCheckForm()
            if not form.validate_on_submit():
                flash(_("Bitte geben Sie ein Datum im Format TT.MM.JJJJ ein."), "error")
                return redirect(target), 303
            revocation.open_check(
                application,
                reason=RevocationReason(form.reason.data),
                facts_known_on=cast(date, form.facts_known_on.data),
                actor=_user(),
                note=form.note.data or "",
            )
        elif action == "einstellen":
            note = NoteForm()
            note.validate_on_submit()
            revocation.close_without_revocation(_user(), application, note.note.data or "")
        else:
            revoke = RevokeForm()
            if not revoke.validate_on_submit():
                for errors in revoke.errors.values():
                    for error in errors:
                        flash(str(error), "error")
                return redirect(target), 303
            revocation.revoke(
                _user(),
                application,
                new_grant_cents=cast(int, revoke.new_grant.data),
                reasons=revoke.reasons.data or "",
                effective_from=cast(date, revoke.effective_from.data),
            )
    except DomainError as exc:
        return refuse(exc, target)
    flash(_("Gespeichert."), "success")
    return redirect(target)


@bp.route("/antraege/<int:application_id>/vorhabenbeginn", methods=["POST"])
@role_required(Role.APPLICANT)
@transactional
def notify_start(application_id: int) -> ResponseReturnValue:
    application = queries.get_application_for(_user(), application_id)
    form = StartForm()
    target = url_for("grants.detail", application_id=application.id)
    if not form.validate_on_submit():
        flash(_("Bitte geben Sie ein Datum im Format TT.MM.JJJJ ein."), "error")
        return redirect(target)
    try:
        start_service.notify_start(_user(), application, cast(date, form.started_on.data))
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(target), 303
    flash(
        _("Der Projektbeginn wurde angezeigt. Die erste Rate wird zur Auszahlung vorbereitet."),
        "success",
    )
    return redirect(target)
