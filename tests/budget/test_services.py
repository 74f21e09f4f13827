"""R12 (cap, Ausgabereste, VE) and R13 (vorläufige Haushaltsführung) in the budget services,
releases, the self-check, the read model and the database backstops (CHECK, append-only)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.budget import services as budget
from app.budget.models import BudgetYear, Commitment, CommitmentKind
from app.common.errors import BudgetCapExceeded, DomainError, NotFound
from app.extensions import db
from tests.budget import helpers as h

EUR = 100  # cents per euro


@pytest.fixture
def actor(app_ctx):
    return h.approver()


@pytest.fixture
def app_id(app_ctx):
    return h.application().id


# --- R12: the annual cap ------------------------------------------------------------------------


def test_R12_cap_exact_boundary_passes_and_one_cent_more_fails(app_ctx, actor, app_id):
    budget.open_year(2027, 1_000 * EUR)
    budget.commit_funds(app_id, {2027: 999 * EUR}, approval_year=2027, actor_id=actor.id)
    budget.commit_funds(app_id, {2027: 1 * EUR}, approval_year=2027, actor_id=actor.id)
    assert h.committed(2027) == 1_000 * EUR  # committed + a == cap passes
    assert budget.available(2027) == 0

    with pytest.raises(BudgetCapExceeded) as caught:
        budget.commit_funds(app_id, {2027: 1}, approval_year=2027, actor_id=actor.id)
    assert "Haushaltsjahr 2027: es fehlen 0,01\u00a0€" in caught.value.message
    assert caught.value.rule == "R12"
    assert h.committed(2027) == 1_000 * EUR == h.ledger(2027)


def test_R12_one_cent_over_an_empty_cap_fails(app_ctx, actor, app_id):
    budget.open_year(2027, 500 * EUR)
    with pytest.raises(BudgetCapExceeded):
        budget.commit_funds(app_id, {2027: 500 * EUR + 1}, approval_year=2027, actor_id=actor.id)
    budget.commit_funds(app_id, {2027: 500 * EUR}, approval_year=2027, actor_id=actor.id)
    assert h.committed(2027) == 500 * EUR


def test_R12_message_names_the_year_and_the_missing_amount(app_ctx, actor, app_id):
    h.open_years(2027)
    budget.commit_funds(app_id, {2027: 1_290_000 * EUR}, approval_year=2027, actor_id=actor.id)
    with pytest.raises(BudgetCapExceeded) as caught:
        budget.commit_funds(app_id, {2027: 22_345 * EUR}, approval_year=2027, actor_id=actor.id)
    assert "Haushaltsjahr 2027: es fehlen 12.345,00\u00a0€" in caught.value.message
    assert caught.value.field == "plan"


def test_R12_carryover_raises_the_cap(app_ctx, actor, app_id):
    budget.open_year(2027, 100 * EUR, carryover_cents=50 * EUR)
    budget.commit_funds(app_id, {2027: 150 * EUR}, approval_year=2027, actor_id=actor.id)
    assert budget.available(2027) == 0
    with pytest.raises(BudgetCapExceeded):
        budget.commit_funds(app_id, {2027: 1}, approval_year=2027, actor_id=actor.id)


def test_R12_later_year_needs_a_VE(app_ctx, actor, app_id):
    h.open_years(2027)
    with pytest.raises(BudgetCapExceeded) as caught:
        budget.commit_funds(
            app_id, {2027: 40_000 * EUR, 2028: 60_000 * EUR}, approval_year=2027, actor_id=actor.id
        )
    assert "Verpflichtungsermächtigung 2027 für 2028 fehlt" in caught.value.message
    assert "60.000,00\u00a0€" in caught.value.message


def test_R12_VE_shortfall_names_year_and_amount(app_ctx, actor, app_id):
    h.open_years(2027)
    budget.set_authorisation(2027, 2028, 400_000 * EUR)
    budget.commit_funds(app_id, {2028: 390_000 * EUR}, approval_year=2027, actor_id=actor.id)
    assert h.ve_committed(2027, 2028) == 390_000 * EUR

    with pytest.raises(BudgetCapExceeded) as caught:
        budget.commit_funds(
            app_id, {2027: 10_000 * EUR, 2028: 20_000 * EUR}, approval_year=2027, actor_id=actor.id
        )
    assert "Verpflichtungsermächtigung 2027 für 2028: es fehlen 10.000,00\u00a0€" in (
        caught.value.message
    )
    assert "Haushaltsjahr 2027" not in caught.value.message  # 2027 itself had room


def test_R12_message_lists_every_short_year(app_ctx, actor, app_id):
    budget.open_year(2027, 100 * EUR)
    budget.set_authorisation(2027, 2028, 10 * EUR)
    with pytest.raises(BudgetCapExceeded) as caught:
        budget.commit_funds(
            app_id,
            {2027: 150 * EUR, 2028: 30 * EUR, 2029: 5 * EUR},
            approval_year=2027,
            actor_id=actor.id,
        )
    message = caught.value.message
    assert "Haushaltsjahr 2027: es fehlen 50,00\u00a0€" in message
    assert "Verpflichtungsermächtigung 2027 für 2028: es fehlen 20,00\u00a0€" in message
    assert "Verpflichtungsermächtigung 2027 für 2029 fehlt" in message


def test_R12_nothing_written_when_any_year_fails(app_ctx, actor, app_id):
    h.open_years(2027)
    budget.set_authorisation(2027, 2028, 10_000 * EUR)
    db.session.flush()
    before = (h.row_count(Commitment), h.audit_count("budget_committed"))
    with pytest.raises(BudgetCapExceeded):
        # 2027 fits and is charged first; the VE for 2028 is short → the whole call is undone.
        budget.commit_funds(
            app_id, {2027: 50_000 * EUR, 2028: 20_000 * EUR}, approval_year=2027, actor_id=actor.id
        )
    assert h.committed(2027) == 0
    assert h.ve_committed(2027, 2028) == 0
    assert (h.row_count(Commitment), h.audit_count("budget_committed")) == before
    assert budget.self_check() == []


def test_R12_multi_year_approval_books_each_payout_year(app_ctx, actor, app_id):
    h.open_years(2027)
    budget.set_authorisation(2027, 2028, 400_000 * EUR)
    rows = budget.commit_funds(
        app_id, {2027: 40_000 * EUR, 2028: 60_000 * EUR}, approval_year=2027, actor_id=actor.id
    )
    assert [(r.payout_year, r.authorised_in, r.amount_cents, r.kind) for r in rows] == [
        (2027, None, 40_000 * EUR, CommitmentKind.APPROVAL),
        (2028, 2027, 60_000 * EUR, CommitmentKind.APPROVAL),
    ]
    assert h.committed(2027) == 40_000 * EUR
    assert h.ve_committed(2027, 2028) == 60_000 * EUR
    assert h.audit_count("budget_committed") == 1


def test_R12_opened_later_year_is_charged_too(app_ctx, actor, app_id):
    h.open_years(2027)
    budget.open_year(2028, 50_000 * EUR)
    budget.set_authorisation(2027, 2028, 400_000 * EUR)
    budget.commit_funds(app_id, {2028: 30_000 * EUR}, approval_year=2027, actor_id=actor.id)
    assert h.committed(2028) == 30_000 * EUR == h.ve_committed(2027, 2028)
    with pytest.raises(BudgetCapExceeded) as caught:  # the VE has room, 2028's cap has not
        budget.commit_funds(app_id, {2028: 30_000 * EUR}, approval_year=2027, actor_id=actor.id)
    assert "Haushaltsjahr 2028: es fehlen 10.000,00\u00a0€" in caught.value.message
    assert h.ve_committed(2027, 2028) == 30_000 * EUR


def test_R12_open_year_starts_with_commitments_made_under_VE(app_ctx, actor, app_id):
    h.open_years(2027)
    budget.set_authorisation(2027, 2028, 400_000 * EUR)
    budget.commit_funds(app_id, {2028: 70_000 * EUR}, approval_year=2027, actor_id=actor.id)
    opened = budget.open_year(2028, 1_300_000 * EUR)
    assert opened.committed_cents == 70_000 * EUR
    assert budget.available(2028) == 1_230_000 * EUR
    assert budget.self_check() == []


def test_R12_open_year_refuses_a_cap_below_VE_commitments(app_ctx, actor, app_id):
    h.open_years(2027)
    budget.set_authorisation(2027, 2028, 400_000 * EUR)
    budget.commit_funds(app_id, {2028: 70_000 * EUR}, approval_year=2027, actor_id=actor.id)
    with pytest.raises(DomainError, match="bereits 70.000,00") as caught:
        budget.open_year(2028, 60_000 * EUR, carryover_cents=9_999 * EUR)
    assert caught.value.field == "appropriation"


def test_R12_payout_before_the_approval_year_is_refused(app_ctx, actor, app_id):
    h.open_years(2026, 2027)
    with pytest.raises(DomainError, match="vor dem Bewilligungsjahr"):
        budget.commit_funds(app_id, {2026: 1 * EUR}, approval_year=2027, actor_id=actor.id)


@pytest.mark.parametrize("plan", [{}, {2027: 0}, {2027: -5}, {1999: 5}])
def test_R12_invalid_plans_are_refused(app_ctx, actor, app_id, plan):
    h.open_years(2027)
    with pytest.raises(DomainError) as caught:
        budget.commit_funds(app_id, plan, approval_year=2027, actor_id=actor.id)
    assert not isinstance(caught.value, BudgetCapExceeded)


def test_R12_unknown_application_is_not_found(app_ctx, actor):
    h.open_years(2027)
    with pytest.raises(NotFound):
        budget.commit_funds(10**9, {2027: 1}, approval_year=2027, actor_id=actor.id)


def test_R12_VE_cannot_be_lowered_below_its_commitments(app_ctx, actor, app_id):
    h.open_years(2027)
    budget.set_authorisation(2027, 2028, 400_000 * EUR)
    budget.commit_funds(app_id, {2028: 100_000 * EUR}, approval_year=2027, actor_id=actor.id)
    with pytest.raises(DomainError, match="100.000,00") as caught:
        budget.set_authorisation(2027, 2028, 99_999 * EUR)
    assert caught.value.field == "amount"
    ve = budget.set_authorisation(2027, 2028, 100_000 * EUR)
    assert ve.amount_cents == 100_000 * EUR and ve.available_cents == 0


def test_R12_VE_needs_an_opened_budget_year_and_a_later_target(app_ctx):
    with pytest.raises(DomainError, match="kein Haushalt"):
        budget.set_authorisation(2027, 2028, 1)
    h.open_years(2027)
    with pytest.raises(DomainError, match="Zieljahr") as caught:
        budget.set_authorisation(2027, 2027, 1)
    assert caught.value.field == "target_year"


def test_R12_carryover_cannot_drop_below_what_is_committed(app_ctx, actor, app_id):
    budget.open_year(2027, 100 * EUR, carryover_cents=50 * EUR)
    budget.commit_funds(app_id, {2027: 120 * EUR}, approval_year=2027, actor_id=actor.id)
    with pytest.raises(DomainError) as caught:
        budget.set_carryover(2027, 19 * EUR)
    assert caught.value.field == "carryover"
    budget.set_carryover(2027, 20 * EUR)
    assert budget.available(2027) == 0


def test_R12_open_year_twice_is_refused(app_ctx):
    h.open_years(2027)
    with pytest.raises(DomainError, match="bereits eröffnet"):
        budget.open_year(2027, 1)


def test_R12_default_appropriation_is_1_3_million(app_ctx):
    db.session.add(BudgetYear(year=2031))
    db.session.flush()
    assert budget.available(2031) == 1_300_000 * EUR


# --- R13: vorläufige Haushaltsführung -----------------------------------------------------------


def test_R13_provisional_year_blocks_approvals(app_ctx, actor, app_id):
    budget.open_year(2027, h.CAP, provisional=True)
    with pytest.raises(budget.BudgetYearBlocked, match="vorläufige Haushaltsführung") as caught:
        budget.commit_funds(app_id, {2027: 1 * EUR}, approval_year=2027, actor_id=actor.id)
    assert caught.value.rule == "R13"
    assert h.row_count(Commitment) == 0

    budget.set_provisional(2027, False)
    budget.commit_funds(app_id, {2027: 1 * EUR}, approval_year=2027, actor_id=actor.id)
    assert h.committed(2027) == 1 * EUR


def test_R13_provisional_year_blocks_VE_only_plans_too(app_ctx, actor, app_id):
    h.open_years(2027)
    budget.set_authorisation(2027, 2028, h.CAP)
    budget.set_provisional(2027, True)
    with pytest.raises(budget.BudgetYearBlocked):
        budget.commit_funds(app_id, {2028: 1 * EUR}, approval_year=2027, actor_id=actor.id)


def test_R13_missing_budget_year_blocks_approvals(app_ctx, actor, app_id):
    with pytest.raises(budget.BudgetYearBlocked, match="kein Haushalt eröffnet"):
        budget.commit_funds(app_id, {2027: 1 * EUR}, approval_year=2027, actor_id=actor.id)


def test_R13_closed_year_blocks_approvals_and_changes(app_ctx, actor, app_id):
    h.open_years(2027)
    db.session.get(BudgetYear, 2027).closed = True
    db.session.flush()
    with pytest.raises(budget.BudgetYearBlocked, match="abgeschlossen"):
        budget.commit_funds(app_id, {2027: 1 * EUR}, approval_year=2027, actor_id=actor.id)
    with pytest.raises(DomainError, match="abgeschlossen"):
        budget.set_provisional(2027, True)
    with pytest.raises(DomainError, match="abgeschlossen"):
        budget.set_carryover(2027, 1)


def test_R12_closed_later_payout_year_is_refused(app_ctx, actor, app_id):
    h.open_years(2027, 2028)
    budget.set_authorisation(2027, 2028, h.CAP)
    db.session.get(BudgetYear, 2028).closed = True
    db.session.flush()
    with pytest.raises(budget.BudgetYearBlocked, match="2028 ist abgeschlossen"):
        budget.commit_funds(
            app_id, {2027: 1 * EUR, 2028: 1 * EUR}, approval_year=2027, actor_id=actor.id
        )
    assert h.committed(2027) == 0


def test_R13_flag_on_unknown_year_is_refused(app_ctx):
    with pytest.raises(DomainError, match="kein Haushalt"):
        budget.set_provisional(2040, True)


# --- releases -------------------------------------------------------------------------------------


def test_R12_reduction_and_revocation_release_the_bound_funds(app_ctx, actor, app_id):
    h.open_years(2027)
    budget.set_authorisation(2027, 2028, 100_000 * EUR)
    budget.commit_funds(
        app_id, {2027: 40_000 * EUR, 2028: 60_000 * EUR}, approval_year=2027, actor_id=actor.id
    )
    rows = budget.release_funds(
        app_id, {2027: 10_000 * EUR}, kind=CommitmentKind.REDUCTION, actor_id=actor.id
    )
    assert [(r.payout_year, r.amount_cents, r.kind) for r in rows] == [
        (2027, -10_000 * EUR, CommitmentKind.REDUCTION)
    ]
    assert budget.committed_plan(app_id) == {2027: 30_000 * EUR, 2028: 60_000 * EUR}

    budget.release_funds(
        app_id, budget.committed_plan(app_id), kind=CommitmentKind.REVOCATION, actor_id=actor.id
    )
    assert h.committed(2027) == 0 == h.ve_committed(2027, 2028)
    assert budget.committed_plan(app_id) == {}
    assert budget.self_check() == []
    assert h.audit_count("budget_released") == 2


def test_R12_release_of_a_VE_year_after_that_year_was_opened(app_ctx, actor, app_id):
    h.open_years(2027)
    budget.set_authorisation(2027, 2028, 100_000 * EUR)
    budget.commit_funds(app_id, {2028: 60_000 * EUR}, approval_year=2027, actor_id=actor.id)
    h.open_years(2028)
    budget.release_funds(
        app_id, {2028: 25_000 * EUR}, kind=CommitmentKind.REDUCTION, actor_id=actor.id
    )
    assert h.committed(2028) == 35_000 * EUR == h.ve_committed(2027, 2028)
    assert budget.self_check() == []


def test_release_of_more_than_held_is_refused(app_ctx, actor, app_id):
    h.open_years(2027)
    budget.commit_funds(app_id, {2027: 100 * EUR}, approval_year=2027, actor_id=actor.id)
    with pytest.raises(DomainError, match="nur 100,00"):
        budget.release_funds(
            app_id, {2027: 100 * EUR + 1}, kind=CommitmentKind.REDUCTION, actor_id=actor.id
        )
    with pytest.raises(DomainError, match="Kürzung oder Widerruf"):
        budget.release_funds(app_id, {2027: 1}, kind=CommitmentKind.APPROVAL, actor_id=actor.id)
    assert h.committed(2027) == 100 * EUR


# --- self-check and database backstops ---------------------------------------------------------


def test_self_check_reports_a_tampered_cache(app_ctx, actor, app_id):
    h.open_years(2027)
    budget.set_authorisation(2027, 2028, 1_000 * EUR)
    budget.commit_funds(
        app_id, {2027: 100 * EUR, 2028: 10 * EUR}, approval_year=2027, actor_id=actor.id
    )
    db.session.execute(sa.text("UPDATE budget_year SET committed_cents = 5 WHERE year = 2027"))
    db.session.execute(
        sa.text("UPDATE commitment_authorisation SET committed_cents = 7 WHERE budget_year = 2027")
    )
    problems = [str(p) for p in budget.self_check()]
    assert len(problems) == 2
    assert problems[0].startswith("Haushaltsjahr 2027: gebundene Mittel weichen")
    assert "erwartet 100,00" in problems[0]
    assert problems[1].startswith("Verpflichtungsermächtigung 2027 für 2028")


def test_check_constraint_refuses_committed_above_cap(app_ctx):
    budget.open_year(2027, 100)
    db.session.flush()
    nested = db.session.begin_nested()
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(
            sa.text("UPDATE budget_year SET committed_cents = 101 WHERE year = 2027")
        )
    nested.rollback()
    nested = db.session.begin_nested()
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.text("UPDATE budget_year SET committed_cents = -1 WHERE year = 2027"))
    nested.rollback()


def test_commitment_ledger_is_append_only(app_ctx, actor, app_id):
    h.open_years(2027)
    budget.commit_funds(app_id, {2027: 1 * EUR}, approval_year=2027, actor_id=actor.id)
    db.session.flush()
    for statement in (
        "UPDATE commitment SET amount_cents = 1",
        "DELETE FROM commitment",
    ):
        nested = db.session.begin_nested()
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            db.session.execute(sa.text(statement))
        nested.rollback()


# --- read model ----------------------------------------------------------------------------


def test_overview_aggregates_per_landkreis_and_polizeidirektion(app_ctx, actor):
    h.open_years(2027)
    budget.set_authorisation(2027, 2028, h.CAP)
    zittau, pirna = h.application(h.ZITTAU), h.application(h.PIRNA)
    chemnitz = h.application("14511000")
    budget.commit_funds(zittau.id, {2027: 300 * EUR}, approval_year=2027, actor_id=actor.id)
    budget.commit_funds(zittau.id, {2027: 200 * EUR}, approval_year=2027, actor_id=actor.id)
    budget.commit_funds(
        pirna.id, {2027: 100 * EUR, 2028: 70 * EUR}, approval_year=2027, actor_id=actor.id
    )
    budget.commit_funds(chemnitz.id, {2027: 50 * EUR}, approval_year=2027, actor_id=actor.id)
    budget.release_funds(
        chemnitz.id, {2027: 50 * EUR}, kind=CommitmentKind.REVOCATION, actor_id=actor.id
    )

    (year,) = budget.budget_overview()
    assert (year.year, year.committed_cents, year.available_cents) == (
        2027,
        600 * EUR,
        h.CAP - 600 * EUR,
    )
    assert [(r.name, r.committed_cents) for r in year.by_kreis] == [
        ("Görlitz", 500 * EUR),
        ("Sächsische Schweiz-Osterzgebirge", 100 * EUR),
    ]  # Chemnitz revoked to 0 → not shown
    assert [(r.name, r.committed_cents) for r in year.by_polizeidirektion] == [
        ("Görlitz", 500 * EUR),
        ("Dresden", 100 * EUR),
    ]
    (ve,) = year.authorisations
    assert (ve.target_year, ve.committed_cents, ve.available_cents) == (
        2028,
        70 * EUR,
        h.CAP - 70 * EUR,
    )
    assert budget.year_overview(2027) == year
    with pytest.raises(DomainError):
        budget.year_overview(2040)


# --- mutation testing (docs/mutation.md): commit_funds' open mutants ---------------------------


def test_R12_boundary_a_payout_year_before_the_approval_year_is_refused_beside_a_later_one(
    app_ctx, actor, app_id
):
    """Kills mutant #12 (``min`` → ``max``): the earliest payout year is checked, not the last."""
    h.open_years(2026, 2027, 2028)
    with pytest.raises(DomainError, match="2026 liegt vor dem Bewilligungsjahr 2027"):
        budget.commit_funds(
            app_id, {2026: 10 * EUR, 2028: 10 * EUR}, approval_year=2027, actor_id=actor.id
        )
    assert h.committed(2026) == h.committed(2028) == 0


def test_R12_budget_rows_read_before_a_commitment_show_it_afterwards(app_ctx, actor, app_id):
    """Kills mutant #52 (``_expire_budget_rows`` removed): the guarded UPDATE bypasses the ORM,
    so a row loaded before must not keep the old figure in the same session."""
    budget.open_year(2027, 1_000 * EUR)
    row = db.session.get(BudgetYear, 2027)
    assert row is not None and row.committed_cents == 0
    budget.commit_funds(app_id, {2027: 300 * EUR}, approval_year=2027, actor_id=actor.id)
    assert row.committed_cents == 300 * EUR


def test_R12_two_short_years_name_both_and_write_nothing(app_ctx, actor, app_id):
    """Mutants #38/#41 (``break`` after the first short year removed) are equivalent: the
    savepoint is rolled back either way and the message is computed from the figures; this test
    pins that behaviour."""
    budget.open_year(2027, 100 * EUR)
    budget.open_year(2028, 100 * EUR)
    budget.set_authorisation(2027, 2028, 50 * EUR)
    with pytest.raises(BudgetCapExceeded) as caught:
        budget.commit_funds(
            app_id, {2027: 150 * EUR, 2028: 80 * EUR}, approval_year=2027, actor_id=actor.id
        )
    assert "Haushaltsjahr 2027" in caught.value.message
    assert "2028" in caught.value.message
    assert h.committed(2027) == h.committed(2028) == 0 == h.ve_committed(2027, 2028)
