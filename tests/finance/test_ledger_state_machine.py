"""Model-based test of the money flow (RELIABILITY §3.5, test plan item 4).

A Hypothesis ``RuleBasedStateMachine`` drives the real services — approve (budget commitment,
payout plan, approval entries), notify the project start, make later instalments due, prepare /
release (four eyes) / cancel (reversal) payout orders, payment runs, and the year-end closing —
inside the per-test transaction. Each example runs in its own savepoint (rolled back in
``teardown``) and each rule in a nested one, so a refused step (``DomainError``) rolls back only
itself. Anything else a service raises (``IntegrityError``, ``AssertionError`` …) fails the test.

Invariants after every step:

* every journal entry balances (``ledger.unbalanced_entries() == []``);
* per grant: ``ordered_cents`` == Σ open (not cancelled/returned) orders ≤ ``granted_cents`` (R20);
* per grant: Σ ``Expenses:Zuwendungen:*:<KZ>`` == Σ released, not reversed orders ≤ granted;
* per grant: ``Assets:Bewilligt:<KZ>`` == granted − paid and ``Liabilities:Auszahlungen:<KZ>`` ==
  −paid (nothing reconciled yet);
* no entry of a closed year was posted after the closing.

Every example starts from a base grant (approved, final, start notified) created once outside
the examples; the machine may approve up to two more with random amounts. Rules also replay
postings (idempotency) and run ``close_year`` followed by a posting attempt that must be refused.
The beancount loader checks the exported ledger whenever it has grown (the oracle of
``test_beancount.py``, inside the machine).

Control (run by hand, not kept as a test): monkeypatch ``payouts.cancel_order`` so that after the
real cancel it adds the order's amount back to ``grant_account.ordered_cents`` (= "cancel forgets
to release the R20 counter") and call ``run_ledger_machine()``. The machine failed in the
generate phase within 2 s (three runs) and shrank (≈ 5 min) to ``prepare → cancel`` with
``AssertionError: KP-2027-0001: ordered_cents 2172843 != Σ open orders 0``. Before the
EndToEndId fix of commit 451a797 it also found ``prepare → cancel → prepare`` of one instalment
failing with ``IntegrityError: UNIQUE constraint failed: payout_order.end_to_end_id``.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

import pytest
from beancount import loader
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from app.auth.models import User
from app.budget import services as budget
from app.common.db import simulated_now, today
from app.common.errors import DomainError
from app.extensions import db
from app.finance import exports
from app.finance.models import (
    EntryKind,
    GrantAccount,
    Instalment,
    InstalmentStatus,
    JournalEntry,
    OrderStatus,
    PayoutOrder,
    Posting,
)
from app.finance.services import ledger, payouts
from app.grants.models import Application, Status
from app.grants.services import review
from app.postaward.services import start
from tests import factories
from tests.finance.factories import APPROVAL_TIME, confirmed_account, open_budget

T = TypeVar("T")

MAX_GRANTS = 3  # the base grant + up to two approved during the example
OPEN_ORDER = (
    OrderStatus.PREPARED,
    OrderStatus.RELEASED,
    OrderStatus.IN_RUN,
    OrderStatus.RECONCILED,
)
PAID = (OrderStatus.RELEASED, OrderStatus.IN_RUN, OrderStatus.RECONCILED)

GRANTS = st.integers(min_value=1_500_000, max_value=9_000_000)  # R16 reimbursement below 2 M

SETTINGS = settings(
    max_examples=30,
    stateful_step_count=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


class LedgerMachine(RuleBasedStateMachine):
    """Approve, pay, cancel and close — the real services against the invariants above.

    Rules pick their objects from the current state (mostly an actionable one — a due
    instalment, a prepared order —, sometimes any one, to exercise the refusals) so that short
    runs reach deep sequences such as prepare → release → cancel → prepare again.
    """

    people: Setup  # set by ``run_ledger_machine`` (created once, outside the examples)

    def __init__(self) -> None:
        super().__init__()
        self.example = db.session.begin_nested()  # one example = one savepoint
        self.applicant = self.people.applicant
        self.finance = self.people.finance
        self.finance2 = self.people.finance2
        self.reviewer = self.people.reviewer
        self.approver = self.people.approver
        self.grants: list[int] = list(self.people.base_grants)  # application ids
        self.keys: dict[str, int] = {}  # idempotency key → instalment id
        self.closed: dict[int, int] = {}  # year → highest entry id when it was closed
        self.log: list[str] = []
        self.oracle_checked = 0  # highest entry id the beancount oracle has seen
        self.replayed_upto = 0  # highest entry id when replay_entry last ran

    def teardown(self) -> None:
        self.example.rollback()
        db.session.expire_all()

    # --- helpers ---------------------------------------------------------------------------

    def _attempt(self, name: str, action: Callable[[], T]) -> T | None:
        """Run ``action`` in a savepoint; a refusal (``DomainError``) rolls back only this step."""
        db.session.expire_all()
        step = db.session.begin_nested()
        try:
            result = action()
            db.session.flush()
        except DomainError as exc:
            step.rollback()
            self.log.append(f"{name}: refused ({type(exc).__name__}: {exc.message})")
            return None
        except BaseException:
            step.rollback()
            raise
        step.commit()
        self.log.append(f"{name}: ok")
        return result

    def _pick(self, data: st.DataObject, candidates: list[T], fallback: list[T]) -> T | None:
        """Mostly an actionable candidate; now and then any object (refusal paths)."""
        pool = candidates if candidates and data.draw(st.integers(0, 4), "pick") else fallback
        if not pool:
            return None
        return pool[data.draw(st.integers(0, len(pool) - 1), "index")]

    def _instalments(self, *statuses: InstalmentStatus) -> list[Instalment]:
        stmt = (
            select(Instalment)
            .where(Instalment.application_id.in_(self.grants))
            .order_by(Instalment.id)
        )
        if statuses:
            stmt = stmt.where(Instalment.status.in_(statuses))
        return list(db.session.execute(stmt.execution_options(populate_existing=True)).scalars())

    def _orders(self, *statuses: OrderStatus) -> list[PayoutOrder]:
        stmt = select(PayoutOrder).order_by(PayoutOrder.id)
        if statuses:
            stmt = stmt.where(PayoutOrder.status.in_(statuses))
        return list(db.session.execute(stmt.execution_options(populate_existing=True)).scalars())

    def _applications(self, *statuses: Status) -> list[Application]:
        stmt = select(Application).where(Application.id.in_(self.grants)).order_by(Application.id)
        if statuses:
            stmt = stmt.where(Application.status.in_(statuses))
        return list(db.session.execute(stmt.execution_options(populate_existing=True)).scalars())

    def _has_grants(self, *statuses: Status) -> bool:
        stmt = select(Application.id).where(
            Application.id.in_(self.grants), Application.status.in_(statuses)
        )
        return db.session.execute(stmt.limit(1)).first() is not None

    def _has_orders(self, *statuses: OrderStatus) -> bool:
        stmt = select(PayoutOrder.id).where(PayoutOrder.status.in_(statuses)).limit(1)
        return db.session.execute(stmt).first() is not None

    # Which rules can act (also used to tell when only the replay rule is left).
    def _can_approve(self) -> bool:
        return len(self.grants) < MAX_GRANTS

    def _can_notify(self) -> bool:
        return self._has_grants(Status.FINAL)

    def _can_mark_due(self) -> bool:
        return bool(self._instalments(InstalmentStatus.PLANNED))

    def _can_prepare(self) -> bool:
        return bool(self._instalments(InstalmentStatus.DUE))

    def _can_release(self) -> bool:
        return self._has_orders(OrderStatus.PREPARED)

    def _can_cancel(self) -> bool:
        return self._has_orders(OrderStatus.PREPARED, OrderStatus.RELEASED)

    def _can_pay(self) -> bool:
        return self._has_orders(OrderStatus.RELEASED)

    def _can_close(self) -> bool:
        return not self.closed and self._has_orders(OrderStatus.RELEASED, OrderStatus.IN_RUN)

    def _stuck(self) -> bool:
        return not any(
            can()
            for can in (
                self._can_approve,
                self._can_notify,
                self._can_mark_due,
                self._can_prepare,
                self._can_release,
                self._can_cancel,
                self._can_pay,
                self._can_close,
            )
        )

    # --- rules -----------------------------------------------------------------------------

    @precondition(lambda self: self._can_approve())
    @rule(grant_cents=GRANTS, start=st.sampled_from([True, True, False]))
    def approve(self, grant_cents: int, start: bool) -> None:
        """Approve a grant (and, if ``start``, notify the project start at once)."""
        application = self._attempt("approve", lambda: approved_grant(self.people, grant_cents))
        if application is None:
            # Refused only when a payout year (2027, 2028) is closed.
            assert self.closed, f"an approval in open years must succeed: {self.log[-1]}"
            return
        self.grants.append(application.id)
        if start:
            self._notify_start(application)

    @precondition(lambda self: self._can_notify())
    @rule(data=st.data())
    def notify_start(self, data: st.DataObject) -> None:
        application = self._pick(data, self._applications(Status.FINAL), self._applications())
        assert application is not None
        self._notify_start(application)

    def _notify_start(self, application: Application) -> None:
        self._attempt(
            "notify_start",
            lambda: start.notify_start(self.applicant, application, date(2026, 11, 2)),
        )

    @precondition(lambda self: self._can_mark_due())
    @rule(data=st.data())
    def proof_of_use(self, data: st.DataObject) -> None:
        """A (partial) Verwendungsnachweis makes a later instalment due (``mark_due``)."""
        planned = self._instalments(InstalmentStatus.PLANNED)
        instalment = planned[data.draw(st.integers(0, len(planned) - 1), "instalment")]
        application, kind = instalment.application, instalment.kind
        made_due = self._attempt("proof_of_use", lambda: payouts.mark_due(application, [kind]))
        assert made_due is not None and made_due >= 1, self.log[-1]

    @precondition(lambda self: self._can_prepare())
    @rule(
        data=st.data(),
        reuse=st.sampled_from([False, False, False, True]),
        then_release=st.booleans(),
    )
    def prepare(self, data: st.DataObject, reuse: bool, then_release: bool) -> None:
        """Prepare an order (a new or a reused idempotency key); maybe release it at once."""
        instalment = self._pick(data, self._instalments(InstalmentStatus.DUE), self._instalments())
        if instalment is None:
            return
        was_due = instalment.status is InstalmentStatus.DUE
        keys = sorted(self.keys)
        key = keys[data.draw(st.integers(0, len(keys) - 1))] if reuse and keys else uuid.uuid4().hex
        order = self._attempt(
            "prepare",
            lambda: payouts.prepare_order(self.finance, instalment, idempotency_key=key),
        )
        if key in self.keys:  # a retry: the first order or a refusal, never a second order
            if order is not None:
                assert order.idempotency_key == key and order.instalment_id == instalment.id
            else:
                assert self.keys[key] != instalment.id, self.log[-1]
            return
        assert (order is not None) == was_due, f"prepare, due={was_due}: {self.log[-1]}"
        if order is not None:
            self.keys[key] = instalment.id
            if then_release:
                self._release(order, other_user=True)

    @precondition(lambda self: self._can_release())
    @rule(data=st.data(), other_user=st.sampled_from([True, True, True, False]))
    def release(self, data: st.DataObject, other_user: bool) -> None:
        order = self._pick(data, self._orders(OrderStatus.PREPARED), self._orders())
        if order is not None:
            self._release(order, other_user)

    def _release(self, order: PayoutOrder, other_user: bool) -> None:
        db.session.refresh(order)
        expected = (
            order.status is OrderStatus.PREPARED
            and other_user
            and order.instalment.budget_year not in self.closed
        )
        user = self.finance2 if other_user else self.finance
        done = self._attempt(
            "release", lambda: payouts.release_order(user, order, confirm_early=True) or True
        )
        assert bool(done) == expected, (order.status, other_user, self.closed, self.log[-1])

    @precondition(lambda self: self._can_cancel())
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        order = self._pick(
            data, self._orders(OrderStatus.PREPARED, OrderStatus.RELEASED), self._orders()
        )
        if order is None:
            return
        expected = order.status is OrderStatus.PREPARED or (
            order.status is OrderStatus.RELEASED and order.instalment.budget_year not in self.closed
        )
        done = self._attempt(
            "cancel", lambda: payouts.cancel_order(self.finance, order, "Falsche Rate") or True
        )
        assert bool(done) == expected, (order.status, self.closed, self.log[-1])

    @precondition(lambda self: self._can_pay())
    @rule()
    def payment_run(self) -> None:
        released = len(self._orders(OrderStatus.RELEASED))
        run = self._attempt(
            "payment_run",
            lambda: payouts.create_payment_run(
                self.finance, execution_date=today() + timedelta(days=3)
            ),
        )
        assert (run is not None) == (released > 0), self.log[-1]
        if run is not None:
            assert run.nb_of_txs == released

    @precondition(lambda self: self._can_close())
    @rule(year=st.sampled_from([2027, 2028]))
    def close_year(self, year: int) -> None:
        """Year-end closing (budget service), then try to post into the closed year."""
        last_id = self._max_entry_id()
        self._attempt("close_year", lambda: budget.close_year(year, actor_id=self.finance.id))
        assert self.log[-1] == "close_year: ok", self.log[-1]
        self.closed[year] = last_id
        posted = self._attempt(
            "post_in_closed_year",
            lambda: ledger.post_entry(
                kind=EntryKind.APPROVAL,
                posting_date=today(),
                fiscal_year=year,
                description="Buchung nach Jahresabschluss",
                reference="KP-CLOSED",
                idempotency_key=f"closed-{uuid.uuid4().hex}",
                lines=[
                    ledger.Line(ledger.committed_account("KP-CLOSED"), 100),
                    ledger.Line(ledger.budget_account(year), -100),
                ],
                actor_id=self.finance.id,
            ),
        )
        assert posted is None, "a posting in a closed year must be refused"

    @precondition(lambda self: self._max_entry_id() > self.replayed_upto or self._stuck())
    @rule(data=st.data())
    def replay_entry(self, data: st.DataObject) -> None:
        """A retried posting (same key, same content) returns the entry and writes nothing.

        Enabled once per growth of the ledger — and whenever no other rule can act, so that the
        machine never runs out of moves."""
        entries = list(db.session.execute(select(JournalEntry).order_by(JournalEntry.id)).scalars())
        entry = entries[data.draw(st.integers(0, len(entries) - 1), "entry")]
        before = self._max_entry_id()
        again = self._attempt(
            "replay_entry",
            lambda: ledger.post_entry(
                kind=entry.kind,
                posting_date=entry.posting_date,
                fiscal_year=entry.fiscal_year,
                description=entry.description,
                reference=entry.reference,
                idempotency_key=entry.idempotency_key,
                lines=[
                    ledger.Line(p.account, p.amount_cents, p.application_id) for p in entry.postings
                ],
                actor_id=entry.created_by_id,
                reverses_id=entry.reverses_id,
            ),
        )
        # Replays precede the closed-year check: even in a closed year the entry comes back.
        assert again is not None and again.id == entry.id, self.log[-1]
        assert self._max_entry_id() == before
        self.replayed_upto = before

    # --- invariants ------------------------------------------------------------------------

    def _max_entry_id(self) -> int:
        return int(
            db.session.execute(select(func.coalesce(func.max(JournalEntry.id), 0))).scalar_one()
        )

    @invariant()
    def beancount_accepts_the_ledger(self) -> None:
        """The independent oracle, whenever the ledger has grown: export → beancount loader."""
        last = self._max_entry_id()
        if last == self.oracle_checked:
            return
        text = exports.beancount_text(exports.iter_entries())
        _, errors, _ = loader.load_string(text)
        assert errors == [], [e.message for e in errors]
        self.oracle_checked = last

    @invariant()
    def every_entry_balances(self) -> None:
        assert ledger.unbalanced_entries() == []

    @invariant()
    def grant_accounts_match_orders_and_ledger(self) -> None:
        rows = db.session.execute(
            select(
                GrantAccount.application_id,
                GrantAccount.kassenzeichen,
                GrantAccount.granted_cents,
                GrantAccount.ordered_cents,
            )
        ).all()
        for application_id, kz, granted, ordered in rows:
            open_orders = _order_sum(application_id, OPEN_ORDER)
            paid = _order_sum(application_id, PAID)
            assert ordered == open_orders, (
                f"{kz}: ordered_cents {ordered} != Σ open orders {open_orders}"
            )
            assert ordered <= granted, f"{kz}: ordered {ordered} > granted {granted} (R20)"
            expenses = _expenses(kz)
            assert expenses == paid <= granted, f"{kz}: expenses {expenses}, paid {paid}"
            committed = ledger.balance(ledger.committed_account(kz))
            assert committed == granted - paid, f"{kz}: committed {committed} != {granted} − {paid}"
            assert ledger.balance(ledger.payable_account(kz)) == -paid

    @invariant()
    def nothing_posted_into_a_closed_year(self) -> None:
        for year, last_id in self.closed.items():
            late = db.session.execute(
                select(func.count())
                .select_from(JournalEntry)
                .where(JournalEntry.fiscal_year == year, JournalEntry.id > last_id)
            ).scalar_one()
            assert late == 0, f"{late} entries posted into {year} after its closing"


def _order_sum(application_id: int, statuses: tuple[OrderStatus, ...]) -> int:
    return int(
        db.session.execute(
            select(func.coalesce(func.sum(PayoutOrder.amount_cents), 0)).where(
                PayoutOrder.application_id == application_id,
                PayoutOrder.status.in_(statuses),
            )
        ).scalar_one()
    )


def _expenses(kz: str) -> int:
    return int(
        db.session.execute(
            select(func.coalesce(func.sum(Posting.amount_cents), 0)).where(
                Posting.account.startswith("Expenses:Zuwendungen:", autoescape=True),
                Posting.account.endswith(f":{kz}", autoescape=True),
            )
        ).scalar_one()
    )


@dataclass(frozen=True)
class Setup:
    applicant: User
    finance: User
    finance2: User
    reviewer: User
    approver: User
    base_grants: tuple[int, ...] = ()


def approved_grant(setup: Setup, grant_cents: int) -> Application:
    """``tests.finance.factories.approved_grant`` with the given reviewer and approver (faster:
    no new users per grant); approval year 2027, final by a recorded waiver."""
    application = factories.submitted_application(setup.applicant, grant_cents=grant_cents)
    review.start_review(setup.reviewer, application)
    data = review.proposal(application, 2027)
    decision = review.prepare_decision(setup.reviewer, application, data, approval_year=2027)
    review.approve(setup.approver, decision, now=APPROVAL_TIME)
    with simulated_now(APPROVAL_TIME):  # the waiver is dated on the Bescheid's day (T8)
        review.record_waiver(setup.reviewer, application, APPROVAL_TIME.date())
    return application


def run_ledger_machine(
    machine: type[LedgerMachine] = LedgerMachine, run_settings: settings = SETTINGS
) -> None:
    """Create once, outside the examples (their rollbacks keep it): the users, the confirmed
    bank account, the budget years and a base grant (approved, final, start notified; an odd
    amount, so the last instalment takes a remainder) — approving is the slow step, and every
    example starts from here. Then run the machine. A control run patches a service first."""
    setup = Setup(
        applicant=factories.create_user("applicant", ags="14626610"),
        finance=factories.create_user("finance", name="Karl Kasse"),
        finance2=factories.create_user("finance", name="Frieda Finanz"),
        reviewer=factories.create_user("reviewer"),
        approver=factories.create_user("approver"),
    )
    confirmed_account(setup.applicant, setup.finance)
    open_budget()
    grant = approved_grant(setup, 5_432_109)
    start.notify_start(setup.applicant, grant, date(2026, 11, 2))
    db.session.flush()
    setup = dataclasses.replace(setup, base_grants=(grant.id,))
    configured = type(machine.__name__, (machine,), {"people": setup})
    run_state_machine_as_test(configured, settings=run_settings)


@pytest.mark.slow
@pytest.mark.timeout(900)  # a failure shrinks for minutes (every replay approves grants)
def test_ledger_state_machine(app_ctx, fast_pdf):
    run_ledger_machine()
