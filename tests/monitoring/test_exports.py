"""Dashboard exports (issue 15): German CSV per figure table and the one-page PDF report."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from app.extensions import db
from tests.monitoring import helpers as m


def _seed(app):
    with app.app_context():
        m.consult(m.ZITTAU, date(2020, 3, 1))
        m.approved(m.ZITTAU, cents=123_456)
        db.session.commit()


def test_csv_of_the_money_table_is_german(reviewer_client, app):
    _seed(app)
    response = reviewer_client.get("/programm/mittel.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    body = response.data
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Haushaltsjahr;")
    assert "2027;1.300.000,00;1.234,56;0,00;0,00\r\n" in text


@pytest.mark.parametrize("name", ["beratungen", "foerderjahre", "kreise", "polizeidirektionen"])
def test_every_table_exports(reviewer_client, app, name):
    _seed(app)
    response = reviewer_client.get(f"/programm/{name}.csv?jahr=2027")
    assert response.status_code == 200 and b";" in response.data


def test_unknown_table_and_bad_filter(reviewer_client):
    assert reviewer_client.get("/programm/nutzer.csv").status_code == 404
    assert reviewer_client.get("/programm/mittel.csv?jahr=x").status_code == 400


@pytest.mark.pdf
def test_programme_report_is_a_one_page_pdf(reviewer_client, app):
    _seed(app)
    response = reviewer_client.get("/programm/bericht.pdf?stichtag=2021-01-31")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    pdf = PdfReader(io.BytesIO(response.data))
    assert len(pdf.pages) == 1
    text = pdf.pages[0].extract_text()
    assert "Programmbericht" in text and "31.01.2021" in text
