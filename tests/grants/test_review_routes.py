"""Review pages over HTTP, and the constant number of SQL statements on the main pages."""

from __future__ import annotations

import collections
import re
from datetime import date

import pytest

from app.auth.models import User
from app.extensions import db
from app.grants.models import (
    Application,
    KprRecordKind,
    LineCategory,
    SmallGrantReason,
    Status,
)
from app.grants.services import applications as svc
from app.grants.services import review
from tests import factories


def _user(email):
    return db.session.execute(db.select(User).filter_by(email=email)).scalar_one()


def _make_submitted(app, n, ags="14626610"):
    with app.app_context():
        ids = []
        for i in range(n):
            user = factories.create_user("applicant", ags=ags, email=f"q{i}-{ags}@test-kp.de")
            ids.append(factories.submitted_application(user).id)
        db.session.commit()
    return ids


def test_queue_and_review_page_render_for_reviewer(reviewer_client, app):
    (app_id,) = _make_submitted(app, 1)
    page = reviewer_client.get("/pruefung")
    assert page.status_code == 200 and "LPR-KP-2027" in page.get_data(as_text=True)
    filtered = reviewer_client.get("/pruefung?kreis=14628&status=submitted&min=abc&seite=99")
    assert filtered.status_code == 200
    review = reviewer_client.get(f"/pruefung/{app_id}")
    assert review.status_code == 200
    html = review.get_data(as_text=True)
    assert "Prüfliste" in html and "R5" in html
    assert reviewer_client.post(f"/pruefung/{app_id}/uebernehmen").status_code == 302
    form = reviewer_client.get(f"/pruefung/{app_id}/entscheidung")
    assert form.status_code == 200 and "Beträge je Haushaltsjahr" in form.get_data(as_text=True)
    assert 'name="pass_through_allowed"' in form.get_data(as_text=True)  # R30
    assert 'name="pass_through_recipient"' in form.get_data(as_text=True)


def test_applicant_cannot_open_review_pages(applicant_client, app):
    (app_id,) = _make_submitted(app, 1)
    assert applicant_client.get("/pruefung").status_code == 403
    assert applicant_client.get(f"/pruefung/{app_id}").status_code == 403


def test_change_request_over_http_reaches_the_applicant(reviewer_client, app):
    (app_id,) = _make_submitted(app, 1)
    response = reviewer_client.post(
        f"/pruefung/{app_id}/nachforderung",
        data={"message": "Bitte Qualifikationsnachweis ergänzen", "sections": ["documents"]},
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Application, app_id).status is Status.INCOMPLETE
        from app.common.mail import OutboxMessage

        mails = db.session.execute(db.select(OutboxMessage)).scalars().all()
        assert any("Qualifikationsnachweis" in m.body for m in mails)


@pytest.mark.parametrize("url", ["/pruefung", "/antraege"])
def test_list_pages_use_a_constant_number_of_statements(
    app, url, reviewer_client, applicant_client, count_statements
):
    client = reviewer_client if url == "/pruefung" else applicant_client
    _make_submitted(app, 2)
    with count_statements() as few:
        assert client.get(url).status_code == 200
    _make_submitted(app, 12, ags="14628270")
    with app.app_context():
        # more applications of the applicant's own organisation, too
        user = _user(applicant_client.user_email)
        for _ in range(5):
            factories.complete_application(user)
        db.session.commit()
    with count_statements() as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few), (few, many)


def test_review_and_detail_pages_use_a_constant_number_of_statements(
    app, reviewer_client, count_statements
):
    (small,) = _make_submitted(app, 1)
    with app.app_context():
        svc.record_kpr(
            _user("q0-14626610@test-kp.de"),
            kind=KprRecordKind.RESOLUTION,
            dated=date(2025, 1, 1),
            partner="",
            notes="",
            data=factories.MINIMAL_PDF,
            filename="beschluss.pdf",
        )
        review.save_manual_checks(
            _user(reviewer_client.user_email),
            db.session.get(Application, small),
            [review.ManualEntry("documents_complete", True, "")],
        )
        db.session.commit()
    with count_statements() as few:
        assert reviewer_client.get(f"/pruefung/{small}").status_code == 200
        assert reviewer_client.get(f"/antraege/{small}").status_code == 200
    with app.app_context():
        user = factories.create_user("applicant", ags="14628270", email="big@test-kp.de")
        big = factories.complete_application(user)
        lines = [
            svc.LineInput(
                category=LineCategory.RUNNING, description=f"Posten {i}", amount_cents=100
            )
            for i in range(30)
        ]
        svc.save_plan(
            big,
            user,
            lines=lines,
            own_share_cash_cents=300,
            third_party_cents=0,
            third_party_source="",
            requested_grant_cents=2700,
            small_grant_reason=SmallGrantReason.REGIONAL_NEED,
            small_grant_note="",
        )
        # the new page parts grow too: documents, KPR records with files, submitted versions
        for i in range(10):
            svc.add_document(
                big, user, type_code="other", data=factories.MINIMAL_PDF, filename=f"anlage{i}.pdf"
            )
        for kind in (KprRecordKind.RESOLUTION, KprRecordKind.COOPERATION) * 2:
            svc.record_kpr(
                user,
                kind=kind,
                dated=date(2025, 1, 1),
                partner="PD Dresden",
                notes="",
                data=factories.MINIMAL_PDF,
                filename="nachweis.pdf",
            )
        svc.submit_application(big, user, now=factories.IN_WINDOW)
        review.save_manual_checks(
            _user(reviewer_client.user_email),
            big,
            [review.ManualEntry(code, True, "geprüft") for code, _label in review.MANUAL_CHECKS],
        )
        big_id = big.id
        db.session.commit()
    with count_statements() as many:
        assert reviewer_client.get(f"/pruefung/{big_id}").status_code == 200
        assert reviewer_client.get(f"/antraege/{big_id}").status_code == 200

    def shape(seen):
        return collections.Counter(
            re.sub(r"\s+", " ", q)[:90] for q in seen if "SAVEPOINT" not in q
        )

    assert len(many) <= len(few) + 2, (shape(many) - shape(few), shape(few) - shape(many))


def test_queue_page_links_are_capped_around_the_current_page():
    """Issue 13: first, last and three either side, gaps marked, however many pages."""
    from app.grants.queries import QueuePage

    assert QueuePage(items=[], total=8400, page=1, per_page=25).links == [1, 2, 3, 4, None, 336]
    middle = QueuePage(items=[], total=8400, page=100, per_page=25).links
    assert middle == [1, None, 97, 98, 99, 100, 101, 102, 103, None, 336]
    assert QueuePage(items=[], total=8400, page=336, per_page=25).links == [
        1,
        None,
        333,
        334,
        335,
        336,
    ]
    assert QueuePage(items=[], total=100, page=2, per_page=25).links == [1, 2, 3, 4]
    assert QueuePage(items=[], total=0, page=1, per_page=25).links == [1]


def test_queue_page_size_choice(reviewer_client, app):
    _make_submitted(app, 3)
    page = reviewer_client.get("/pruefung?anzahl=100").get_data(as_text=True)
    assert '<option value="100" selected>' in page
    refused = reviewer_client.get("/pruefung?anzahl=7")
    assert refused.status_code == 200  # the other filters still apply, 25 per page
    html = refused.get_data(as_text=True)
    assert "Bitte wählen Sie 25, 50 oder 100 Anträge je Seite." in html
    assert '<option value="25" selected>' in html
