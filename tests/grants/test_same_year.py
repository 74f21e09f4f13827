"""A second application of the same organisation for the same funding year: RULES.md has no
one-per-year rule, so it is allowed but the applicant is warned at creation and at submission."""

from __future__ import annotations

from app.auth.models import User
from app.extensions import db
from app.grants.models import Application
from app.grants.services import applications as svc
from tests import factories


def _user(email: str) -> User:
    return db.session.execute(db.select(User).filter_by(email=email)).scalar_one()


def test_second_application_for_the_same_year_is_warned_at_creation(app, applicant_client):
    first = applicant_client.post("/antraege/neu", data={"funding_year": "2027"})
    assert "Achtung" not in applicant_client.get(first.headers["Location"]).get_data(as_text=True)
    second = applicant_client.post("/antraege/neu", data={"funding_year": "2027"})
    assert second.status_code == 302
    html = applicant_client.get(second.headers["Location"]).get_data(as_text=True)
    assert "bereits den Antrag" in html and "Förderjahr 2027" in html
    assert "flash-warning" in html
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Application.id))).scalar_one() == 2


def test_second_application_is_warned_on_the_submit_step_but_not_for_another_year(
    app, applicant_client
):
    with app.app_context():
        user = _user(applicant_client.user_email)
        factories.submitted_application(user)
        second = factories.complete_application(user)
        other_year = svc.create_application(user, 2028)
        ids = second.id, other_year.id
        db.session.commit()
    html = applicant_client.get(f"/antraege/{ids[0]}/bearbeiten/submit").get_data(as_text=True)
    assert "bereits den Antrag „Koordinierungsstelle“" in html
    html = applicant_client.get(f"/antraege/{ids[1]}/bearbeiten/submit").get_data(as_text=True)
    assert "bereits den Antrag" not in html
