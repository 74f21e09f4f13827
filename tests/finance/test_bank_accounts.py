"""Bank accounts as recipients and finance use them: holder kept as typed, withdraw a pending
account, reject one with a reason (audited), prompt approved recipients without one (issue 11)."""

from __future__ import annotations

import pytest

from app.auth.models import User
from app.common.audit import AuditEvent
from app.extensions import db
from app.finance.models import BankAccount, BankAccountStatus
from app.finance.services import payouts
from tests import factories
from tests.conftest import _client_for
from tests.finance.factories import IBAN, approved_grant


def _user(email: str) -> User:
    return db.session.execute(db.select(User).filter_by(email=email)).scalar_one()


def _enter(client, holder="Große Kreisstadt Görlitz"):
    return client.post(
        "/kommune/bankverbindung",
        data={"holder": holder, "iban": IBAN, "password": factories.PASSWORD},
    )


def _account(app) -> tuple[int, BankAccountStatus, str]:
    with app.app_context():
        account = db.session.execute(db.select(BankAccount)).scalar_one()
        return account.id, account.status, account.holder


@pytest.fixture
def finance_client(app):
    return _client_for(app, role="finance", email="kasse@lpr.test-kp.de")


def test_holder_is_shown_as_typed_and_transliterated_only_in_the_sepa_name(app, applicant_client):
    assert _enter(applicant_client).status_code == 302
    _, _, holder = _account(app)
    assert holder == "Große Kreisstadt Görlitz"
    assert "Große Kreisstadt Görlitz" in applicant_client.get("/kommune/bankverbindung").get_data(
        as_text=True
    )
    from app.finance import sepa

    assert sepa.transliterate(holder) == "Grosse Kreisstadt Goerlitz"


def test_applicant_withdraws_a_pending_account(app, applicant_client, other_applicant_client):
    _enter(applicant_client)
    account_id, _, _ = _account(app)
    url = f"/kommune/bankverbindung/{account_id}/zurueckziehen"
    page = applicant_client.get("/kommune/bankverbindung").get_data(as_text=True)
    assert f'action="{url}"' in page
    assert other_applicant_client.post(url).status_code == 303  # not theirs: refused
    assert _account(app)[1] is BankAccountStatus.PENDING
    assert applicant_client.post(url).status_code == 302
    assert _account(app)[1] is BankAccountStatus.WITHDRAWN
    assert "zurückgezogen" in applicant_client.get("/kommune/bankverbindung").get_data(as_text=True)
    assert applicant_client.post(url).status_code == 303  # already settled
    with app.app_context():
        assert db.session.execute(
            db.select(AuditEvent).filter_by(action="bank_account_withdrawn")
        ).scalar_one()


def test_finance_rejects_a_pending_account_with_a_reason_the_applicant_reads(
    app, applicant_client, finance_client
):
    _enter(applicant_client)
    account_id, _, _ = _account(app)
    url = f"/kasse/bankverbindungen/{account_id}/ablehnen"
    assert f'action="{url}"' in finance_client.get("/kasse").get_data(as_text=True)
    assert finance_client.post(url, data={"reason": " "}).status_code == 303
    assert _account(app)[1] is BankAccountStatus.PENDING
    reason = "Kontoinhaber passt nicht zur Kommune."
    assert finance_client.post(url, data={"reason": reason}).status_code == 302
    assert _account(app)[1] is BankAccountStatus.REJECTED
    assert reason in applicant_client.get("/kommune/bankverbindung").get_data(as_text=True)
    with app.app_context():
        event = db.session.execute(
            db.select(AuditEvent).filter_by(action="bank_account_rejected")
        ).scalar_one()
        assert reason in str(event.details)


def test_reject_is_for_finance_only(app, applicant_client):
    _enter(applicant_client)
    account_id, _, _ = _account(app)
    with app.app_context():
        with pytest.raises(Exception, match="Kasse|Haushalt|Finanz"):
            payouts.reject_bank_account(
                _user(applicant_client.user_email), db.session.get(BankAccount, account_id), "x"
            )


def test_approved_applicant_without_account_is_prompted(app, applicant_client):
    with app.app_context():
        application = approved_grant(_user(applicant_client.user_email))
        app_id = application.id
        db.session.commit()
    for url in ("/antraege", f"/antraege/{app_id}"):
        html = applicant_client.get(url).get_data(as_text=True)
        assert "Bankverbindung fehlt" in html and 'href="/kommune/bankverbindung"' in html
    _enter(applicant_client)
    assert "Bankverbindung fehlt" not in applicant_client.get("/antraege").get_data(as_text=True)
