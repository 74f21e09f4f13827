"""Page benchmark (issue 13): each main page as a share of a bare Flask "hello" app served the
same way, in the same run, alternating. A script, not a test.

Usage (from the repository root)::

    .venv/bin/python bench/pages.py                       # 20 years x 419 Gemeinden (large)
    .venv/bin/python bench/pages.py --scale 0.05          # 1 year x 419 (small)
    .venv/bin/python bench/pages.py --reuse --pairs 3 --seconds 5 --report bench/out/pages.md

Data: the data set of ``bench/bench_disbursement.py`` (its ``build``: bulk-inserted applications,
decisions, instalments, orders, runs, statements and ledger on PostgreSQL) in the schema
``--schema`` (``--reuse`` keeps an already built schema). ``--scale`` multiplies the 20 budget
years. A second, small schema (1 budget year, ``<schema>_small``) is built for the statement
counts: SQL statements per page are counted in-process with a ``before_cursor_execute`` listener
at both sizes and must be equal.

Serving: the portal (``wsgi:app``, ``KOMMPRAEV_ENV=production``) and ``bench/hello_app.py`` with
the same gunicorn settings (2 sync workers, no access log). One login per role (the password of
the bench users is set here; ministry users answer a TOTP code when the portal asks for one).
Load: ``wrk -t1 -c16`` when installed, else a Python driver (2 processes x 8 keep-alive
connections over ``http.client``). For each page the bare app and the page are measured in turn,
``--pairs`` times; the table gives req/s, p50, p99 and bytes of the page, its share of bare Flask
per pair and the median share.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_disbursement as bd  # noqa: E402

PASSWORD = "Bench-Seiten-Passwort-2026!"  # noqa: S105 - benchmark-only users
TOTP_SECRET = "KOMMPRAEVDEMOKOMMPRAEVDEMO234567"  # noqa: S105 - fixed demo/bench secret
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# (label, role, path template, goal share in % from issue 13)
PAGES: list[tuple[str, str, str, float]] = [
    ("/healthz", "anon", "/healthz", 60),
    ("login page", "anon", "/auth/login", 30),
    ("/aufgaben (applicant)", "applicant", "/aufgaben", 25),
    ("/antraege", "applicant", "/antraege", 20),
    ("application detail", "applicant", "/antraege/{app_id}", 20),
    ("/pruefung (25 rows)", "reviewer", "/pruefung", 10),
    ("/pruefung (100 rows)", "reviewer", "/pruefung?anzahl=100", 10),
    ("/aufgaben (reviewer)", "reviewer", "/aufgaben", 8),
    ("/haushalt", "finance", "/haushalt", 8),
    ("/kasse", "finance", "/kasse", 8),
    ("/kasse/abgleich", "finance", "/kasse/abgleich", 8),
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", default=DEFAULT_URL, help="PostgreSQL URL (no schema)")
    p.add_argument("--schema", default="kp_bench_pages", help="schema of the large data set")
    p.add_argument("--scale", type=float, default=1.0, help="x 20 budget years (default 1)")
    p.add_argument("--orgs", type=int, default=bd.ORG_COUNT_MAX, help="Gemeinden (max 419)")
    p.add_argument("--reuse", action="store_true", help="keep an already built schema")
    p.add_argument("--pairs", type=int, default=3, help="alternating pairs per page (>= 3)")
    p.add_argument("--seconds", type=float, default=4.0, help="seconds per measurement")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--pages", default="", help="comma-separated labels to measure (default all)")
    p.add_argument("--no-counts", action="store_true", help="skip the statement counts")
    p.add_argument("--no-load", action="store_true", help="only the statement counts")
    p.add_argument("--report", type=Path, default=None, help="also write the Markdown here")
    return p.parse_args(argv)


# --- data ---------------------------------------------------------------------------------


def _schema_url(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


def _schema_ready(url: str, schema: str) -> bool:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.exec_driver_sql(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = %(s)s "
                "AND table_name = 'bench_pages_done'",
                {"s": schema},
            ).first()
            return found is not None
    finally:
        engine.dispose()


def ensure_data(url: str, schema: str, years: int, orgs: int, reuse: bool) -> float:
    """Build the data set into ``schema`` unless ``reuse`` and it is complete (then only migrate
    it to the current head); seconds taken."""
    started = time.perf_counter()
    args = argparse.Namespace(
        database_url=url,
        schema=schema,
        years=years,
        orgs=orgs,
        transfers=min(5_000, years * orgs),
        seed=20261125,
        out_dir=ROOT / "bench" / "out",
    )
    fresh = not (reuse and _schema_ready(url, schema))
    if fresh:
        target = bd.prepare_target(args)
    else:
        target = bd.Target(url=_schema_url(url, schema), dialect="postgresql", schema=schema)
    app = bd.make_app(target, args.out_dir)
    with app.app_context():
        from flask_migrate import upgrade

        from app.auth.passwords import hash_password
        from app.extensions import db

        upgrade()
        if fresh:
            bd.build(args, target, app, bd.Timer())
            pw = hash_password(PASSWORD)
            db.session.execute(sa.text("UPDATE user_account SET password_hash = :h"), {"h": pw})
            db.session.execute(sa.text("CREATE TABLE bench_pages_done (id integer)"))
            db.session.commit()
        _enrol_totp(db.session)
        db.session.commit()
        db.engine.dispose()
    return time.perf_counter() - started if fresh else 0.0


def _enrol_totp(session: Any) -> None:
    """The ministry users get the fixed TOTP secret (when the schema has a second factor)."""
    with contextlib.suppress(sa.exc.DBAPIError), session.begin_nested():
        session.execute(
            sa.text(
                "UPDATE user_account SET totp_secret = :s, totp_confirmed_at = now(), "
                "totp_last_step = NULL WHERE organisation_id IS NULL"
            ),
            {"s": TOTP_SECRET},
        )


def reset_totp_steps(url: str) -> None:
    """Allow the next login's code again (a code is accepted once per user and time step)."""
    engine = sa.create_engine(url)
    try:
        with contextlib.suppress(sa.exc.DBAPIError), engine.begin() as conn:
            conn.exec_driver_sql("UPDATE user_account SET totp_last_step = NULL")
    finally:
        engine.dispose()


def sample_ids(url: str) -> dict[str, Any]:
    """E-mail addresses per role and an application of the applicant."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            applicant = conn.exec_driver_sql(
                "SELECT u.email, a.id FROM user_account u JOIN application a "
                "ON a.organisation_id = u.organisation_id ORDER BY a.id DESC LIMIT 1"
            ).one()
    finally:
        engine.dispose()
    return {
        "applicant": applicant[0],
        "app_id": applicant[1],
        "reviewer": "reviewer@bench-kp.de",
        "finance": "finance.a@bench-kp.de",
    }


# --- statement counts (in-process) ---------------------------------------------------------


def _prod_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        KOMMPRAEV_ENV="production",
        SECRET_KEY="bench-pages-secret-" + "x" * 32,
        DATABASE_URL=url,
        UPLOAD_DIR=str(ROOT / "bench" / "out" / "uploads"),
        LOGIN_RATE_PER_IP="10000",
        LOGIN_RATE_GLOBAL="10000",
        PYTHONPATH=str(ROOT),
    )
    return env


def _totp() -> str:
    import pyotp

    return str(pyotp.TOTP(TOTP_SECRET).now())


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    return m.group(1) if m else ""


def count_statements(url: str, ids: dict[str, Any]) -> dict[str, int]:
    """Statements per page for a logged-in user, counted in-process on ``url``."""
    code = f"""
import json, re, sys
from sqlalchemy import event
sys.path.insert(0, {str(ROOT / "bench")!r})
import pages
from app import create_app
from app.extensions import db
app = create_app()
app.config['SESSION_COOKIE_SECURE'] = False
app.config['SESSION_COOKIE_NAME'] = 'session'
ids = json.loads({json.dumps(ids)!r})
seen = []
with app.app_context():
    event.listen(db.engine, 'before_cursor_execute', lambda *a: seen.append(1))
out = {{}}
clients = {{}}
for label, role, path, _goal in pages.PAGES:
    if role not in clients:
        c = app.test_client()
        if role != 'anon':
            pages.client_login(c, ids[role])
        clients[role] = c
    c = clients[role]
    c.get(path.format(**ids))  # warm
    seen.clear()
    r = c.get(path.format(**ids))
    out[label] = len(seen) if r.status_code == 200 else -r.status_code
print(json.dumps(out))
"""
    res = subprocess.run(
        [sys.executable, "-c", code],
        env=_prod_env(url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode != 0:
        raise SystemExit(res.stderr[-3000:])
    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


def client_login(client: Any, email: str) -> None:
    """Log a Flask test client in (password, then a TOTP code when asked)."""
    html = client.get("/auth/login").get_data(as_text=True)
    r = client.post(
        "/auth/login",
        data={"email": email, "password": PASSWORD, "csrf_token": _csrf(html)},
    )
    for _ in range(3):
        if r.status_code not in (302, 303, 200):
            break
        loc = r.headers.get("Location", "")
        body = r.get_data(as_text=True) if r.status_code == 200 else ""
        if r.status_code == 200 and 'name="code"' not in body and 'name="totp' not in body:
            break
        if r.status_code != 200 and not re.search(r"totp|zwei|code|2fa", loc, re.I):
            break
        if r.status_code != 200:
            body = client.get(loc).get_data(as_text=True)
            target = urllib.parse.urlsplit(loc).path
        else:
            target = "/auth/login"
        fname = "code" if 'name="code"' in body else "totp"
        r = client.post(target, data={fname: _totp(), "csrf_token": _csrf(body)})


# --- serving ------------------------------------------------------------------------------


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int


@contextlib.contextmanager
def serve(app_spec: str, port: int, env: dict[str, str]) -> Iterator[Server]:
    """gunicorn, 2 sync workers, no access log (the same settings for both apps)."""
    conf = tempfile.NamedTemporaryFile("w", suffix=".py", delete=False)  # noqa: SIM115
    conf.write("workers = 2\nworker_class = 'sync'\naccesslog = None\nloglevel = 'warning'\n")
    conf.close()
    cmd = [
        sys.executable, "-m", "gunicorn", "-c", conf.name,
        "-b", f"127.0.0.1:{port}", app_spec,
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
    try:
        for _ in range(200):
            with contextlib.suppress(OSError):
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/")
                c.getresponse().read()
                break
            time.sleep(0.1)
        yield Server(proc, port)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
        os.unlink(conf.name)


def http_login(port: int, email: str) -> str:
    """Log in over HTTP; the Cookie header of the session."""
    jar: dict[str, str] = {}

    def req(method: str, path: str, body: dict[str, str] | None = None) -> tuple[int, str, str]:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        c.request(method, path, body=data, headers=headers)
        r = c.getresponse()
        for name, value in r.getheaders():
            if name.lower() == "set-cookie":
                k, _, rest = value.partition("=")
                jar[k] = rest.split(";", 1)[0]
        text = r.read().decode("utf-8", "replace")
        return r.status, r.getheader("Location") or "", text

    _, _, html = req("GET", "/auth/login")
    status, loc, body = req(
        "POST", "/auth/login", {"email": email, "password": PASSWORD, "csrf_token": _csrf(html)}
    )
    for _ in range(3):
        if status in (302, 303) and re.search(r"totp|zwei|code|2fa", loc, re.I):
            path = urllib.parse.urlsplit(loc).path
            _, _, body = req("GET", path)
        elif status == 200 and ('name="code"' in body or 'name="totp' in body):
            path = "/auth/login"
        else:
            break
        fname = "code" if 'name="code"' in body else "totp"
        status, loc, body = req("POST", path, {fname: _totp(), "csrf_token": _csrf(body)})
    return "; ".join(f"{k}={v}" for k, v in jar.items())


# --- load ---------------------------------------------------------------------------------


def _worker(args: tuple[int, str, str, float, int]) -> tuple[list[float], int, int, int]:
    port, path, cookie, seconds, threads = args
    lat: list[float] = []
    errors = [0]
    nbytes = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def run() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        err = 0
        size = 0
        headers = {"Cookie": cookie} if cookie else {}
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                r = conn.getresponse()
                body = r.read()
                if r.status != 200:
                    err += 1
                size = len(body)
            except (OSError, http.client.HTTPException):
                err += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append(time.perf_counter() - t0)
        with lock:
            lat.extend(mine)
            errors[0] += err
            nbytes[0] = size

    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return lat, errors[0], nbytes[0], len(lat)


@dataclass
class Shot:
    rps: float
    p50: float
    p99: float
    size: int
    errors: int


def load(port: int, path: str, cookie: str, seconds: float, connections: int) -> Shot:
    if shutil.which("wrk"):
        return _wrk(port, path, cookie, seconds, connections)
    procs = 2
    with multiprocessing.get_context("fork").Pool(procs) as pool:
        parts = pool.map(
            _worker, [(port, path, cookie, seconds, max(1, connections // procs))] * procs
        )
    lat = sorted(x for p in parts for x in p[0])
    if not lat:
        return Shot(0, 0, 0, 0, sum(p[1] for p in parts))
    return Shot(
        rps=len(lat) / seconds,
        p50=lat[len(lat) // 2] * 1000,
        p99=lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000,
        size=max(p[2] for p in parts),
        errors=sum(p[1] for p in parts),
    )


def _wrk(port: int, path: str, cookie: str, seconds: float, connections: int) -> Shot:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, int(seconds))}s", "--latency"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(  # noqa: S603
        [*cmd, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
    ).stdout

    def ms(tag: str) -> float:
        m = re.search(rf"{tag}%\s+([\d.]+)(us|ms|s)", out)
        if not m:
            return 0.0
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    c = http.client.HTTPConnection("127.0.0.1", port)
    c.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    size = len(c.getresponse().read())
    return Shot(rps, ms("50"), ms("99"), size, int(errs.group(1)) if errs else 0)


@dataclass
class Row:
    label: str
    goal: float
    shots: list[Shot] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    small: int | None = None
    large: int | None = None


def measure(args: argparse.Namespace, url: str, ids: dict[str, Any], rows: list[Row]) -> None:
    env = _prod_env(url)
    wanted = {s.strip() for s in args.pages.split(",") if s.strip()}
    with serve("wsgi:app", 18081, env) as portal, serve("bench.hello_app:app", 18082, env) as bare:
        cookies = {"anon": ""}
        reset_totp_steps(url)
        for role in ("applicant", "reviewer", "finance"):
            cookies[role] = http_login(portal.port, ids[role])
        for row, (label, role, path, _goal) in zip(rows, PAGES, strict=True):
            if wanted and label not in wanted:
                continue
            url_path = path.format(**ids)
            load(portal.port, url_path, cookies[role], 0.5, args.connections)  # warm
            for _ in range(args.pairs):
                base = load(bare.port, "/", "", args.seconds, args.connections)
                shot = load(portal.port, url_path, cookies[role], args.seconds, args.connections)
                row.shots.append(shot)
                row.ratios.append(100 * shot.rps / base.rps if base.rps else 0.0)
            print(_line(row), flush=True)


def _line(row: Row) -> str:
    if not row.shots:
        return f"| {row.label} | | | | | | | ≥ {row.goal:g} % | {row.small} | {row.large} |"
    rps = statistics.median(s.rps for s in row.shots)
    p50 = statistics.median(s.p50 for s in row.shots)
    p99 = statistics.median(s.p99 for s in row.shots)
    size = row.shots[-1].size
    errors = sum(s.errors for s in row.shots)
    ratios = ", ".join(f"{r:.1f}" for r in row.ratios)
    med = statistics.median(row.ratios)
    ok = "met" if med >= row.goal else "missed"
    return (
        f"| {row.label} | {rps:.0f} | {p50:.1f} | {p99:.1f} | {size:,} | {ratios} | "
        f"**{med:.1f} %** | ≥ {row.goal:g} % ({ok}) | {row.small} | {row.large} |"
        + (f" {errors} errors" if errors else "")
    )


HEADER = (
    "| page | req/s | p50 ms | p99 ms | bytes | share per pair % | median share | goal "
    "| SQL small | SQL large |\n|---|---:|---:|---:|---:|---|---:|---|---:|---:|"
)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    years = max(1, round(20 * args.scale))
    large = args.schema
    small = f"{args.schema}_small"
    t_large = ensure_data(args.database_url, large, years, args.orgs, args.reuse)
    print(f"data: {years} years x {args.orgs} Gemeinden in {large} ({t_large:.0f} s)", flush=True)
    rows = [Row(label, goal) for label, _r, _p, goal in PAGES]
    large_url = _schema_url(args.database_url, large)
    ids = sample_ids(large_url)
    if not args.no_counts:
        t_small = ensure_data(args.database_url, small, 1, args.orgs, args.reuse)
        print(f"data: 1 year x {args.orgs} Gemeinden in {small} ({t_small:.0f} s)", flush=True)
        small_url = _schema_url(args.database_url, small)
        reset_totp_steps(small_url)
        c_small = count_statements(small_url, sample_ids(small_url))
        reset_totp_steps(large_url)
        c_large = count_statements(large_url, ids)
        for row in rows:
            row.small, row.large = c_small.get(row.label), c_large.get(row.label)
    print(HEADER, flush=True)
    if not args.no_load:
        measure(args, large_url, ids, rows)
    table = "\n".join([HEADER, *(_line(r) for r in rows)])
    print("\n" + table)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        load_avg = " / ".join(f"{x:.1f}" for x in os.getloadavg())
        args.report.write_text(
            f"Data: {years} budget years x {args.orgs} Gemeinden (PostgreSQL). "
            f"{args.pairs} pairs x {args.seconds:g} s, {args.connections} connections, "
            f"driver: {'wrk' if shutil.which('wrk') else 'Python (2 processes)'}; "
            f"load average at the end {load_avg}.\n\n{table}\n",
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
