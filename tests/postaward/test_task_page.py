"""The task page ("Meine Aufgaben"): open change requests are the applicant's tasks; finance
staff are not addressed as the Bewilligungsbehörde (issue 11)."""

from __future__ import annotations

from datetime import timedelta

from app.auth.models import User
from app.common.db import today
from app.extensions import db
from app.grants.services import applications as svc
from app.grants.services import review
from tests import factories
from tests.conftest import _client_for


def _user(email: str) -> User:
    return db.session.execute(db.select(User).filter_by(email=email)).scalar_one()


def test_open_change_request_with_a_deadline_is_a_task_of_the_applicant(
    app, applicant_client, other_applicant_client
):
    due = today() + timedelta(days=14)
    with app.app_context():
        application = factories.submitted_application(_user(applicant_client.user_email))
        reviewer = factories.create_user("reviewer")
        review.start_review(reviewer, application)
        review.request_changes(
            reviewer,
            application,
            message="Bitte den Finanzierungsplan korrigieren.",
            sections=["finance"],
            due_on=due,
        )
        app_id = application.id
        db.session.commit()
    html = applicant_client.get("/aufgaben").get_data(as_text=True)
    assert "Keine offenen Aufgaben." not in html
    assert "Bitte den Finanzierungsplan korrigieren." in html
    assert f"{due:%d.%m.%Y}" in html and f'href="/antraege/{app_id}"' in html
    assert "Bitte den Finanzierungsplan" not in other_applicant_client.get("/aufgaben").get_data(
        as_text=True
    )
    with app.app_context():
        application = svc.queries.get_application_for(_user(applicant_client.user_email), app_id)
        svc.submit_application(application, _user(applicant_client.user_email))
        db.session.commit()
    html = applicant_client.get("/aufgaben").get_data(as_text=True)
    assert "Bitte den Finanzierungsplan korrigieren." not in html


def test_finance_task_page_does_not_speak_of_the_bewilligungsbehoerde(app):
    finance = _client_for(app, role="finance", email="kasse@lpr.test-kp.de")
    html = finance.get("/aufgaben").get_data(as_text=True)
    assert "Bewilligungsbehörde" not in html
    assert "Kasse" in html
