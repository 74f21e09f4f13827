"""Ten reviewers' clicks at once: one application is approved exactly once (RELIABILITY test 3)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from app.extensions import db


@pytest.mark.slow
def test_ten_threads_approve_the_same_application_once(committed_app):
    from app.auth.models import User
    from app.budget import services as budget
    from app.budget.models import BudgetYear, Commitment
    from app.common.errors import InvalidTransition
    from app.grants.models import Application, Bescheid, Decision, Status
    from app.grants.services import review
    from tests import factories

    with committed_app.app_context():
        applicant = factories.create_user("applicant", ags="14626610")
        reviewer = factories.create_user("reviewer")
        approver = factories.create_user("approver")
        application = factories.submitted_application(applicant)
        budget.open_year(2027, 130_000_000)
        budget.set_authorisation(2027, 2028, 130_000_000)
        review.start_review(reviewer, application)
        data = review.proposal(application, 2027)
        decision = review.prepare_decision(reviewer, application, data, approval_year=2027)
        ids = (application.id, decision.id, approver.id)
        db.session.commit()
        db.session.remove()

    barrier = threading.Barrier(10)
    outcomes: list[str] = []
    lock = threading.Lock()

    def click() -> None:
        with committed_app.app_context():
            app_id, decision_id, approver_id = ids
            try:
                barrier.wait(timeout=30)
                approve_as = db.session.get(User, approver_id)
                target = db.session.get(Decision, decision_id)
                review.approve(approve_as, target, now=datetime(2027, 2, 1, 9, 0, tzinfo=UTC))
                db.session.commit()
                result = "approved"
            except InvalidTransition:
                db.session.rollback()
                result = "already decided"
            except Exception as exc:  # noqa: BLE001 - reported in the assertion
                db.session.rollback()
                result = f"error: {type(exc).__name__}: {exc}"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=click) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(outcomes) == ["already decided"] * 9 + ["approved"], outcomes
    with committed_app.app_context():
        app_id, decision_id, _ = ids
        assert db.session.get(Application, app_id).status is Status.APPROVED
        commitments = db.session.execute(db.select(Commitment)).scalars().all()
        grant = db.session.get(Decision, decision_id).grant_cents
        assert sum(c.amount_cents for c in commitments) == grant
        assert db.session.get(BudgetYear, 2027).committed_cents == grant * 40 // 100
        assert len(db.session.execute(db.select(Bescheid)).scalars().all()) == 1
