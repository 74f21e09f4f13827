"""Public page "Geförderte Vorhaben" (no login): the awarded grants with filters, and the
360Giving downloads (JSON package, CSV and XLSX of the spreadsheet form)."""

from __future__ import annotations

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.auth.decorators import public
from app.common.db import utcnow
from app.grants.queries import kreise
from app.opendata import giving
from app.opendata.blueprint import bp

FILES = {
    "json": ("application/json", giving.package_json),
    "csv": ("text/csv; charset=utf-8", giving.spreadsheet_csv),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        giving.spreadsheet_xlsx,
    ),
}


def _filter() -> tuple[giving.GrantFilter, list[str]]:
    """Filters from the query string; invalid values are named, not silently ignored."""
    errors: list[str] = []
    year_text = request.args.get("jahr", "").strip()
    year = int(year_text) if year_text.isdigit() and len(year_text) == 4 else None
    if year_text and year is None:
        errors.append(_("Das Förderjahr „%(value)s“ ist ungültig.", value=year_text[:20]))
    kreis = request.args.get("kreis", "").strip()
    known = {key for key, _name in kreise()}
    if kreis and kreis not in known:
        errors.append(_("Der Landkreis „%(value)s“ ist unbekannt.", value=kreis[:20]))
        kreis = ""
    return giving.GrantFilter(funding_year=year, kreis_key=kreis or None), errors


@bp.route("/foerderungen")
@public
def grants_page() -> ResponseReturnValue:
    """Awarded grants, newest first, ``PAGE_SIZE`` per page."""
    f, errors = _filter()
    page = max(1, request.args.get("seite", 1, type=int) or 1)
    count, total = giving.count_grants(f)
    rows = giving.awarded_grants(f, limit=giving.PAGE_SIZE, offset=(page - 1) * giving.PAGE_SIZE)
    pages = max(1, -(-count // giving.PAGE_SIZE))
    return render_template(
        "opendata/grants.html",
        rows=rows,
        count=count,
        total=total,
        page=min(page, pages),
        pages=pages,
        **_filter_context(f, errors),
    )


def _filter_context(f: giving.GrantFilter, errors: list[str]) -> dict[str, object]:
    """The filter form of the list: chosen values, their errors and the choices."""
    return {"f": f, "errors": errors, "kreise": kreise(), "status_titles": giving.STATUS_TITLES}


@bp.route("/foerderungen/360giving.<fmt>")
@public
def download(fmt: str) -> ResponseReturnValue:
    """All awarded grants in the 360Giving format ``fmt`` (json, csv or xlsx)."""
    if fmt not in FILES:
        abort(404)
    grants = giving.awarded_grants()
    if not grants:
        abort(404)
    mimetype, build = FILES[fmt]
    now = utcnow()
    response = Response(build(grants, modified=now))
    response.mimetype = mimetype
    response.headers["Content-Disposition"] = (
        f'attachment; filename="kommpraev-360giving-{now:%Y%m%d}.{fmt}"'
    )
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
