"""Messages say what is really wrong (issue 11): an impossible date is not a format error, an
end before the start is reported at the end date, long labels are not doubled with a colon."""

from __future__ import annotations

import re

from app.extensions import db
from tests import factories


def _take(app, reviewer_client):
    with app.app_context():
        user = factories.create_user("applicant", email="m@test-kp.de")
        app_id = factories.submitted_application(user).id
        db.session.commit()
    assert reviewer_client.post(f"/pruefung/{app_id}/uebernehmen").status_code == 302
    return app_id


def _form_values(html: str) -> dict[str, str]:
    values = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', html):
        values[name] = text.strip()
    values.pop("csrf_token", None)
    values["financing_type"] = "share"
    return values


def test_decision_period_end_before_start_is_reported_at_the_end_date(app, reviewer_client):
    app_id = _take(app, reviewer_client)
    url = f"/pruefung/{app_id}/entscheidung"
    data = _form_values(reviewer_client.get(url).get_data(as_text=True))
    data["period_start"], data["period_end"] = "01.06.2027", "31.01.2027"
    response = reviewer_client.post(url, data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="period_end-error"' in html
    assert "vor dem Beginn" in html
    assert 'id="vn_deadline-error"' not in html


def _new(app, client) -> int:
    from app.auth.models import User
    from app.grants.models import Application

    client.post("/antraege/neu", data={"funding_year": "2027"})
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(email=client.user_email)).scalar_one()
        return db.session.execute(
            db.select(Application.id).filter_by(organisation_id=user.organisation_id)
        ).scalar_one()


def test_impossible_date_is_reported_as_a_date_that_does_not_exist(app, applicant_client):
    app_id = _new(app, applicant_client)
    response = applicant_client.post(
        f"/antraege/{app_id}/bearbeiten/general", data={"project_start": "31.02.2027"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Dieses Datum gibt es nicht." in html
    assert "im Format TT.MM.JJJJ" not in html
    assert 'value="31.02.2027"' in html


def test_huge_plan_amount_is_reported_as_too_large(app, applicant_client):
    app_id = _new(app, applicant_client)
    response = applicant_client.post(
        f"/antraege/{app_id}/bearbeiten/finance",
        data={
            "lines-0-category": "running",
            "lines-0-description": "Befragung",
            "lines-0-amount": "99999999999999",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Betrag zu groß – bitte prüfen Sie die Eingabe." in html
    assert "Betrag wie 1.234,56" not in html


def test_a_cleared_saved_plan_line_is_kept_with_a_message(app, applicant_client):
    app_id = _new(app, applicant_client)
    url = f"/antraege/{app_id}/bearbeiten/finance"
    first = {
        "lines-0-category": "running",
        "lines-0-description": "Befragung",
        "lines-0-amount": "1.000,00",
        "action": "stay",
    }
    assert applicant_client.post(url, data=first).status_code == 302
    html = applicant_client.get(url).get_data(as_text=True)
    line_id = re.search(r'name="lines-0-id" type="hidden" value="(\d+)"', html).group(1)
    cleared = {"lines-0-id": line_id, "lines-0-category": "running", "action": "stay"}
    response = applicant_client.post(url, data=cleared)
    assert response.status_code == 422
    assert "Diese Zeile ist leer." in response.get_data(as_text=True)
    removed = {**cleared, "lines-0-remove": "y"}
    assert applicant_client.post(url, data=removed).status_code == 302


def test_error_summary_does_not_put_a_colon_after_a_full_stop(app, applicant_client):
    with app.app_context():
        from app.auth.models import User

        user = db.session.execute(
            db.select(User).filter_by(email=applicant_client.user_email)
        ).scalar_one()
        app_id = factories.complete_application(user).id
        db.session.commit()
    response = applicant_client.post(
        f"/antraege/{app_id}/bearbeiten/submit", data={"action": "submit"}
    )
    html = response.get_data(as_text=True)
    assert "Bitte bestätigen Sie die Angaben." in html
    assert ".: Bitte bestätigen" not in html
    assert "begonnen wurde: Bitte bestätigen" in html
