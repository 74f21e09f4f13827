"""Multi-process harness for the budget race test (RELIABILITY §4, test plan 1).

Each run uses a dedicated database that the harness creates and migrates itself — a SQLite file
(with the app's BEGIN IMMEDIATE listener) or a PostgreSQL schema ``kp_race_<pid>`` — never the
per-test rolled-back transaction of ``tests/conftest.py``. Worker processes are spawned, wait at
a barrier and then call the commit function ``CALLS`` times, each call in its own transaction
(commit on success, rollback on refusal).

The module is imported by the spawned children, so it keeps to plain functions and data.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import random
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

WORKERS = 8
CALLS = 25
CAP_CENTS = 130_000_000  # 1,300,000.00 EUR
MIN_CENTS = 2_000_000  # 20,000.00 EUR
MAX_CENTS = 8_000_000  # 80,000.00 EUR
NAIVE_SLEEP = 0.005  # seconds between the naive check and its write


@dataclass
class Database:
    """Where a race runs: the SQLAlchemy URL and, for PostgreSQL, the schema to drop."""

    url: str
    upload_dir: str
    schema: str | None = None

    @property
    def dialect(self) -> str:
        return "sqlite" if self.url.startswith("sqlite") else "postgresql"


@dataclass
class RaceResult:
    """Figures of one run, summed over all workers."""

    strategy: str
    dialect: str
    year: int
    attempts: int = 0
    approved: list[int] = field(default_factory=list)
    refused: int = 0
    errors: list[str] = field(default_factory=list)
    committed_cents: int = 0  # budget_year.committed_cents after the run
    ledger_cents: int = 0  # Σ commitment rows of the year
    ledger_rows: int = 0
    mismatches: list[str] = field(default_factory=list)  # app.budget.services.self_check()
    seconds: float = 0.0

    @property
    def approved_cents(self) -> int:
        return sum(self.approved)

    @property
    def overshoot_cents(self) -> int:
        return max(self.ledger_cents - CAP_CENTS, 0)

    def summary(self) -> str:
        def eur(cents: int) -> str:
            return f"{cents / 100:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")

        return (
            f"[{self.dialect}] {self.strategy:<7} year {self.year}: attempts {self.attempts}, "
            f"approved {len(self.approved)}, refused {self.refused}, errors {len(self.errors)}, "
            f"Σ approved {eur(self.approved_cents)} EUR, "
            f"committed {eur(self.committed_cents)} EUR, "
            f"ledger {eur(self.ledger_cents)} EUR in {self.ledger_rows} rows, "
            f"cap {eur(CAP_CENTS)} EUR, overshoot {eur(self.overshoot_cents)} EUR, "
            f"{self.seconds:.1f} s"
        )


def _config(database: Database) -> Any:
    from config import TestingConfig

    class RaceConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database.url
        SQLALCHEMY_ENGINE_OPTIONS = (
            {"connect_args": {"timeout": 60}}
            if database.dialect == "sqlite"
            else {"pool_pre_ping": True}
        )
        UPLOAD_DIR = database.upload_dir
        LOG_JSON = False

    return RaceConfig


def create_database(tmp_dir: Path) -> Database:
    """A fresh SQLite file, or a fresh PostgreSQL schema when TEST_DATABASE_URL names one."""
    url = os.environ.get("TEST_DATABASE_URL", "sqlite")
    upload_dir = str(tmp_dir / "uploads")
    if not url.startswith("postgresql"):
        return Database(f"sqlite:///{tmp_dir / 'race.sqlite'}", upload_dir)
    schema = f"kp_race_{os.getpid()}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()
    sep = "&" if "?" in url else "?"
    return Database(f"{url}{sep}options=-csearch_path%3D{schema}", upload_dir, schema)


def drop_database(database: Database) -> None:
    """Drop the PostgreSQL schema (the SQLite file goes with pytest's tmp dir)."""
    if database.schema is None:
        return
    base_url = database.url.split("?options=")[0].split("&options=")[0]
    engine = sa.create_engine(base_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {database.schema} CASCADE")
    engine.dispose()


def prepare(database: Database, years: list[int]) -> tuple[list[int], int]:
    """Migrate, add one organisation, an approver and WORKERS × CALLS applications, open the
    years with the 1.3 M EUR cap. Returns (application ids, approver id)."""
    from flask_migrate import upgrade

    from app import create_app
    from app.auth.models import Role
    from app.auth.services import create_user
    from app.budget.services import open_year
    from app.extensions import db
    from app.grants.models import Application, Status
    from app.orgs.models import Organisation, OrgKind

    app = create_app(_config(database))
    with app.app_context():
        upgrade()
        org = Organisation(
            kind=OrgKind.GEMEINDE,
            name="Wettlaufhausen",
            ags="14626999",
            kreis_key="14626",
            kreis_name="Görlitz",
            polizeidirektion="Görlitz",
            valid_from=date(2022, 5, 15),
        )
        db.session.add(org)
        db.session.flush()
        approver = create_user(
            email="race-approver@test-kp.de",
            name="Race Approver",
            password="Lindenblüte-Elbufer-Morgentau-42",  # noqa: S106 - test password
            roles=[Role.APPROVER],
            organisation=None,
        )
        applications = [
            Application(organisation_id=org.id, funding_year=2027, status=Status.IN_REVIEW)
            for _ in range(WORKERS * CALLS)
        ]
        db.session.add_all(applications)
        for year in years:
            open_year(year, CAP_CENTS)
        db.session.commit()
        ids = [a.id for a in applications]
        approver_id = approver.id
        db.session.remove()
        db.engine.dispose()
    return ids, approver_id


def naive_commit(application_id: int, year: int, amount: int, actor_id: int) -> None:
    """The deliberately broken control: read Σ commitments, compare with the cap, insert.

    On SQLite the app's BEGIN IMMEDIATE listener would serialise this whole function (the first
    SELECT already takes the write lock), so there the read runs in its own transaction — as
    with pysqlite's default deferred mode, where SELECTs run outside any transaction
    (RELIABILITY §4). On PostgreSQL (READ COMMITTED) it is one transaction.
    """
    from app.budget.models import BudgetYear, Commitment, CommitmentKind
    from app.common.errors import BudgetCapExceeded
    from app.extensions import db

    total = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(Commitment.amount_cents), 0)).where(
            Commitment.payout_year == year
        )
    ).scalar_one()
    cap = db.session.execute(
        sa.select(BudgetYear.appropriation_cents + BudgetYear.carryover_cents).where(
            BudgetYear.year == year
        )
    ).scalar_one()
    if db.engine.dialect.name == "sqlite":
        db.session.commit()
    time.sleep(NAIVE_SLEEP)
    if total + amount > cap:
        raise BudgetCapExceeded("naive check: cap reached")
    db.session.add(
        Commitment(
            application_id=application_id,
            payout_year=year,
            authorised_in=None,
            amount_cents=amount,
            kind=CommitmentKind.APPROVAL,
            created_by_id=actor_id,
        )
    )
    db.session.flush()


def worker(
    database: Database,
    strategy: str,
    year: int,
    application_ids: list[int],
    actor_id: int,
    seed: int,
    barrier: Any,
    results: Any,
) -> None:
    """One racing process: CALLS commits, each in its own transaction."""
    from app import create_app
    from app.budget.services import commit_funds
    from app.common.errors import BudgetCapExceeded
    from app.extensions import db

    rng = random.Random(seed)  # noqa: S311 - test data, not security
    approved: list[int] = []
    refused = 0
    errors: list[str] = []
    app = create_app(_config(database))
    logging.getLogger("app").setLevel(logging.WARNING)  # 200 refusals would flood the output
    with app.app_context():
        db.session.execute(sa.text("SELECT 1"))  # open the connection before the start signal
        db.session.rollback()
        barrier.wait(timeout=120)
        for application_id in application_ids:
            amount = rng.randint(MIN_CENTS, MAX_CENTS)
            try:
                if strategy == "guarded":
                    commit_funds(
                        application_id, {year: amount}, approval_year=year, actor_id=actor_id
                    )
                else:
                    naive_commit(application_id, year, amount, actor_id)
                db.session.commit()
                approved.append(amount)
            except BudgetCapExceeded:
                db.session.rollback()
                refused += 1
            except Exception as exc:  # noqa: BLE001 - every other error is a test failure
                db.session.rollback()
                errors.append(f"{type(exc).__name__}: {exc}"[:300])
        db.session.remove()
        db.engine.dispose()
    results.put({"approved": approved, "refused": refused, "errors": errors})


def race(
    database: Database, strategy: str, year: int, application_ids: list[int], actor_id: int
) -> RaceResult:
    """Run WORKERS spawned processes against ``year`` and collect the figures."""
    from app import create_app
    from app.budget.models import BudgetYear, Commitment
    from app.budget.services import self_check
    from app.extensions import db

    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    processes = [
        ctx.Process(
            target=worker,
            args=(
                database,
                strategy,
                year,
                application_ids[index * CALLS : (index + 1) * CALLS],
                actor_id,
                year * 100 + index,
                barrier,
                results,
            ),
        )
        for index in range(WORKERS)
    ]
    started = time.perf_counter()
    for process in processes:
        process.start()
    outcome = RaceResult(strategy=strategy, dialect=database.dialect, year=year)
    for _ in processes:
        part = results.get(timeout=180)
        outcome.approved.extend(part["approved"])
        outcome.refused += part["refused"]
        outcome.errors.extend(part["errors"])
    for process in processes:
        process.join(timeout=60)
    outcome.seconds = time.perf_counter() - started
    outcome.attempts = len(outcome.approved) + outcome.refused + len(outcome.errors)

    app = create_app(_config(database))
    with app.app_context():
        outcome.committed_cents = db.session.execute(
            sa.select(BudgetYear.committed_cents).where(BudgetYear.year == year)
        ).scalar_one()
        total, rows = db.session.execute(
            sa.select(
                sa.func.coalesce(sa.func.sum(Commitment.amount_cents), 0), sa.func.count()
            ).where(Commitment.payout_year == year)
        ).one()
        outcome.ledger_cents, outcome.ledger_rows = int(total), int(rows)
        outcome.mismatches = [str(problem) for problem in self_check()]
        db.session.remove()
        db.engine.dispose()
    return outcome
