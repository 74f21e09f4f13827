"""Views for the project start, proof of use, audit sample and revocation (thin wrappers)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, cast

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from app.auth.decorators import role_required
from app.auth.models import Role, User
from app.common.errors import DomainError
from app.common.fields import first_error
from app.common.tx import refuse, refuse_at, transactional
from app.common.views import done, render_form
from app.finance.services import adjust
from app.grants import queries
from app.grants.models import Application
from app.postaward import queries as task_queries
from app.postaward.blueprint import bp
from app.postaward.forms import (
    AuditSampleForm,
    CheckForm,
    FulfilledForm,
    IncompleteForm,
    NoteForm,
    ProofForm,
    RevocationCheckForm,
    RevokeForm,
    StartForm,
    WithdrawGrantForm,
)
from app.postaward.models import AuditSample, ProofOfUse, RevocationReason
from app.postaward.services import proof as vn
from app.postaward.services import revocation, withdrawal
from app.postaward.services import start as start_service


def _user() -> User:
    return cast(User, current_user._get_current_object())


def _load(application_id: int) -> Application:
    return queries.get_application_for(_user(), application_id)


def _detail(application: Application) -> str:
    return url_for("grants.detail", application_id=application.id)


# --- applicant ---------------------------------------------------------------------------------


@bp.route("/antraege/<int:application_id>/zweckerfuellung", methods=["POST"])
@role_required(Role.APPLICANT)
@transactional
def purpose_fulfilled(application_id: int) -> ResponseReturnValue:
    """The purpose is fulfilled: the proof of use becomes due (R21)."""
    application = _load(application_id)
    form = FulfilledForm()
    if not form.validate_on_submit():
        return refuse(first_error(form), _detail(application), status=302)
    try:
        vn.declare_purpose_fulfilled(_user(), application, cast(date, form.fulfilled_on.data))
    except DomainError as exc:
        return refuse(exc, _detail(application))
    due = application.vn_due_on.strftime("%d.%m.%Y") if application.vn_due_on else ""
    message = _("Der Verwendungsnachweis ist bis %(d)s einzureichen.", d=due)
    return done(message, _detail(application))


@bp.route("/antraege/<int:application_id>/verwendungsnachweis", methods=["GET", "POST"])
@role_required(Role.APPLICANT)
@transactional
def submit_proof(application_id: int) -> ResponseReturnValue:
    application = _load(application_id)
    form = ProofForm()
    data = form.to_input(application) if request.method == "POST" else None
    if data is not None:
        try:
            vn.submit_proof(_user(), application, data)
        except DomainError as exc:
            form.refuse(exc)
        else:
            return done(_("Der Verwendungsnachweis wurde eingereicht."), _detail(application))
    deadline = vn.proof_deadline(application)
    page = render_template("postaward/proof_form.html", app=application, form=form, due=deadline)
    return page, (422 if form.failed else 200)


@bp.route("/antraege/<int:application_id>/verzicht", methods=["GET", "POST"])
@role_required(Role.APPLICANT)
@transactional
def withdraw_grant(application_id: int) -> ResponseReturnValue:
    """T22: the recipient renounces the grant after a confirmation."""
    application = _load(application_id)
    form = WithdrawGrantForm()
    if form.validate_on_submit():
        try:
            withdrawal.withdraw_grant(_user(), application, **form.service_input())
        except DomainError as exc:
            refuse_at(getattr(form, exc.field or "confirm", form.confirm), exc)
        else:
            return done(_("Sie haben auf die Zuwendung verzichtet."), _detail(application))
    paid = revocation.paid_out_cents(application)
    page = "postaward/withdraw.html"
    return render_form(page, form, app=application, form=form, paid=paid)


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


def _proof_page(
    application: Application,
    proof: ProofOfUse,
    *,
    note_form: IncompleteForm | None = None,
    check_form: CheckForm | None = None,
) -> ResponseReturnValue:
    planned = queries.totals_for(application)
    actual = vn.actual_totals(application, proof)
    decision = vn.approved_decision(application)
    note_form, check_form = note_form or IncompleteForm(formdata=None), check_form or CheckForm()
    return render_form(
        "postaward/proof_review.html",
        [note_form, check_form],
        app=application,
        proof=proof,
        planned=planned,
        actual=actual,
        projected=vn.recalculated_grant(decision, planned, actual, application.third_party_cents),
        current=adjust.current_grant(application),
        change_notice=vn.change_notice_required(
            planned.total_expenditure_cents, actual.total_expenditure_cents
        ),
        note_form=note_form,
        check_form=check_form,
    )


def _latest_proof(application: Application) -> ProofOfUse:
    proof = vn.latest_proof(application)
    if proof is None:
        abort(404)
    return proof


@bp.route("/pruefung/<int:application_id>/verwendungsnachweis")
@role_required(Role.REVIEWER, Role.APPROVER)
def proof_review(application_id: int) -> ResponseReturnValue:
    application = _load(application_id)
    return _proof_page(application, _latest_proof(application))


@bp.route("/pruefung/<int:application_id>/verwendungsnachweis/unvollstaendig", methods=["POST"])
@role_required(Role.REVIEWER, Role.APPROVER)
@transactional
def proof_incomplete(application_id: int) -> ResponseReturnValue:
    """T14: request the missing parts — only with a reason the applicant can act on."""
    application = _load(application_id)
    proof, form = _latest_proof(application), IncompleteForm()
    if form.validate_on_submit():
        try:
            vn.mark_incomplete(_user(), proof, form.note.data or "")
        except DomainError as exc:
            refuse_at(form.note, exc)
        else:
            target = url_for("postaward.proof_review", application_id=application.id)
            return done(_("Die fehlenden Unterlagen wurden nachgefordert."), target)
    return _proof_page(application, proof, note_form=form)


PROOF_URL = "/pruefung/<int:application_id>/verwendungsnachweis"


def _proof_step(application_id: int, step: Callable[[Application, ProofOfUse], object]) -> Any:
    """One step of the proof check on the latest proof; a refusal rolls back with its message."""
    application = _load(application_id)
    proof = _latest_proof(application)
    target = url_for("postaward.proof_review", application_id=application.id)
    try:
        answer = step(application, proof)
    except DomainError as exc:
        return refuse(exc, target)
    return answer if answer is not None else done(_("Gespeichert."), target)


@bp.route(f"{PROOF_URL}/vollstaendig", methods=["POST"])
@role_required(Role.REVIEWER, Role.APPROVER)
@transactional
def proof_complete(application_id: int) -> ResponseReturnValue:
    """R18: the proof of use is complete."""

    def step(_application: Application, proof: ProofOfUse) -> None:
        vn.mark_complete(_user(), proof)

    return _proof_step(application_id, step)


@bp.route(f"{PROOF_URL}/dritter", methods=["POST"])
@role_required(Role.REVIEWER, Role.APPROVER)
@transactional
def proof_ngo_checked(application_id: int) -> ResponseReturnValue:
    """R30: the NGO's proof (pass-through) is checked."""

    def step(_application: Application, proof: ProofOfUse) -> None:
        vn.check_ngo_proof(_user(), proof)

    return _proof_step(application_id, step)


@bp.route(f"{PROOF_URL}/geprueft", methods=["POST"])
@role_required(Role.REVIEWER, Role.APPROVER)
@transactional
def proof_checked(application_id: int) -> ResponseReturnValue:
    """T17/T18: the check is finished (with the final eligible expenditure, R22)."""
    form = CheckForm()

    def check(application: Application, proof: ProofOfUse) -> Any:
        if not form.validate_on_submit():
            return _proof_page(application, proof, check_form=form)
        vn.mark_checked(_user(), application, final_eligible_cents=form.final_eligible.data)
        return None

    return _proof_step(application_id, check)


@bp.route("/pruefung/stichprobe", methods=["GET", "POST"])
@role_required(Role.REVIEWER, Role.APPROVER)
@transactional
def audit_sample() -> ResponseReturnValue:
    """R25: draw the audit sample of a year; the samples drawn so far."""
    form = AuditSampleForm()
    if form.validate_on_submit():
        try:
            sample = vn.draw_audit_sample(_user(), cast(int, form.year.data))
        except DomainError as exc:
            refuse_at(form.year, exc)
        else:
            return done(_sample_drawn(sample), url_for("postaward.audit_sample"))
    samples = task_queries.audit_samples()
    return render_form("postaward/audit_sample.html", form, form=form, samples=samples)


def _sample_drawn(sample: AuditSample) -> str:
    return _(
        "Stichprobe gezogen: %(s)s von %(p)s Nachweisen (Startwert %(seed)s).",
        s=sample.selected,
        p=sample.population,
        seed=sample.seed,
    )


REVOCATION_URL = "/pruefung/<int:application_id>/widerruf"


def _revocation_step(
    application_id: int, form: FlaskForm, act: Callable[[Application], object]
) -> ResponseReturnValue:
    """One step of a revocation case (T20–T27); invalid input and refusals roll back and are
    named on the review page."""
    application = _load(application_id)
    target = url_for("grants.review_page", application_id=application.id) + "#widerruf"
    if not form.validate_on_submit():
        return refuse(first_error(form), target)
    try:
        act(application)
    except DomainError as exc:
        return refuse(exc, target)
    return done(_("Gespeichert."), target)


@bp.route(f"{REVOCATION_URL}/pruefen", methods=["POST"])
@role_required(Role.REVIEWER, Role.APPROVER)
@transactional
def open_revocation_check(application_id: int) -> ResponseReturnValue:
    """T20: open a revocation check with its reason and the day the facts became known."""
    form = RevocationCheckForm()
    return _revocation_step(
        application_id,
        form,
        lambda application: revocation.open_check(
            application,
            reason=RevocationReason(form.reason.data),
            facts_known_on=cast(date, form.facts_known_on.data),
            actor=_user(),
            note=form.note.data or "",
        ),
    )


@bp.route(f"{REVOCATION_URL}/einstellen", methods=["POST"])
@role_required(Role.REVIEWER, Role.APPROVER)
@transactional
def close_revocation_check(application_id: int) -> ResponseReturnValue:
    """T26: close the check without revocation."""
    form = NoteForm()
    return _revocation_step(
        application_id,
        form,
        lambda application: revocation.close_without_revocation(
            _user(), application, form.note.data or ""
        ),
    )


@bp.route(f"{REVOCATION_URL}/widerrufen", methods=["POST"])
@role_required(Role.REVIEWER, Role.APPROVER)
@transactional
def revoke(application_id: int) -> ResponseReturnValue:
    """T21/T27: revoke in whole or in part (recovery claim with § 49a interest)."""
    form = RevokeForm()
    return _revocation_step(
        application_id,
        form,
        lambda application: revocation.revoke(
            _user(),
            application,
            new_grant_cents=cast(int, form.new_grant.data),
            reasons=form.reasons.data or "",
            effective_from=cast(date, form.effective_from.data),
        ),
    )


@bp.route("/antraege/<int:application_id>/vorhabenbeginn", methods=["POST"])
@role_required(Role.APPLICANT)
@transactional
def notify_start(application_id: int) -> ResponseReturnValue:
    """The recipient notifies the project start: the first instalment becomes due (R14)."""
    application = _load(application_id)
    form = StartForm()
    if not form.validate_on_submit():
        return refuse(first_error(form), _detail(application), status=302)
    try:
        start_service.notify_start(_user(), application, cast(date, form.started_on.data))
    except DomainError as exc:
        return refuse(exc, _detail(application))
    message = _(
        "Der Projektbeginn wurde angezeigt. Die erste Rate wird zur Auszahlung vorbereitet."
    )
    return done(message, _detail(application))
