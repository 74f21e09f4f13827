"""The proof-of-use form as the applicant and the reviewer use it (issue 11)."""

from __future__ import annotations

from datetime import date

import pytest

from app.auth.models import User
from app.extensions import db
from app.grants.models import Application, Status
from app.postaward.services import proof as vn
from app.postaward.services import start
from tests import factories
from tests.finance.factories import approved_grant, confirmed_account


def _user(email: str) -> User:
    return db.session.execute(db.select(User).filter_by(email=email)).scalar_one()


@pytest.fixture
def grant(app, applicant_client):
    """A running grant of the applicant client's organisation (Zittau), proof not yet due."""
    with app.app_context():
        applicant = _user(applicant_client.user_email)
        application = approved_grant(applicant)
        confirmed_account(applicant, factories.create_user("finance"))
        start.notify_start(applicant, application, date(2026, 11, 2))
        data = {
            "id": application.id,
            "lines": [line.id for line in application.lines],
            "amounts": [line.amount_cents for line in application.lines],
            "vn_deadline": vn.approved_decision(application).vn_deadline,
        }
        db.session.commit()
    return data


def _post(client, grant, **overrides):
    url = f"/antraege/{grant['id']}/verwendungsnachweis"
    data = {
        "kind": "provisional",
        "report": "Lagebild erstellt.",
        "actual_own": "10.000,00",
        "actual_third_party": "",
        "publicity_confirmed": "y",
    }
    for line_id, amount in zip(grant["lines"], grant["amounts"], strict=True):
        data[f"actual-{line_id}"] = f"{amount // 100},00"
    data.update(overrides)
    return client.post(url, data=data)


def test_proof_form_shows_the_deadline_of_the_bescheid_before_the_purpose_is_fulfilled(
    grant, applicant_client
):
    html = applicant_client.get(f"/antraege/{grant['id']}/verwendungsnachweis").get_data(
        as_text=True
    )
    assert "Einzureichen bis ." not in html
    assert f"Einzureichen bis {grant['vn_deadline']:%d.%m.%Y}." in html


def test_proof_amount_errors_are_shown_at_the_line_not_at_the_report(grant, applicant_client):
    line = grant["lines"][0]
    response = _post(applicant_client, grant, **{f"actual-{line}": "-5,00"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="actual-{line}-error">Der Betrag darf nicht negativ sein.' in html
    assert 'id="report-error"' not in html
    assert 'value="-5,00"' in html  # typed input kept


def test_proof_too_large_amount_says_so(grant, applicant_client):
    line = grant["lines"][0]
    response = _post(applicant_client, grant, **{f"actual-{line}": "99999999999999"})
    assert response.status_code == 422
    assert "Betrag zu groß – bitte prüfen Sie die Eingabe." in response.get_data(as_text=True)


def test_proof_refusal_of_the_service_about_figures_is_shown_above_the_table(
    grant, applicant_client, monkeypatch
):
    from app.common.errors import DomainError

    def refuse(*_args, **_kwargs):
        raise DomainError("Beträge dürfen nicht negativ sein.", field="lines")

    monkeypatch.setattr(vn, "submit_proof", refuse)
    response = _post(applicant_client, grant)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="zahlen-error">Beträge dürfen nicht negativ sein.' in html
    assert 'id="report-error"' not in html


def test_proof_warns_when_no_own_share_is_given_against_a_planned_one(app, grant, applicant_client):
    response = _post(applicant_client, grant, actual_own="")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="actual_own-error"' in html
    assert "geplant waren 10.000,00" in html
    assert 'name="own_zero_confirmed"' in html
    confirmed = _post(applicant_client, grant, actual_own="", own_zero_confirmed="y")
    assert confirmed.status_code == 302
    with app.app_context():
        assert db.session.get(Application, grant["id"]).status is Status.VN_RECEIVED


@pytest.fixture
def received(app, grant, applicant_client):
    assert _post(applicant_client, grant).status_code == 302
    return grant


def test_proof_incomplete_needs_a_reason_at_the_field(app, received, reviewer_client):
    url = f"/pruefung/{received['id']}/verwendungsnachweis"
    assert reviewer_client.get(url).status_code == 200
    response = reviewer_client.post(f"{url}/unvollstaendig", data={"note": "  "})
    assert response.status_code == 422
    assert 'id="note-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Application, received["id"]).status is Status.VN_RECEIVED
    ok = reviewer_client.post(f"{url}/unvollstaendig", data={"note": "Sachbericht fehlt"})
    assert ok.status_code == 302
    with app.app_context():
        assert db.session.get(Application, received["id"]).status is Status.VN_INCOMPLETE
