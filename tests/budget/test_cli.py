"""``flask budget ...`` commands through Click's test runner (inside the per-test transaction)."""

from __future__ import annotations

import sqlalchemy as sa

from app.budget import services as budget
from app.budget.models import BudgetYear, CommitmentAuthorisation
from app.extensions import db
from tests.budget import helpers as h


def _invoke(runner, *args):
    return runner.invoke(args=["budget", *args])


def test_budget_open_accepts_both_number_formats(runner, app):
    result = _invoke(runner, "open", "2027", "--cap", "1300000.00")
    assert result.exit_code == 0, result.output
    assert "Haushaltsjahr 2027 eröffnet" in result.output
    assert "1.300.000,00" in result.output
    result = _invoke(
        runner, "open", "2028", "--cap", "1.300.000,00", "--carryover", "12.345,67", "--provisional"
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        year = db.session.get(BudgetYear, 2028)
        assert (year.appropriation_cents, year.carryover_cents, year.provisional) == (
            130_000_000,
            1_234_567,
            True,
        )


def test_budget_open_refuses_bad_input_and_duplicates(runner):
    result = _invoke(runner, "open", "2027", "--cap", "viel")
    assert result.exit_code == 2 and "kein Betrag" in result.output
    assert _invoke(runner, "open", "2027", "--cap", "1").exit_code == 0
    result = _invoke(runner, "open", "2027", "--cap", "1")
    assert result.exit_code == 1 and "bereits eröffnet" in result.output


def test_budget_set_ve_and_show(runner, app):
    assert _invoke(runner, "open", "2027", "--cap", "1300000.00").exit_code == 0
    result = _invoke(runner, "set-ve", "2027", "--for", "2028", "--amount", "400000.00")
    assert result.exit_code == 0, result.output
    assert "Verpflichtungsermächtigung 2027 für 2028" in result.output
    with app.app_context():
        actor = h.approver()
        application = h.application()
        budget.commit_funds(
            application.id,
            {2027: 100_000_00, 2028: 50_000_00},
            approval_year=2027,
            actor_id=actor.id,
        )
        db.session.commit()

    result = _invoke(runner, "show", "2027")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Haushaltsjahr 2027"
    assert any(line.split() == ["Ansatz", "1.300.000,00", "€"] for line in lines)
    assert any(line.split() == ["Gebunden", "100.000,00", "€"] for line in lines)
    assert any(line.split() == ["Verfügbar", "1.200.000,00", "€"] for line in lines)
    assert (
        "2028: Ermächtigung 400.000,00\u00a0€, gebunden 50.000,00\u00a0€, "
        "verfügbar 350.000,00\u00a0€" in result.output
    )
    assert _invoke(runner, "show", "2030").exit_code == 1


def test_budget_set_provisional_and_carryover(runner, app):
    assert _invoke(runner, "open", "2027", "--cap", "100").exit_code == 0
    result = _invoke(runner, "set-provisional", "2027", "--on")
    assert result.exit_code == 0 and "Bewilligungen gesperrt" in result.output
    assert "vorläufige Haushaltsführung" in _invoke(runner, "show", "2027").output
    assert _invoke(runner, "set-provisional", "2027").exit_code == 2  # --on or --off required
    assert _invoke(runner, "set-provisional", "2027", "--off").exit_code == 0
    assert _invoke(runner, "set-carryover", "2027", "--amount", "50,00").exit_code == 0
    with app.app_context():
        year = db.session.get(BudgetYear, 2027)
        assert (year.provisional, year.carryover_cents) == (False, 5_000)


def test_budget_set_ve_error_is_reported(runner, app):
    result = _invoke(runner, "set-ve", "2027", "--for", "2028", "--amount", "1")
    assert result.exit_code == 1 and "kein Haushalt" in result.output
    with app.app_context():
        count = db.session.execute(
            sa.select(sa.func.count()).select_from(CommitmentAuthorisation)
        ).scalar_one()
        assert count == 0


def test_budget_check_passes_and_reports_mismatches(runner, app):
    assert _invoke(runner, "open", "2027", "--cap", "1000").exit_code == 0
    result = _invoke(runner, "check")
    assert result.exit_code == 0 and "keine Abweichungen" in result.output
    with app.app_context():
        db.session.execute(sa.text("UPDATE budget_year SET committed_cents = 42 WHERE year = 2027"))
        db.session.commit()
    result = _invoke(runner, "check")
    assert result.exit_code == 1
    assert "1 Abweichung" in result.output
    assert "Haushaltsjahr 2027: gebundene Mittel weichen" in result.output
