"""Finance views for bank statements and the reconciliation review queue."""

from __future__ import annotations

from typing import Any, cast

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.auth.decorators import role_required
from app.auth.models import Role, User
from app.common.errors import DomainError
from app.common.formatting import date_de
from app.common.security import parse_id
from app.common.tx import refuse_at, transactional
from app.common.views import done, render_form
from app.extensions import db
from app.finance import queries
from app.finance.blueprint import bp
from app.finance.forms import AssignLineForm, ExplainLineForm, StatementUploadForm
from app.finance.models import BankStatement, PayoutOrder, StatementLine
from app.finance.services import reconcile
from app.postaward.services import settlement


def _user() -> User:
    return cast(User, current_user._get_current_object())


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
            refuse_at(form.file, exc)
        else:
            for level, message in import_messages(result):
                flash(message, level)
            return redirect(url_for("finance.statements"))
    rows = queries.recent_statements()
    return render_form("finance/statements.html", form, form=form, statements=rows)


def import_messages(result: reconcile.ImportResult) -> list[tuple[str, str]]:
    """What the clerk is told after an import: duplicates skipped, lines read and matched."""
    messages = [
        (
            "info",
            _(
                "Der Kontoauszug %(ref)s wurde bereits eingelesen; es wurde nichts geändert.",
                ref=ref,
            ),
        )
        for ref in result.duplicates
    ]
    if result.statements:
        read = ngettext("%(num)s Buchung eingelesen", "%(num)s Buchungen eingelesen", result.lines)
        matched = _("%(m)s zugeordnet, %(o)s offen.", m=result.matched, o=result.open)
        messages.append(("success", f"{read}: {matched}"))
    for zero in result.zero_amount:
        messages.append(
            (
                "info",
                _(
                    "Kontoauszug %(ref)s, Buchung %(n)s (%(entry)s, %(day)s) lautet auf 0,00 € "
                    "und wurde nicht übernommen.",
                    ref=zero.statement_ref,
                    n=zero.line_no,
                    entry=zero.entry_ref or "–",
                    day=date_de(zero.booking_date) if zero.booking_date else "–",
                ),
            )
        )
    return messages


@bp.route("/kasse/kontoauszuege/<int:statement_id>")
@role_required(Role.FINANCE)
def statement_detail(statement_id: int) -> ResponseReturnValue:
    statement = db.get_or_404(BankStatement, statement_id)
    return render_template(
        "finance/statement.html",
        statement=statement,
        lines=queries.statement_lines(statement.id),
        report=reconcile.statement_report(statement),
    )


@bp.route("/kasse/abgleich")
@role_required(Role.FINANCE)
def review_queue() -> ResponseReturnValue:
    days = parse_id(request.args.get("tage", "10"), 3650) or 10
    return render_template(
        "finance/reconcile.html",
        lines=reconcile.open_lines(),
        stale=reconcile.stale_orders(days),
        stale_shown=reconcile.STALE_SHOWN,
        days=days,
        explain_form=ExplainLineForm(),
    )


def _resolve_page(line: StatementLine, assign: AssignLineForm, explain: ExplainLineForm) -> Any:
    return render_form(
        "finance/resolve_line.html",
        [assign, explain],
        line=line,
        assign_form=assign,
        explain_form=explain,
        orders=assign.order.choices,
    )


@bp.route("/kasse/abgleich/<int:line_id>")
@role_required(Role.FINANCE)
def resolve_line(line_id: int) -> ResponseReturnValue:
    line = db.get_or_404(StatementLine, line_id)
    assign = AssignLineForm(prefix="assign").with_orders(reconcile.assignable_orders(line))
    return _resolve_page(line, assign, ExplainLineForm(prefix="explain"))


@bp.route("/kasse/abgleich/<int:line_id>/zuordnen", methods=["POST"])
@role_required(Role.FINANCE)
@transactional
def assign_line(line_id: int) -> ResponseReturnValue:
    line = db.get_or_404(StatementLine, line_id)
    form = AssignLineForm(prefix="assign").with_orders(reconcile.assignable_orders(line))
    order = (
        db.session.get(PayoutOrder, form.chosen_id() or 0) if form.validate_on_submit() else None
    )
    if order is None:
        return _assignment_refused(line_id, form, _("Bitte wählen Sie einen Auftrag."))
    try:
        reconcile.assign_line(_user(), line, order)
    except DomainError as exc:
        return _assignment_refused(line_id, form, exc)
    return done(_("Die Buchung wurde zugeordnet."), url_for("finance.review_queue"))


def _assignment_refused(line_id: int, form: AssignLineForm, reason: str | Exception) -> Any:
    """Roll back, show ``reason`` at the order field and the line's page again (422)."""
    refuse_at(form.order, reason)
    line = db.get_or_404(StatementLine, line_id)  # reloaded after the rollback
    return _resolve_page(line, form, ExplainLineForm(prefix="explain"))


@bp.route("/kasse/abgleich/<int:line_id>/erlaeutern", methods=["POST"])
@role_required(Role.FINANCE)
@transactional
def explain_line(line_id: int) -> ResponseReturnValue:
    line, form = db.get_or_404(StatementLine, line_id), ExplainLineForm(prefix="explain")
    try:
        if form.validate_on_submit():
            reconcile.explain_line(_user(), line, form.text.data or "")
            return done(_("Die Erläuterung wurde gespeichert."), url_for("finance.review_queue"))
    except DomainError as exc:
        refuse_at(form.text, exc)
        line = db.get_or_404(StatementLine, line_id)
    assign = AssignLineForm(prefix="assign").with_orders(reconcile.assignable_orders(line))
    return _resolve_page(line, assign, form)
