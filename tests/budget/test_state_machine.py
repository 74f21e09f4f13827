"""Model-based test of the budget services (RELIABILITY §3.5, test plan 4): a Hypothesis
``RuleBasedStateMachine`` opens years, sets VEs, Ausgabereste and the R13 flag, approves,
reduces and revokes, and checks after every step that the database matches a plain Python model
and that the R12 invariants hold.

Runs inside the per-test transaction: every example works in its own SAVEPOINT (rolled back in
``teardown``) and every step in a nested one, so a refused step rolls back only itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from app.budget import services as budget
from app.budget.models import BudgetYear, CommitmentAuthorisation, CommitmentKind
from app.budget.services import commitments
from app.common.errors import BudgetCapExceeded, DomainError
from app.extensions import db
from tests.budget import helpers as h

YEARS = (2030, 2031, 2032, 2033)
amounts = st.integers(min_value=1, max_value=150)  # cents: small, so caps are hit often


@dataclass
class YearModel:
    appropriation: int
    carryover: int
    committed: int
    provisional: bool

    @property
    def cap(self) -> int:
        return self.appropriation + self.carryover


class BudgetMachine(RuleBasedStateMachine):
    """Model: years, VEs, and what each application holds per (payout year, source)."""

    def __init__(self, app_ids: list[int], actor_id: int) -> None:
        super().__init__()
        self.app_ids = app_ids
        self.actor_id = actor_id
        self.example = db.session.begin_nested()
        self.years: dict[int, YearModel] = {}
        self.ves: dict[tuple[int, int], list[int]] = {}  # (budget, target) → [amount, committed]
        self.held: dict[tuple[int, int, int | None], int] = {}  # (app, payout, source) → net

    def teardown(self) -> None:
        self.example.rollback()

    # --- helpers -----------------------------------------------------------------------------

    def _step(self, call: Callable[[], object]) -> DomainError | None:
        """Run one service call in its own SAVEPOINT; return the refusal, if any."""
        try:
            with db.session.begin_nested():
                call()
        except DomainError as exc:
            return exc
        return None

    def _year(self, data: st.DataObject, *, opened: bool = True) -> int:
        """Mostly a year that is (or, with ``opened=False``, is not yet) open; sometimes any."""
        pool = sorted(y for y in YEARS if (y in self.years) == opened)
        if pool and data.draw(st.integers(0, 4), label="usual year"):
            return data.draw(st.sampled_from(pool), label="year")
        return data.draw(st.sampled_from(YEARS), label="year")

    def _pending(self, year: int) -> int:
        return sum(net for (_a, payout, _s), net in self.held.items() if payout == year)

    def _open(self, year: int, appropriation: int, carryover: int, provisional: bool) -> None:
        pending = self._pending(year)
        refused = self._step(lambda: budget.open_year(year, appropriation, carryover, provisional))
        ok = year not in self.years and pending <= appropriation + carryover
        assert (refused is None) == ok, refused
        if ok:
            self.years[year] = YearModel(appropriation, carryover, pending, provisional)

    def _set_ve(self, year: int, target: int, amount: int) -> None:
        key = (year, target)
        refused = self._step(lambda: budget.set_authorisation(year, target, amount))
        ok = year in self.years and self.ves.get(key, [0, 0])[1] <= amount
        assert (refused is None) == ok, refused
        if ok:
            self.ves[key] = [amount, self.ves.get(key, [0, 0])[1]]

    # --- rules ---------------------------------------------------------------------------------

    @initialize(
        appropriation=st.integers(50, 300),
        carryover=st.integers(0, 60),
        ve_next=st.integers(0, 200),
        ve_after=st.integers(0, 100),
    )
    def first_year(self, appropriation: int, carryover: int, ve_next: int, ve_after: int) -> None:
        """Start with one open year and its VEs, so approvals have something to bind."""
        self._open(YEARS[0], appropriation, carryover, False)
        self._set_ve(YEARS[0], YEARS[1], ve_next)
        self._set_ve(YEARS[0], YEARS[2], ve_after)

    @rule(
        data=st.data(),
        appropriation=st.integers(0, 300),
        carryover=st.integers(0, 60),
        provisional=st.sampled_from([False, False, False, True]),
    )
    def open_year(
        self, data: st.DataObject, appropriation: int, carryover: int, provisional: bool
    ) -> None:
        self._open(self._year(data, opened=False), appropriation, carryover, provisional)

    @rule(data=st.data(), ahead=st.integers(1, 2), amount=st.integers(0, 300))
    def set_ve(self, data: st.DataObject, ahead: int, amount: int) -> None:
        year = self._year(data)
        self._set_ve(year, year + ahead, amount)

    @rule(data=st.data(), carryover=st.integers(0, 60))
    def set_carryover(self, data: st.DataObject, carryover: int) -> None:
        year = self._year(data)
        refused = self._step(lambda: budget.set_carryover(year, carryover))
        model = self.years.get(year)
        ok = model is not None and model.committed <= model.appropriation + carryover
        assert (refused is None) == ok, refused
        if model is not None and ok:
            model.carryover = carryover

    @rule(data=st.data(), flag=st.sampled_from([False, False, True]))
    def set_provisional(self, data: st.DataObject, flag: bool) -> None:
        year = self._year(data)
        refused = self._step(lambda: budget.set_provisional(year, flag))
        assert (refused is None) == (year in self.years), refused
        if year in self.years:
            self.years[year].provisional = flag

    @rule(data=st.data(), parts=st.lists(amounts, min_size=1, max_size=3))
    def approve(self, data: st.DataObject, parts: list[int]) -> None:
        approval_year = self._year(data)
        app_id = data.draw(st.sampled_from(self.app_ids))
        plan = {approval_year + offset: amount for offset, amount in enumerate(parts)}
        refused = self._step(
            lambda: budget.commit_funds(
                app_id, plan, approval_year=approval_year, actor_id=self.actor_id
            )
        )
        own = self.years.get(approval_year)
        if own is None or own.provisional:
            assert isinstance(refused, budget.BudgetYearBlocked), refused
            return
        fits = True
        for year, amount in plan.items():
            model = self.years.get(year)
            if model is not None and model.committed + amount > model.cap:
                fits = False
            if year > approval_year:
                ve = self.ves.get((approval_year, year))
                if ve is None or ve[1] + amount > ve[0]:
                    fits = False
        if not fits:
            assert isinstance(refused, BudgetCapExceeded), refused
            return
        assert refused is None, refused
        for year, amount in plan.items():
            if year in self.years:
                self.years[year].committed += amount
            source = None if year == approval_year else approval_year
            if source is not None:
                self.ves[(source, year)][1] += amount
            key = (app_id, year, source)
            self.held[key] = self.held.get(key, 0) + amount

    def _release(self, app_id: int, plan: dict[int, int], kind: CommitmentKind) -> None:
        refused = self._step(
            lambda: budget.release_funds(app_id, plan, kind=kind, actor_id=self.actor_id)
        )
        for year, amount in plan.items():
            if amount > sum(
                net for (a, payout, _s), net in self.held.items() if a == app_id and payout == year
            ):
                assert refused is not None
                return
        assert refused is None, refused
        for year, amount in plan.items():
            sources = sorted(
                (
                    (source, net)
                    for (a, payout, source), net in self.held.items()
                    if a == app_id and payout == year and net > 0
                ),
                key=lambda item: (item[0] is not None, -(item[0] or 0)),
            )
            rest = amount
            for source, net in sources:
                part = min(rest, net)
                self.held[(app_id, year, source)] -= part
                if source is not None:
                    self.ves[(source, year)][1] -= part
                rest -= part
            if year in self.years:
                self.years[year].committed -= amount

    @precondition(lambda self: any(net > 0 for net in self.held.values()))
    @rule(data=st.data())
    def reduce(self, data: st.DataObject) -> None:
        app_id, year = data.draw(
            st.sampled_from(sorted({(a, y) for (a, y, _s), net in self.held.items() if net > 0})),
            label="holding",
        )
        held = sum(net for (a, y, _s), net in self.held.items() if (a, y) == (app_id, year))
        amount = data.draw(st.integers(1, held + 3), label="amount")  # sometimes too much
        self._release(app_id, {year: amount}, CommitmentKind.REDUCTION)

    @rule(data=st.data())
    def revoke(self, data: st.DataObject) -> None:
        app_id = data.draw(st.sampled_from(self.app_ids))
        plan = budget.committed_plan(app_id)
        if plan:
            self._release(app_id, plan, CommitmentKind.REVOCATION)

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def ledger_and_caches_agree(self) -> None:
        assert budget.self_check() == []
        stored = {
            row.year: (row.committed_cents, row.appropriation_cents + row.carryover_cents)
            for row in db.session.execute(
                sa.select(
                    BudgetYear.year,
                    BudgetYear.committed_cents,
                    BudgetYear.appropriation_cents,
                    BudgetYear.carryover_cents,
                )
            )
        }
        assert stored == {y: (m.committed, m.cap) for y, m in self.years.items()}
        assert all(committed <= cap for committed, cap in stored.values())
        ves = {
            (row.budget_year, row.target_year): [row.amount_cents, row.committed_cents]
            for row in db.session.execute(
                sa.select(
                    CommitmentAuthorisation.budget_year,
                    CommitmentAuthorisation.target_year,
                    CommitmentAuthorisation.amount_cents,
                    CommitmentAuthorisation.committed_cents,
                )
            )
        }
        assert ves == self.ves
        assert all(committed <= amount for amount, committed in ves.values())


SETTINGS = settings(
    max_examples=60,
    stateful_step_count=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _machine() -> Callable[[], BudgetMachine]:
    actor_id = h.approver().id
    app_ids = [h.application(submitted=False).id for _ in range(3)]
    db.session.flush()
    return lambda: BudgetMachine(app_ids, actor_id)


@pytest.mark.timeout(300)  # generous: CI machines may be loaded
def test_R12_R13_budget_state_machine(app_ctx):
    run_state_machine_as_test(_machine(), settings=SETTINGS)


@pytest.mark.timeout(300)  # generous: CI machines may be loaded
def test_R12_state_machine_control_finds_a_planted_bug(app_ctx, monkeypatch):
    """Control (RELIABILITY test plan): a release that forgets the VE must fail the machine."""
    real_rowcount = commitments._rowcount

    def forgetful(statement: object) -> int:
        sql = str(statement)
        if sql.startswith("UPDATE commitment_authorisation") and "committed_cents - " in sql:
            return 1  # pretend the VE was released
        return real_rowcount(statement)

    monkeypatch.setattr(commitments, "_rowcount", forgetful)  # release_funds' module
    with pytest.raises(AssertionError):
        run_state_machine_as_test(
            _machine(), settings=settings(SETTINGS, max_examples=200, phases=[Phase.generate])
        )
