"""Consultations: correct and delete (refused while a submitted application rests on it, R1),
audited; the municipality picker can be searched without JavaScript (issue 11)."""

from __future__ import annotations

from datetime import date

from app.auth.models import User
from app.common.audit import AuditEvent
from app.extensions import db
from app.grants.models import Application, Consultation, Status
from app.grants.services import applications as svc
from tests import factories


def _only_consultation() -> Consultation:
    return db.session.execute(db.select(Consultation)).scalar_one()


def _audit(action: str) -> AuditEvent:
    return db.session.execute(db.select(AuditEvent).filter_by(action=action)).scalar_one()


def test_reviewer_corrects_a_consultation_and_it_is_audited(app, reviewer_client):
    with app.app_context():
        factories.consultation(factories.organisation("14628270"), held_on=date(2026, 9, 1))
        cid = _only_consultation().id
        db.session.commit()
    url = f"/beratungen/{cid}"
    page = reviewer_client.get(url).get_data(as_text=True)
    assert 'value="01.09.2026"' in page
    assert f'href="{url}"' in reviewer_client.get("/beratungen").get_data(as_text=True)
    bad = reviewer_client.post(url, data={"held_on": "01.09.2099", "adviser": "Frau B"})
    assert bad.status_code == 422 and 'id="held_on-error"' in bad.get_data(as_text=True)
    ok = reviewer_client.post(url, data={"held_on": "03.09.2026", "adviser": "Frau B"})
    assert ok.status_code == 302
    with app.app_context():
        consultation = _only_consultation()
        assert consultation.held_on == date(2026, 9, 3) and consultation.adviser == "Frau B"
        assert "2026-09-01" in _audit("consultation_corrected").details


def test_consultation_without_dependent_application_is_deleted_and_drafts_fall_back(
    app, reviewer_client, applicant_client
):
    with app.app_context():
        user = db.session.execute(
            db.select(User).filter_by(email=applicant_client.user_email)
        ).scalar_one()
        factories.consultation(user.organisation)
        draft = svc.create_application(user, 2027)
        assert draft.status is Status.CONSULTED
        cid, app_id = _only_consultation().id, draft.id
        db.session.commit()
    response = reviewer_client.post(f"/beratungen/{cid}/loeschen")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Consultation, cid) is None
        assert db.session.get(Application, app_id).status is Status.DRAFT
        assert _audit("consultation_deleted")


def test_consultation_a_submitted_application_rests_on_cannot_be_deleted_or_moved_later(
    app, reviewer_client, applicant_client
):
    with app.app_context():
        user = db.session.execute(
            db.select(User).filter_by(email=applicant_client.user_email)
        ).scalar_one()
        application = factories.submitted_application(user)  # submitted 01.10.2026
        reference = application.reference
        cid = _only_consultation().id
        db.session.commit()
    response = reviewer_client.post(f"/beratungen/{cid}/loeschen")
    assert response.status_code == 303
    html = reviewer_client.get("/beratungen").get_data(as_text=True)
    assert reference in html and "kann nicht gelöscht" in html
    moved = reviewer_client.post(
        f"/beratungen/{cid}", data={"held_on": "02.10.2026", "adviser": "Beraterin"}
    )
    assert moved.status_code == 422 and reference in moved.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Consultation, cid).held_on == date(2026, 9, 1)


def test_municipality_picker_is_searchable_without_javascript(app, reviewer_client):
    full = reviewer_client.get("/beratungen").get_data(as_text=True)
    assert full.count("<option") > 400
    assert 'data-filter-select="organisation"' in full and "js/filter-select.js" in full
    html = reviewer_client.get("/beratungen?suche=Zittau").get_data(as_text=True)
    assert html.count("<option") == 1 and "Zittau" in html
    assert "1 Kommune gefunden" in html
    by_ags = reviewer_client.get("/beratungen?suche=14628270").get_data(as_text=True)
    assert "Pirna" in by_ags and by_ags.count("<option") == 1
