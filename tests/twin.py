"""A second Flask application on the same database as the ``app`` fixture.

Used to show that state lives in the database and not in one application object (a "second
worker"), and to run requests under different settings (CSRF on, production cookies) without
touching the session-wide ``app``. The twin is bound to the current test's connection, so it sees
the test's data and everything it writes is rolled back with the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask

from app import create_app
from app.extensions import db
from config import TestingConfig


def build_twin(app: Flask, **overrides: Any) -> Flask:
    """A new application with the database URL of ``app`` and ``overrides`` on top."""
    settings = {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "SQLALCHEMY_ENGINE_OPTIONS": app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        "UPLOAD_DIR": app.config["UPLOAD_DIR"],
        **overrides,
    }
    config_class = type("TwinConfig", (TestingConfig,), settings)
    return create_app(config_class)


@contextmanager
def bound_to_test_transaction(twin: Flask, app: Flask) -> Iterator[Flask]:
    """Let ``twin`` use the connection (and so the rolled-back transaction) of the running test."""
    with app.app_context():
        connection = db.engine  # the per-test connection installed by ``_db_transaction``
    engines = db._app_engines[twin]  # noqa: SLF001 - same recipe as tests/conftest.py
    own_engine = engines[None]
    engines[None] = connection
    try:
        yield twin
    finally:
        with twin.app_context():
            db.session.remove()
        engines[None] = own_engine


def dispose(twin: Flask) -> None:
    """Close the twin's own connection pool."""
    with twin.app_context():
        db.engine.dispose()
