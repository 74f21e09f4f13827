"""Disbursement benchmark (issue "Disbursement", section "Performance"): payment run, ledger
posting throughput and ledger size on a large, consistent data set. A script, not a test.

Usage (from the repository root)::

    .venv/bin/python bench/bench_disbursement.py                      # SQLite, bench/out/
    .venv/bin/python bench/bench_disbursement.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test --schema kp_bench
    .venv/bin/python bench/bench_disbursement.py --years 1 --orgs 5 --transfers 10 --entries 20

Data set (defaults): 20 budget years x 419 Gemeinden, one approved grant per organisation and
year, with the payout plan of the real rules. A fresh database is migrated with
``flask_migrate.upgrade`` and loaded with ``import_reference_data`` and ``seed_reference`` (as in
``tests/conftest.py``); the four ministry users are created with ``app.auth.services.create_user``.

Everything else is **bulk-inserted with SQLAlchemy Core** (``executemany`` in batches, explicit
ids; PostgreSQL sequences are moved past them) instead of going through the review, payout and
reconciliation services (approval renders a Bescheid PDF per grant):

* applicant users (one per organisation, all sharing one argon2 hash) and their roles;
* one confirmed bank account per organisation (valid German IBANs, some with a BIC);
* budget years (Ansatz = what is committed, rounded up), Verpflichtungsermächtigungen and the
  commitment rows (Festlegungen) per payout year, so that ``budget.self_check()`` is clean;
* applications (running; vn_checked when the final instalment is released; closed when all
  instalments are paid), approved decisions with Kassenzeichen and decision
  years (``review.default_years``), grant accounts (``ordered_cents`` = sum of the orders);
* instalments from ``payouts.plan_instalments`` (the real R14-R16 split);
* payout orders: past instalments are paid in historical payment runs (one per release date)
  whose pain.001 files are built and XSD-validated with the real ``sepa.build_pain001``, and
  reconciled: one camt.053 statement per run (the file itself is not stored) with one line per
  transfer, matched by EndToEndId as ``reconcile.auto_match`` does. The next ``--transfers``
  instalments (upcoming first, then the most recent past ones) are ordered and released (four
  eyes: preparer != releaser) but not yet in a run;
* journal entries and postings exactly as ``create_payout_plan`` (approval, per payout year),
  ``release_order`` (payout, 4 postings) and the reconciliation (bank, 2 postings) write them:
  same accounts, idempotency keys and request hashes (``ledger._request_hash``), every entry
  balanced. On PostgreSQL the deferred balance trigger checks every posting at commit.

After the load the script checks ``ledger.unbalanced_entries()``, ``budget.self_check()`` and
the balances of the committed, payable, expense and bank accounts against the data set.

Not created: consultations, plan lines, documents, submissions and Bescheide (PDFs), events and
the audit trail of the bulk part; no budget year is closed. All CHECK, UNIQUE and FOREIGN KEY
constraints and the append-only triggers stay active during the load.

Measured (wall time with ``time.perf_counter``):

a. ``payouts.create_payment_run`` over ``--transfers`` released orders, including the pain.001
   build, XSD validation and read-back; the file is parsed again with
   ``sepa.parse_pain001_summary`` and NbOfTxs/CtrlSum are compared with the data set;
b. ``ledger.post_entry`` throughput: ``--entries`` entries with 4 postings, commit every
   ``--batch`` entries;
c. ledger size: rows of journal_entry/posting and the database size.

Also reported: CPU time of this process (``time.process_time``), the SQL statements issued and
the time spent in ``cursor.execute``, and the load average, because on a shared machine the
wall times depend on what else runs.

Memory: the Python heap peak is measured with ``tracemalloc`` in a separate pass that is rolled
back (tracemalloc slows allocation-heavy code down), so the timed pass runs without it;
``ru_maxrss`` is the process's resident-set high-water mark after each phase (it includes
libxml2's memory, which tracemalloc does not see). The timed payment run therefore runs warm
(XSD parsed, statements compiled). The services' INFO log lines go as JSON to a log file in the
output folder, as they would go to a log stream in production.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import platform
import random
import re
import resource
import sqlite3
import subprocess
import sys
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as ``python bench/bench_disbursement.py``
    sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402
from flask import Flask  # noqa: E402
from schwifty import IBAN  # noqa: E402

DEFAULT_OUT = REPO / "bench" / "out"
#: Only schemas named like this are ever dropped (test schemas of other runs are left alone).
PG_SCHEMA_RE = re.compile(r"kp_bench[a-z0-9_]{0,40}")
INSERT_CHUNK = 5_000
ORG_COUNT_MAX = 419
#: (bank code, BIC or None) of the recipients' accounts (IBAN check digits valid; the bank codes
#: are not looked up, as in ``sepa.validate_iban``).
BANKS = (("85050300", "OSDDDE81XXX"), ("87050000", None), ("86055592", None), ("87054000", None))
#: Month/day on which a past instalment of each kind was released and paid.
RELEASE_DAY = {
    "first": (4, 15),
    "interim": (4, 15),
    "after_vn": (6, 15),
    "reimbursement": (6, 15),
    "final": (9, 15),
}


# --- options and environment ---------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--database-url", default=None, help="default: SQLite file in --out-dir")
    p.add_argument("--schema", default="kp_bench", help="PostgreSQL schema (dropped, recreated)")
    p.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help="SQLite file and log")
    p.add_argument("--years", type=int, default=20, help="budget years (default 20)")
    p.add_argument("--orgs", type=int, default=ORG_COUNT_MAX, help="Gemeinden (max 419)")
    p.add_argument("--transfers", type=int, default=5_000, help="orders in the payment run")
    p.add_argument("--entries", type=int, default=10_000, help="entries for post_entry")
    p.add_argument("--batch", type=int, default=500, help="commit every N entries")
    p.add_argument("--seed", type=int, default=20261125, help="random seed of the amounts")
    p.add_argument("--report", type=Path, default=None, help="also write the Markdown here")
    p.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema")
    args = p.parse_args(argv)
    if not 1 <= args.orgs <= ORG_COUNT_MAX:
        p.error(f"--orgs must be 1..{ORG_COUNT_MAX}")
    if not 1 <= args.years <= 25:
        p.error("--years must be 1..25")
    if args.transfers < 1 or args.entries < 1 or args.batch < 1:
        p.error("--transfers, --entries and --batch must be positive")
    if not PG_SCHEMA_RE.fullmatch(args.schema):
        p.error("--schema must start with kp_bench (lower case, digits, _); it is dropped")
    return args


@dataclass
class Target:
    """Where the benchmark database lives."""

    url: str  # URL the app uses (PostgreSQL: with search_path)
    dialect: str
    sqlite_path: Path | None = None
    base_url: str | None = None  # PostgreSQL URL without the schema option
    schema: str | None = None


def prepare_target(args: argparse.Namespace) -> Target:
    """A fresh SQLite file, or a freshly created PostgreSQL schema (only that schema)."""
    url = args.database_url or f"sqlite:///{args.out_dir / 'bench.sqlite'}"
    if url.startswith("sqlite"):
        path = Path(sa.make_url(url).database or "")
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return Target(url=url, dialect="sqlite", sqlite_path=path)
    if not url.startswith("postgresql"):
        raise SystemExit("only sqlite:/// and postgresql+psycopg:// URLs are supported")
    _drop_schema(url, args.schema, create=True)
    sep = "&" if "?" in url else "?"
    return Target(
        url=f"{url}{sep}options=-csearch_path%3D{args.schema}",
        dialect="postgresql",
        base_url=url,
        schema=args.schema,
    )


def _drop_schema(url: str, schema: str, *, create: bool) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            if create:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    finally:
        engine.dispose()


def make_app(target: Target, out_dir: Path) -> Flask:
    from app import create_app
    from config import TestingConfig

    class BenchConfig(TestingConfig):
        """Test config (cheap argon2 for the four users) on the benchmark database."""

        SQLALCHEMY_DATABASE_URI = target.url
        SQLALCHEMY_ENGINE_OPTIONS = (
            {"connect_args": {"timeout": 30}}
            if target.dialect == "sqlite"
            else {"pool_pre_ping": True}
        )
        UPLOAD_DIR = str(out_dir / "uploads")
        LOG_JSON = True

    return create_app(BenchConfig)


@contextlib.contextmanager
def service_logging(path: Path) -> Iterator[None]:
    """Send the ``app.*`` INFO records as JSON lines to ``path``; restore everything after.

    ``flask_migrate.upgrade`` runs ``logging.config.fileConfig`` (root level WARN, existing loggers
    disabled); production runs migrations in another process, so the services log at INFO.
    """
    from app.common.logging import JsonFormatter

    app_logger = logging.getLogger("app")
    saved = (app_logger.level, app_logger.propagate, list(app_logger.handlers), app_logger.disabled)
    children = [
        lg
        for name, lg in logging.Logger.manager.loggerDict.items()
        if name.startswith("app.") and isinstance(lg, logging.Logger)
    ]
    disabled = {lg: lg.disabled for lg in children}
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    app_logger.handlers = [handler]
    app_logger.setLevel(logging.INFO)
    app_logger.propagate = False
    app_logger.disabled = False
    for lg in children:
        lg.disabled = False
    try:
        yield
    finally:
        handler.close()
        app_logger.setLevel(saved[0])
        app_logger.propagate = saved[1]
        app_logger.handlers = saved[2]
        app_logger.disabled = saved[3]
        for lg, flag in disabled.items():
            lg.disabled = flag


# --- the data set ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Inst:
    id: int
    number: int
    kind: Any  # InstalmentKind
    percent: int
    amount: int
    budget_year: int
    release_on: date
    state: str = "planned"  # "paid" (in a past run) | "released" (for the run) | "planned"
    order_id: int = 0
    run_id: int | None = None


@dataclass(slots=True)
class Grant:
    app_id: int
    org: Any  # Org
    year: int
    grant: int
    start: date
    end: date
    approved_at: datetime
    years: dict[int, int]
    instalments: list[Inst]

    @property
    def kz(self) -> str:
        return f"KP-{self.year}-{self.app_id:04d}"

    @property
    def reference(self) -> str:
        return f"LPR-KP-{self.year}-{self.app_id:05d}"


@dataclass(slots=True)
class Org:
    id: int
    ags: str
    name: str
    applicant_id: int = 0
    account_id: int = 0
    holder: str = ""
    iban: str = ""
    bic: str | None = None


@dataclass
class DataSet:
    first_year: int
    last_year: int
    orgs: list[Org]
    grants: list[Grant]
    users: dict[str, int]
    runs: dict[date, int] = field(default_factory=dict)  # release date -> payment_run.id
    released: list[Inst] = field(default_factory=list)

    def instalments(self) -> Iterator[tuple[Grant, Inst]]:
        for g in self.grants:
            for i in g.instalments:
                yield g, i


def _grant_amount(rng: random.Random) -> tuple[int, bool]:
    """Grant in whole euros: 10 % below 20,000 EUR (reimbursement, R16), 8 % above
    150,000 EUR over two years (split plan, R15), the rest in between."""
    r = rng.random()
    if r < 0.10:
        return rng.randrange(8_000, 20_000) * 100, False
    if r < 0.92:
        return rng.randrange(20_000, 150_000) * 100, False
    return rng.randrange(150_001, 250_000) * 100, True


def plan_grants(orgs: list[Org], first_year: int, years: int, seed: int) -> list[Grant]:
    from app.finance.services.payouts import plan_instalments
    from app.grants.services.review import default_years

    rng = random.Random(seed)  # noqa: S311 - reproducible amounts, not security
    grants: list[Grant] = []
    inst_id = 0
    for year in range(first_year, first_year + years):
        for n, org in enumerate(orgs):
            amount, long_running = _grant_amount(rng)
            start = date(year, 4, 1)
            end = date(year + 1 if long_running else year, 12, 31)
            approved_at = datetime.combine(date(year, 2, 1) + timedelta(days=n % 28), dtime(9), UTC)
            split = default_years(amount, start, end, year)
            decision = SimpleNamespace(
                grant_cents=amount,
                years=[SimpleNamespace(year=y) for y in sorted(split)],
                period_start=start,
                period_end=end,
            )
            insts = []
            for p in plan_instalments(decision):  # type: ignore[arg-type]
                inst_id += 1
                month, day = RELEASE_DAY[p.kind.value]
                insts.append(
                    Inst(inst_id, p.number, p.kind, p.percent, p.amount_cents, p.budget_year,
                         date(p.budget_year, month, day))
                )  # fmt: skip
            grants.append(
                Grant(len(grants) + 1, org, year, amount, start, end, approved_at, split, insts)
            )
    return grants


def assign_states(ds: DataSet, transfers: int, today: date) -> None:
    """Past instalments are paid; ``transfers`` instalments are released for the measured run:
    the upcoming ones first (earliest first), then the most recent past ones."""
    upcoming = sorted(
        (i for _, i in ds.instalments() if i.release_on >= today),
        key=lambda i: (i.release_on, i.id),
    )
    past = sorted(
        (i for _, i in ds.instalments() if i.release_on < today),
        key=lambda i: (i.release_on, i.id),
        reverse=True,
    )
    pool = upcoming + past
    if transfers > len(pool):
        raise SystemExit(f"--transfers {transfers} > {len(pool)} instalments in the data set")
    for inst in past:
        inst.state = "paid"
    for inst in pool[:transfers]:
        inst.state = "released"
    ds.released = pool[:transfers]
    order_id = 0
    for _, inst in ds.instalments():
        if inst.state != "planned":
            order_id += 1
            inst.order_id = order_id
    for n, day in enumerate(
        sorted({i.release_on for _, i in ds.instalments() if i.state == "paid"}), start=1
    ):
        ds.runs[day] = n
    for _, inst in ds.instalments():
        if inst.state == "paid":
            inst.run_id = ds.runs[inst.release_on]


def _e2e(g: Grant, i: Inst) -> str:
    from app.finance.sepa import end_to_end_id

    return end_to_end_id(g.kz, i.number)


def _released_at(i: Inst, now: datetime) -> datetime:
    if i.state == "released":
        return now
    return datetime.combine(i.release_on, dtime(10), UTC)


# --- row generators (one dict per row, same keys within a table) ---------------------------------


def rows_applicants(ds: DataSet, password_hash: str, now: datetime) -> Iterator[dict[str, Any]]:
    for o in ds.orgs:
        yield {
            "id": o.applicant_id,
            "email": f"kaemmerei.{o.ags}@bench-kp.de",
            "name": f"Kaemmerei {o.name}"[:200],
            "password_hash": password_hash,
            "organisation_id": o.id,
            "is_org_manager": True,
            "active": True,
            "created_at": now,
            "updated_at": now,
        }


def rows_bank_accounts(ds: DataSet, finance_id: int, now: datetime) -> Iterator[dict[str, Any]]:
    for o in ds.orgs:
        yield {
            "id": o.account_id,
            "organisation_id": o.id,
            "holder": o.holder,
            "iban": o.iban,
            "bic": o.bic or "",
            "status": "confirmed",
            "entered_by_id": o.applicant_id,
            "confirmed_by_id": finance_id,
            "confirmed_at": now,
            "created_at": now,
            "updated_at": now,
        }


def budget_rows(ds: DataSet) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Budget years (Ansatz >= committed) and VEs, from the commitments of the data set."""
    per_year: dict[int, int] = defaultdict(int)
    per_ve: dict[tuple[int, int], int] = defaultdict(int)
    for g in ds.grants:
        for year, amount in g.years.items():
            per_year[year] += amount
            if year > g.year:
                per_ve[(g.year, year)] += amount

    def ceil_to(value: int, step: int = 10_000_000) -> int:  # whole 100,000 EUR
        return -(-value // step) * step

    now = datetime.now(UTC)
    years = [
        {
            "year": y,
            "appropriation_cents": ceil_to(per_year[y] * 105 // 100),
            "carryover_cents": 0,
            "committed_cents": per_year[y],
            "provisional": False,
            "closed": False,
            "created_at": now,
            "updated_at": now,
        }
        for y in range(ds.first_year, ds.last_year + 1)
    ]
    ves = [
        {
            "id": n,
            "budget_year": b,
            "target_year": t,
            "amount_cents": ceil_to(amount),
            "committed_cents": amount,
            "created_at": now,
            "updated_at": now,
        }
        for n, ((b, t), amount) in enumerate(sorted(per_ve.items()), start=1)
    ]
    return years, ves


def rows_applications(ds: DataSet, reviewer_id: int, today: date) -> Iterator[dict[str, Any]]:
    from app.common.programme import NOTIFICATION_DAYS_AFTER_POSTING

    for g in ds.grants:
        submitted = datetime(g.year - 1, 10, 1, 11, 0, tzinfo=UTC)
        notified = g.approved_at.date() + timedelta(days=NOTIFICATION_DAYS_AFTER_POSTING)
        done = all(i.state == "paid" for i in g.instalments)
        if done:
            status = "closed"  # T19
        elif g.instalments[-1].state == "released":
            status = "vn_checked"  # the final instalment follows the proof-of-use check (R19)
        else:
            status = "running"
        yield {
            "id": g.app_id,
            "organisation_id": g.org.id,
            "funding_year": g.year,
            "status": status,
            "reference": g.reference,
            "title": "Koordinierungsstelle Kommunaler Praeventionsrat",
            "purpose": "Personal- und Sachausgaben der Koordinierungsstelle des KPR",
            "project_start": g.start,
            "project_end": g.end,
            "kpr_name": f"KPR {g.org.name}"[:200],
            "office_unit": "Ordnungsamt",
            "requested_grant_cents": g.grant,
            "own_share_cash_cents": g.grant // 4,
            "first_submitted_at": submitted,
            "submitted_at": submitted,
            "applicant_name_at_submission": g.org.name[:200],
            "applicant_ags_at_submission": g.org.ags,
            "created_by_id": g.org.applicant_id,
            "assigned_reviewer_id": reviewer_id,
            "notified_on": notified,
            "waiver_on": notified + timedelta(days=2),
            "final_on": notified + timedelta(days=2),
            "created_at": submitted - timedelta(days=30),
            "updated_at": g.approved_at if not done else datetime.combine(today, dtime(0), UTC),
        }


def rows_decisions(ds: DataSet, reviewer_id: int, approver_id: int) -> Iterator[dict[str, Any]]:
    from app.common.dates import add_months
    from app.common.programme import ANBEST_VERSION, VN_MONTHS_AFTER_PERIOD

    rate = 8_000  # 80 % Anteilfinanzierung
    for g in ds.grants:
        yield {
            "id": g.app_id,
            "application_id": g.app_id,
            "status": "approved",
            "financing_type": "share",
            "rate_bp": rate,
            "eligible_base_cents": -(-g.grant * 10_000 // rate),
            "max_amount_cents": g.grant,
            "grant_cents": g.grant,
            "purpose": "Personal- und Sachausgaben der Koordinierungsstelle des KPR",
            "period_start": g.start,
            "period_end": g.end,
            "vn_deadline": add_months(g.end, VN_MONTHS_AFTER_PERIOD),
            "anbest_version": ANBEST_VERSION,
            "prepared_by_id": reviewer_id,
            "decided_by_id": approver_id,
            "decided_at": g.approved_at,
            "kassenzeichen": g.kz,
            "created_at": g.approved_at - timedelta(days=7),
            "updated_at": g.approved_at,
        }


def rows_decision_years(ds: DataSet) -> Iterator[dict[str, Any]]:
    n = 0
    for g in ds.grants:
        for year, amount in sorted(g.years.items()):
            n += 1
            yield {"id": n, "decision_id": g.app_id, "year": year, "amount_cents": amount}


def rows_commitments(ds: DataSet, approver_id: int) -> Iterator[dict[str, Any]]:
    n = 0
    for g in ds.grants:
        for year, amount in sorted(g.years.items()):
            n += 1
            yield {
                "id": n,
                "application_id": g.app_id,
                "payout_year": year,
                "authorised_in": None if year == g.year else g.year,
                "amount_cents": amount,
                "kind": "approval",
                "created_at": g.approved_at,
                "created_by_id": approver_id,
            }


def rows_grant_accounts(ds: DataSet) -> Iterator[dict[str, Any]]:
    for g in ds.grants:
        ordered = sum(i.amount for i in g.instalments if i.state != "planned")
        yield {
            "application_id": g.app_id,
            "kassenzeichen": g.kz,
            "granted_cents": g.grant,
            "ordered_cents": ordered,
            "start_notified_on": g.start if ordered else None,
        }


def rows_instalments(ds: DataSet) -> Iterator[dict[str, Any]]:
    status = {"paid": "paid", "released": "ordered", "planned": "planned"}
    for g, i in ds.instalments():
        yield {
            "id": i.id,
            "application_id": g.app_id,
            "decision_id": g.app_id,
            "number": i.number,
            "kind": i.kind,
            "percent": i.percent,
            "amount_cents": i.amount,
            "budget_year": i.budget_year,
            "status": status[i.state],
            "due_since": None if i.state == "planned" else i.release_on - timedelta(days=14),
            "created_at": g.approved_at,
            "updated_at": g.approved_at,
        }


def rows_orders(ds: DataSet, users: dict[str, int], now: datetime) -> Iterator[dict[str, Any]]:
    import hashlib

    from app.finance import sepa
    from app.finance.services.payouts import small_instalment_warning

    for g, i in ds.instalments():
        if i.state == "planned":
            continue
        at = _released_at(i, now)
        yield {
            "id": i.order_id,
            "instalment_id": i.id,
            "application_id": g.app_id,
            "bank_account_id": g.org.account_id,
            "amount_cents": i.amount,
            "status": "reconciled" if i.state == "paid" else "released",
            "end_to_end_id": _e2e(g, i),
            "remittance": sepa.remittance(g.kz, g.reference, i.number, g.org.ags),
            "idempotency_key": hashlib.sha256(f"order-{i.id}".encode()).hexdigest(),
            "prepared_by_id": users["finance_a"],
            "released_by_id": users["finance_b"],
            "released_at": at,
            "payment_run_id": i.run_id,
            "note": small_instalment_warning(SimpleNamespace(amount_cents=i.amount)) or "",  # type: ignore[arg-type]
            "created_at": at - timedelta(days=1),
            "updated_at": at,
        }


def rows_payment_runs(ds: DataSet, users: dict[str, int], cfg: Any) -> Iterator[dict[str, Any]]:
    """One historical run per release date, its pain.001 built by the real ``build_pain001``."""
    import hashlib

    from app.common import programme as fcfg
    from app.finance import sepa
    from app.finance.services.payouts import new_msg_id

    by_run: dict[int, list[tuple[Grant, Inst]]] = defaultdict(list)
    for g, i in ds.instalments():
        if i.run_id is not None:
            by_run[i.run_id].append((g, i))
    for day, run_id in sorted(ds.runs.items(), key=lambda kv: kv[1]):
        items = by_run[run_id]
        execution = day + timedelta(days=2)
        created = datetime.combine(day, dtime(15), UTC)
        msg_id = new_msg_id(execution)
        xml = sepa.build_pain001(
            msg_id=msg_id,
            created_at=created,
            execution_date=execution,
            debtor_name=cfg["DEBTOR_NAME"],
            debtor_iban=cfg["DEBTOR_IBAN"],
            debtor_bic=cfg.get("DEBTOR_BIC") or None,
            payments=[
                sepa.Transfer(
                    end_to_end_id=_e2e(g, i),
                    creditor_name=g.org.holder,
                    creditor_iban=g.org.iban,
                    creditor_bic=g.org.bic,
                    amount_cents=i.amount,
                    remittance=sepa.remittance(g.kz, g.reference, i.number, g.org.ags),
                )
                for g, i in items
            ],
            schema=fcfg.PAIN_SCHEMA,
        )
        yield {
            "id": run_id,
            "msg_id": msg_id,
            "execution_date": execution,
            "schema": fcfg.PAIN_SCHEMA,
            "nb_of_txs": len(items),
            "ctrl_sum_cents": sum(i.amount for _, i in items),
            "xml": xml,
            "sha256": hashlib.sha256(xml).hexdigest(),
            "created_by_id": users["finance_a"],
            "created_at": created,
        }


def _booked_on(i: Inst) -> date:
    """Booking date of a paid transfer on the cash office's statement (= execution date)."""
    return i.release_on + timedelta(days=2)


def rows_statements(ds: DataSet, users: dict[str, int], cfg: Any) -> Iterator[dict[str, Any]]:
    """One imported camt.053 statement per historical run (the file itself is not stored)."""
    import hashlib

    for day, run_id in sorted(ds.runs.items(), key=lambda kv: kv[1]):
        booked = day + timedelta(days=2)
        ref = f"STMT-{booked:%Y%m%d}-{run_id}"
        yield {
            "id": run_id,
            "fingerprint": hashlib.sha256(
                f"{cfg['DEBTOR_IBAN']}|{ref}|{run_id}".encode()
            ).hexdigest(),
            "file_sha256": hashlib.sha256(f"bench-camt-{run_id}".encode()).hexdigest(),
            "filename": f"camt053_{booked:%Y%m%d}.xml",
            "message_version": "camt.053.001.08",
            "account_iban": cfg["DEBTOR_IBAN"],
            "statement_ref": ref,
            "electronic_seq_nb": str(run_id),
            "from_date": booked,
            "to_date": booked,
            "opening_balance_cents": None,
            "closing_balance_cents": None,
            "imported_by_id": users["finance_a"],
            "imported_at": datetime.combine(booked + timedelta(days=1), dtime(8), UTC),
        }


def rows_statement_lines(ds: DataSet) -> Iterator[dict[str, Any]]:
    """One debit line per paid order, matched by EndToEndId (R33 step 1) as ``auto_match``
    does."""
    from app.finance import sepa

    n = 0
    for g, i in ds.instalments():
        if i.state != "paid":
            continue
        n += 1
        yield {
            "id": n,
            "statement_id": i.run_id,
            "line_no": n,
            "booking_date": _booked_on(i),
            "value_date": _booked_on(i),
            "amount_cents": i.amount,
            "credit_debit": "DBIT",
            "end_to_end_id": _e2e(g, i),
            "remittance": sepa.remittance(g.kz, g.reference, i.number, g.org.ags),
            "counterparty_name": g.org.holder,
            "counterparty_iban": g.org.iban,
            "match_status": "matched",
            "match_rule": "end_to_end",
            "matched_order_id": i.order_id,
        }


class LedgerRows:
    """Journal entries and their postings, as ``create_payout_plan``, ``release_order`` and the
    reconciliation write them (approval: 2 postings per payout year; payout: 4 postings per
    order; bank: 2 postings per reconciled order)."""

    def __init__(self, ds: DataSet, users: dict[str, int], now: datetime) -> None:
        self.ds, self.users, self.now = ds, users, now
        self.postings: list[dict[str, Any]] = []
        self.entry_id = 0
        self.posting_id = 0

    def _entry(
        self,
        kind: Any,
        on: date,
        year: int,
        description: str,
        reference: str,
        key: str,
        lines: list[Any],
        actor: int,
        at: datetime,
    ) -> dict[str, Any]:
        from app.finance.services import ledger

        ledger.validate_lines(lines)
        self.entry_id += 1
        for ln in lines:
            self.posting_id += 1
            self.postings.append(
                {
                    "id": self.posting_id,
                    "entry_id": self.entry_id,
                    "account": ln.account,
                    "amount_cents": ln.amount_cents,
                    "application_id": ln.application_id,
                }
            )
        return {
            "id": self.entry_id,
            "kind": kind,
            "posting_date": on,
            "fiscal_year": year,
            "description": description[:300],
            "reference": reference[:60],
            "idempotency_key": key,
            "request_hash": ledger._request_hash(kind, on, year, reference, lines, None),  # noqa: SLF001
            "reverses_id": None,
            "created_by_id": actor,
            "created_at": at,
        }

    def entries(self) -> Iterator[dict[str, Any]]:
        """Yield entries; the postings of the yielded entries collect in ``self.postings``."""
        from app.finance.models import EntryKind
        from app.finance.services import ledger as lg

        for g in self.ds.grants:
            kz, aid = g.kz, g.app_id
            for year, amount in sorted(g.years.items()):
                yield self._entry(
                    EntryKind.APPROVAL, g.approved_at.date(), year, f"Bewilligung {g.reference}",
                    kz, f"approval-{g.app_id}-{year}",
                    [lg.Line(lg.committed_account(kz), amount, aid),
                     lg.Line(lg.budget_account(year), -amount, aid)],
                    self.users["approver"], g.approved_at,
                )  # fmt: skip
        for g, i in self.ds.instalments():
            if i.state == "planned":
                continue
            kz, aid, a, year = g.kz, g.app_id, i.amount, i.budget_year
            at = _released_at(i, self.now)
            yield self._entry(
                EntryKind.PAYOUT, at.date(), year, f"Auszahlung Rate {i.number} {g.reference}",
                _e2e(g, i), f"payout-{i.order_id}",
                [lg.Line(lg.expense_account(year, kz), a, aid),
                 lg.Line(lg.payable_account(kz), -a, aid),
                 lg.Line(lg.budget_account(year), a, aid),
                 lg.Line(lg.committed_account(kz), -a, aid)],
                self.users["finance_b"], at,
            )  # fmt: skip
        for g, i in self.ds.instalments():
            if i.state != "paid":
                continue
            kz, aid, a, e2e, booked = g.kz, g.app_id, i.amount, _e2e(g, i), _booked_on(i)
            imported = datetime.combine(booked + timedelta(days=1), dtime(8), UTC)
            yield self._entry(
                EntryKind.BANK, booked, booked.year, f"Kontoauszug: Auszahlung {e2e}",
                e2e, f"bank-order-{i.order_id}",
                [lg.Line(lg.payable_account(kz), a, aid),
                 lg.Line(lg.BANK_ACCOUNT, -a, aid)],
                self.users["finance_a"], imported,
            )  # fmt: skip


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def insert(conn: sa.Connection, table: sa.Table, rows: Iterable[dict[str, Any]]) -> int:
    """``executemany`` INSERT in chunks; returns the number of rows."""
    n = 0
    for chunk in _chunks(rows, INSERT_CHUNK):
        conn.execute(table.insert(), chunk)
        n += len(chunk)
    return n


def insert_ledger(conn: sa.Connection, gen: LedgerRows) -> None:
    from app.finance.models import JournalEntry, Posting

    for chunk in _chunks(gen.entries(), INSERT_CHUNK):
        conn.execute(JournalEntry.__table__.insert(), chunk)
        conn.execute(Posting.__table__.insert(), gen.postings)
        gen.postings = []


# --- build ---------------------------------------------------------------------------------------


@dataclass
class Timer:
    """Wall and CPU seconds (of this process) per named phase."""

    phases: dict[str, tuple[float, float]] = field(default_factory=dict)

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            wall, cpu = self.phases.get(name, (0.0, 0.0))
            self.phases[name] = (
                wall + time.perf_counter() - t0,
                cpu + time.process_time() - c0,
            )

    @property
    def wall(self) -> float:
        return sum(w for w, _ in self.phases.values())

    @property
    def cpu(self) -> float:
        return sum(c for _, c in self.phases.values())


def create_users() -> dict[str, int]:
    """The four ministry users, through the real service."""
    import secrets

    from app.auth.models import Role
    from app.auth.services import create_user

    password = "Bench-" + secrets.token_urlsafe(18)
    users = {}
    for key, role, name in (
        ("reviewer", Role.REVIEWER, "Rita Referentin"),
        ("approver", Role.APPROVER, "Bernd Bewilliger"),
        ("finance_a", Role.FINANCE, "Karl Kasse"),
        ("finance_b", Role.FINANCE, "Frieda Finanz"),
    ):
        user = create_user(
            email=f"{key.replace('_', '.')}@bench-kp.de", name=name, password=password, roles=[role]
        )
        users[key] = user.id
    return users


def load_orgs(count: int, first_user_id: int) -> list[Org]:
    """The first ``count`` Gemeinden by AGS, each with its applicant id and bank account."""
    from app.extensions import db
    from app.finance import sepa
    from app.orgs.models import Organisation, OrgKind

    rows = db.session.execute(
        sa.select(Organisation.id, Organisation.ags, Organisation.name)
        .where(Organisation.kind == OrgKind.GEMEINDE)
        .order_by(Organisation.ags)
        .limit(count)
    ).all()
    orgs = []
    for n, (org_id, ags, name) in enumerate(rows):
        bank_code, bic = BANKS[n % len(BANKS)]
        iban = IBAN.generate("DE", bank_code=bank_code, account_code=f"{1_000_000 + org_id}")
        orgs.append(
            Org(
                id=org_id,
                ags=ags,
                name=name,
                applicant_id=first_user_id + n,
                account_id=n + 1,
                holder=sepa.transliterate(f"Stadtkasse {name}")[:70],
                iban=sepa.validate_iban(str(iban.compact)),
                bic=bic,
            )
        )
    return orgs


def build(args: argparse.Namespace, target: Target, app: Flask, timer: Timer) -> DataSet:
    from app.auth.models import User, UserRole
    from app.auth.passwords import hash_password
    from app.budget.models import BudgetYear, Commitment, CommitmentAuthorisation
    from app.common.db import today
    from app.extensions import db
    from app.finance.models import (
        BankAccount,
        BankStatement,
        GrantAccount,
        Instalment,
        PaymentRun,
        PayoutOrder,
        StatementLine,
    )
    from app.grants.models import Application, Decision, DecisionYear
    from app.grants.seed import seed_reference
    from app.orgs.reference import import_reference_data

    with timer("reference data + 4 users"):
        import_reference_data()
        seed_reference()
        users = create_users()
        db.session.commit()
    now = datetime.now(UTC)
    day = today()
    with timer("plan (Python)"):
        first_user = int(db.session.execute(sa.select(sa.func.max(User.id))).scalar_one()) + 1
        orgs = load_orgs(args.orgs, first_user)
        if len(orgs) < args.orgs:
            raise SystemExit(f"only {len(orgs)} Gemeinden in the reference data")
        first_year = day.year - args.years + 1
        grants = plan_grants(orgs, first_year, args.years, args.seed)
        ds = DataSet(first_year, day.year, orgs, grants, users)
        assign_states(ds, args.transfers, day)
        budget_years, ves = budget_rows(ds)
    conn = db.session.connection()
    with timer("historical pain.001 files (build_pain001)"):
        runs = list(rows_payment_runs(ds, users, app.config))
    with timer("bulk insert"):
        insert(conn, User.__table__, rows_applicants(ds, hash_password("!" + str(now)), now))
        first_role = int(db.session.execute(sa.select(sa.func.max(UserRole.id))).scalar_one()) + 1
        insert(
            conn,
            UserRole.__table__,
            (
                {"id": first_role + n, "user_id": o.applicant_id, "role": "applicant"}
                for n, o in enumerate(orgs)
            ),
        )
        insert(conn, BankAccount.__table__, rows_bank_accounts(ds, users["finance_a"], now))
        insert(conn, BudgetYear.__table__, budget_years)
        insert(conn, CommitmentAuthorisation.__table__, ves)
        insert(conn, Application.__table__, rows_applications(ds, users["reviewer"], day))
        insert(conn, Decision.__table__, rows_decisions(ds, users["reviewer"], users["approver"]))
        insert(conn, DecisionYear.__table__, rows_decision_years(ds))
        insert(conn, Commitment.__table__, rows_commitments(ds, users["approver"]))
        insert(conn, GrantAccount.__table__, rows_grant_accounts(ds))
        insert(conn, Instalment.__table__, rows_instalments(ds))
        insert(conn, PaymentRun.__table__, runs)
        insert(conn, PayoutOrder.__table__, rows_orders(ds, users, now))
        insert(conn, BankStatement.__table__, rows_statements(ds, users, app.config))
        insert(conn, StatementLine.__table__, rows_statement_lines(ds))
        insert_ledger(conn, LedgerRows(ds, users, now))
        if target.dialect == "postgresql":
            _move_sequences(conn)
    del runs
    with timer("commit" + (" (deferred balance trigger)" if target.dialect != "sqlite" else "")):
        db.session.commit()
    return ds


def _move_sequences(conn: sa.Connection) -> None:
    """Explicit ids were inserted: move each serial sequence past the largest id."""
    from app.extensions import db

    for table in db.metadata.sorted_tables:
        col = table.c.get("id")
        if col is None or not col.primary_key or not isinstance(col.type, sa.Integer):
            continue
        conn.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
            )
        )


def check_integrity(ds: DataSet) -> list[str]:
    """Read-only consistency checks of the loaded data (must all be empty)."""
    from app.budget.services import self_check
    from app.finance.services import ledger

    problems = [f"unbalanced entry {e}" for e in ledger.unbalanced_entries()]
    problems += [str(m) for m in self_check()]
    granted = sum(g.grant for g in ds.grants)
    ordered = sum(i.amount for _, i in ds.instalments() if i.state != "planned")
    paid = sum(i.amount for _, i in ds.instalments() if i.state == "paid")
    checks = {
        "Assets:Bewilligt:": granted - ordered,
        "Liabilities:Auszahlungen:": paid - ordered,
        "Expenses:Zuwendungen:": ordered,
        ledger.BANK_ACCOUNT: -paid,
    }
    for prefix, expected in checks.items():
        actual = ledger.balance(prefix)
        if actual != expected:
            problems.append(f"balance {prefix} {actual} != {expected}")
    return problems


# --- measurements --------------------------------------------------------------------------------


@dataclass
class SqlStats:
    """Statements executed through the engine and the wall time spent in ``cursor.execute``
    (COMMIT is not a statement here)."""

    count: int = 0
    seconds: float = 0.0
    slowest: tuple[float, str] = (0.0, "")


@contextlib.contextmanager
def sql_stats(engine: sa.Engine) -> Iterator[SqlStats]:
    stats = SqlStats()
    started: list[float] = []

    def before(*_: Any) -> None:
        started.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        elapsed = time.perf_counter() - started.pop()
        stats.count += 1
        stats.seconds += elapsed
        if elapsed > stats.slowest[0]:
            stats.slowest = (elapsed, " ".join(statement.split())[:60])

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        yield stats
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)


@contextlib.contextmanager
def traced() -> Iterator[list[int]]:
    """Python-heap peak in bytes (tracemalloc) of the block."""
    gc.collect()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    peak = [0]
    try:
        yield peak
    finally:
        peak[0] = tracemalloc.get_traced_memory()[1] - base
        if not was_tracing:
            tracemalloc.stop()


def maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


@contextlib.contextmanager
def timed_build_pain001(sink: list[float]) -> Iterator[None]:
    """Time every ``sepa.build_pain001`` call (the service looks it up on the module)."""
    from app.finance import sepa

    original = sepa.build_pain001

    def wrapper(*a: Any, **kw: Any) -> bytes:
        t0 = time.perf_counter()
        try:
            return original(*a, **kw)
        finally:
            sink.append(time.perf_counter() - t0)

    sepa.build_pain001 = wrapper  # type: ignore[assignment]
    try:
        yield
    finally:
        sepa.build_pain001 = original  # type: ignore[assignment]


def measure_payment_run(ds: DataSet) -> dict[str, Any]:
    from app.auth.models import User
    from app.common.db import today
    from app.extensions import db
    from app.finance import sepa
    from app.finance.services import payouts

    expected_n = len(ds.released)
    expected_sum = sum(i.amount for i in ds.released)
    # Memory pass (tracemalloc on), rolled back.
    with traced() as peak, sql_stats(db.engine) as mem_sql:
        t0 = time.perf_counter()
        payouts.create_payment_run(
            db.session.get(User, ds.users["finance_a"]), execution_date=today()
        )
        mem_pass_s = time.perf_counter() - t0
    db.session.rollback()
    db.session.remove()
    gc.collect()
    # Timed pass, committed.
    build_s: list[float] = []
    finance = db.session.get(User, ds.users["finance_a"])
    with sql_stats(db.engine) as sql, timed_build_pain001(build_s):
        c0, t0 = time.process_time(), time.perf_counter()
        run = payouts.create_payment_run(finance, execution_date=today())
        service_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    xml, nb, ctrl = run.xml, run.nb_of_txs, run.ctrl_sum_cents
    t0 = time.perf_counter()
    db.session.commit()
    commit_s = time.perf_counter() - t0
    summary = sepa.parse_pain001_summary(xml)
    ok = (
        summary.nb_of_txs == nb == expected_n == len(summary.transactions)
        and summary.ctrl_sum_cents == ctrl == expected_sum
        and sum(a for _, a in summary.transactions) == expected_sum
        and len({e for e, _ in summary.transactions}) == expected_n
    )
    if not ok:
        raise SystemExit(f"payment run mismatch: {summary[:2]} vs {expected_n}/{expected_sum}")
    return {
        "transfers": expected_n,
        "service_s": service_s,
        "cpu_s": cpu_s,
        "pain001_s": sum(build_s),
        "sql": sql,
        "mem_sql": mem_sql,
        "commit_s": commit_s,
        "xml_bytes": len(xml),
        "nb_of_txs": summary.nb_of_txs,
        "ctrl_sum_cents": summary.ctrl_sum_cents,
        "peak_py_mib": peak[0] / 2**20,
        "mem_pass_s": mem_pass_s,
        "maxrss_mib": maxrss_mib(),
    }


def _post(
    n: int, prefix: str, grants: list[Grant], year: int, actor: int, batch: int | None
) -> float:
    """``n`` calls of ``post_entry``; commit every ``batch`` and at the end (None: never).
    Returns the seconds spent in the commits."""
    from app.common.db import today
    from app.extensions import db
    from app.finance.models import EntryKind
    from app.finance.services import ledger as lg

    on, commit_s = today(), 0.0
    for k in range(n):
        g = grants[k % len(grants)]
        kz, aid, a = g.kz, g.app_id, 10_000 + (k % 997) * 100
        lg.post_entry(
            kind=EntryKind.PAYOUT,
            posting_date=on,
            fiscal_year=year,
            description=f"Benchmark-Buchung {k} {g.reference}",
            reference=f"BENCH-{k}",
            idempotency_key=f"{prefix}-{k}",
            lines=[
                lg.Line(lg.expense_account(year, kz), a, aid),
                lg.Line(lg.payable_account(kz), -a, aid),
                lg.Line(lg.budget_account(year), a, aid),
                lg.Line(lg.committed_account(kz), -a, aid),
            ],
            actor_id=actor,
        )
        if batch is not None and ((k + 1) % batch == 0 or k + 1 == n):
            t0 = time.perf_counter()
            db.session.commit()
            commit_s += time.perf_counter() - t0
    return commit_s


def measure_posting(ds: DataSet, entries: int, batch: int) -> dict[str, Any]:
    from app.extensions import db
    from app.finance.services import ledger

    year, actor = ds.last_year, ds.users["finance_b"]
    grants = ds.grants[-len(ds.orgs) :]
    # Memory pass: one batch (the identity map is emptied at each commit), rolled back.
    sample = min(batch, entries)
    with traced() as peak:
        _post(sample, "bench-mem", grants, year, actor, batch=None)
    db.session.rollback()
    db.session.remove()
    gc.collect()
    with sql_stats(db.engine) as sql:
        c0, t0 = time.process_time(), time.perf_counter()
        commit_s = _post(entries, "bench", grants, year, actor, batch)
        elapsed, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    if ledger.unbalanced_entries():
        raise SystemExit("unbalanced entries after the posting benchmark")
    return {
        "entries": entries,
        "batch": batch,
        "seconds": elapsed,
        "cpu_s": cpu_s,
        "entries_per_s": entries / elapsed,
        "postings_per_s": 4 * entries / elapsed,
        "statements_per_entry": sql.count / entries,
        "sql": sql,
        "commit_s": commit_s,
        "peak_py_mib": peak[0] / 2**20,
        "sample": sample,
        "maxrss_mib": maxrss_mib(),
    }


def ledger_size(target: Target) -> dict[str, Any]:
    from app.extensions import db
    from app.finance.models import JournalEntry, Posting

    out: dict[str, Any] = {
        "entries": db.session.execute(
            sa.select(sa.func.count()).select_from(JournalEntry)
        ).scalar(),
        "postings": db.session.execute(sa.select(sa.func.count()).select_from(Posting)).scalar(),
    }
    if target.dialect == "sqlite" and target.sqlite_path is not None:
        out["db_bytes"] = target.sqlite_path.stat().st_size
        out["ledger_bytes"] = _sqlite_ledger_bytes()
    else:
        out["ledger_bytes"] = db.session.execute(
            sa.text(
                "SELECT pg_total_relation_size('journal_entry') + pg_total_relation_size('posting')"
            )
        ).scalar()
        out["db_bytes"] = db.session.execute(
            sa.text(
                "SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
            )
        ).scalar()
    db.session.rollback()
    return out


def _sqlite_ledger_bytes() -> int | None:
    """Pages of journal_entry, posting and their indexes (``dbstat``, if compiled in)."""
    from app.extensions import db

    try:
        return int(
            db.session.execute(
                sa.text(
                    "SELECT SUM(pgsize) FROM dbstat WHERE name IN (SELECT name FROM sqlite_master "
                    "WHERE tbl_name IN ('journal_entry', 'posting'))"
                )
            ).scalar()
            or 0
        )
    except sa.exc.OperationalError:  # no dbstat virtual table
        db.session.rollback()
        return None


def row_counts() -> dict[str, int]:
    from app.extensions import db

    tables = (
        "organisation", "user_account", "bank_account", "budget_year",
        "commitment_authorisation", "application", "decision", "decision_year", "commitment",
        "grant_account", "instalment", "payout_order", "payment_run", "bank_statement",
        "statement_line", "journal_entry", "posting",
    )  # fmt: skip
    md = db.metadata.tables
    return {
        t: int(db.session.execute(sa.select(sa.func.count()).select_from(md[t])).scalar_one())
        for t in tables
    }


# --- report --------------------------------------------------------------------------------------


def machine_info(target: Target) -> dict[str, str]:
    from app.extensions import db

    info = {
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "git": _git_commit(),
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory"] = f"{int(line.split()[1]) / 2**20:.1f} GiB"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    if target.dialect == "postgresql":
        info["postgresql"] = str(db.session.execute(sa.text("SHOW server_version")).scalar())
        db.session.rollback()
    return info


def _git_commit() -> str:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=REPO, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "diff-index", "--quiet", "HEAD", "--"],  # noqa: S607
            cwd=REPO, capture_output=True, check=False,
        ).returncode  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + (" (working tree modified)" if dirty else "")


def _eur(cents: int) -> str:
    return f"{cents // 100:,}.{cents % 100:02d} EUR"


def _mib(n: int | None) -> str:
    return "n/a" if n is None else f"{n / 2**20:,.1f} MiB"


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def render(args: argparse.Namespace, target: Target, res: dict[str, Any]) -> str:
    info, timer, counts = res["info"], res["timer"], res["counts"]
    pay, post, size = res["pay"], res["post"], res["size"]
    if target.dialect == "postgresql":
        db_name = f"PostgreSQL {info.get('postgresql', '')}"
    else:
        db_name = f"SQLite {info['sqlite']}"
    lines = [
        f"### {db_name}: {args.years} years x {args.orgs} organisations",
        "",
        f"`{res['command']}`",
        "",
        "| Machine | |",
        "|---|---|",
        f"| Platform | {info['platform']} |",
        f"| CPU | {info.get('cpu', 'unknown')}, {info['cpus']} logical CPUs |",
        f"| Memory | {info.get('memory', 'unknown')} |",
        f"| Load average (1/5/15 min) at start, at end | {res['load_start']}; {res['load_end']} |",
        f"| Python | {info['python']} |",
        f"| SQLite library | {info['sqlite']} |",
    ]
    if "postgresql" in info:
        lines.append(f"| PostgreSQL server | {info['postgresql']} (same machine, TCP) |")
    lines += [
        f"| Git commit | {info['git']} |",
        "",
        "CPU = CPU time of the benchmark process (the PostgreSQL server's work is not in it).",
        "",
        "| Measure | Result |",
        "|---|---|",
        f"| Build ({counts['application']:,} grants, bulk insert) | {timer.wall:.1f} s "
        f"(CPU {timer.cpu:.1f} s); RSS high-water {res['build_rss']:.0f} MiB |",
    ]
    lines += [
        f"| - {phase} | {wall:.1f} s (CPU {cpu:.1f} s) |"
        for phase, (wall, cpu) in timer.phases.items()
    ]
    psql, msql, osql = pay["sql"], pay["mem_sql"], post["sql"]
    lines += [
        f"| Payment run, {pay['transfers']:,} transfers: `create_payment_run` | "
        f"**{pay['service_s']:.2f} s** ({pay['transfers'] / pay['service_s']:,.0f} "
        f"transfers/s; CPU {pay['cpu_s']:.2f} s) |",
        f"| - of which `build_pain001` (build, XSD validation, read-back) | "
        f"{pay['pain001_s']:.2f} s |",
        f"| - of which SQL: {psql.count:,} statements | {psql.seconds:.2f} s; slowest "
        f"{psql.slowest[0]:.2f} s: `{psql.slowest[1]}` |",
        f"| - commit | {pay['commit_s']:.2f} s |",
        f"| - pain.001 size | {pay['xml_bytes']:,} bytes ({pay['xml_bytes'] / 2**20:.1f} MiB) |",
        f"| - NbOfTxs / CtrlSum parsed back | {pay['nb_of_txs']:,} / "
        f"{_eur(pay['ctrl_sum_cents'])}: match the {pay['transfers']:,} released orders |",
        f"| - Python heap peak (tracemalloc pass, rolled back) | {pay['peak_py_mib']:.1f} MiB |",
        f"| - that first pass (cold, with tracemalloc) | {pay['mem_pass_s']:.2f} s; SQL "
        f"{msql.seconds:.2f} s, slowest {msql.slowest[0]:.2f} s: `{msql.slowest[1]}` |",
        f"| - RSS high-water after the run | {pay['maxrss_mib']:.0f} MiB |",
        f"| Posting: {post['entries']:,} x `post_entry` (4 postings), commit every "
        f"{post['batch']} | {post['seconds']:.1f} s: **{post['entries_per_s']:,.0f} entries/s, "
        f"{post['postings_per_s']:,.0f} postings/s** (CPU {post['cpu_s']:.1f} s) |",
        f"| - of which SQL: {post['statements_per_entry']:.1f} statements per entry | "
        f"{osql.seconds:.1f} s; slowest {osql.slowest[0]:.2f} s: `{osql.slowest[1]}` |",
        f"| - of which the {-(-post['entries'] // post['batch'])} commits | "
        f"{post['commit_s']:.1f} s |",
        f"| - Python heap peak (tracemalloc, one batch of {post['sample']}) | "
        f"{post['peak_py_mib']:.1f} MiB |",
        f"| - RSS high-water after posting | {post['maxrss_mib']:.0f} MiB |",
        f"| Ledger rows | {size['entries']:,} journal entries, {size['postings']:,} postings |",
    ]
    if target.dialect == "sqlite":
        lines.append(f"| SQLite file | {_mib(size['db_bytes'])} |")
        lines.append(
            f"| - journal_entry + posting incl. indexes (dbstat) | {_mib(size['ledger_bytes'])} |"
        )
    else:
        lines.append(
            f"| `pg_total_relation_size` journal_entry + posting | {_mib(size['ledger_bytes'])} |"
        )
        lines.append(f"| All tables of the schema | {_mib(size['db_bytes'])} |")
    lines += [
        f"| Whole script | {res['total_s']:.1f} s |",
        "",
        "Rows after the build: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()) + ".",
        "",
    ]
    return "\n".join(lines)


# --- main ----------------------------------------------------------------------------------------


def run(args: argparse.Namespace, command: str = "") -> str:
    """Build, measure, clean up; return the Markdown report."""
    from flask_migrate import upgrade

    t_start = time.perf_counter()
    res: dict[str, Any] = {"command": command, "load_start": _load(), "timer": Timer()}
    args.out_dir.mkdir(parents=True, exist_ok=True)
    target = prepare_target(args)
    app = make_app(target, args.out_dir)
    try:
        with app.app_context():
            from app.extensions import db

            try:
                with res["timer"]("migrate (flask_migrate.upgrade)"):
                    upgrade(directory=str(REPO / "migrations"))
                # after upgrade: its logging.config.fileConfig disables the app loggers
                with service_logging(args.out_dir / f"bench-{target.dialect}.log"):
                    _measure(args, target, app, res)
            finally:
                db.session.remove()
                db.engine.dispose()
    finally:
        if target.dialect == "postgresql" and not args.keep:
            _drop_schema(target.base_url or "", target.schema or "", create=False)
    res["total_s"] = time.perf_counter() - t_start
    res["load_end"] = _load()
    return render(args, target, res)


def _measure(args: argparse.Namespace, target: Target, app: Flask, res: dict[str, Any]) -> None:
    from app.extensions import db

    timer = res["timer"]
    ds = build(args, target, app, timer)
    with timer("integrity checks"):
        problems = check_integrity(ds)
    db.session.rollback()
    if problems:
        raise SystemExit("integrity problems: " + "; ".join(problems[:10]))
    res["counts"] = row_counts()
    db.session.rollback()
    res["build_rss"] = maxrss_mib()
    _say(f"built in {timer.wall:.1f} s")
    res["pay"] = measure_payment_run(ds)
    _say(f"payment run: {res['pay']['service_s']:.2f} s")
    res["post"] = measure_posting(ds, args.entries, args.batch)
    _say(f"posting: {res['post']['entries_per_s']:.0f} entries/s")
    res["size"] = ledger_size(target)
    res["info"] = machine_info(target)


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    report = run(args, " ".join(["python bench/bench_disbursement.py", *argv]))
    print(report)
    if args.report is not None:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
