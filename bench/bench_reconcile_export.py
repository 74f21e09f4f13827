"""Reconciliation and export benchmark: ledger exports (German CSV, XLSX) of a large ledger and
the camt.053 import with auto-matching of a large payment run. A script, not a test.

Usage (from the repository root)::

    .venv/bin/python bench/bench_reconcile_export.py                  # SQLite, bench/out/
    .venv/bin/python bench/bench_reconcile_export.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test --schema kp_bench_rx
    .venv/bin/python bench/bench_reconcile_export.py --postings 2000 --transfers 10 \\
        --years 1 --orgs 5                                            # smoke size

Data set. The base is the data set of ``bench_disbursement.py`` (its ``build``: migrated
database, reference data, ``--years`` x ``--orgs`` approved grants with instalments, payout
orders, historical payment runs, statements and their balanced ledger, bulk-inserted with
SQLAlchemy Core; ``check_integrity`` must be clean). ``--transfers`` instalments are released
there; here they are put into one *sent* payment run in bulk (a real pain.001 built with
``sepa.build_pain001``; orders ``in_run``, instalments ``paid``), as ``create_payment_run``
leaves them. The ledger is then filled up to exactly ``--postings`` postings with further
balanced payout-style entries of 4 postings (expense/payable/budget/committed accounts of the
real grants, references = EndToEndIds, descriptions as ``release_order`` writes them, posting
dates spread over the years), bulk-inserted in batches.

Measured:

a. ``reports.iter_ledger_csv`` (German CSV) of the whole ledger, streamed into a file;
b. ``reports.ledger_export("xlsx")`` (the download path: write-only openpyxl into a spooled
   temporary file; sheet ``Hauptbuch`` + ``Summen je Konto``), its chunks written to a file;
c. ``reconcile.import_statement`` of one camt.053.001.08 statement with one booked debit entry
   per order of the sent run (EndToEndId and exact amount, counterparty IBAN and remittance
   text as the bank returns them; opening and closing balance).

Each export runs in its own child process (``--measure-export``), so that its ``ru_maxrss``
(resident-set high-water mark) is the export's own and not that of the data build; the child
reports wall and CPU time, the RSS after start-up (app, pandas, openpyxl imported) and the
high-water mark. The Python heap peak (``tracemalloc``) is measured in a second child over one
fiscal year of the ledger (``year=``), because tracemalloc slows the export several times; the
exports stream in chunks of ``CHUNK_ROWS`` postings, so one year (at least one full chunk) shows
the per-chunk peak. The import is measured in this process, committed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as ``python bench/bench_reconcile_export.py``
    sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402

from bench import bench_disbursement as bd  # noqa: E402

DEFAULT_OUT = bd.DEFAULT_OUT
TARGET_EXPORT_S = 10.0
TARGET_EXPORT_MIB = 500e6 / 2**20  # the 500 MB (decimal) = 476.8 MiB
TARGET_IMPORT_S = 5.0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--database-url", default=None, help="default: SQLite file in --out-dir")
    p.add_argument("--schema", default="kp_bench_rx", help="PostgreSQL schema (dropped)")
    p.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help="SQLite file, exports")
    p.add_argument("--years", type=int, default=20, help="budget years of the base data set")
    p.add_argument("--orgs", type=int, default=bd.ORG_COUNT_MAX, help="Gemeinden (max 419)")
    p.add_argument("--postings", type=int, default=1_000_000, help="ledger postings to export")
    p.add_argument("--transfers", type=int, default=10_000, help="orders in the sent run")
    p.add_argument("--seed", type=int, default=20261125, help="random seed of the amounts")
    p.add_argument("--formats", default="csv,xlsx", help="exports to measure (csv, xlsx)")
    p.add_argument("--no-tracemalloc", action="store_true", help="skip the heap-peak passes")
    p.add_argument("--report", type=Path, default=None, help="also write the Markdown here")
    p.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema")
    # internal: run one export in a child process against an existing database
    p.add_argument("--measure-export", choices=("csv", "xlsx"), help=argparse.SUPPRESS)
    p.add_argument("--traced-year", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if not 1 <= args.orgs <= bd.ORG_COUNT_MAX:
        p.error(f"--orgs must be 1..{bd.ORG_COUNT_MAX}")
    if not 1 <= args.years <= 25:
        p.error("--years must be 1..25")
    if args.transfers < 1 or args.postings < 1:
        p.error("--transfers and --postings must be positive")
    if not bd.PG_SCHEMA_RE.fullmatch(args.schema):
        p.error("--schema must start with kp_bench (lower case, digits, _); it is dropped")
    return args


# --- data set ------------------------------------------------------------------------------------


def send_run(ds: bd.DataSet, users: dict[str, int], cfg: Any) -> dict[str, Any]:
    """Put the released orders into one sent payment run (bulk), as ``create_payment_run``
    leaves them: a real pain.001, orders ``in_run``, their instalments ``paid``."""
    from app.common import programme as fcfg
    from app.common.db import today
    from app.extensions import db
    from app.finance import sepa
    from app.finance.models import Instalment, PaymentRun, PayoutOrder
    from app.finance.services.payouts import new_msg_id

    by_inst = {i.id: (g, i) for g, i in ds.instalments() if i.state == "released"}
    items = [by_inst[i.id] for i in ds.released]
    execution = today()
    created = datetime.now(UTC)
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
                end_to_end_id=bd._e2e(g, i),  # noqa: SLF001
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
    conn = db.session.connection()
    run_id = int(db.session.execute(sa.select(sa.func.max(PaymentRun.id))).scalar() or 0) + 1
    conn.execute(
        PaymentRun.__table__.insert(),
        [
            {
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
        ],
    )
    order_ids = [i.order_id for _, i in items]
    inst_ids = [i.id for _, i in items]
    for start in range(0, len(order_ids), bd.INSERT_CHUNK):
        conn.execute(
            sa.update(PayoutOrder.__table__)
            .where(PayoutOrder.__table__.c.id.in_(order_ids[start : start + bd.INSERT_CHUNK]))
            .values(status="in_run", payment_run_id=run_id)
        )
        conn.execute(
            sa.update(Instalment.__table__)
            .where(Instalment.__table__.c.id.in_(inst_ids[start : start + bd.INSERT_CHUNK]))
            .values(status="paid")
        )
    return {"run_id": run_id, "items": items, "execution": execution}


def fill_ledger(ds: bd.DataSet, users: dict[str, int], postings: int) -> int:
    """Add balanced payout-style entries (4 postings; one 2-posting entry if needed) until the
    ledger has exactly ``postings`` postings. Returns the number of entries added."""
    from app.extensions import db
    from app.finance.models import EntryKind, JournalEntry, Posting
    from app.finance.services import ledger as lg

    have = int(db.session.execute(sa.select(sa.func.count()).select_from(Posting)).scalar_one())
    missing = postings - have
    if missing < 0:
        raise SystemExit(f"the base data set already has {have:,} postings > --postings")
    gen = bd.LedgerRows(ds, users, datetime.now(UTC))
    gen.entry_id = int(db.session.execute(sa.select(sa.func.max(JournalEntry.id))).scalar() or 0)
    gen.posting_id = int(db.session.execute(sa.select(sa.func.max(Posting.id))).scalar() or 0)
    grants = ds.grants
    n_entries = missing // 4 + (missing % 4) // 2
    span = (ds.last_year - ds.first_year + 1) * 365

    def entries() -> Iterator[dict[str, Any]]:
        left = missing
        k = 0
        while left > 0:
            g = grants[k % len(grants)]
            kz, aid = g.kz, g.app_id
            on = date(ds.first_year, 1, 2) + timedelta(days=(k * 7919) % span)
            year = on.year
            a = 5_000 + (k * 7_777) % 2_500_000
            number = 1 + k // len(grants)
            reference = f"{kz}-R{number}"
            if left >= 4:
                lines = [
                    lg.Line(lg.expense_account(year, kz), a, aid),
                    lg.Line(lg.payable_account(kz), -a, aid),
                    lg.Line(lg.budget_account(year), a, aid),
                    lg.Line(lg.committed_account(kz), -a, aid),
                ]
                kind, text = EntryKind.PAYOUT, f"Auszahlung Rate {number} {g.reference}"
            else:  # 2 postings (only to hit the exact total)
                lines = [
                    lg.Line(lg.committed_account(kz), a, aid),
                    lg.Line(lg.budget_account(year), -a, aid),
                ]
                kind, text = EntryKind.APPROVAL, f"Bewilligung {g.reference}"
            left -= len(lines)
            at = datetime.combine(on, datetime.min.time(), UTC) + timedelta(hours=10)
            yield gen._entry(  # noqa: SLF001
                kind, on, year, text, reference, f"bench-fill-{k}", lines,
                users["finance_b"], at,
            )  # fmt: skip
            k += 1

    conn = db.session.connection()
    for chunk in bd._chunks(entries(), bd.INSERT_CHUNK):  # noqa: SLF001
        conn.execute(JournalEntry.__table__.insert(), chunk)
        conn.execute(Posting.__table__.insert(), gen.postings)
        gen.postings = []
    return n_entries


# --- camt.053 ------------------------------------------------------------------------------------


def _euros(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def camt053(run: dict[str, Any], cfg: Any, booked: date) -> bytes:
    """A camt.053.001.08 statement with one booked debit entry per order of the run."""
    from app.finance import sepa

    items = run["items"]
    total = sum(i.amount for _, i in items)
    opening = total + 123_456_789_00
    closing = opening - total
    day = booked.isoformat()
    parts = []
    for n, (g, i) in enumerate(items, start=1):
        amt = _euros(i.amount)
        rem = sepa.remittance(g.kz, g.reference, i.number, g.org.ags)
        parts.append(
            f'<Ntry><NtryRef>{n}</NtryRef><Amt Ccy="EUR">{amt}</Amt>'
            f"<CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"
            f"<BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>"
            f"<AcctSvcrRef>BENCH{n:010d}</AcctSvcrRef>"
            "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly>"
            "</Domn></BkTxCd>"
            f"<NtryDtls><TxDtls><Refs><EndToEndId>{bd._e2e(g, i)}</EndToEndId></Refs>"  # noqa: SLF001
            f'<Amt Ccy="EUR">{amt}</Amt><CdtDbtInd>DBIT</CdtDbtInd>'
            f"<RltdPties><Cdtr><Pty><Nm>{g.org.holder}</Nm></Pty></Cdtr>"
            f"<CdtrAcct><Id><IBAN>{g.org.iban}</IBAN></Id></CdtrAcct></RltdPties>"
            f"<RmtInf><Ustrd>{rem}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n"
        )
    iban = cfg["DEBTOR_IBAN"]
    stmt_id = f"BENCH-STMT-{booked:%Y%m%d}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>MSG-{stmt_id}</MsgId><CreDtTm>{day}T06:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{stmt_id}</Id><ElctrncSeqNb>1</ElctrncSeqNb>"
        f"<CreDtTm>{day}T06:00:00</CreDtTm>"
        f"<FrToDt><FrDtTm>{day}T00:00:00</FrDtTm><ToDtTm>{day}T23:59:59</ToDtTm></FrToDt>"
        f"<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        "<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>"
        f'<Amt Ccy="EUR">{_euros(opening)}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        f"<Dt><Dt>{day}</Dt></Dt></Bal>"
        "<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>"
        f'<Amt Ccy="EUR">{_euros(closing)}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        f"<Dt><Dt>{day}</Dt></Dt></Bal>\n" + "".join(parts) + "</Stmt></BkToCstmrStmt></Document>\n"
    ).encode()


def measure_import(ds: bd.DataSet, run: dict[str, Any], cfg: Any) -> dict[str, Any]:
    from app.auth.models import User
    from app.extensions import db
    from app.finance import camt
    from app.finance.models import OrderStatus, PayoutOrder
    from app.finance.services import ledger, reconcile

    data = camt053(run, cfg, run["execution"])  # booked on the execution day (not in the future)
    t0 = time.perf_counter()
    parsed = camt.parse_statement(data)
    parse_s = time.perf_counter() - t0
    gc.collect()
    user = db.session.get(User, ds.users["finance_a"])
    with bd.sql_stats(db.engine) as sql:
        c0, t0 = time.process_time(), time.perf_counter()
        result = reconcile.import_statement(user, data, "camt053_bench.xml")  # type: ignore[arg-type]
        service_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    db.session.commit()
    commit_s = time.perf_counter() - t0
    lines, matched, open_ = result.lines, result.matched, result.open
    reconciled = db.session.execute(
        sa.select(sa.func.count())
        .select_from(PayoutOrder)
        .where(PayoutOrder.payment_run_id == run["run_id"])
        .where(PayoutOrder.status == OrderStatus.RECONCILED)
    ).scalar_one()
    if ledger.unbalanced_entries():
        raise SystemExit("unbalanced entries after the import")
    db.session.rollback()
    return {
        "entries": len(run["items"]),
        "bytes": len(data),
        "parse_s": parse_s,
        "parsed_entries": sum(len(s.entries) for s in parsed),
        "service_s": service_s,
        "cpu_s": cpu_s,
        "commit_s": commit_s,
        "sql": sql,
        "statements": len(result.statements),
        "lines": lines,
        "matched": matched,
        "open": open_,
        "reconciled": int(reconciled),
        "maxrss_mib": bd.maxrss_mib(),
    }


# --- exports (child process) ---------------------------------------------------------------------


def _rss_mib() -> float:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def child_export(args: argparse.Namespace) -> dict[str, Any]:
    """Run one export (in this fresh process) and return its figures."""
    from app.finance import reports

    target = bd.Target(url=args.database_url, dialect="sqlite" if args.database_url.startswith(
        "sqlite") else "postgresql")  # fmt: skip
    app = bd.make_app(target, args.out_dir)
    fmt, year = args.measure_export, args.traced_year
    out = args.out_dir / f"ledger-{target.dialect}{'' if year is None else f'-{year}'}.{fmt}"
    with app.app_context():
        from app.extensions import db

        db.session.execute(sa.text("SELECT 1")).all()  # connect before the baseline
        db.session.rollback()
        gc.collect()
        base_rss = _rss_mib()
        rows = [0]

        def progress(n: int) -> None:
            rows[0] += n

        if year is not None:
            tracemalloc.start()
        c0, t0 = time.process_time(), time.perf_counter()
        with out.open("wb") as fh:
            if fmt == "csv":
                chunks = reports.iter_ledger_csv(year, "csv", progress=progress)
            else:
                chunks = reports.ledger_export("xlsx", year=year, progress=progress).chunks
            for chunk in chunks:
                fh.write(chunk)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        peak = tracemalloc.get_traced_memory()[1] if year is not None else None
        if year is not None:
            tracemalloc.stop()
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
    return {
        "format": fmt,
        "year": year,
        "rows": rows[0],
        "wall_s": wall,
        "cpu_s": cpu,
        "bytes": out.stat().st_size,
        "base_rss_mib": base_rss,
        "maxrss_mib": bd.maxrss_mib(),
        "traced_peak_mib": None if peak is None else peak / 2**20,
    }


def run_child(
    args: argparse.Namespace, target: bd.Target, fmt: str, year: int | None
) -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--database-url",
        target.url,
        "--out-dir",
        str(args.out_dir),
        "--measure-export",
        fmt,
    ]
    if year is not None:
        cmd += ["--traced-year", str(year)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=REPO)  # noqa: S603
    if proc.returncode != 0:
        raise SystemExit(f"export child failed ({fmt}):\n{proc.stderr[-4000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


# --- report --------------------------------------------------------------------------------------


def _ok(met: bool) -> str:
    return "met" if met else "**missed**"


def render(args: argparse.Namespace, target: bd.Target, res: dict[str, Any]) -> str:
    info = res["info"]
    db_name = (
        f"PostgreSQL {info.get('postgresql', '')}"
        if target.dialect == "postgresql"
        else f"SQLite {info['sqlite']}"
    )
    lines = [
        f"### {db_name}: {res['postings']:,} postings, {res['imp']['entries']:,} statement entries",
        "",
        f"`{res['command']}`",
        "",
        f"Machine: {info['platform']}; {info.get('cpu', 'unknown')}, {info['cpus']} logical CPUs, "
        f"{info.get('memory', 'unknown')}; Python {info['python']}; git {info['git']}. "
        f"Load average at start {res['load_start']}, at end {res['load_end']}.",
        "",
        "| Measure | Result |",
        "|---|---|",
        f"| Build (base data set + fill-up + sent run) | {res['timer'].wall:.1f} s "
        f"(CPU {res['timer'].cpu:.1f} s) |",
    ]
    lines += [
        f"| - {phase} | {wall:.1f} s (CPU {cpu:.1f} s) |"
        for phase, (wall, cpu) in res["timer"].phases.items()
    ]
    for ex in res["exports"]:
        name = "German CSV (`iter_ledger_csv`)" if ex["format"] == "csv" else (
            "XLSX (`ledger_export('xlsx')`)")  # fmt: skip
        met_t = ex["wall_s"] < TARGET_EXPORT_S
        met_m = ex["maxrss_mib"] < TARGET_EXPORT_MIB
        lines += [
            f"| {name}, {ex['rows']:,} rows | **{ex['wall_s']:.1f} s** (CPU {ex['cpu_s']:.1f} s), "
            f"{ex['bytes'] / 2**20:,.1f} MiB file; target < {TARGET_EXPORT_S:.0f} s: "
            f"{_ok(met_t)} |",
            f"| - RSS: after start-up / high-water of the export process | "
            f"{ex['base_rss_mib']:.0f} MiB / **{ex['maxrss_mib']:.0f} MiB** "
            f"({ex['maxrss_mib'] * 2**20 / 1e6:.0f} MB); target < 500 MB: {_ok(met_m)} |",
        ]
        tr = ex.get("traced")
        if tr:
            lines.append(
                f"| - Python heap peak (tracemalloc, fiscal year {tr['year']}: {tr['rows']:,} "
                f"rows, {tr['wall_s']:.1f} s with tracing) | {tr['traced_peak_mib']:.1f} MiB |"
            )
    imp = res["imp"]
    sql = imp["sql"]
    lines += [
        f"| camt.053.001.08 file | {imp['bytes']:,} bytes, {imp['entries']:,} entries; "
        f"`camt.parse_statement` alone {imp['parse_s']:.2f} s |",
        f"| `reconcile.import_statement` (parse + store + match) | **{imp['service_s']:.1f} s** "
        f"(CPU {imp['cpu_s']:.1f} s); target < {TARGET_IMPORT_S:.0f} s: "
        f"{_ok(imp['service_s'] < TARGET_IMPORT_S)} |",
        f"| - statements / lines / matched / open | {imp['statements']} / {imp['lines']:,} / "
        f"{imp['matched']:,} / {imp['open']:,} ({imp['reconciled']:,} orders reconciled) |",
        f"| - SQL: {sql.count:,} statements | {sql.seconds:.1f} s in `execute`; slowest "
        f"{sql.slowest[0]:.3f} s |",
        f"| - commit | {imp['commit_s']:.2f} s |",
        f"| - RSS high-water of the main process | {imp['maxrss_mib']:.0f} MiB |",
        f"| Whole script | {res['total_s']:.0f} s |",
        "",
        "Rows: " + ", ".join(f"{t} {n:,}" for t, n in res["counts"].items()) + ".",
        "",
    ]
    return "\n".join(lines)


# --- main ----------------------------------------------------------------------------------------


def run(args: argparse.Namespace, command: str = "") -> str:
    from flask_migrate import upgrade

    t_start = time.perf_counter()
    res: dict[str, Any] = {"command": command, "load_start": bd._load(), "timer": bd.Timer()}  # noqa: SLF001
    args.out_dir.mkdir(parents=True, exist_ok=True)
    target = bd.prepare_target(args)
    app = bd.make_app(target, args.out_dir)
    try:
        with app.app_context():
            from app.extensions import db

            try:
                with res["timer"]("migrate (flask_migrate.upgrade)"):
                    upgrade(directory=str(REPO / "migrations"))
                with bd.service_logging(args.out_dir / f"bench-rx-{target.dialect}.log"):
                    _measure(args, target, app, res)
            finally:
                db.session.remove()
                db.engine.dispose()
    finally:
        if target.dialect == "postgresql" and not args.keep:
            bd._drop_schema(target.base_url or "", target.schema or "", create=False)  # noqa: SLF001
    res["total_s"] = time.perf_counter() - t_start
    res["load_end"] = bd._load()  # noqa: SLF001
    return render(args, target, res)


def _measure(args: argparse.Namespace, target: bd.Target, app: Any, res: dict[str, Any]) -> None:
    from app.extensions import db
    from app.finance.models import JournalEntry, Posting
    from app.finance.services import ledger

    timer = res["timer"]
    build_args = argparse.Namespace(**vars(args), entries=1, batch=1)
    ds = bd.build(build_args, target, app, timer)
    with timer("integrity checks (base)"):
        problems = bd.check_integrity(ds)
    db.session.rollback()
    if problems:
        raise SystemExit("integrity problems: " + "; ".join(problems[:10]))
    with timer("sent payment run (bulk)"):
        run_info = send_run(ds, ds.users, app.config)
        db.session.commit()
    with timer(f"fill the ledger up to {args.postings:,} postings (bulk)"):
        fill_ledger(ds, ds.users, args.postings)
        if target.dialect == "postgresql":  # explicit ids: move the sequences past them
            bd._move_sequences(db.session.connection())  # noqa: SLF001
        db.session.commit()
    with timer("analyze + unbalanced_entries"):
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        if ledger.unbalanced_entries():
            raise SystemExit("unbalanced entries after the fill-up")
        db.session.rollback()
    res["postings"] = int(
        db.session.execute(sa.select(sa.func.count()).select_from(Posting)).scalar_one()
    )
    # The fiscal year with the most postings, for the tracemalloc pass.
    traced_year = db.session.execute(
        sa.select(JournalEntry.fiscal_year)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .group_by(JournalEntry.fiscal_year)
        .order_by(sa.func.count().desc())
        .limit(1)
    ).scalar_one()
    db.session.rollback()
    bd._say(f"built in {timer.wall:.1f} s: {res['postings']:,} postings")  # noqa: SLF001
    res["exports"] = []
    for fmt in [f.strip() for f in args.formats.split(",") if f.strip()]:
        ex = run_child(args, target, fmt, None)
        bd._say(f"{fmt}: {ex['wall_s']:.1f} s, RSS {ex['maxrss_mib']:.0f} MiB")  # noqa: SLF001
        if not args.no_tracemalloc:
            ex["traced"] = run_child(args, target, fmt, int(traced_year))
        res["exports"].append(ex)
    res["imp"] = measure_import(ds, run_info, app.config)
    bd._say(f"import: {res['imp']['service_s']:.1f} s, matched {res['imp']['matched']}")  # noqa: SLF001
    res["counts"] = bd.row_counts()
    db.session.rollback()
    res["info"] = bd.machine_info(target)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.measure_export:
        if not args.database_url:
            raise SystemExit("--measure-export needs --database-url")
        print(json.dumps(child_export(args)))
        return 0
    report = run(args, " ".join(["python bench/bench_reconcile_export.py", *argv]))
    print(report)
    if args.report is not None:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
