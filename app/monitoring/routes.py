"""Programme dashboard for the ministry (issue 15). Thin views: one query call each."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask import Response, abort, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _

from app.auth.decorators import public, role_required
from app.auth.models import Role
from app.common.dates import legal_date
from app.grants.services import snapshot
from app.monitoring import exports, queries
from app.monitoring.blueprint import bp
from app.monitoring.charts import cumulative_chart, money_chart
from app.monitoring.map import build_map
from app.monitoring.services import milestone_text, milestones

VIEW_ROLES = (Role.REVIEWER, Role.APPROVER, Role.FINANCE, Role.ADMIN)
PUBLIC_MAX_AGE = 600  # seconds a browser or proxy may reuse the public page


def parse_filters(
    args: Mapping[str, str], kreis_keys: set[str], pds: set[str]
) -> tuple[queries.Filters, dict[str, str]]:
    """Filters from the query string and a German message per invalid parameter (which is then
    not applied, never silently)."""
    errors: dict[str, str] = {}
    raw_year = (args.get("jahr") or "").strip()
    year = None
    if raw_year:
        if raw_year.isdigit() and 2000 <= int(raw_year) <= 2100:
            year = int(raw_year)
        else:
            errors["jahr"] = _("Bitte geben Sie ein Förderjahr wie 2027 ein.")
    kreis = (args.get("kreis") or "").strip() or None
    if kreis and kreis not in kreis_keys:
        errors["kreis"] = _(
            "Bitte wählen Sie einen Landkreis oder eine kreisfreie Stadt aus der Liste."
        )
        kreis = None
    pd = (args.get("pd") or "").strip() or None
    if pd and pd not in pds:
        errors["pd"] = _("Bitte wählen Sie eine Polizeidirektion aus der Liste.")
        pd = None
    as_of = None
    raw_day = (args.get("stichtag") or "").strip()
    if raw_day:
        try:
            as_of = date.fromisoformat(raw_day)
        except ValueError:
            errors["stichtag"] = _("Bitte geben Sie einen Stichtag als Datum ein.")
    return queries.Filters(year, kreis, pd, as_of), errors


@bp.route("/programm")
@role_required(*VIEW_ROLES)
def dashboard() -> ResponseReturnValue:
    """Programme figures with filters, charts and links to the lists behind them."""
    rows = queries.regions()
    kreise, pds = queries.filter_choices(rows)
    f, errors = parse_filters(request.args, {k for k, _n in kreise}, set(pds))
    figures = queries.programme_figures(f, rows)
    return render_template(
        "monitoring/dashboard.html",
        fig=figures,
        **_filter_context(f, errors, kreise, pds),
        **_charts(figures, f.as_of),
    ), 422 if errors else 200


def _filter_context(
    f: queries.Filters, errors: dict[str, str], kreise: object, pds: object
) -> dict[str, object]:
    """The filter form of the dashboard: the choices, the chosen values and their errors."""
    chosen = (("jahr", f.funding_year), ("kreis", f.kreis_key), ("pd", f.polizeidirektion))
    return {
        "q": {k: v for k, v in chosen if v},
        "f": f,
        "errors": errors,
        "kreise": kreise,
        "pds": pds,
        "args": request.args,
    }


def _charts(figures: queries.ProgrammeFigures, as_of: date | None) -> dict[str, object]:
    """The charts, the map and the milestones of the dashboard (up to ``as_of``, if given)."""
    return {
        "chart": cumulative_chart(figures.consulted_by_month),
        "kreis_chart": money_chart(figures.by_kreis),
        "pd_chart": money_chart(figures.by_pd),
        "saxony": build_map(figures, as_of or legal_date()),
        "milestones": _milestones(as_of),
    }


def _milestones(until: date | None) -> list[str]:
    """The programme's milestones reached by ``until`` (all when None), as text."""
    return [milestone_text(e) for e in milestones() if not until or e.reached_on <= until]


@bp.route("/programm-in-zahlen")
@public
def public_figures() -> ResponseReturnValue:
    """ "Förderprogramm in Zahlen": aggregate figures and the map only, no personal data."""
    figures = queries.programme_figures(queries.Filters())
    response = make_response(
        render_template(
            "monitoring/public.html",
            fig=figures,
            chart=cumulative_chart(figures.consulted_by_month),
            saxony=build_map(figures, legal_date()),
        )
    )
    response.cache_control.public = True
    response.cache_control.max_age = PUBLIC_MAX_AGE
    return response


def _figures_from_request() -> tuple[queries.ProgrammeFigures, dict[str, str]]:
    rows = queries.regions()
    kreise, pds = queries.filter_choices(rows)
    f, errors = parse_filters(request.args, {k for k, _n in kreise}, set(pds))
    return queries.programme_figures(f, rows), errors


@bp.route("/programm/<name>.csv")
@role_required(*VIEW_ROLES)
def export_csv(name: str) -> ResponseReturnValue:
    """One figure table of the dashboard as German CSV (same filters as the page)."""
    if name not in exports.TABLES:
        abort(404)
    figures, errors = _figures_from_request()
    if errors:
        abort(400)
    return Response(
        exports.table_csv(name, figures),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="programm-{name}.csv"'},
    )


@bp.route("/programm/bericht.pdf")
@role_required(*VIEW_ROLES)
def report_pdf() -> ResponseReturnValue:
    """One-page "Programmbericht" for the chosen Stichtag (default today), German."""
    figures, errors = _figures_from_request()
    if errors:
        abort(400)
    day = figures.filters.as_of or legal_date()
    filename = f"programmbericht-{day.isoformat()}.pdf"
    return Response(
        snapshot.render_pdf(_report_html(figures, day)),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _report_html(figures: queries.ProgrammeFigures, day: date) -> str:
    """The "Programmbericht" as HTML for the PDF, always in German."""
    with force_locale("de"):
        return render_template(
            "monitoring/report_pdf.html",
            fig=figures,
            day=day,
            saxony=build_map(figures, day),
            milestones=_milestones(day),
        )
