"""Admin pages for programme reference data: TV-L caps, windows, document types, base rates."""

from __future__ import annotations

from datetime import date
from typing import cast

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func

from app.auth.decorators import role_required
from app.auth.models import Role, User
from app.common.errors import DomainError
from app.common.programme import default_window
from app.common.tx import transactional
from app.extensions import db
from app.finance.interest import SURCHARGE_BP, format_rate_bp
from app.finance.models import BaseRate
from app.grants import queries
from app.grants.blueprint import bp
from app.grants.forms import BaseRateForm, DocumentRequiredForm, PayScaleForm, WindowForm
from app.grants.models import FundingYear, PayScale
from app.grants.services import reference


def _admin() -> User:
    return cast(User, current_user._get_current_object())


def _base_rates() -> list[tuple[BaseRate, str, str]]:
    """Basiszinssätze, newest first, with the base and the § 49a rate (+5 pp) as German text."""
    rows = db.session.execute(db.select(BaseRate).order_by(BaseRate.valid_from.desc())).scalars()
    return [
        (row, format_rate_bp(row.rate_bp), format_rate_bp(row.rate_bp + SURCHARGE_BP))
        for row in rows
    ]


def _page(
    pay_form: PayScaleForm,
    window_form: WindowForm,
    status: int = 200,
    rate_form: BaseRateForm | None = None,
) -> ResponseReturnValue:
    scales = (
        db.session.execute(db.select(PayScale).order_by(PayScale.year.desc(), PayScale.pay_group))
        .scalars()
        .all()
    )
    years = (
        db.session.execute(db.select(FundingYear).order_by(FundingYear.year.desc())).scalars().all()
    )
    latest = db.session.execute(db.select(func.max(PayScale.year))).scalar()
    return render_template(
        "grants/admin_reference.html",
        scales=scales,
        years=years,
        latest=latest,
        doc_types=queries.document_types(),
        pay_form=pay_form,
        window_form=window_form,
        doc_form=DocumentRequiredForm(),
        default_window=default_window,
        base_rates=_base_rates(),
        rate_form=rate_form or BaseRateForm(),
    ), status


@bp.route("/verwaltung/stammdaten")
@role_required(Role.ADMIN)
def admin_reference() -> ResponseReturnValue:
    return _page(PayScaleForm(), WindowForm())


@bp.route("/verwaltung/tvl", methods=["POST"])
@role_required(Role.ADMIN)
@transactional
def admin_pay_scale() -> ResponseReturnValue:
    form = PayScaleForm()
    if form.validate_on_submit():
        try:
            reference.set_pay_scale(
                _admin(),
                year=cast(int, form.year.data),
                pay_group=int(form.pay_group.data or 0),
                monthly_cents=cast(int, form.monthly.data),
                source=form.source.data or "",
            )
        except DomainError as exc:
            getattr(form, exc.field or "monthly").errors.append(exc.message)
        else:
            flash(_("Die TV-L-Obergrenze wurde gespeichert."), "success")
            return redirect(url_for("grants.admin_reference"))
    return _page(form, WindowForm(), 422)


@bp.route("/verwaltung/foerderjahre", methods=["POST"])
@role_required(Role.ADMIN)
@transactional
def admin_window() -> ResponseReturnValue:
    form = WindowForm()
    if form.validate_on_submit():
        try:
            reference.set_window(
                _admin(),
                year=cast(int, form.year.data),
                opens=cast(date, form.opens.data),
                closes=cast(date, form.closes.data),
            )
        except DomainError as exc:
            getattr(form, exc.field or "closes").errors.append(exc.message)
        else:
            flash(_("Die Antragsfrist wurde gespeichert."), "success")
            return redirect(url_for("grants.admin_reference"))
    return _page(PayScaleForm(), form, 422)


@bp.route("/verwaltung/basiszinssatz", methods=["POST"])
@role_required(Role.ADMIN)
@transactional
def admin_base_rate() -> ResponseReturnValue:
    form = BaseRateForm()
    if form.validate_on_submit():
        try:
            reference.set_base_rate(
                _admin(),
                valid_from=cast(date, form.valid_from.data),
                rate_bp=cast(int, form.rate.data),
                source=form.source.data or "",
            )
        except DomainError as exc:
            getattr(form, exc.field or "rate").errors.append(exc.message)
        else:
            flash(_("Der Basiszinssatz wurde gespeichert."), "success")
            return redirect(url_for("grants.admin_reference") + "#basiszinssatz")
    return _page(PayScaleForm(), WindowForm(), 422, rate_form=form)


@bp.route("/verwaltung/dokumentarten/<code>", methods=["POST"])
@role_required(Role.ADMIN)
@transactional
def admin_document_type(code: str) -> ResponseReturnValue:
    form = DocumentRequiredForm()
    if form.validate_on_submit():
        try:
            reference.set_document_required(_admin(), code[:40], bool(form.required.data))
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            flash(_("Gespeichert."), "success")
    return redirect(url_for("grants.admin_reference") + "#dokumentarten")
