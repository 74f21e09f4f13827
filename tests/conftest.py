"""Test fixtures: one migrated database per run (and xdist worker), one rolled-back
transaction per test, factories, and logged-in clients per role.

Backend: SQLite by default; PostgreSQL when ``TEST_DATABASE_URL`` names it (``.ci/run`` runs
both). Each xdist worker gets its own SQLite file or PostgreSQL schema.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event

from app import create_app
from app.extensions import db
from app.grants.services import snapshot
from config import TestingConfig

PG_URL_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "gw0")


def database_url(tmp_dir: Path) -> str:
    """SQLite file per worker, or a PostgreSQL schema per worker inside the given database."""
    url = os.environ.get("TEST_DATABASE_URL", "sqlite")
    if url == "sqlite":
        return f"sqlite:///{tmp_dir / f'test-{_worker()}.sqlite'}"
    schema = f"kp_test_{_worker()}_{os.getpid()}"  # parallel runs must not share a schema
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp = tmp_path_factory.mktemp("db")
    url = database_url(tmp)

    class Cfg(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS = (
            {"connect_args": {"timeout": 30}}
            if url.startswith("sqlite")
            else {"pool_pre_ping": True}
        )
        UPLOAD_DIR = str(tmp / "uploads")

    application = create_app(Cfg)
    with application.app_context():
        upgrade()
        from app.grants.seed import seed_reference
        from app.orgs.reference import import_reference_data

        import_reference_data()
        seed_reference()
        db.session.commit()
        db.session.remove()
        db.session.configure(join_transaction_mode="create_savepoint")
    yield application
    with application.app_context():
        db.engine.dispose()
    if "search_path" in url:
        schema = url.rsplit("%3D", 1)[1]
        engine = sa.create_engine(url.split("?")[0])
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        engine.dispose()


@pytest.fixture(autouse=True)
def _db_transaction(app: Flask) -> Iterator[None]:
    """Run every test inside one outer transaction that is rolled back afterwards.

    No application context stays pushed during the test: Flask would reuse it for test-client
    requests, and ``g`` (Flask-Login's cached user) would leak between clients.
    """
    with app.app_context():
        engine = db.engine
        connection = engine.connect()
        outer = connection.begin()
        engines = db._app_engines[app]  # noqa: SLF001 - documented recipe (flask-sqlalchemy #1171)
        engines[None] = connection  # type: ignore[assignment]
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
            engines[None] = engine
            outer.rollback()
            connection.close()


def _stub_pdf(html: str) -> bytes:
    """A tiny valid PDF that differs per document (its hash is stored like a real one's)."""
    digest = hashlib.sha256(html.encode()).hexdigest()
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]"
        b"/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%" + digest.encode() + b"\n%%EOF\n"
    )


@pytest.fixture(autouse=True)
def _pdf_only_where_read(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """WeasyPrint renders only in tests that read the PDF (marker ``pdf``) and in browser tests;
    elsewhere the submission snapshot and the Bescheid get a small stub PDF. Rendering is ~0,5 s
    per document and most tests only need the application to be submitted or approved."""
    if request.node.get_closest_marker("pdf") or request.node.get_closest_marker("browser"):
        return
    monkeypatch.setattr(snapshot, "render_pdf", _stub_pdf)


@pytest.fixture
def count_statements(app: Flask) -> Callable[[], contextlib.AbstractContextManager[list[str]]]:
    """``with count_statements() as seen: …`` collects the SQL statements sent meanwhile (on the
    test's connection, which every client and service of the test uses)."""

    @contextlib.contextmanager
    def counting() -> Iterator[list[str]]:
        with app.app_context():
            engine = db.engines[None]
        target = getattr(engine, "engine", engine)
        seen: list[str] = []

        def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            seen.append(statement)

        event.listen(target, "before_cursor_execute", _record)
        try:
            yield seen
        finally:
            event.remove(target, "before_cursor_execute", _record)

    return counting


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


CSRF_RE = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def login(client: FlaskClient, email: str, password: str) -> Any:
    """Log in through the real form; with a second factor, also through its form (the code
    comes from the user's secret, see ``factories.totp_code``)."""
    response = client.post("/auth/login", data={"email": email, "password": password})
    if response.status_code == 302 and response.headers["Location"] == "/auth/zweiter-faktor":
        response = client.post("/auth/zweiter-faktor", data={"code": _next_code(client, email)})
    return response


def _next_code(client: FlaskClient, email: str) -> str:
    from app.auth.models import User
    from tests.factories import totp_code

    with client.application.app_context():
        user = db.session.execute(
            db.select(User).filter_by(email=email.strip().lower())
        ).scalar_one()
        return totp_code(user)


@pytest.fixture
def make_user(app: Flask) -> Any:
    """Factory for users (committed into the test transaction)."""
    from tests.factories import create_user

    return create_user


def _client_for(app: Flask, **kwargs: Any) -> FlaskClient:
    from tests.factories import PASSWORD, create_user

    with app.app_context():
        user = create_user(**kwargs)
        email = user.email
        db.session.commit()
    c = app.test_client()
    response = login(c, email, PASSWORD)
    assert response.status_code == 302, response.data[:500]
    c.user_email = email  # type: ignore[attr-defined]
    return c


@pytest.fixture
def applicant_client(app: Flask) -> FlaskClient:
    """Logged-in applicant of Zittau (AGS 14626610)."""
    return _client_for(app, role="applicant", ags="14626610", email="a@zittau.test-kp.de")


@pytest.fixture
def other_applicant_client(app: Flask) -> FlaskClient:
    """Logged-in applicant of Pirna (another organisation)."""
    return _client_for(app, role="applicant", ags="14628270", email="a@pirna.test-kp.de")


@pytest.fixture
def reviewer_client(app: Flask) -> FlaskClient:
    return _client_for(app, role="reviewer", email="r@lpr.test-kp.de")


@pytest.fixture
def admin_client(app: Flask) -> FlaskClient:
    return _client_for(app, role="admin", email="admin@lpr.test-kp.de")


@pytest.fixture
def committed_app(tmp_path: Path) -> Iterator[Flask]:
    """A separate app on its own migrated database whose transactions really commit — for
    concurrency tests (threads/processes). SQLite file or a throw-away PostgreSQL schema."""
    base = os.environ.get("TEST_DATABASE_URL", "sqlite")
    schema = None
    if base == "sqlite":
        url = f"sqlite:///{tmp_path / 'committed.sqlite'}"
    else:
        schema = f"kp_commit_{os.getpid()}"
        engine = sa.create_engine(base)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        engine.dispose()
        sep = "&" if "?" in base else "?"
        url = f"{base}{sep}options=-csearch_path%3D{schema}"

    class Cfg(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS = (
            {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {"pool_size": 12}
        )
        UPLOAD_DIR = str(tmp_path / "uploads")

    application = create_app(Cfg)
    with application.app_context():
        upgrade()
        from app.grants.seed import seed_reference
        from app.orgs.reference import import_reference_data

        import_reference_data()
        seed_reference()
        db.session.commit()
        db.session.remove()
    yield application
    with application.app_context():
        db.engine.dispose()
    if schema:
        engine = sa.create_engine(base)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        engine.dispose()
