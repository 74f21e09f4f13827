"""Twenty identical requests at once (RELIABILITY §3.3, test plan item 8), on a database whose
transactions really commit (SQLite file or PostgreSQL schema).

* 20 concurrent "prepare payout order" requests with one idempotency key → exactly one order,
  the R20 counter charged once, and every request answers with that same order.
* 20 concurrent ledger ``post_entry`` calls with one key → exactly one journal entry, every call
  returns it; with two different bodies under one key, one body wins and the other is refused
  (``IdempotencyConflict``).

Each thread has its own application context (its own session and connection), waits at a
barrier, then commits or rolls back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask

from app.extensions import db
from app.postaward.services import start

THREADS = 20


def run_concurrently(app: Flask, calls: list[Callable[[], object]]) -> list[str]:
    """Run each call in its own thread and app context, all released by one barrier."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(call: Callable[[], object]) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=60)
                result = call()
                db.session.commit()
                outcome = f"ok {result}"
            except Exception as exc:  # noqa: BLE001 - reported in the assertion
                db.session.rollback()
                outcome = f"error {type(exc).__name__}: {exc}"
            finally:
                db.session.remove()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert len(outcomes) == len(calls), "a thread hung"
    return outcomes


@pytest.mark.slow
def test_twenty_identical_prepare_order_requests_make_one_order(committed_app, fast_pdf):
    from app.auth.models import User
    from app.common.audit import AuditEvent
    from app.finance import queries
    from app.finance.models import GrantAccount, Instalment, InstalmentStatus, PayoutOrder
    from app.finance.services import payouts
    from tests import factories
    from tests.finance.factories import approved_grant, confirmed_account

    with committed_app.app_context():
        applicant = factories.create_user("applicant", ags="14626610")
        finance = factories.create_user("finance")
        application = approved_grant(applicant)
        confirmed_account(applicant, finance)
        start.notify_start(applicant, application, date(2026, 11, 2))
        db.session.expire_all()
        instalment = queries.instalments_of(application.id)[0]
        assert instalment.status is InstalmentStatus.DUE
        ids = (finance.id, instalment.id, application.id, instalment.amount_cents)
        db.session.commit()
        db.session.remove()
    finance_id, instalment_id, application_id, amount = ids
    key = "9f1c2a" + "0" * 26

    def prepare() -> int:
        user = db.session.get(User, finance_id)
        target = db.session.get(Instalment, instalment_id)
        assert user is not None and target is not None
        return payouts.prepare_order(user, target, idempotency_key=key).id

    outcomes = run_concurrently(committed_app, [prepare] * THREADS)

    with committed_app.app_context():
        orders = db.session.execute(db.select(PayoutOrder)).scalars().all()
        assert len(orders) == 1
        assert outcomes == [f"ok {orders[0].id}"] * THREADS, sorted(set(outcomes))
        grant = db.session.get(GrantAccount, application_id)
        assert grant is not None and grant.ordered_cents == amount  # R20 charged once
        assert db.session.get(Instalment, instalment_id).status is InstalmentStatus.ORDERED
        events = db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == "payout_order_prepared")
        ).all()
        assert len(events) == 1


def _entry_call(key: str, amount: int) -> Callable[[], int]:
    from app.finance.models import EntryKind
    from app.finance.services import ledger

    def post() -> int:
        return ledger.post_entry(
            kind=EntryKind.APPROVAL,
            posting_date=date(2027, 2, 1),
            fiscal_year=2027,
            description="Bewilligung (gleichzeitig)",
            reference="KP-2027-0777",
            idempotency_key=key,
            lines=[
                ledger.Line(ledger.committed_account("KP-2027-0777"), amount),
                ledger.Line(ledger.budget_account(2027), -amount),
            ],
            actor_id=None,
        ).id

    return post


@pytest.mark.slow
def test_twenty_identical_ledger_posts_make_one_entry(committed_app):
    from app.finance.models import JournalEntry, Posting
    from app.finance.services import ledger

    same = run_concurrently(committed_app, [_entry_call("approval-777-2027", 4_000_000)] * THREADS)
    # Same key, two different bodies: one body wins, the other half is refused.
    mixed = run_concurrently(
        committed_app,
        [_entry_call("approval-778-2027", 100 + n % 2) for n in range(THREADS)],
    )

    with committed_app.app_context():
        entries = (
            db.session.execute(db.select(JournalEntry).order_by(JournalEntry.id)).scalars().all()
        )
        assert [e.idempotency_key for e in entries] == ["approval-777-2027", "approval-778-2027"]
        first, second = entries
        assert same == [f"ok {first.id}"] * THREADS, sorted(set(same))
        postings = db.session.execute(db.select(Posting)).scalars().all()
        assert len(postings) == 4
        assert ledger.unbalanced_entries() == []
        winner = second.postings[0].amount_cents
        assert winner in (100, 101)
        assert sorted(mixed) == sorted(
            [f"ok {second.id}"] * (THREADS // 2)
            + [
                "error IdempotencyConflict: Dieser Vorgang wurde bereits mit anderen Angaben "
                "gebucht (Idempotenzschlüssel)."
            ]
            * (THREADS // 2)
        ), sorted(set(mixed))
