"""Finance export page ``/kasse/exporte`` and its downloads (finance and admin roles).

Three GET forms (read-only, so no CSRF token): the ledger by budget year and/or posting-date
range, the Haushaltsüberwachungsliste (R34) by budget year and the account statement of one grant
by Kassenzeichen — each as German CSV, plain CSV, XLSX or JSON (formats: ``app.finance.reports``).
Downloads are ``Content-Disposition: attachment``; the ledger streams from the database in chunks.
Invalid input re-renders the page with the errors (422).

The UI strings go through Flask-Babel (English in the catalog); the files themselves stay German
(for the cash office).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from app.auth.decorators import role_required
from app.auth.models import Role
from app.common.db import today
from app.common.errors import NotFound
from app.common.fields import GermanDateField, options
from app.finance import reports
from app.finance.blueprint import bp

logger = logging.getLogger(__name__)


def _format_choices() -> list[Any]:
    """The file formats, labelled in the language of the request."""
    return options(
        [
            ("csv", _l("CSV für Excel (Semikolon, Dezimalkomma)")),
            ("csv-plain", _l("CSV technisch (Komma, Dezimalpunkt)")),
            ("xlsx", _l("Excel-Arbeitsmappe (XLSX)")),
            ("json", _l("JSON (für Programme)")),
        ]
    )


ALL_YEARS = ""
#: Postings per streamed chunk in a web request (memory per worker ≈ +30 MB; CLI default 50,000).
WEB_CHUNK_ROWS = 10_000


def _year(value: Any) -> int | None:
    """Coerce a year choice: ``""`` (all years) → None."""
    if value in (None, ALL_YEARS):
        return None
    return int(value)


class _DownloadForm(FlaskForm):
    """GET form: read-only download, no CSRF token in the URL."""

    class Meta:
        csrf = False


class LedgerExportForm(_DownloadForm):
    year = SelectField(_l("Haushaltsjahr"), coerce=_year, validate_choice=True)
    date_from = GermanDateField(_l("Buchungsdatum von"), validators=[Optional()])
    date_to = GermanDateField(_l("Buchungsdatum bis"), validators=[Optional()])
    file_format = SelectField(_l("Format"), choices=_format_choices, default="csv")

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        start, end = self.date_from.data, self.date_to.data
        if start is not None and end is not None and start > end:
            self.date_to.errors = [*self.date_to.errors, _l("Das Enddatum liegt vor dem Anfang.")]
            return False
        return True


class MonitoringExportForm(_DownloadForm):
    year = SelectField(
        _l("Haushaltsjahr"),
        coerce=_year,
        validators=[InputRequired(_l("Bitte wählen Sie ein Haushaltsjahr."))],
    )
    file_format = SelectField(_l("Format"), choices=_format_choices, default="xlsx")


class GrantExportForm(_DownloadForm):
    kassenzeichen = StringField(
        _l("Kassenzeichen"),
        validators=[InputRequired(_l("Bitte geben Sie das Kassenzeichen an.")), Length(max=40)],
    )
    file_format = SelectField(_l("Format"), choices=_format_choices, default="xlsx")


def _forms(**bound: FlaskForm) -> dict[str, Any]:
    """The three forms of the page (unbound unless given), with the year choices."""
    years = reports.available_years()
    this_year = today().year
    default_year = min(years, key=lambda y: (abs(y - this_year), y)) if years else None
    forms: dict[str, Any] = {
        "ledger_form": LedgerExportForm(formdata=None, prefix="ledger", year=default_year),
        "monitoring_form": MonitoringExportForm(
            formdata=None, prefix="monitoring", year=default_year
        ),
        "grant_form": GrantExportForm(formdata=None, prefix="grant"),
    }
    forms.update(bound)
    _set_year_choices(forms["ledger_form"], years, all_years=True)
    _set_year_choices(forms["monitoring_form"], years, all_years=False)
    return forms


def _set_year_choices(form: Any, years: list[int], *, all_years: bool) -> None:
    pairs: list[tuple[object, object]] = [(y, y) for y in years]
    if all_years:
        pairs.insert(0, (ALL_YEARS, _l("alle Haushaltsjahre")))
    form.year.choices = options(pairs)


def _page(status: int = 200, **bound: FlaskForm) -> ResponseReturnValue:
    return render_template("finance/exports.html", **_forms(**bound)), status


def _bound(form_class: type[FlaskForm], prefix: str, all_years: bool = False) -> Any:
    form = form_class(formdata=request.args, prefix=prefix)
    if hasattr(form, "year"):
        _set_year_choices(form, reports.available_years(), all_years=all_years)
    return form


def _download(export: reports.ExportFile) -> Response:
    response = Response(stream_with_context(export.chunks), content_type=export.mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=export.filename)
    return response


@bp.route("/kasse/exporte")
@role_required(Role.FINANCE, Role.ADMIN)
def export_page() -> ResponseReturnValue:
    return _page()


@bp.route("/kasse/exporte/hauptbuch")
@role_required(Role.FINANCE, Role.ADMIN)
def export_ledger() -> ResponseReturnValue:
    form = _bound(LedgerExportForm, "ledger", all_years=True)
    if not form.validate():
        return _page(422, ledger_form=form)
    export = reports.ledger_export(
        form.file_format.data,
        year=form.year.data,
        date_from=form.date_from.data,
        date_to=form.date_to.data,
        chunk_rows=WEB_CHUNK_ROWS,
    )
    return _download(export)


@bp.route("/kasse/exporte/ueberwachungsliste")
@role_required(Role.FINANCE, Role.ADMIN)
def export_monitoring() -> ResponseReturnValue:
    form = _bound(MonitoringExportForm, "monitoring")
    if not form.validate() or form.year.data is None:
        return _page(422, monitoring_form=form)
    return _download(reports.monitoring_export(form.year.data, form.file_format.data))


@bp.route("/kasse/exporte/kontoauszug")
@role_required(Role.FINANCE, Role.ADMIN)
def export_grant() -> ResponseReturnValue:
    form = _bound(GrantExportForm, "grant")
    if not form.validate():
        return _page(422, grant_form=form)
    kassenzeichen = (form.kassenzeichen.data or "").strip().upper()
    try:
        export = reports.grant_export(kassenzeichen, form.file_format.data)
    except NotFound as exc:
        form.kassenzeichen.errors = [*form.kassenzeichen.errors, exc.message]
        return _page(422, grant_form=form)
    return _download(export)
