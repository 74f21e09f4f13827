"""Budget overview (reviewers, approvers, finance, admins) and the admin forms that open a year
and set VE, Ausgabereste and vorläufige Haushaltsführung. Thin views: one service call each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import render_template, url_for
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
from app.common.tx import refuse_at, transactional
from app.common.views import done

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


def _submit(
    name: str,
    default_field: str,
    action: Callable[[Any], object],
    message: Callable[[Any], str],
) -> ResponseReturnValue:
    """Validate the admin form ``name``, run ``action(form)`` (one service call) and redirect with
    ``message(form)``; a refusal rolls back and shows the message at the field it concerns."""
    form = _form(name)
    if form.validate_on_submit():
        try:
            action(form)
        except DomainError as exc:
            refuse_at(getattr(form, exc.field or default_field, None) or form[default_field], exc)
        else:
            return done(message(form), url_for("budget.overview"))
    return _render(422, **{name: form})


@bp.route("/haushalt")
@role_required(*VIEW_ROLES)
def overview() -> ResponseReturnValue:
    """Budget years: cap, Ausgabereste, committed, available, VEs and charts per region."""
    return _render()


@bp.route("/haushalt/jahr", methods=["POST"])
@role_required(Role.ADMIN)
@transactional
def open_year() -> ResponseReturnValue:
    return _submit(
        "open_form",
        "year",
        lambda f: svc.open_year(
            f.year.data,
            f.appropriation.data,
            f.carryover.data or 0,
            bool(f.provisional.data),
            actor_id=current_user.id,
        ),
        lambda f: _("Haushaltsjahr %(year)s eröffnet.", year=f.year.data),
    )


@bp.route("/haushalt/ve", methods=["POST"])
@role_required(Role.ADMIN)
@transactional
def set_authorisation() -> ResponseReturnValue:
    return _submit(
        "ve_form",
        "amount",
        lambda f: svc.set_authorisation(
            f.budget_year.data, f.target_year.data, f.amount.data, actor_id=current_user.id
        ),
        lambda f: _(
            "Verpflichtungsermächtigung %(year)s für %(target)s: %(amount)s gespeichert.",
            year=f.budget_year.data,
            target=f.target_year.data,
            amount=format_eur(f.amount.data),
        ),
    )


@bp.route("/haushalt/ausgabereste", methods=["POST"])
@role_required(Role.ADMIN)
@transactional
def set_carryover() -> ResponseReturnValue:
    return _submit(
        "carryover_form",
        "carryover",
        lambda f: svc.set_carryover(f.year.data, f.carryover.data, actor_id=current_user.id),
        lambda f: _("Ausgabereste %(year)s gespeichert.", year=f.year.data),
    )


@bp.route("/haushalt/vorlaeufig", methods=["POST"])
@role_required(Role.ADMIN)
@transactional
def set_provisional() -> ResponseReturnValue:
    return _submit(
        "provisional_form",
        "year",
        lambda f: svc.set_provisional(
            f.year.data, f.provisional.data == "1", actor_id=current_user.id
        ),
        lambda f: _("Haushaltsjahr %(year)s gespeichert.", year=f.year.data),
    )
