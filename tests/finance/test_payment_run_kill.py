"""Issue 14, finding 1: ``flask finance payment-run`` killed with SIGKILL at random points.

The CLI command runs in a child process (forked from the warm test interpreter, so 20 rounds take
seconds, not minutes) against a committed database (SQLite file or a PostgreSQL schema,
``committed_app``), and is killed with SIGKILL. Odd rounds kill at a random moment of its whole
life; even rounds at a random moment after it has reserved its temp file, aiming at the commit
(the aim moves earlier after a round that committed, later after one that did not), so kills
land just before and after the commit, during the fsync and the rename. Afterwards:

- no file without a database run: every non-empty file in the output directory is the stored
  XML (or a prefix of it) of a committed run;
- no EndToEndId in two runs, no order in two runs;
- a run whose file is missing is written again by ``payment-run-file`` (the real ``flask`` CLI
  in a subprocess).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from app.auth import mfa
from app.auth.models import User
from app.extensions import db
from app.finance import queries, sepa
from app.finance.models import OrderStatus, PaymentRun, PayoutOrder
from app.finance.services import payouts
from app.postaward.services import start
from tests import factories
from tests.finance.factories import approved_grant, confirmed_account

pytestmark = pytest.mark.slow

ROUNDS = 20
ROOT = Path(__file__).resolve().parents[2]


def _cli_env(app) -> dict[str, str]:
    return {
        **os.environ,
        "KOMMPRAEV_ENV": "testing",
        "TEST_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "PYTHONDONTWRITEBYTECODE": "1",
    }


class Payer:
    """Creates released payout orders in the committed database (one new grant each)."""

    def __init__(self, app) -> None:
        self.app = app
        with app.app_context():
            finance = factories.create_user("finance")
            self.applicant = factories.create_user("applicant", ags="14626610").id
            self.finance, self.email = finance.id, finance.email
            self.finance2 = factories.create_user("finance").id
            db.session.commit()
        self.accounted = False

    def release_one(self) -> None:
        with self.app.app_context():
            applicant = db.session.get(User, self.applicant)
            finance = db.session.get(User, self.finance)
            finance2 = db.session.get(User, self.finance2)
            application = approved_grant(applicant)
            if not self.accounted:
                confirmed_account(applicant, finance)
                self.accounted = True
            start.notify_start(applicant, application, date(2026, 11, 2))
            db.session.expire_all()
            instalment = queries.instalments_of(application.id)[0]
            order = payouts.prepare_order(
                finance, instalment, idempotency_key=f"kill-{application.id}".ljust(32, "x")
            )
            payouts.release_order(finance2, order, confirm_early=True)
            db.session.commit()
            db.session.remove()


def _fork_cli(app, out: Path, email: str) -> int:
    """Run ``flask finance payment-run`` in a forked child (the interpreter is already warm, so
    20 rounds fit in seconds); the child has its own database connections."""
    args = ["finance", "payment-run", "--execution-date", "2099-01-04", "--out", str(out)]
    pid = os.fork()
    if pid == 0:  # child
        code = 70
        try:
            with app.app_context():
                db.engine.dispose(close=False)  # never share the parent's connections
            # The second factor is not what this test is about (20 rounds in seconds would
            # exhaust the TOTP steps): accepted without a check in the child only.
            mfa.step_up = lambda *_args, **_kwargs: None
            code = (
                app.test_cli_runner()
                .invoke(args=[*args, "--as", email, "--totp", "000000"])
                .exit_code
            )
        finally:
            os._exit(code)
    return pid


def _wait_for_part(pid: int, folder: Path, deadline: float) -> float | None:
    while time.monotonic() < deadline:
        if any(folder.glob(".*.part")):
            return time.monotonic()
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            return None  # it has finished (not reaped here)
        time.sleep(0.0005)
    return None


def _runs(app) -> dict[str, bytes]:
    with app.app_context():
        runs = db.session.execute(db.select(PaymentRun)).scalars().all()
        result = {r.msg_id: r.xml for r in runs}
        db.session.remove()
        return result


def test_payment_run_killed_at_random_points_never_pays_twice(committed_app, tmp_path, fast_pdf):
    rng = random.Random(os.environ.get("KILL_SEED", "14"))  # reproducible; override to explore
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    payer = Payer(committed_app)
    payer.release_one()
    # calibration: one undisturbed run gives the lifetime and the temp-file-to-exit window
    began = time.monotonic()
    pid = _fork_cli(committed_app, out_dir / "kalibrierung.xml", payer.email)
    reserved = _wait_for_part(pid, out_dir, began + 60) or began
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    ended = time.monotonic()
    life, window = ended - began, ended - reserved
    outcomes: Counter[str] = Counter()
    aim = window * 0.7  # moves towards the moment of the commit (machines differ in speed)
    for n in range(ROUNDS):
        before = set(_runs(committed_app))
        if not _has_released(committed_app):
            payer.release_one()
        out = out_dir / f"lauf-{n:02d}.xml"
        began = time.monotonic()
        pid = _fork_cli(committed_app, out, payer.email)
        if n % 2:  # a random point of the whole life
            time.sleep(rng.uniform(0, life))
        else:  # a random point after the temp file was reserved: commit, fsync, rename
            _wait_for_part(pid, out_dir, began + 60)
            time.sleep(rng.uniform(0.7, 1.3) * aim)
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        committed = len(_runs(committed_app)) > len(before)
        key = ("run" if committed else "no run") + (" + file" if out.exists() else "")
        outcomes[key if os.WIFSIGNALED(status) else "finished"] += 1
        if n % 2 == 0:
            aim *= 0.8 if committed else 1.25
    summary = f"{ROUNDS} kills, life {life:.2f} s, window {window:.2f} s: {dict(outcomes)}"
    print(f"\n{summary}")  # noqa: T201 - the figures for docs/security.md
    runs = _runs(committed_app)
    # no file without a database run (a .part left by a kill is empty or a prefix of a run)
    for path in out_dir.iterdir():
        content = path.read_bytes()
        if path.suffix == ".part":
            assert not content or any(x.startswith(content) for x in runs.values()), path
        else:
            assert content in runs.values(), f"{path.name} is not a stored payment run"
    # no EndToEndId (and no order) in two runs
    ids = [e for xml in runs.values() for e, _ in sepa.parse_pain001_summary(xml).transactions]
    assert len(ids) == len(set(ids)), Counter(ids).most_common(3)
    with committed_app.app_context():
        in_runs = db.session.execute(
            db.select(PayoutOrder.end_to_end_id).where(PayoutOrder.payment_run_id.is_not(None))
        ).scalars()
        assert sorted(in_runs) == sorted(ids)
    # a committed run whose file never appeared is written again from the database
    written = {p.read_bytes() for p in out_dir.glob("*.xml")}
    missing = [m for m, xml in runs.items() if xml not in written]
    for msg_id in missing[:2]:
        target = tmp_path / f"{msg_id}.xml"
        rewrite = subprocess.run(  # noqa: S603 - our own CLI from the venv's interpreter
            [sys.executable, "-m", "flask", "--app", "wsgi", "finance", "payment-run-file"]
            + [msg_id, "--out", str(target)],
            cwd=ROOT,
            env=_cli_env(committed_app),
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert rewrite.returncode == 0, rewrite.stderr.decode()
        assert target.read_bytes() == runs[msg_id]


def _has_released(app) -> bool:
    with app.app_context():
        found = db.session.execute(
            db.select(PayoutOrder.id).where(
                PayoutOrder.status == OrderStatus.RELEASED, PayoutOrder.payment_run_id.is_(None)
            )
        ).first()
        db.session.remove()
        return found is not None
