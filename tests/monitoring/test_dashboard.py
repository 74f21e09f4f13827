"""Programme dashboard (issue 15): figures, filters, links, constant statement count."""

from __future__ import annotations

from datetime import date

from sqlalchemy import event

from app.budget import services as budget
from app.extensions import db
from app.grants.models import KprRecordKind
from app.monitoring import queries
from tests.monitoring import helpers as m


def _seed(app, n: int = 1) -> None:
    with app.app_context():
        for i in range(n):
            m.consult(m.ZITTAU, date(2019, 3 + i % 9, 1))
        m.consult(m.PIRNA, date(2021, 1, 18))
        m.kpr(m.ZITTAU, date(2020, 5, 1))
        m.kpr(m.ZITTAU, date(2020, 6, 1), KprRecordKind.COOPERATION)
        m.approved(m.ZITTAU)
        db.session.commit()


def test_cumulative_by_month_keeps_empty_months():
    points = queries.cumulative_by_month([date(2020, 11, 5), date(2021, 1, 18), date(2021, 1, 2)])
    assert [(p.month, p.added, p.total) for p in points] == [
        (date(2020, 11, 1), 1, 1),
        (date(2020, 12, 1), 0, 1),
        (date(2021, 1, 1), 2, 3),
    ]


def test_dashboard_shows_the_figures(reviewer_client, app):
    _seed(app)
    response = reviewer_client.get("/programm")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Beratene Kommunen, kumuliert nach Monat" in html
    assert "<title>01.2021: 2 Kommunen (+1)</title>" in html
    assert "Görlitz" in html and "10.000,00" in html
    assert "/pruefung?jahr=2027" in html  # the figure links to the list behind it


def test_dashboard_filters_by_kreis(reviewer_client, app):
    _seed(app)
    with app.app_context():
        kreis = m.factories.organisation(m.PIRNA).kreis_key
    html = reviewer_client.get(f"/programm?kreis={kreis}").get_data(as_text=True)
    assert "<title>01.2021: 1 Kommunen (+1)</title>" in html
    assert "10.000,00" not in html


def test_bad_filter_is_reported_at_the_field(reviewer_client):
    response = reviewer_client.get("/programm?jahr=abc&stichtag=gestern")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="f-jahr-error"' in html and 'id="f-stichtag-error"' in html


def test_applicants_may_not_see_the_dashboard(applicant_client):
    assert applicant_client.get("/programm").status_code == 403


def _statements(client, app, url: str) -> int:
    with app.app_context():
        target = db.engine
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(target, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(target, "before_cursor_execute", count)
    return len(seen)


def test_dashboard_statement_count_does_not_grow_with_data(reviewer_client, app):
    _seed(app)
    reviewer_client.get("/programm")
    few = _statements(reviewer_client, app, "/programm")
    _seed(app, n=12)
    with app.app_context():
        m.approved(m.PIRNA, 2028)
        m.consult("14511000", date(2022, 2, 2))
        db.session.commit()
    many = _statements(reviewer_client, app, "/programm")
    assert many == few
    assert few <= 15


def test_region_counts_an_application_once_over_its_payout_years(app_ctx):
    m.approved(m.ZITTAU, 2027)
    budget.open_year(2028, m.h.CAP)
    application = m.h.application(m.ZITTAU, submitted=False)
    budget.set_authorisation(2027, 2028, 1_000_000)
    budget.commit_funds(
        application.id, {2027: 1000, 2028: 1000}, approval_year=2027, actor_id=m.h.approver().id
    )
    figures = queries.programme_figures(queries.Filters())
    goerlitz = next(r for r in figures.by_kreis if r.name == "Görlitz")
    assert goerlitz.approved == 2
    assert goerlitz.approved_cents == 1_002_000
