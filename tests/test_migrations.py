"""The migrations produce exactly the models' schema (on the backend under test), and the
append-only triggers exist."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db


def test_migrations_match_models(app_ctx):
    connection = db.session.connection()  # the test's connection, after all migrations
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    diff = compare_metadata(context, db.metadata)
    assert diff == []


@pytest.mark.parametrize("table", ["audit_event", "application_event", "submission"])
def test_append_only_tables_refuse_update_and_delete(app_ctx, table):
    from tests import factories

    user = factories.create_user("applicant")
    factories.submitted_application(user)
    db.session.flush()
    for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):  # noqa: S608
        nested = db.session.begin_nested()
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            db.session.execute(sa.text(statement))
        nested.rollback()
