"""Finance views for bank statements and the reconciliation review queue."""

from __future__ import annotations

from typing import cast

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.auth.decorators import role_required
from app.auth.models import Role, User
from app.common.errors import DomainError
from app.common.fields import options
from app.common.money import format_eur
from app.common.security import parse_id
from app.common.tx import transactional
from app.extensions import db
from app.finance.blueprint import bp
from app.finance.forms import AssignLineForm, ExplainLineForm, StatementUploadForm
from app.finance.models import BankStatement, PayoutOrder, StatementLine
from app.finance.services import reconcile
from app.postaward.services import settlement


def _user() -> User:
    return cast(User, current_user._get_current_object())


def _line(line_id: int) -> StatementLine:
    line = db.session.get(StatementLine, line_id) if 0 < line_id <= 2**31 - 1 else None
    if line is None:
        abort(404)
    return line


@bp.route("/kasse/kontoauszuege", methods=["GET", "POST"])
@role_required(Role.FINANCE)
@transactional
def statements() -> ResponseReturnValue:
    form = StatementUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            result = settlement.import_statement(_user(), upload.read(), upload.filename or "")
        except DomainError as exc:
            form.file.errors.append(exc.message)
        else:
            for ref in result.duplicates:
                flash(
                    _(
                        "Der Kontoauszug %(ref)s wurde bereits eingelesen; es wurde nichts "
                        "geändert.",
                        ref=ref,
                    ),
                    "info",
                )
            if result.statements:
                flash(
                    _(
                        "%(n)s Buchungen eingelesen: %(m)s zugeordnet, %(o)s offen.",
                        n=result.lines,
                        m=result.matched,
                        o=result.open,
                    ),
                    "success",
                )
            return redirect(url_for("finance.statements"))
    rows = (
        db.session.execute(
            db.select(BankStatement)
            .options(selectinload(BankStatement.imported_by))
            .order_by(BankStatement.id.desc())
            .limit(50)
        )
        .scalars()
        .all()
    )
    return render_template("finance/statements.html", form=form, statements=rows), (
        422 if form.errors else 200
    )


@bp.route("/kasse/kontoauszuege/<int:statement_id>")
@role_required(Role.FINANCE)
def statement_detail(statement_id: int) -> ResponseReturnValue:
    statement = (
        db.session.get(BankStatement, statement_id) if 0 < statement_id <= 2**31 - 1 else None
    )
    if statement is None:
        abort(404)
    lines = (
        db.session.execute(
            db.select(StatementLine)
            .where(StatementLine.statement_id == statement.id)
            .options(selectinload(StatementLine.matched_order))
            .order_by(StatementLine.line_no)
        )
        .scalars()
        .all()
    )
    return render_template(
        "finance/statement.html",
        statement=statement,
        lines=lines,
        report=reconcile.statement_report(statement),
    )


@bp.route("/kasse/abgleich")
@role_required(Role.FINANCE)
def review_queue() -> ResponseReturnValue:
    days_raw = request.args.get("tage", "10")
    days = parse_id(days_raw, 3650) or 10
    return render_template(
        "finance/reconcile.html",
        lines=reconcile.open_lines(),
        stale=reconcile.stale_orders(days),
        days=days,
        explain_form=ExplainLineForm(),
    )


@bp.route("/kasse/abgleich/<int:line_id>", methods=["GET", "POST"])
@role_required(Role.FINANCE)
@transactional
def resolve_line(line_id: int) -> ResponseReturnValue:
    line = _line(line_id)
    assign_form = AssignLineForm(prefix="assign")
    explain_form = ExplainLineForm(prefix="explain")
    orders = reconcile.assignable_orders(line)
    assign_form.order.choices = options(
        (str(o.id), f"{o.end_to_end_id} – {o.application.reference} – {format_eur(o.amount_cents)}")
        for o in orders
    )
    if request.method == "POST":
        try:
            if request.form.get("action") == "assign" and assign_form.validate_on_submit():
                raw = assign_form.order.data or ""
                order_id = parse_id(raw)
                order = db.session.get(PayoutOrder, order_id) if order_id else None
                if order is None:
                    assign_form.order.errors.append(_("Bitte wählen Sie einen Auftrag."))
                else:
                    reconcile.assign_line(_user(), line, order)
                    flash(_("Die Buchung wurde zugeordnet."), "success")
                    return redirect(url_for("finance.review_queue"))
            elif request.form.get("action") == "explain" and explain_form.validate_on_submit():
                reconcile.explain_line(_user(), line, explain_form.text.data or "")
                flash(_("Die Erläuterung wurde gespeichert."), "success")
                return redirect(url_for("finance.review_queue"))
        except DomainError as exc:
            db.session.rollback()
            line = _line(line_id)
            target = (
                assign_form.order if request.form.get("action") == "assign" else explain_form.text
            )
            target.errors = [*target.errors, exc.message]
    failed = bool(assign_form.errors or explain_form.errors)
    return render_template(
        "finance/resolve_line.html",
        line=line,
        assign_form=assign_form,
        explain_form=explain_form,
        orders=orders,
    ), (422 if failed else 200)
