"""The proof-of-use form marks an in-kind line once (issue 11: no doubled "(Eigenleistung)")."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask

from app.common.db import simulated_now
from app.extensions import db
from app.postaward.services import proof as vn
from app.postaward.services import start
from tests import factories
from tests.conftest import login
from tests.finance.factories import approved_grant, confirmed_account


def test_in_kind_line_is_marked_once_in_the_proof_form(app: Flask) -> None:
    with app.app_context():
        applicant = factories.create_user("applicant", email="vn@zittau.test-kp.de")
        finance = factories.create_user("finance")
        application = approved_grant(applicant)
        confirmed_account(applicant, finance)
        start.notify_start(applicant, application, date(2026, 11, 2))
        # T11: not before the approval period (from 01.01.2027): reported on a simulated day
        with simulated_now(datetime(2027, 2, 15, 9, 0, tzinfo=UTC)):
            vn.declare_purpose_fulfilled(applicant, application, date(2027, 2, 10))
        line = application.lines[-1]
        line.in_kind, line.description = True, "Leitung (Eigenleistung)"
        other = application.lines[0]
        other.in_kind, other.description = True, "Räume der Stadt"
        db.session.commit()
        url = f"/antraege/{application.id}/verwendungsnachweis"
    client = app.test_client()
    assert login(client, "vn@zittau.test-kp.de", factories.PASSWORD).status_code == 302
    html = client.get(url).get_data(as_text=True)
    assert "Leitung (Eigenleistung)" in html
    assert "(Eigenleistung) (Eigenleistung)" not in html
    assert "Räume der Stadt</label> (Eigenleistung)" in html
