"""The demo works on any day: every README state is reachable from the data it creates."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time

from app.auth.models import User
from app.common.db import BERLIN, as_utc, today
from app.demo import DEMO_PASSWORD, DemoCalendar, create_demo_data
from app.extensions import db
from app.finance.models import OrderStatus, PayoutOrder
from app.finance.services import payouts
from app.grants.models import Application, Decision, DecisionStatus, Status
from app.grants.services import applications as svc
from app.grants.services import review
from app.postaward.services import settlement
from config import DEMO_TOTP_SECRET_DEV

ROOT = Path(__file__).resolve().parent.parent

DAYS = [
    date(2026, 12, 3),  # after the window: Görlitz applies late
    date(2027, 1, 1),  # the running year's first day
    date(2027, 3, 15),
    date(2027, 8, 31),  # the window's first day
    date(2027, 9, 1),
    date(2027, 10, 15),  # the window's last day
    date(2027, 10, 16),
    date(2028, 2, 29),
]


def _user(email: str) -> User:
    return db.session.execute(db.select(User).where(User.email == email)).scalar_one()


def _app_of(email: str) -> Application:
    user = _user(email)
    return db.session.execute(
        db.select(Application).where(Application.organisation_id == user.organisation_id)
    ).scalar_one()


@pytest.mark.slow
@pytest.mark.parametrize("day", DAYS, ids=str)
def test_demo_states_are_reachable_on_any_day(app_ctx, day):
    noon = datetime.combine(day, time(12, 0), tzinfo=BERLIN)
    with freeze_time(noon):
        assert today() == day
        create_demo_data(day)
        db.session.flush()
        zittau = _app_of("kpr@zittau.demo-sachsen.de")
        assert zittau.status is Status.RUNNING and zittau.funding_year == day.year
        plauen = _app_of("kpr@plauen.demo-sachsen.de")
        assert plauen.status is Status.IN_REVIEW
        wurzen = _app_of("kpr@wurzen.demo-sachsen.de")
        assert wurzen.status is Status.INCOMPLETE
        assert _app_of("kpr@pirna.demo-sachsen.de").status is Status.DRAFT
        # No event, document or decision is dated after "now".
        assert all(as_utc(s.submitted_at) <= datetime.now(BERLIN) for s in zittau.submissions)

        # Görlitz: the consulted draft can be submitted today without guessing (R1, R2).
        goerlitz = _app_of("praevention@lk-goerlitz.demo-sachsen.de")
        assert goerlitz.status is Status.CONSULTED
        svc.submit_application(goerlitz, _user("praevention@lk-goerlitz.demo-sachsen.de"))
        assert goerlitz.status is Status.SUBMITTED

        # Plauen: the prepared decision is approved by an approver who did not prepare it.
        decision = db.session.execute(
            db.select(Decision).where(
                Decision.application_id == plauen.id,
                Decision.status == DecisionStatus.PREPARED,
            )
        ).scalar_one()
        review.approve(_user("leitung@lpr.demo-sachsen.de"), decision)
        assert plauen.status is Status.APPROVED

        # Zittau: Frieda releases Karl's order and creates a payment run (four eyes).
        order = db.session.execute(
            db.select(PayoutOrder).where(PayoutOrder.application_id == zittau.id)
        ).scalar_one()
        assert order.status is OrderStatus.PREPARED
        frieda = _user("kasse2@lpr.demo-sachsen.de")
        payouts.release_order(frieda, order, confirm_early=True)
        run = settlement.create_payment_run(frieda, execution_date=day + timedelta(days=1))
        assert run.nb_of_txs == 1

        # Ministry and finance demo users have the documented TOTP secret; applicants none.
        assert frieda.mfa_enabled and frieda.totp_secret == DEMO_TOTP_SECRET_DEV
        assert not _user("kpr@zittau.demo-sachsen.de").mfa_enabled


def test_demo_calendar_picks_the_open_window_or_a_late_start():
    in_window = DemoCalendar.for_day(date(2027, 9, 20))
    assert in_window.next_in_window and in_window.next_year == 2028
    after = DemoCalendar.for_day(date(2027, 12, 3))
    assert not after.next_in_window and after.next_year == 2028
    assert after.late_start == date(2028, 2, 1)  # at least 42 days away (R2)
    before = DemoCalendar.for_day(date(2027, 5, 2))
    assert before.next_year == 2027 and before.late_start == date(2027, 7, 1)


@pytest.mark.slow
def test_demo_cli_rerun_and_reset(tmp_path):
    env = {
        **os.environ,
        "KOMMPRAEV_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite'}",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
    }

    def flask(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    assert flask("db", "upgrade").returncode == 0
    assert flask("reference", "import").returncode == 0
    first = flask("demo")
    assert first.returncode == 0, first.stderr
    assert DEMO_PASSWORD in first.stdout
    assert DEMO_TOTP_SECRET_DEV in first.stdout  # development: the documented fixed TOTP secret
    again = flask("demo")
    assert again.returncode == 0
    assert "bereits angelegt" in again.stdout and "Error" not in again.stdout + again.stderr
    assert "demo --reset" in again.stdout
    reset = flask("demo", "--reset", "--yes")
    assert reset.returncode == 0, reset.stderr
    assert "Demodaten angelegt" in reset.stdout
