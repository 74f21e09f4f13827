"""Applicant pages through the HTTP interface: editor steps, documents, submission, downloads."""

from __future__ import annotations

import io
import json
import re

import pytest

from app.demo import MINIMAL_PDF
from app.extensions import db
from app.grants.models import Application, Status
from tests import factories


def _app_of(email: str) -> Application:
    from app.auth.models import User

    user = db.session.execute(db.select(User).filter_by(email=email)).scalar_one()
    return db.session.execute(
        db.select(Application).filter_by(organisation_id=user.organisation_id)
    ).scalar_one()


def test_my_applications_lists_and_creates(applicant_client, app):
    page = applicant_client.get("/antraege")
    assert page.status_code == 200
    assert "Meine Anträge" in page.get_data(as_text=True)
    response = applicant_client.post("/antraege/neu", data={"funding_year": "2027"})
    assert response.status_code == 302
    assert "/bearbeiten/general" in response.headers["Location"]


def test_editor_steps_render_and_save(applicant_client, app):
    applicant_client.post("/antraege/neu", data={"funding_year": "2027"})
    with app.app_context():
        app_id = _app_of(applicant_client.user_email).id
    base = f"/antraege/{app_id}/bearbeiten"
    for step in ("general", "kpr", "finance", "documents", "submit"):
        assert applicant_client.get(f"{base}/{step}").status_code == 200, step
    response = applicant_client.post(
        f"{base}/general",
        data={
            "title": "KPR",
            "purpose": "Zweck",
            "project_start": "01.01.2027",
            "project_end": "31.12.2027",
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/kpr")
    with app.app_context():
        application = db.session.get(Application, app_id)
        assert application.title == "KPR"
        assert application.project_start.isoformat() == "2027-01-01"


def test_invalid_date_keeps_input_and_shows_german_error(applicant_client, app):
    applicant_client.post("/antraege/neu", data={"funding_year": "2027"})
    with app.app_context():
        app_id = _app_of(applicant_client.user_email).id
    response = applicant_client.post(
        f"/antraege/{app_id}/bearbeiten/general",
        data={"title": "Mein Titel", "project_start": "32.13.27"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Bitte geben Sie ein Datum im Format TT.MM.JJJJ ein." in html
    assert 'value="Mein Titel"' in html and 'value="32.13.27"' in html
    assert 'class="error-summary"' in html


def test_finance_plan_saves_lines_and_cents(applicant_client, app):
    applicant_client.post("/antraege/neu", data={"funding_year": "2027"})
    with app.app_context():
        app_id = _app_of(applicant_client.user_email).id
    data = {
        "lines-0-category": "staff",
        "lines-0-description": "Koordination",
        "lines-0-pay_group": "11",
        "lines-0-pay_step": "3",
        "lines-0-qualification": "university_applied",
        "lines-0-fte": "0,5",
        "lines-0-months": "12",
        "lines-0-amount": "25.000,00",
        "lines-1-category": "running",
        "lines-1-description": "Befragung",
        "lines-1-amount": "1.234,56",
        "lines-1-investive": "y",
        "own_share_cash": "2.623,46",
        "third_party": "0",
        "requested_grant": "23.611,10",
    }
    response = applicant_client.post(f"/antraege/{app_id}/bearbeiten/finance", data=data)
    errors = re.findall(r"error-message[^<]*<[^<]*</span>([^<]*)", response.get_data(as_text=True))
    assert response.status_code == 302, errors
    with app.app_context():
        application = db.session.get(Application, app_id)
        assert [ln.amount_cents for ln in application.lines] == [2_500_000, 123_456]
        assert application.lines[0].fte_permille == 500
        assert application.lines[1].investive is True
        assert application.requested_grant_cents == 2_361_110


def test_finance_bad_amount_is_reported_at_the_field(applicant_client, app):
    applicant_client.post("/antraege/neu", data={"funding_year": "2027"})
    with app.app_context():
        app_id = _app_of(applicant_client.user_email).id
    response = applicant_client.post(
        f"/antraege/{app_id}/bearbeiten/finance",
        data={
            "lines-0-category": "running",
            "lines-0-description": "X",
            "lines-0-amount": "12,3x",
            "requested_grant": "abc",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.count("Bitte geben Sie einen Betrag wie 1.234,56 ein.") >= 2
    assert 'value="12,3x"' in html


def test_document_upload_rejects_wrong_magic_bytes(applicant_client, app):
    applicant_client.post("/antraege/neu", data={"funding_year": "2027"})
    with app.app_context():
        app_id = _app_of(applicant_client.user_email).id
    response = applicant_client.post(
        f"/antraege/{app_id}/bearbeiten/documents",
        data={
            "type_code": "project_description",
            "file": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "beschreibung.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Dieser Dateityp wird nicht angenommen" in response.get_data(as_text=True)


def test_document_upload_and_download_as_attachment(applicant_client, app):
    applicant_client.post("/antraege/neu", data={"funding_year": "2027"})
    with app.app_context():
        app_id = _app_of(applicant_client.user_email).id
    response = applicant_client.post(
        f"/antraege/{app_id}/bearbeiten/documents",
        data={
            "type_code": "project_description",
            "file": (io.BytesIO(MINIMAL_PDF), "../../etc/Beschreibung.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        doc = db.session.get(Application, app_id).documents[0]
        assert doc.original_name == "Beschreibung.pdf"
        assert re.fullmatch(r"[0-9a-f]{32}", doc.stored_name)
        doc_id = doc.id
    download = applicant_client.get(f"/antraege/{app_id}/dokumente/{doc_id}")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.data == MINIMAL_PDF


@pytest.mark.pdf
def test_submit_through_the_form_freezes_pdf_and_json(applicant_client, app):
    with app.app_context():
        from app.auth.models import User

        user = db.session.execute(
            db.select(User).filter_by(email=applicant_client.user_email)
        ).scalar_one()
        application = factories.complete_application(
            user, project_start=__import__("datetime").date(2027, 6, 1)
        )
        app_id = application.id
        db.session.commit()
    # Today (2026-11-24 or later) is after the window for 2027: late, needs a justification.
    response = applicant_client.post(
        f"/antraege/{app_id}/bearbeiten/submit", data={"confirm": "y", "action": "submit"}
    )
    assert response.status_code == 422
    assert "begründen" in response.get_data(as_text=True)
    response = applicant_client.post(
        f"/antraege/{app_id}/bearbeiten/submit",
        data={
            "confirm": "y",
            "action": "submit",
            "late_justification": "Ratsbeschluss erst im November.",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        application = db.session.get(Application, app_id)
        assert application.status is Status.SUBMITTED
        assert application.is_late is True
    pdf = applicant_client.get(f"/antraege/{app_id}/einreichungen/1.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    data = json.loads(applicant_client.get(f"/antraege/{app_id}/einreichungen/1.json").data)
    assert data["reference"].startswith("LPR-KP-2027-")
    assert data["totals"]["difference_cents"] == 0
    detail = applicant_client.get(f"/antraege/{app_id}")
    assert "Eingereicht" in detail.get_data(as_text=True)
    # Submitted applications are no longer editable.
    again = applicant_client.post(f"/antraege/{app_id}/bearbeiten/general", data={"title": "x"})
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/antraege/{app_id}")


def test_a_step_tab_on_the_submit_step_never_submits(applicant_client, app):
    """Issue 11: with the confirmation ticked, clicking "1. Allgemeines" (a submit button of the
    same form) submitted and froze the application. Now it keeps the typed justification and
    goes to the step."""
    with app.app_context():
        from app.auth.models import User

        user = db.session.execute(
            db.select(User).filter_by(email=applicant_client.user_email)
        ).scalar_one()
        app_id = factories.complete_application(
            user, project_start=__import__("datetime").date(2027, 6, 1)
        ).id
        db.session.commit()
    response = applicant_client.post(
        f"/antraege/{app_id}/bearbeiten/submit",
        data={"confirm": "y", "goto": "general", "late_justification": "Ratsbeschluss im Mai."},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/antraege/{app_id}/bearbeiten/general")
    with app.app_context():
        application = db.session.get(Application, app_id)
        assert application.status is not Status.SUBMITTED
        assert application.submitted_at is None
        assert application.late_justification == "Ratsbeschluss im Mai."
    page = applicant_client.get(f"/antraege/{app_id}/bearbeiten/submit").get_data(as_text=True)
    assert "Ratsbeschluss im Mai." in page


def test_other_organisation_gets_404(applicant_client, other_applicant_client, app):
    applicant_client.post("/antraege/neu", data={"funding_year": "2027"})
    with app.app_context():
        app_id = _app_of(applicant_client.user_email).id
    for url in (
        f"/antraege/{app_id}",
        f"/antraege/{app_id}/bearbeiten/general",
        f"/antraege/{app_id}/einreichungen/1.pdf",
    ):
        assert other_applicant_client.get(url).status_code == 404, url
    assert other_applicant_client.post(f"/antraege/{app_id}/zurueckziehen").status_code == 404


def test_reviewer_records_consultation(reviewer_client, app):
    page = reviewer_client.get("/beratungen")
    assert page.status_code == 200
    with app.app_context():
        org_id = factories.organisation("14628270").id
    response = reviewer_client.post(
        "/beratungen",
        data={"organisation": str(org_id), "held_on": "02.09.2026", "adviser": "Frau Beraterin"},
    )
    assert response.status_code == 302
    future = reviewer_client.post(
        "/beratungen", data={"organisation": str(org_id), "held_on": "02.09.2099", "adviser": "X"}
    )
    assert future.status_code == 422
    assert "Zukunft" in future.get_data(as_text=True)


def test_organisation_page_records_kpr_resolution(applicant_client):
    page = applicant_client.get("/kommune")
    assert page.status_code == 200 and "Polizeidirektion Görlitz" in page.get_data(as_text=True)
    response = applicant_client.post(
        "/kommune",
        data={
            "kind": "resolution",
            "dated": "01.03.2021",
            "partner": "Stadtrat",
            "file": (io.BytesIO(MINIMAL_PDF), "beschluss.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert "01.03.2021" in applicant_client.get("/kommune").get_data(as_text=True)


def test_manager_maintains_the_postal_address_on_the_organisation_page(app):
    from tests.conftest import _client_for

    applicant_client = _client_for(app, role="applicant", ags="14626610", manager=True)
    page = applicant_client.get("/kommune").get_data(as_text=True)
    assert "Postanschrift" in page
    response = applicant_client.post(
        "/kommune/anschrift", data={"address": "Markt 1\r\n02763 Zittau"}
    )
    assert response.status_code == 302
    page = applicant_client.get("/kommune").get_data(as_text=True)
    assert "Markt 1<br>02763 Zittau" in page
    refused = applicant_client.post("/kommune/anschrift", data={"address": "x\n" * 8})
    assert refused.status_code == 303
    with app.app_context():
        from app.auth.models import User

        user = db.session.execute(
            db.select(User).filter_by(email=applicant_client.user_email)
        ).scalar_one()
        assert user.organisation.address == "Markt 1\n02763 Zittau"


def test_submission_pdf_shows_staff_details_without_none(app_ctx, monkeypatch):
    """Issue 11: the submitted-application PDF printed "VZÄ, None Monate" for a staff line
    without months and "(Eigenleistung) (Eigenleistung)"."""
    from app.auth.models import User
    from app.grants import queries
    from app.grants.models import LineCategory
    from app.grants.services import snapshot

    pages: list[str] = []
    monkeypatch.setattr(snapshot, "render_pdf", lambda html: pages.append(html) or b"%PDF-1.4")
    user = factories.create_user("applicant", ags="14626610")
    application = factories.complete_application(user)
    in_kind = (
        next(line for line in application.lines if line.in_kind)
        if any(line.in_kind for line in application.lines)
        else None
    )
    staff = next(line for line in application.lines if line.category is LineCategory.STAFF)
    staff.months = None
    application.reference = "LPR-KP-2027-00001"
    application.applicant_name_at_submission = "Zittau, Stadt"
    application.applicant_ags_at_submission = "14626610"
    if in_kind is not None:
        in_kind.description = "Leitung (Eigenleistung)"
    db.session.flush()
    snapshot.build_snapshot(
        application,
        queries.totals_for(application),
        version=1,
        submitted_at=factories.IN_WINDOW,
        submitted_by=db.session.get(User, user.id),
    )
    (html,) = pages
    assert "None" not in html
    assert "(Eigenleistung) (Eigenleistung)" not in html
    assert "overflow-wrap: anywhere" not in html  # no breaks in the middle of words
