"""Förderportal KommPräv: grant system for the Saxon RL KommPräv programme."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, has_request_context, request, session
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config, ProductionConfig, config_from_env


def create_app(config_class: type[Config] | None = None) -> Flask:
    """Application factory: configure, bind extensions, register blueprints and commands."""
    config_class = config_class or config_from_env()
    if issubclass(config_class, ProductionConfig):
        config_class.validate()
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(config_class)
    Path(app.config["UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)
    trust_proxies(app)

    from app.common.logging import configure_logging

    configure_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_commands(app)

    from app.auth.gate import register_mfa_gate
    from app.common.cleaning import register_input_cleaning
    from app.common.errors import register_error_handlers
    from app.common.security import register_security

    register_error_handlers(app)
    register_security(app)
    register_input_cleaning(app)
    register_mfa_gate(app)
    return app


def trust_proxies(app: Flask) -> None:
    """Behind ``TRUSTED_PROXIES`` reverse proxies, take the client address, scheme and host from
    their ``X-Forwarded-*`` headers (so that throttling, locks and logs see the real client).
    With 0 (the default) the headers are ignored: a client could forge them."""
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )


def select_locale() -> str:
    """The UI language: the logged-in user's stored choice, else the choice in this session
    (e.g. made on the login page), else German."""
    if not has_request_context():
        return "de"
    if current_user and getattr(current_user, "is_authenticated", False):
        if current_user.locale in ("de", "en"):
            return str(current_user.locale)
    chosen = session.get("lang")
    if chosen in ("de", "en"):
        return str(chosen)
    return "de"


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions to ``app``."""
    from app import models  # noqa: F401  - every table known before migrate/metadata use
    from app.common.db import install_sqlite_begin_immediate
    from app.extensions import babel, csrf, db, login_manager, migrate

    db.init_app(app)
    with app.app_context():
        install_sqlite_begin_immediate(db.engine)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page explains itself
    login_manager.session_protection = "basic"

    from app.auth.gate import load_user

    login_manager.user_loader(load_user)


def register_blueprints(app: Flask) -> None:
    """Import the view and command modules (they attach to their package's blueprint), then
    register the blueprints with their URL prefixes and CLI groups."""
    from app.auth import routes as _auth_routes  # noqa: F401
    from app.auth.blueprint import bp as auth_bp
    from app.budget import cli as _budget_cli  # noqa: F401
    from app.budget import routes as _budget_routes  # noqa: F401
    from app.budget.blueprint import bp as budget_bp
    from app.finance import cli as _finance_cli  # noqa: F401
    from app.finance import export_routes, reconcile_routes  # noqa: F401
    from app.finance import routes as _finance_routes  # noqa: F401
    from app.finance.blueprint import bp as finance_bp
    from app.grants import admin_routes, review_routes  # noqa: F401
    from app.grants import cli as _grants_cli  # noqa: F401
    from app.grants import routes as _grants_routes  # noqa: F401
    from app.grants.blueprint import bp as grants_bp
    from app.main import routes as _main_routes  # noqa: F401
    from app.main.blueprint import bp as main_bp
    from app.monitoring import routes as _monitoring_routes  # noqa: F401
    from app.monitoring.blueprint import bp as monitoring_bp
    from app.opendata import cli as _opendata_cli  # noqa: F401
    from app.opendata import routes as _opendata_routes  # noqa: F401
    from app.opendata.blueprint import bp as opendata_bp
    from app.postaward import cli as _postaward_cli  # noqa: F401
    from app.postaward import routes as _postaward_routes  # noqa: F401
    from app.postaward import task_routes  # noqa: F401
    from app.postaward.blueprint import bp as postaward_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(grants_bp)
    app.register_blueprint(postaward_bp)
    app.register_blueprint(budget_bp, cli_group="budget")
    app.register_blueprint(finance_bp, cli_group="finance")
    app.register_blueprint(opendata_bp, cli_group="opendata")
    app.register_blueprint(monitoring_bp, cli_group="monitoring")

    from app.api import routes as _api_routes  # noqa: F401
    from app.api.core import init_api

    init_api(app)


def register_template_helpers(app: Flask) -> None:
    """Jinja filters for German money and dates."""
    from app.common import formatting, labels
    from app.common.errors import upload_limit_mb

    app.jinja_env.filters["eur"] = formatting.eur
    app.jinja_env.filters["eur_plain"] = formatting.eur_plain
    app.jinja_env.filters["date_de"] = formatting.date_de
    app.jinja_env.filters["datetime_de"] = formatting.datetime_de
    app.jinja_env.filters["permille"] = formatting.permille
    app.jinja_env.filters["percent_bp"] = formatting.percent_bp
    app.jinja_env.filters["iban"] = formatting.iban
    app.jinja_env.filters["urlencode_except"] = formatting.urlencode_except
    app.jinja_env.filters["label"] = labels.label
    app.jinja_env.filters["stored"] = labels.stored

    @app.context_processor
    def _inject() -> dict[str, object]:
        path = request.path if has_request_context() else ""
        return {
            "current_lang": select_locale(),
            "request_path": path,
            "upload_limit_mb": upload_limit_mb(),
        }


def register_commands(app: Flask) -> None:
    """CLI groups: users, mail, grants (demo)."""
    from app.auth.cli import mail_cli, users_cli
    from app.commands import reference_cli
    from app.demo import demo_command

    app.cli.add_command(users_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(reference_cli)
