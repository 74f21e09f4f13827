"""Finance views (Haushalt/Kasse) and the recipient's bank account and start notice."""

from __future__ import annotations

import io
import uuid
from datetime import date
from typing import cast

from flask import abort, flash, redirect, render_template, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.decorators import role_required
from app.auth.models import Role, User
from app.auth.services import PasswordRejected
from app.common.errors import DomainError
from app.common.tx import transactional
from app.extensions import db
from app.finance import bp, queries
from app.finance.forms import ActionForm, BankAccountForm, OrderForm, PaymentRunForm, StartForm
from app.finance.models import BankAccount, Instalment, OrderStatus, PaymentRun, PayoutOrder
from app.finance.services import payouts
from app.grants import queries as grant_queries
from app.grants.forms import ClaimPaymentForm


def _user() -> User:
    return cast(User, current_user._get_current_object())


def _get(model: type, object_id: int) -> object:
    row = db.session.get(model, object_id) if 0 < object_id <= 2**31 - 1 else None
    if row is None:
        abort(404)
    return row


@bp.route("/kasse")
@role_required(Role.FINANCE)
def dashboard() -> ResponseReturnValue:
    return render_template(
        "finance/dashboard.html",
        due=queries.due_instalments(),
        prepared=queries.orders_with_status(OrderStatus.PREPARED),
        released=queries.orders_with_status(OrderStatus.RELEASED),
        runs=queries.recent_runs(),
        accounts=queries.pending_accounts(),
        order_form=OrderForm(idempotency_key=uuid.uuid4().hex),
        action_form=ActionForm(),
        run_form=PaymentRunForm(),
        warning=payouts.small_instalment_warning,
        claims=queries.open_claims(),
        claim_form=ClaimPaymentForm(),
        user=_user(),
    )


def _done(message: str) -> ResponseReturnValue:
    flash(message, "success")
    return redirect(url_for("finance.dashboard"))


def _failed(exc: DomainError) -> ResponseReturnValue:
    db.session.rollback()
    flash(exc.message, "error")
    return redirect(url_for("finance.dashboard")), 303


@bp.route("/kasse/raten/<int:instalment_id>/auftrag", methods=["POST"])
@role_required(Role.FINANCE)
@transactional
def prepare(instalment_id: int) -> ResponseReturnValue:
    form = OrderForm()
    if not form.validate_on_submit():
        abort(400)
    instalment = cast(Instalment, _get(Instalment, instalment_id))
    try:
        payouts.prepare_order(_user(), instalment, idempotency_key=form.idempotency_key.data or "")
    except DomainError as exc:
        return _failed(exc)
    return _done(_("Der Auszahlungsauftrag wurde angelegt. Eine zweite Person muss ihn freigeben."))


@bp.route("/kasse/auftraege/<int:order_id>/<action>", methods=["POST"])
@role_required(Role.FINANCE)
@transactional
def order_action(order_id: int, action: str) -> ResponseReturnValue:
    if action not in ("freigeben", "stornieren"):
        abort(404)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    order = cast(PayoutOrder, _get(PayoutOrder, order_id))
    try:
        if action == "freigeben":
            payouts.release_order(_user(), order)
            return _done(_("Der Auftrag wurde freigegeben."))
        payouts.cancel_order(_user(), order, form.reason.data or "")
    except DomainError as exc:
        return _failed(exc)
    return _done(_("Der Auftrag wurde storniert."))


@bp.route("/kasse/zahlungslauf", methods=["POST"])
@role_required(Role.FINANCE)
@transactional
def payment_run() -> ResponseReturnValue:
    form = PaymentRunForm()
    if not form.validate_on_submit():
        flash(_("Bitte geben Sie ein Datum im Format TT.MM.JJJJ ein."), "error")
        return redirect(url_for("finance.dashboard")), 303
    try:
        run = payouts.create_payment_run(
            _user(), execution_date=cast(date, form.execution_date.data)
        )
    except DomainError as exc:
        return _failed(exc)
    flash(
        _("Zahlungslauf %(id)s mit %(n)s Überweisungen erstellt.", id=run.msg_id, n=run.nb_of_txs),
        "success",
    )
    return redirect(url_for("finance.dashboard"))


@bp.route("/kasse/zahlungslaeufe/<int:run_id>.xml")
@role_required(Role.FINANCE)
def download_run(run_id: int) -> ResponseReturnValue:
    run = cast(PaymentRun, _get(PaymentRun, run_id))
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
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    account = cast(BankAccount, _get(BankAccount, account_id))
    try:
        payouts.confirm_bank_account(_user(), account)
    except DomainError as exc:
        return _failed(exc)
    return _done(_("Die Bankverbindung wurde bestätigt."))


@bp.route("/kommune/bankverbindung", methods=["GET", "POST"])
@role_required(Role.APPLICANT)
@transactional
def bank_account() -> ResponseReturnValue:
    user = _user()
    form = BankAccountForm()
    if form.validate_on_submit():
        try:
            payouts.submit_bank_account(
                user,
                password=form.password.data or "",
                holder=form.holder.data or "",
                iban=form.iban.data or "",
                bic=form.bic.data or "",
            )
        except PasswordRejected as exc:
            db.session.commit()  # the failed re-authentication must be counted (lockout)
            form.password.errors.append(exc.message)
        except DomainError as exc:
            getattr(form, exc.field or "iban").errors.append(exc.message)
        else:
            flash(
                _(
                    "Die Bankverbindung wurde gespeichert. Sie wird verwendet, sobald die Kasse "
                    "sie bestätigt hat."
                ),
                "success",
            )
            return redirect(url_for("finance.bank_account"))
    return render_template(
        "finance/bank_account.html",
        form=form,
        accounts=queries.accounts_of(cast(int, user.organisation_id)),
    ), (422 if form.errors else 200)


@bp.route("/antraege/<int:application_id>/vorhabenbeginn", methods=["POST"])
@role_required(Role.APPLICANT)
@transactional
def notify_start(application_id: int) -> ResponseReturnValue:
    application = grant_queries.get_application_for(_user(), application_id)
    form = StartForm()
    target = url_for("grants.detail", application_id=application.id)
    if not form.validate_on_submit():
        flash(_("Bitte geben Sie ein Datum im Format TT.MM.JJJJ ein."), "error")
        return redirect(target)
    try:
        payouts.notify_start(_user(), application, cast(date, form.started_on.data))
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(target), 303
    flash(
        _("Der Projektbeginn wurde angezeigt. Die erste Rate wird zur Auszahlung vorbereitet."),
        "success",
    )
    return redirect(target)
