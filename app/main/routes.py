"""Public and role-neutral views."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import jsonify, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import text

from app.auth.decorators import public
from app.auth.models import Role
from app.auth.services import set_preferred_locale
from app.common.tx import transactional
from app.extensions import db
from app.main.blueprint import bp
from app.monitoring import geo
from app.orgs.reference import ATTRIBUTION


@bp.route("/")
@public
def index() -> ResponseReturnValue:
    """Send each user to their main page."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if current_user.has_role(Role.APPLICANT):
        return redirect(url_for("grants.my_applications"))
    if current_user.has_role(Role.REVIEWER, Role.APPROVER, Role.ADMIN):
        return redirect(url_for("grants.queue"))
    if current_user.has_role(Role.FINANCE):
        return redirect(url_for("finance.dashboard"))
    return render_template("main/home.html")


@bp.route("/healthz")
@public
def healthz() -> ResponseReturnValue:
    """Liveness and database state as JSON (503 when the database does not answer)."""
    try:  # one round trip: reading the migration revision also proves the database answers
        revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001 - any database failure means "unhealthy"
        db.session.rollback()
        return jsonify({"status": "error", "database": "unavailable"}), 503
    return jsonify(
        {"status": "ok", "database": "ok", "dialect": db.engine.dialect.name, "migration": revision}
    )


@bp.route("/sprache/<lang>", methods=["POST"])
@public
@transactional
def set_language(lang: str) -> ResponseReturnValue:
    """Switch the UI language (German default, English) and go back; a logged-in user keeps the
    choice for the next login."""
    if lang in ("de", "en"):
        session["lang"] = lang
        if current_user.is_authenticated:
            set_preferred_locale(current_user._get_current_object(), lang)
    target = request.form.get("next", "")
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.netloc or parts.scheme:
        target = url_for("main.index")
    return redirect(target)


@bp.route("/datenquellen")
@public
def sources() -> ResponseReturnValue:
    """Attribution of the bundled reference data (licence dl-de/by-2-0)."""
    return render_template(
        "main/sources.html",
        attribution=ATTRIBUTION,
        geo_attribution=geo.ATTRIBUTION,
        geo_url=geo.ATTRIBUTION_URL,
    )
