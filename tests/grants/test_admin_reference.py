"""Admin maintenance of TV-L caps (R8), windows (R2) and required documents (R4)."""

from __future__ import annotations

from datetime import date

import pytest

from app.common.errors import DomainError, NotPermitted
from app.extensions import db
from app.grants import queries
from app.grants.models import DocumentType
from app.grants.services import reference
from tests import factories


@pytest.fixture
def admin(app_ctx):
    return factories.create_user("admin")


def test_pay_scale_for_a_new_year_is_used_for_that_funding_year(admin):
    reference.set_pay_scale(
        admin, year=2028, pay_group=11, monthly_cents=500_000, source="TV-L ab 01.03.2027"
    )
    assert queries.monthly_caps(2028)[11] == 500_000
    assert queries.monthly_caps(2027)[11] == 474_843  # the 2026 table still applies to 2027


def test_pay_scale_refuses_other_groups_and_missing_source(admin):
    with pytest.raises(DomainError, match="EG 7"):
        reference.set_pay_scale(admin, year=2028, pay_group=9, monthly_cents=1, source="x")
    with pytest.raises(DomainError, match="Quelle"):
        reference.set_pay_scale(admin, year=2028, pay_group=7, monthly_cents=1, source=" ")


def test_only_admins_maintain_reference_data(app_ctx):
    reviewer = factories.create_user("reviewer")
    with pytest.raises(NotPermitted):
        reference.set_window(reviewer, year=2028, opens=date(2027, 8, 1), closes=date(2027, 9, 30))


def test_window_is_configurable_per_year(admin):
    reference.set_window(admin, year=2028, opens=date(2027, 8, 1), closes=date(2027, 9, 30))
    assert queries.window_for(2028) == (date(2027, 8, 1), date(2027, 9, 30))
    assert queries.window_for(2029) == (date(2028, 8, 31), date(2028, 10, 15))
    with pytest.raises(DomainError):
        reference.set_window(admin, year=2028, opens=date(2027, 9, 1), closes=date(2027, 8, 1))


def test_document_type_required_flag_drives_R4(admin):
    applicant = factories.create_user("applicant")
    application = factories.complete_application(applicant)
    reference.set_document_required(admin, "cooperation", True)
    problems = queries.submission_context(application, date(2026, 10, 1))
    from app.grants.services.rules import check_r4_documents

    missing = check_r4_documents(application, problems.document_types, problems.documents)
    assert any("Kooperationsvereinbarung" in p.message for p in missing)
    assert db.session.get(DocumentType, "cooperation").required


def test_admin_page_renders_and_saves(admin_client):
    assert admin_client.get("/verwaltung/stammdaten").status_code == 200
    response = admin_client.post(
        "/verwaltung/tvl",
        data={"year": "2028", "pay_group": "14", "monthly": "6.000,00", "source": "Tabelle 2028"},
    )
    assert response.status_code == 302
    bad = admin_client.post(
        "/verwaltung/tvl",
        data={"year": "2028", "pay_group": "14", "monthly": "6.000,0x", "source": "Tabelle"},
    )
    assert bad.status_code == 422
    assert "Bitte geben Sie einen Betrag wie 1.234,56 ein." in bad.get_data(as_text=True)


def test_admin_page_forbidden_for_reviewers(reviewer_client):
    assert reviewer_client.get("/verwaltung/stammdaten").status_code == 403
