"""Budget overview (reviewers, approvers, finance, admins) and the admin forms that open a year
and set VE, Ausgabereste and vorläufige Haushaltsführung. Thin views: one service call each."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from app.auth.decorators import role_required
from app.auth.models import Role
from app.budget import services as svc
from app.budget.blueprint import bp
from app.budget.charts import bar_chart
from app.budget.forms import AuthorisationForm, CarryoverForm, OpenYearForm, ProvisionalForm
from app.common.errors import DomainError
from app.common.money import format_eur
from app.common.tx import transactional
from app.extensions import db

VIEW_ROLES = (Role.REVIEWER, Role.APPROVER, Role.FINANCE, Role.ADMIN)

FORMS: dict[str, type[FlaskForm]] = {
    "open_form": OpenYearForm,
    "ve_form": AuthorisationForm,
    "carryover_form": CarryoverForm,
    "provisional_form": ProvisionalForm,
}
PREFIXES = {
    "open_form": "open",
    "ve_form": "ve",
    "carryover_form": "carry",
    "provisional_form": "prov",
}


def _form(name: str) -> FlaskForm:
    return FORMS[name](prefix=PREFIXES[name])


def _render(status: int = 200, **given: FlaskForm) -> ResponseReturnValue:
    """The overview page; admins also get the four forms (``given`` ones keep input and errors)."""
    forms: dict[str, FlaskForm] = {}
    if current_user.has_role(Role.ADMIN):
        forms = {name: given.get(name) or _form(name) for name in FORMS}
    years = [
        {
            "o": overview,
            "kreis_chart": bar_chart(overview.by_kreis),
            "pd_chart": bar_chart(overview.by_polizeidirektion),
        }
        for overview in svc.budget_overview()
    ]
    return render_template("budget/overview.html", years=years, forms=forms), status


def _refused(form: FlaskForm, exc: DomainError, default: str) -> None:
    """Roll back the refused unit of work and show the message at the field it concerns."""
    db.session.rollback()
    target = getattr(form, exc.field or default, None) or getattr(form, default)
    target.errors = [*target.errors, exc.message]


@bp.route("/haushalt")
@role_required(*VIEW_ROLES)
def overview() -> ResponseReturnValue:
    """Budget years: cap, Ausgabereste, committed, available, VEs and charts per region."""
    return _render()


@bp.route("/haushalt/jahr", methods=["POST"])
@role_required(Role.ADMIN)
@transactional
def open_year() -> ResponseReturnValue:
    form = _form("open_form")
    if form.validate_on_submit():
        try:
            svc.open_year(
                form.year.data,
                form.appropriation.data,
                form.carryover.data or 0,
                bool(form.provisional.data),
                actor_id=current_user.id,
            )
        except DomainError as exc:
            _refused(form, exc, "year")
        else:
            flash(_("Haushaltsjahr %(year)s eröffnet.", year=form.year.data), "success")
            return redirect(url_for("budget.overview"))
    return _render(422, open_form=form)


@bp.route("/haushalt/ve", methods=["POST"])
@role_required(Role.ADMIN)
@transactional
def set_authorisation() -> ResponseReturnValue:
    form = _form("ve_form")
    if form.validate_on_submit():
        try:
            svc.set_authorisation(
                form.budget_year.data,
                form.target_year.data,
                form.amount.data,
                actor_id=current_user.id,
            )
        except DomainError as exc:
            _refused(form, exc, "amount")
        else:
            flash(
                _(
                    "Verpflichtungsermächtigung %(year)s für %(target)s: %(amount)s gespeichert.",
                    year=form.budget_year.data,
                    target=form.target_year.data,
                    amount=format_eur(form.amount.data),
                ),
                "success",
            )
            return redirect(url_for("budget.overview"))
    return _render(422, ve_form=form)


@bp.route("/haushalt/ausgabereste", methods=["POST"])
@role_required(Role.ADMIN)
@transactional
def set_carryover() -> ResponseReturnValue:
    form = _form("carryover_form")
    if form.validate_on_submit():
        try:
            svc.set_carryover(form.year.data, form.carryover.data, actor_id=current_user.id)
        except DomainError as exc:
            _refused(form, exc, "carryover")
        else:
            flash(_("Ausgabereste %(year)s gespeichert.", year=form.year.data), "success")
            return redirect(url_for("budget.overview"))
    return _render(422, carryover_form=form)


@bp.route("/haushalt/vorlaeufig", methods=["POST"])
@role_required(Role.ADMIN)
@transactional
def set_provisional() -> ResponseReturnValue:
    form = _form("provisional_form")
    if form.validate_on_submit():
        flag = form.provisional.data == "1"
        try:
            svc.set_provisional(form.year.data, flag, actor_id=current_user.id)
        except DomainError as exc:
            _refused(form, exc, "year")
        else:
            flash(_("Haushaltsjahr %(year)s gespeichert.", year=form.year.data), "success")
            return redirect(url_for("budget.overview"))
    return _render(422, provisional_form=form)
