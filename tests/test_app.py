"""App factory, health check, isolation self-test and production config guard."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.orgs.models import Organisation


def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["migration"] == "0001" or body["migration"]


def test_isolation_first_write(app_ctx):
    db.session.add(
        Organisation(
            kind="eigenbetrieb",
            name="Isolation",
            kreis_key="14626",
            kreis_name="Görlitz",
            polizeidirektion="Görlitz",
            valid_from=__import__("datetime").date(2020, 1, 1),
        )
    )
    db.session.commit()
    assert db.session.execute(db.select(Organisation).filter_by(name="Isolation")).scalar_one()


def test_isolation_second_test_does_not_see_the_first(app_ctx):
    """Self-test of the rollback-per-test fixture: the row committed above is gone."""
    assert db.session.execute(db.select(Organisation).filter_by(name="Isolation")).first() is None


def test_production_config_refuses_to_start_without_secrets(monkeypatch):
    from app import create_app
    from config import ProductionConfig

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig)


def test_healthz_is_one_round_trip(client, count_statements):
    """Issue 13: the health check reads the migration revision and nothing else."""
    client.get("/healthz")
    with count_statements() as seen:
        assert client.get("/healthz").status_code == 200
    queries = [s for s in seen if "SAVEPOINT" not in s]  # the test harness's own savepoints
    assert queries == ["SELECT version_num FROM alembic_version"], seen
