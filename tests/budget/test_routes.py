"""The budget page /haushalt: access per role, content and chart, admin forms with German
field errors, and a constant number of SQL statements."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from app.budget import services as budget
from app.budget.models import BudgetYear, CommitmentAuthorisation
from app.extensions import db
from tests.budget import helpers as h


def _seed(app, *, years=(2027,), per_year=1, regions=(h.ZITTAU,)):
    """Open years with a VE each and approve ``per_year`` applications per region and year."""
    with app.app_context():
        actor = h.approver()
        for year in years:
            if db.session.get(BudgetYear, year) is None:
                budget.open_year(year, h.CAP, carryover_cents=5_000_000)
            budget.set_authorisation(year, year + 1, 40_000_000)
            for ags in regions:
                for _ in range(per_year):
                    application = h.application(ags, submitted=False)
                    budget.commit_funds(
                        application.id,
                        {year: 1_000_000, year + 1: 500_000},
                        approval_year=year,
                        actor_id=actor.id,
                    )
        db.session.commit()


def test_overview_renders_for_a_reviewer(reviewer_client, app):
    _seed(app, regions=(h.ZITTAU, h.PIRNA))
    response = reviewer_client.get("/haushalt")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Haushaltsjahr 2027" in html
    assert "1.300.000,00\u00a0€" in html  # Ansatz
    assert "50.000,00\u00a0€" in html  # Ausgabereste
    assert "20.000,00\u00a0€" in html  # committed
    assert "1.330.000,00\u00a0€" in html  # available
    assert "nach Polizeidirektion" in html and "Sächsische Schweiz-Osterzgebirge" in html
    assert html.count("<svg") == 2
    assert re.search(r'<rect class="bar" x="\d+" y="\d+" width="330"', html)  # largest bar
    assert 'href="/haushalt"' in html and "Haushalt</a>" in html  # nav link
    assert "Haushaltsjahr eröffnen" not in html  # admin forms only for admins
    # CSP script-src/style-src 'self': no inline styles or scripts.
    assert "style=" not in html
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))


def test_overview_is_forbidden_for_applicants(applicant_client):
    assert applicant_client.get("/haushalt").status_code == 403
    assert "Haushalt</a>" not in applicant_client.get("/antraege").get_data(as_text=True)


def test_overview_needs_login(client):
    response = client.get("/haushalt")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_empty_overview_explains_itself(reviewer_client):
    html = reviewer_client.get("/haushalt").get_data(as_text=True)
    assert "Es ist noch kein Haushaltsjahr eröffnet." in html


def test_admin_opens_a_year_and_sets_ve_carryover_and_flag(admin_client, app):
    page = admin_client.get("/haushalt").get_data(as_text=True)
    assert "Haushaltsjahr eröffnen" in page
    response = admin_client.post(
        "/haushalt/jahr",
        data={"open-year": "2027", "open-appropriation": "1.300.000,00", "open-carryover": ""},
    )
    assert response.status_code == 302
    response = admin_client.post(
        "/haushalt/ve",
        data={"ve-budget_year": "2027", "ve-target_year": "2028", "ve-amount": "400000.00"},
    )
    assert response.status_code == 302
    response = admin_client.post(
        "/haushalt/ausgabereste", data={"carry-year": "2027", "carry-carryover": "12.000,00"}
    )
    assert response.status_code == 302
    response = admin_client.post(
        "/haushalt/vorlaeufig", data={"prov-year": "2027", "prov-provisional": "1"}
    )
    assert response.status_code == 302
    with app.app_context():
        year = db.session.get(BudgetYear, 2027)
        assert (year.appropriation_cents, year.carryover_cents, year.provisional) == (
            130_000_000,
            1_200_000,
            True,
        )
        ve = db.session.execute(db.select(CommitmentAuthorisation)).scalar_one()
        assert (ve.budget_year, ve.target_year, ve.amount_cents) == (2027, 2028, 40_000_000)
    html = admin_client.get("/haushalt").get_data(as_text=True)
    assert "vorläufige Haushaltsführung – Bewilligungen gesperrt" in html


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"open-year": "2027", "open-appropriation": "viel"},
            "open-appropriation",
            "Bitte geben Sie einen Betrag wie 1.234,56 ein.",
        ),
        ({"open-year": "1800", "open-appropriation": "1"}, "open-year", "zwischen 2000 und 2100"),
        ({"open-year": "2027"}, "open-appropriation", "Bitte geben Sie den Betrag an."),
    ],
)
def test_open_year_form_errors_are_shown_at_the_field(admin_client, data, field, message):
    response = admin_client.post("/haushalt/jahr", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(rf'<p class="error-message" id="{field}-error">(.*?)</p>', html, re.S)
    assert error and message in error.group(1)


def test_service_refusals_are_shown_at_the_field(admin_client, app):
    _seed(app)
    response = admin_client.post(
        "/haushalt/jahr", data={"open-year": "2027", "open-appropriation": "1"}
    )
    assert response.status_code == 422
    assert re.search(
        r'id="open-year-error">.*bereits eröffnet', response.get_data(as_text=True), re.S
    )
    response = admin_client.post(  # the VE 2027 → 2028 already binds 5,000.00 EUR
        "/haushalt/ve",
        data={"ve-budget_year": "2027", "ve-target_year": "2028", "ve-amount": "10,00"},
    )
    assert response.status_code == 422
    assert re.search(
        r'id="ve-amount-error">.*bereits 5.000,00', response.get_data(as_text=True), re.S
    )
    response = admin_client.post(
        "/haushalt/vorlaeufig", data={"prov-year": "2040", "prov-provisional": "0"}
    )
    assert response.status_code == 422
    assert re.search(r'id="prov-year-error">.*kein Haushalt', response.get_data(as_text=True), re.S)


def test_only_admins_may_change_the_budget(reviewer_client):
    for url in ("/haushalt/jahr", "/haushalt/ve", "/haushalt/ausgabereste", "/haushalt/vorlaeufig"):
        assert reviewer_client.post(url, data={}).status_code == 403


def _statements(client, app) -> int:
    with app.app_context():
        target = db.engine  # the test's connection (tests/conftest.py swaps it in)
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(target, "before_cursor_execute", count)
    try:
        assert client.get("/haushalt").status_code == 200
    finally:
        event.remove(target, "before_cursor_execute", count)
    return len(seen)


def test_overview_statement_count_does_not_grow_with_data(reviewer_client, app):
    _seed(app)
    reviewer_client.get("/haushalt")  # warm-up
    few = _statements(reviewer_client, app)
    _seed(app, years=(2027, 2028, 2029), per_year=2, regions=(h.ZITTAU, h.PIRNA, "14511000"))
    many = _statements(reviewer_client, app)
    print(f"\n/haushalt: {few} SQL statements with 1 year, {many} with 3 years")  # noqa: T201
    assert many == few
    assert few <= 10
