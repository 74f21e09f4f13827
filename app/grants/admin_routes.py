"""Admin pages for programme reference data: TV-L caps, windows, document types, base rates."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from flask import render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from app.auth.decorators import role_required
from app.auth.models import Role, User
from app.common.errors import DomainError
from app.common.programme import CONSULTATION_VALID_MONTHS, default_window
from app.common.tx import refuse, refuse_at, transactional
from app.common.views import done
from app.grants import queries
from app.grants.blueprint import bp
from app.grants.forms import BaseRateForm, DocumentRequiredForm, PayScaleForm, WindowForm
from app.grants.services import reference

PAGE = "grants.admin_reference"


def _admin() -> User:
    return cast(User, current_user._get_current_object())


def _page(
    pay_form: PayScaleForm,
    window_form: WindowForm,
    status: int = 200,
    rate_form: BaseRateForm | None = None,
) -> ResponseReturnValue:
    data = queries.reference_data()
    return render_template(
        "grants/admin_reference.html",
        scales=data.scales,
        years=data.years,
        latest=data.latest_scale_year,
        doc_types=queries.document_types(),
        pay_form=pay_form,
        window_form=window_form,
        doc_form=DocumentRequiredForm(),
        default_window=default_window,
        consultation_default=CONSULTATION_VALID_MONTHS,
        base_rates=data.base_rates,
        rate_form=rate_form or BaseRateForm(),
    ), status


def _save(
    form: FlaskForm,
    default_field: str,
    action: Callable[[], object],
    message: str,
    anchor: str = "",
) -> ResponseReturnValue | None:
    """Run ``action`` for a valid ``form`` and redirect with ``message``; a refusal rolls back
    and shows its message at the field. ``None``: the caller re-renders the page (422)."""
    if form.validate_on_submit():
        try:
            action()
        except DomainError as exc:
            refuse_at(getattr(form, exc.field or default_field, None) or form[default_field], exc)
        else:
            return done(message, url_for(PAGE) + anchor)
    return None


@bp.route("/verwaltung/stammdaten")
@role_required(Role.ADMIN)
def admin_reference() -> ResponseReturnValue:
    return _page(PayScaleForm(), WindowForm())


@bp.route("/verwaltung/tvl", methods=["POST"])
@role_required(Role.ADMIN)
@transactional
def admin_pay_scale() -> ResponseReturnValue:
    form = PayScaleForm()
    saved = _save(
        form,
        "monthly",
        lambda: reference.set_pay_scale(_admin(), **form.service_input()),
        _("Die TV-L-Obergrenze wurde gespeichert."),
    )
    return saved or _page(form, WindowForm(), 422)


@bp.route("/verwaltung/foerderjahre", methods=["POST"])
@role_required(Role.ADMIN)
@transactional
def admin_window() -> ResponseReturnValue:
    form = WindowForm()
    saved = _save(
        form,
        "closes",
        lambda: reference.set_window(_admin(), **form.service_input()),
        _("Die Antragsfrist wurde gespeichert."),
    )
    return saved or _page(PayScaleForm(), form, 422)


@bp.route("/verwaltung/basiszinssatz", methods=["POST"])
@role_required(Role.ADMIN)
@transactional
def admin_base_rate() -> ResponseReturnValue:
    form = BaseRateForm()
    saved = _save(
        form,
        "rate",
        lambda: reference.set_base_rate(_admin(), **form.service_input()),
        _("Der Basiszinssatz wurde gespeichert."),
        "#basiszinssatz",
    )
    return saved or _page(PayScaleForm(), WindowForm(), 422, rate_form=form)


@bp.route("/verwaltung/dokumentarten/<code>", methods=["POST"])
@role_required(Role.ADMIN)
@transactional
def admin_document_type(code: str) -> ResponseReturnValue:
    form = DocumentRequiredForm()
    target = url_for(PAGE) + "#dokumentarten"
    if not form.validate_on_submit():
        return refuse(_("Die Eingabe war ungültig. Bitte versuchen Sie es erneut."), target)
    try:
        reference.set_document_required(_admin(), code[:40], bool(form.required.data))
    except DomainError as exc:
        return refuse(exc, target)
    return done(_("Gespeichert."), target)
