"""Upload too large: one limit from the configuration, told at the field and on the 413 page,
which leads back to the form (issue 11)."""

from __future__ import annotations

from app.auth.models import User
from app.extensions import db
from app.grants.services import applications as svc
from tests.test_security import _multipart


def test_upload_over_the_request_limit_gives_a_german_page_with_the_field_limit_and_a_way_back(
    app, applicant_client
):
    with app.app_context():
        user = db.session.execute(
            db.select(User).filter_by(email=applicant_client.user_email)
        ).scalar_one()
        app_id = svc.create_application(user, 2027).id
        db.session.commit()
    url = f"/antraege/{app_id}/bearbeiten/documents"
    mb = app.config["UPLOAD_MAX_BYTES"] // (1024 * 1024)
    assert mb == 8
    assert f"höchstens {mb} MB." in applicant_client.get(url).get_data(as_text=True)
    body, content_type = _multipart(
        {"type_code": "project_description"}, "gross.pdf", b"%PDF-1.4\n" + b"0" * (12 << 20)
    )
    response = applicant_client.post(url, data=body, content_type=content_type)
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert f"höchstens {mb} MB je Datei" in html
    assert "10 MB" not in html
    assert f'href="{url}"' in html and "Zurück zum Formular" in html
