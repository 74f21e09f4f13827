"""Finance pages over HTTP: four eyes, idempotent order form, payment-run download, bank account
form with re-authentication, start notice."""

from __future__ import annotations

import re

import pytest

from app.auth import services
from app.auth.models import User
from app.extensions import db
from app.finance.models import OrderStatus, PayoutOrder
from app.postaward.services import start
from tests import factories
from tests.conftest import _client_for, _next_code
from tests.finance.factories import approved_grant, confirmed_account


@pytest.fixture
def finance_clients(app):
    return (
        _client_for(app, role="finance", email="k1@lpr.test-kp.de"),
        _client_for(app, role="finance", email="k2@lpr.test-kp.de"),
    )


def _running(app, applicant_email="a@zittau.test-kp.de"):
    from datetime import date

    with app.app_context():
        applicant = db.session.execute(
            db.select(User).filter_by(email=applicant_email)
        ).scalar_one_or_none() or factories.create_user("applicant", email=applicant_email)
        application = approved_grant(applicant)
        confirmed_account(applicant, factories.create_user("finance"))
        start.notify_start(applicant, application, date(2026, 11, 2))
        app_id = application.id
        db.session.commit()
    return app_id


def _code(client):
    """The next second-factor code of the client's user (re-authentication before money moves)."""
    return _next_code(client, client.user_email)


def _key(html):
    return re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', html).group(1)


def test_finance_flow_over_http(app, finance_clients):
    k1, k2 = finance_clients
    _running(app)
    page = k1.get("/kasse")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    instalment_id = int(re.search(r"/kasse/raten/(\d+)/auftrag", html).group(1))
    key = _key(html)
    url = f"/kasse/raten/{instalment_id}/auftrag"
    assert k1.post(url, data={"idempotency_key": key}).status_code == 302
    assert k1.post(url, data={"idempotency_key": key}).status_code == 302  # double click
    with app.app_context():
        orders = db.session.execute(db.select(PayoutOrder)).scalars().all()
        assert len(orders) == 1
        order_id = orders[0].id
    # The preparer sees no release button; a forced release is refused.
    assert f"/kasse/auftraege/{order_id}/freigeben" not in k1.get("/kasse").get_data(as_text=True)
    refused = k1.post(f"/kasse/auftraege/{order_id}/freigeben", data={"totp": _code(k1)})
    assert refused.status_code == 303
    # The 2027 instalment released in 2026: warning and a required confirmation (issue 12, F9).
    page = k2.get("/kasse").get_data(as_text=True)
    assert "im Haushaltsjahr 2027 veranschlagt" in page and 'name="confirm_early"' in page
    early = k2.post(f"/kasse/auftraege/{order_id}/freigeben", data={"totp": _code(k2)})
    assert early.status_code == 303
    release = k2.post(
        f"/kasse/auftraege/{order_id}/freigeben",
        data={"totp": _code(k2), "confirm_early": "y"},
    )
    assert release.status_code == 302
    run = k2.post("/kasse/zahlungslauf", data={"execution_date": "04.01.2099", "totp": _code(k2)})
    assert run.status_code == 302
    with app.app_context():
        order = db.session.get(PayoutOrder, order_id)
        assert order.status is OrderStatus.IN_RUN
        run_id = order.payment_run_id
    download = k2.get(f"/kasse/zahlungslaeufe/{run_id}.xml")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert b"pain.001.001.09" in download.data and b"<CtrlSum>16000.00</CtrlSum>" in download.data


def test_finance_pages_are_forbidden_for_others(applicant_client, reviewer_client):
    assert applicant_client.get("/kasse").status_code == 403
    assert reviewer_client.get("/kasse").status_code == 403
    assert reviewer_client.post("/kasse/zahlungslauf").status_code == 403


def test_bank_account_form_needs_password_and_valid_iban(applicant_client):
    page = applicant_client.get("/kommune/bankverbindung")
    assert page.status_code == 200
    bad = applicant_client.post(
        "/kommune/bankverbindung",
        data={
            "holder": "Stadt Zittau",
            "iban": "DE00 3704 0044 0532 0130 00",
            "password": factories.PASSWORD,
        },
    )
    assert bad.status_code == 422
    assert "IBAN" in bad.get_data(as_text=True) and 'value="DE00 3704' in bad.get_data(as_text=True)
    wrong = applicant_client.post(
        "/kommune/bankverbindung",
        data={"holder": "Stadt Zittau", "iban": "DE89370400440532013000", "password": "falsch"},
    )
    assert wrong.status_code == 422 and "Passwort ist falsch" in wrong.get_data(as_text=True)
    ok = applicant_client.post(
        "/kommune/bankverbindung",
        data={
            "holder": "Stadt Zittau",
            "iban": "DE89370400440532013000",
            "password": factories.PASSWORD,
        },
    )
    assert ok.status_code == 302
    assert "wartet auf Bestätigung" in applicant_client.get("/kommune/bankverbindung").get_data(
        as_text=True
    )


def test_start_notice_over_http(app, applicant_client):
    from app.grants.models import Application, Status

    with app.app_context():
        applicant = db.session.execute(
            db.select(User).filter_by(email=applicant_client.user_email)
        ).scalar_one()
        application = approved_grant(applicant)
        app_id = application.id
        db.session.commit()
    detail = applicant_client.get(f"/antraege/{app_id}")
    assert "Projektbeginn anzeigen" in detail.get_data(as_text=True)
    assert "Auszahlungsplan" in detail.get_data(as_text=True)
    future = applicant_client.post(
        f"/antraege/{app_id}/vorhabenbeginn", data={"started_on": "01.01.2099"}
    )
    assert future.status_code == 303
    response = applicant_client.post(
        f"/antraege/{app_id}/vorhabenbeginn", data={"started_on": "02.11.2026"}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Application, app_id).status is Status.RUNNING


def test_releasing_money_needs_a_fresh_second_factor_code(app, finance_clients):
    k1, k2 = finance_clients
    _running(app)
    html = k1.get("/kasse").get_data(as_text=True)
    instalment_id = int(re.search(r"/kasse/raten/(\d+)/auftrag", html).group(1))
    k1.post(f"/kasse/raten/{instalment_id}/auftrag", data={"idempotency_key": _key(html)})
    with app.app_context():
        order_id = db.session.execute(db.select(PayoutOrder.id)).scalar_one()
    url = f"/kasse/auftraege/{order_id}/freigeben"
    for data in ({}, {"totp": "000000"}, {"totp": "abc"}):
        refused = k2.post(url, data=data, follow_redirects=True)
        assert "Der Code ist falsch" in refused.get_data(as_text=True)
    code = _code(k2)
    assert k2.post(url, data={"totp": code, "confirm_early": "y"}).status_code == 302
    with app.app_context():
        assert db.session.get(PayoutOrder, order_id).status is OrderStatus.RELEASED
        k2_user = db.session.execute(db.select(User).filter_by(email=k2.user_email)).scalar_one()
        assert services.lock_of(k2_user, "127.0.0.1").failures == 3  # wrong codes count
    # The same code a second time (replay) does not start a payment run.
    replay = k2.post(
        "/kasse/zahlungslauf",
        data={"execution_date": "04.01.2099", "totp": code},
        follow_redirects=True,
    )
    assert "Der Code ist falsch oder schon benutzt" in replay.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(PayoutOrder, order_id).status is OrderStatus.RELEASED
