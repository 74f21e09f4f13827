"""Issue 14, finding 5: upload names without bidi/invisible characters, comments with a limit."""

from __future__ import annotations

import io

from app.common.cleaning import visible_text
from app.demo import MINIMAL_PDF
from app.extensions import db
from app.grants.models import Application, ApplicationEvent
from app.grants.services.documents import safe_filename
from tests.grants.test_routes import _app_of

RLO_NAME = "Bericht\u202efdp.exe"  # shows as "Berichtexe.pdf" in a left-to-right context


def test_safe_filename_strips_bidi_and_zero_width_characters():
    assert safe_filename(RLO_NAME) == "Berichtfdp.exe"
    assert safe_filename("Plan\u200b\u2066.pdf\u2069\ufeff") == "Plan.pdf"
    assert safe_filename("a\x00b\u061c.pdf") == "ab.pdf"
    assert visible_text("Zittau \u2067Ost\u2069") == "Zittau Ost"


def test_uploaded_name_is_stored_and_shown_without_the_override(applicant_client, app):
    applicant_client.post("/antraege/neu", data={"funding_year": "2027"})
    with app.app_context():
        app_id = _app_of(applicant_client.user_email).id
    response = applicant_client.post(
        f"/antraege/{app_id}/bearbeiten/documents",
        data={"type_code": "project_description", "file": (io.BytesIO(MINIMAL_PDF), RLO_NAME)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        doc = db.session.get(Application, app_id).documents[0]
        assert doc.original_name == "Berichtfdp.exe"
        doc.original_name = RLO_NAME  # a name stored before the fix is shown safely too
        doc_id = doc.id
        db.session.commit()
    page = applicant_client.get(f"/antraege/{app_id}/bearbeiten/documents")
    body = page.get_data(as_text=True)
    assert "Berichtfdp.exe" in body and "\u202e" not in body
    download = applicant_client.get(f"/antraege/{app_id}/dokumente/{doc_id}")
    assert "\u202e" not in download.headers["Content-Disposition"]


def test_comment_of_100000_characters_is_refused_with_a_german_message(app, applicant_client):
    applicant_client.post("/antraege/neu", data={"funding_year": "2027"})
    with app.app_context():
        app_id = _app_of(applicant_client.user_email).id
    response = applicant_client.post(
        f"/antraege/{app_id}/kommentar", data={"body": "x" * 100_000}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "5000 Zeichen" in response.get_data(as_text=True)
    with app.app_context():
        events = db.session.execute(
            db.select(ApplicationEvent).where(ApplicationEvent.application_id == app_id)
        ).scalars()
        assert all(len(e.message or "") < 100_000 for e in events)
