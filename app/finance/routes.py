"""Finance views (Haushalt/Kasse): payouts, payment runs, bank accounts, recovery claims."""

from __future__ import annotations

import io
import uuid
from typing import cast

from flask import abort, render_template, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from app.auth import mfa
from app.auth.decorators import client_source, role_required
from app.auth.models import Role, User
from app.auth.services import PasswordRejected
from app.common.errors import DomainError
from app.common.fields import first_error
from app.common.tx import refuse, refuse_at, transactional
from app.common.views import done, render_form
from app.extensions import db
from app.finance import queries
from app.finance.blueprint import bp
from app.finance.forms import (
    ActionForm,
    BankAccountForm,
    ClaimPaymentForm,
    OrderForm,
    PaymentRunForm,
    SecondFactorActionForm,
)
from app.finance.models import (
    BankAccount,
    Instalment,
    PaymentRun,
    PayoutOrder,
    RecoveryClaim,
)
from app.finance.services import claims as claim_service
from app.finance.services import payouts
from app.postaward.services import revocation, settlement


def _user() -> User:
    return cast(User, current_user._get_current_object())


@bp.app_template_filter("dunning_status")
def dunning_status(claim: RecoveryClaim) -> str:
    """F15: the dunning state of a recovery claim for the claim lists (finance, grant page)."""
    return claim_service.dunning_status(claim)


@bp.route("/kasse")
@role_required(Role.FINANCE)
def dashboard() -> ResponseReturnValue:
    return render_template(
        "finance/dashboard.html",
        **queries.dashboard(),
        order_form=OrderForm(idempotency_key=uuid.uuid4().hex),
        action_form=ActionForm(),
        step_up_form=SecondFactorActionForm(),
        run_form=PaymentRunForm(),
        warning=payouts.small_instalment_warning,
        early=payouts.payout_before_budget_year,
        claim_form=ClaimPaymentForm(),
        user=_user(),
    )


def _dashboard() -> str:
    return url_for("finance.dashboard")


def _done(message: str) -> ResponseReturnValue:
    return done(message, _dashboard())


def _second_factor_refused(code: str | None) -> ResponseReturnValue | None:
    """Re-authentication with the second factor before money moves (issue 14); a wrong code is
    committed as a failed login (locks like a wrong password) and refused with a message."""
    try:
        mfa.step_up(_user(), code or "", source=client_source())
    except mfa.SecondFactorRejected as exc:
        db.session.commit()
        return refuse(exc, _dashboard())
    return None


@bp.route("/kasse/raten/<int:instalment_id>/auftrag", methods=["POST"])
@role_required(Role.FINANCE)
@transactional
def prepare(instalment_id: int) -> ResponseReturnValue:
    form = OrderForm()
    if not form.validate_on_submit():
        abort(400)
    instalment = db.get_or_404(Instalment, instalment_id)
    try:
        payouts.prepare_order(_user(), instalment, idempotency_key=form.idempotency_key.data or "")
    except DomainError as exc:
        return refuse(exc, _dashboard())
    return _done(_("Der Auszahlungsauftrag wurde angelegt. Eine zweite Person muss ihn freigeben."))


@bp.route("/kasse/auftraege/<int:order_id>/freigeben", methods=["POST"])
@role_required(Role.FINANCE)
@transactional
def release_order(order_id: int) -> ResponseReturnValue:
    order, form = db.get_or_404(PayoutOrder, order_id), SecondFactorActionForm()
    if not form.validate_on_submit():
        abort(400)
    if (refused := _second_factor_refused(form.totp.data)) is not None:
        return refused
    try:
        payouts.release_order(_user(), order, confirm_early=bool(form.confirm_early.data))
    except DomainError as exc:
        return refuse(exc, _dashboard())
    return _done(_("Der Auftrag wurde freigegeben."))


@bp.route("/kasse/auftraege/<int:order_id>/stornieren", methods=["POST"])
@role_required(Role.FINANCE)
@transactional
def cancel_order(order_id: int) -> ResponseReturnValue:
    order, form = db.get_or_404(PayoutOrder, order_id), ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        payouts.cancel_order(_user(), order, form.reason.data or "")
    except DomainError as exc:
        return refuse(exc, _dashboard())
    return _done(_("Der Auftrag wurde storniert."))


@bp.route("/kasse/zahlungslauf", methods=["POST"])
@role_required(Role.FINANCE)
@transactional
def payment_run() -> ResponseReturnValue:
    form = PaymentRunForm()
    if not form.validate_on_submit():
        return refuse(first_error(form), _dashboard())
    if (refused := _second_factor_refused(form.totp.data)) is not None:
        return refused
    try:
        run = settlement.create_payment_run(_user(), execution_date=form.chosen_date())
    except DomainError as exc:
        return refuse(exc, _dashboard())
    return _done(_run_created(run))


def _run_created(run: PaymentRun) -> str:
    """The success message of a new payment run."""
    return ngettext(
        "Zahlungslauf %(id)s mit %(num)s Überweisung erstellt.",
        "Zahlungslauf %(id)s mit %(num)s Überweisungen erstellt.",
        run.nb_of_txs,
        id=run.msg_id,
    )


@bp.route("/kasse/zahlungslaeufe/<int:run_id>.xml")
@role_required(Role.FINANCE)
def download_run(run_id: int) -> ResponseReturnValue:
    run = db.get_or_404(PaymentRun, run_id)
    return send_file(
        io.BytesIO(run.xml),
        mimetype="application/xml",
        as_attachment=True,
        download_name=f"{run.msg_id}.xml",
    )


@bp.route("/kasse/bankverbindungen/<int:account_id>/bestaetigen", methods=["POST"])
@role_required(Role.FINANCE)
@transactional
def confirm_account(account_id: int) -> ResponseReturnValue:
    form = SecondFactorActionForm()
    if not form.validate_on_submit():
        abort(400)
    account = db.get_or_404(BankAccount, account_id)
    if (refused := _second_factor_refused(form.totp.data)) is not None:
        return refused
    try:
        payouts.confirm_bank_account(_user(), account)
    except DomainError as exc:
        return refuse(exc, _dashboard())
    return _done(_("Die Bankverbindung wurde bestätigt."))


@bp.route("/kasse/bankverbindungen/<int:account_id>/ablehnen", methods=["POST"])
@role_required(Role.FINANCE)
@transactional
def reject_account(account_id: int) -> ResponseReturnValue:
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    account = db.get_or_404(BankAccount, account_id)
    try:
        payouts.reject_bank_account(_user(), account, form.reason.data or "")
    except DomainError as exc:
        return refuse(exc, _dashboard() + "#bankverbindungen")
    return _done(_("Die Bankverbindung wurde abgelehnt. Die Kommune sieht den Grund."))


@bp.route("/kommune/bankverbindung/<int:account_id>/zurueckziehen", methods=["POST"])
@role_required(Role.APPLICANT)
@transactional
def withdraw_account(account_id: int) -> ResponseReturnValue:
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    account = db.get_or_404(BankAccount, account_id)
    target = url_for("finance.bank_account")
    try:
        payouts.withdraw_bank_account(_user(), account)
    except DomainError as exc:
        return refuse(exc, target)
    return done(_("Die Bankverbindung wurde zurückgezogen."), target)


@bp.route("/kommune/bankverbindung", methods=["GET", "POST"])
@role_required(Role.APPLICANT)
@transactional
def bank_account() -> ResponseReturnValue:
    user, form = _user(), BankAccountForm()
    if form.validate_on_submit():
        try:
            payouts.submit_bank_account(user, **form.service_input())
        except (PasswordRejected, mfa.SecondFactorRejected) as exc:
            db.session.commit()  # the failed re-authentication must be counted (lockout)
            getattr(form, exc.field or "password").errors.append(exc.message)
        except DomainError as exc:
            refuse_at(getattr(form, exc.field or "iban"), exc)
        else:
            return done(ACCOUNT_SAVED, url_for("finance.bank_account"))
    accounts = queries.accounts_of(cast(int, user.organisation_id))
    return render_form(
        "finance/bank_account.html", form, form=form, accounts=accounts, action_form=ActionForm()
    )


ACCOUNT_SAVED = _l(
    "Die Bankverbindung wurde gespeichert. Sie wird verwendet, sobald die Kasse sie bestätigt hat."
)


@bp.route("/kasse/forderungen/<int:claim_id>/zahlung", methods=["POST"])
@role_required(Role.FINANCE)
@transactional
def claim_payment(claim_id: int) -> ResponseReturnValue:
    claim, form = db.get_or_404(RecoveryClaim, claim_id), ClaimPaymentForm()
    target = url_for("finance.dashboard") + "#forderungen"
    if not form.validate_on_submit():
        return refuse(_("Bitte prüfen Sie Datum und Betrag."), target)
    try:
        revocation.record_claim_payment(_user(), claim, **form.service_input())
    except DomainError as exc:
        return refuse(exc, target)
    return done(_("Der Zahlungseingang wurde gebucht."), target)
