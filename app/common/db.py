"""Declarative base, naming convention, type map and per-dialect connection setup."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Enum, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

#: Money is always an integer count of euro cents, stored as BIGINT (never REAL/NUMERIC).
Cents = Annotated[int, "cents"]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


BERLIN = ZoneInfo("Europe/Berlin")

#: A simulated "now" (aware, UTC) for generating consistent history (demo data); unset in
#: normal operation. Set only through ``simulated_now``.
_SIMULATED_NOW: ContextVar[datetime | None] = ContextVar("simulated_now", default=None)


def utcnow() -> datetime:
    """Timezone-aware now in UTC (callable default for timestamp columns)."""
    return _SIMULATED_NOW.get() or datetime.now(UTC)


def today() -> date:
    """Today's date in Germany (the programme's calendar; patched by freezegun in tests)."""
    return utcnow().astimezone(BERLIN).date()


@contextmanager
def simulated_now(moment: datetime) -> Iterator[None]:
    """Run a block as if it were ``moment`` (aware): every ``utcnow()``/``today()`` and every
    timestamp column default inside it uses that time. For generating history (demo data), so
    that events, documents and dates tell one consistent story."""
    if moment.tzinfo is None:
        raise ValueError("simulated_now needs an aware datetime")
    token = _SIMULATED_NOW.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _SIMULATED_NOW.reset(token)


class Base(DeclarativeBase):
    """Base of every model: stable constraint names and the project's type map."""

    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={
            Cents: sa.BigInteger(),
            datetime: sa.DateTime(timezone=True),
            str: sa.String(255),
        },
    )


class TimestampMixin:
    """Created/updated timestamps in UTC."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def as_utc(value: datetime | None) -> datetime | None:
    """Return ``value`` as an aware UTC datetime (SQLite returns naive datetimes)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def install_sqlite_begin_immediate(engine: Engine) -> None:
    """Make SQLite take the write lock at BEGIN (RELIABILITY §4, pattern 4).

    pysqlite's own transaction handling is switched off so that SQLAlchemy emits the BEGIN itself;
    this also makes SAVEPOINTs behave, which the per-test rollback relies on.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def enum_type(cls: type[enum.Enum], length: int = 30) -> Enum:
    """A portable enum column: stored as its values in a VARCHAR with a CHECK, no native type."""
    return Enum(
        cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )
