"""The reviewer's view of an application: the whole submitted content (KPR data, plan with totals,
staff, documents with download links, versions) and reviewer wording; the applicant keeps the list
of their uploads after submitting (issue 11)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from app.auth.models import User
from app.extensions import db
from app.grants.models import Application, KprRecordKind
from app.grants.services import applications as svc
from app.grants.services import review
from tests import factories


def _user(email):
    return db.session.execute(db.select(User).filter_by(email=email)).scalar_one()


@pytest.fixture
def submitted_id(app, applicant_client):
    """A submitted application of the logged-in Zittau applicant, with a KPR resolution."""
    with app.app_context():
        user = _user(applicant_client.user_email)
        svc.record_kpr(
            user,
            kind=KprRecordKind.RESOLUTION,
            dated=date(2025, 3, 4),
            partner="",
            notes="",
            data=factories.MINIMAL_PDF,
            filename="beschluss-stadtrat.pdf",
        )
        application = factories.submitted_application(user)
        db.session.commit()
        return application.id


def _text(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True).replace("\u00a0", " "))


def test_reviewer_page_shows_plan_totals_staff_kpr_documents_and_versions(
    reviewer_client, submitted_id, app
):
    html = _text(reviewer_client.get(f"/pruefung/{submitted_id}"))
    # plan lines and totals (50.000 € plan, 40.000 € requested, 80 % rate)
    assert "Koordination" in html and "Befragung" in html
    assert "EG 11 Stufe 3" in html and "0,5 VZÄ" in html and "12 Monate" in html
    assert "Ausgaben gesamt" in html and "50.000,00 €" in html
    assert "Beantragte Zuwendung" in html and "40.000,00 €" in html
    assert "Eigenanteil gesamt" in html and "10.000,00 € (20,00 %)" in html
    assert re.search(
        r"Fördersatz \(bezogen auf zuwendungsfähige Ausgaben\)</th> ?<td[^>]*>80,00 %", html
    )
    # KPR data with its document
    assert "Ordnungsamt" in html and "Beschluss zur Gründung des KPR" in html
    assert "beschluss-stadtrat.pdf" in html and "/kommune/dokumente/" in html
    # documents with download links
    with app.app_context():
        docs = db.session.get(Application, submitted_id).documents
        assert docs
        for doc in docs:
            assert f"/antraege/{submitted_id}/dokumente/{doc.id}" in html
    # versions: PDF and JSON of each
    assert f"/antraege/{submitted_id}/einreichungen/1.pdf" in html
    assert f"/antraege/{submitted_id}/einreichungen/1.json" in html
    assert "Antragsdaten und Dokumente ansehen" not in html


def test_reviewer_downloads_documents_and_kpr_files(reviewer_client, submitted_id, app):
    with app.app_context():
        doc = db.session.get(Application, submitted_id).documents[0]
        doc_id = doc.id
    response = reviewer_client.get(f"/antraege/{submitted_id}/dokumente/{doc_id}")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
    html = reviewer_client.get(f"/pruefung/{submitted_id}").get_data(as_text=True)
    kpr_link = re.search(r'href="(/kommune/dokumente/\d+)"', html)
    assert kpr_link and reviewer_client.get(kpr_link.group(1)).status_code == 200
    assert reviewer_client.get(f"/antraege/{submitted_id}/einreichungen/1.json").status_code == 200


def test_other_organisation_cannot_download_documents(other_applicant_client, submitted_id, app):
    with app.app_context():
        doc_id = db.session.get(Application, submitted_id).documents[0].id
    assert (
        other_applicant_client.get(f"/antraege/{submitted_id}/dokumente/{doc_id}").status_code
        == 404
    )
    assert other_applicant_client.get(f"/antraege/{submitted_id}").status_code == 404


def test_applicant_keeps_list_of_uploads_after_submitting(applicant_client, submitted_id, app):
    html = _text(applicant_client.get(f"/antraege/{submitted_id}"))
    with app.app_context():
        docs = db.session.get(Application, submitted_id).documents
        for doc in docs:
            assert f"/antraege/{submitted_id}/dokumente/{doc.id}" in html
    assert "project_description.pdf" in html
    # read-only: no remove buttons on the detail page
    assert "/entfernen" not in html
    assert "Nachricht an die Bewilligungsbehörde" in html
    doc_id = docs[0].id
    assert applicant_client.get(f"/antraege/{submitted_id}/dokumente/{doc_id}").status_code == 200


def test_detail_page_speaks_to_the_reviewer_in_reviewer_wording(reviewer_client, submitted_id):
    html = _text(reviewer_client.get(f"/antraege/{submitted_id}"))
    assert "Nachricht an die Bewilligungsbehörde" not in html
    assert "Nachricht an die Kommune" in html
    assert "Prüfung durch die Bewilligungsbehörde abwarten" not in html
    assert f'href="/pruefung/{submitted_id}"' in html


def test_compare_page_reads_plan_changes_in_german(reviewer_client, applicant_client, app):
    with app.app_context():
        user = _user(applicant_client.user_email)
        reviewer = factories.create_user("reviewer", email="r2@lpr.test-kp.de")
        application = factories.submitted_application(user)
        review.request_changes(
            reviewer, application, message="Bitte Personalkosten prüfen", sections=[], due_on=None
        )
        lines = [
            svc.LineInput(
                id=line.id,
                category=line.category,
                description=line.description,
                amount_cents=line.amount_cents - 150_000
                if line.position == 0
                else line.amount_cents,
                pay_group=line.pay_group,
                pay_step=line.pay_step,
                qualification=line.qualification,
                fte_permille=line.fte_permille,
                months=line.months,
            )
            for line in application.lines
        ]
        svc.save_plan(
            application,
            user,
            lines=lines,
            own_share_cash_cents=application.own_share_cash_cents,
            third_party_cents=0,
            third_party_source="",
            requested_grant_cents=application.requested_grant_cents - 150_000,
            small_grant_reason=None,
            small_grant_note="",
        )
        svc.submit_application(application, user, now=factories.IN_WINDOW)
        application_id = application.id
        db.session.commit()
    html = _text(reviewer_client.get(f"/pruefung/{application_id}/vergleich?von=1&bis=2"))
    assert "Personalkosten Koordination</th>" in html
    assert "<del>25.000,00 €</del>" in html and "<ins>23.500,00 €</ins>" in html
    assert "Beantragte Zuwendung</th>" in html and "<ins>38.500,00 €</ins>" in html
    assert "Fördersatz</th>" in html and re.search(r"<ins>\d+,\d\d %</ins>", html)
    assert not re.search(r"_cents|_bp|lines\[", html)
