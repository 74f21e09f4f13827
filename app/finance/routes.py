"""Finance views (Haushalt/Kasse): payouts, payment runs, bank accounts, recovery claims."""

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
from app.common.security import parse_id
from app.common.tx import refuse, transactional
from app.extensions import db
from app.finance import queries
from app.finance.blueprint import bp
from app.finance.forms import (
    ActionForm,
    BankAccountForm,
    ClaimPaymentForm,
    OrderForm,
    PaymentRunForm,
)
from app.finance.models import (
    BankAccount,
    Instalment,
    OrderStatus,
    PaymentRun,
    PayoutOrder,
    RecoveryClaim,
)
from app.finance.services import payouts
from app.postaward.services import revocation, settlement


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
        runs=(runs := queries.recent_runs()),
        run_confirmed=queries.run_confirmations([r.id for r in runs]),
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
        return refuse(exc, url_for("finance.dashboard"))
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
        return refuse(exc, url_for("finance.dashboard"))
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
        run = settlement.create_payment_run(
            _user(), execution_date=cast(date, form.execution_date.data)
        )
    except DomainError as exc:
        return refuse(exc, url_for("finance.dashboard"))
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
        return refuse(exc, url_for("finance.dashboard"))
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


@bp.route("/kasse/forderungen/<int:claim_id>/zahlung", methods=["POST"])
@role_required(Role.FINANCE)
@transactional
def claim_payment(claim_id: int) -> ResponseReturnValue:
    claim = db.session.get(RecoveryClaim, parse_id(str(claim_id)) or 0)
    if claim is None:
        abort(404)
    form = ClaimPaymentForm()
    target = url_for("finance.dashboard") + "#forderungen"
    if not form.validate_on_submit():
        flash(_("Bitte prüfen Sie Datum und Betrag."), "error")
        return redirect(target), 303
    try:
        revocation.record_claim_payment(
            _user(),
            claim,
            paid_on=cast(date, form.paid_on.data),
            paid_cents=cast(int, form.amount.data),
        )
    except DomainError as exc:
        return refuse(exc, target)
    flash(_("Der Zahlungseingang wurde gebucht."), "success")
    return redirect(target)
