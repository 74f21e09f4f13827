"""Public page "Förderprogramm in Zahlen" (issue 15): no login, aggregates only, cacheable."""

from __future__ import annotations

from datetime import date

from app.extensions import db
from app.monitoring import geo
from tests.monitoring import helpers as m


def test_public_page_needs_no_login_and_is_cacheable(client, app):
    with app.app_context():
        m.consult(m.ZITTAU, date(2020, 3, 1))
        m.approved(m.ZITTAU)
        db.session.commit()
    response = client.get("/programm-in-zahlen")
    assert response.status_code == 200
    assert "public" in response.headers["Cache-Control"]
    assert "max-age=600" in response.headers["Cache-Control"]
    html = response.get_data(as_text=True)
    assert "Förderprogramm in Zahlen" in html and geo.ATTRIBUTION in html
    assert "10.000,00" in html
    # aggregates only: no person, no e-mail address, no file reference
    assert "@" not in html.split("<footer")[0].split("</header>")[-1]
    assert "Test Nutzerin" not in html and "Beraterin" not in html


def test_footer_links_the_public_page(client):
    assert 'href="/programm-in-zahlen"' in client.get("/datenquellen").get_data(as_text=True)
