"""Manual checklist items with notes beside the automatic rule checks, typed input kept on a
refused change request, and queue filters that say when a value is invalid (issue 11)."""

from __future__ import annotations

import json
import re

import pytest

from app.auth.models import User
from app.common.audit import AuditEvent
from app.common.errors import DomainError, InvalidTransition, NotPermitted
from app.extensions import db
from app.grants import queries
from app.grants.models import Application, ManualCheck, Status
from app.grants.services import review
from tests import factories


def _user(email):
    return db.session.execute(db.select(User).filter_by(email=email)).scalar_one()


@pytest.fixture
def submitted_id(app):
    with app.app_context():
        user = factories.create_user("applicant", email="k@zittau.test-kp.de")
        application_id = factories.submitted_application(user).id
        db.session.commit()
        return application_id


def _entries(**items):
    return [review.ManualEntry(item=k, done=v[0], note=v[1]) for k, v in items.items()]


# --- service ------------------------------------------------------------------------------------


def test_manual_checks_are_saved_per_application_and_audited(app_ctx, submitted_id):
    reviewer = factories.create_user("reviewer", email="rv@lpr.test-kp.de")
    application = db.session.get(Application, submitted_id)
    changed = review.save_manual_checks(
        reviewer,
        application,
        _entries(job_description=(True, "EG 11 passt zur Stelle"), cooperation_signed=(False, "")),
    )
    assert changed == 1  # an unticked item without a note is no change
    saved = queries.manual_checks_of(application)
    assert set(saved) == {"job_description"}
    assert saved["job_description"].done and saved["job_description"].checked_by_id == reviewer.id
    # saving the same again changes nothing; a new note is one change, audited with both values
    assert (
        review.save_manual_checks(
            reviewer, application, _entries(job_description=(True, "EG 11 passt zur Stelle"))
        )
        == 0
    )
    review.save_manual_checks(
        reviewer, application, _entries(job_description=(False, "Stellenbeschreibung fehlt"))
    )
    db.session.flush()
    events = (
        db.session.execute(
            db.select(AuditEvent)
            .where(AuditEvent.action == "manual_check_saved")
            .order_by(AuditEvent.id)
        )
        .scalars()
        .all()
    )
    assert [json.loads(e.details)["done"] for e in events] == [True, False]
    last = json.loads(events[-1].details)
    assert last["note_before"] == "EG 11 passt zur Stelle"
    assert last["note"] == "Stellenbeschreibung fehlt" and last["item"] == "job_description"
    assert db.session.execute(db.select(db.func.count(ManualCheck.id))).scalar_one() == 1


def test_manual_checks_refuse_unknown_items_long_notes_applicants_and_closed_reviews(
    app_ctx, submitted_id
):
    reviewer = factories.create_user("reviewer", email="rv@lpr.test-kp.de")
    application = db.session.get(Application, submitted_id)
    with pytest.raises(DomainError, match="Unbekannter Prüfpunkt"):
        review.save_manual_checks(reviewer, application, _entries(bogus=(True, "")))
    with pytest.raises(DomainError, match="höchstens 2000 Zeichen"):
        review.save_manual_checks(
            reviewer, application, _entries(job_description=(True, "x" * 2001))
        )
    applicant = db.session.get(User, application.created_by_id)
    with pytest.raises(NotPermitted):
        review.save_manual_checks(applicant, application, _entries(job_description=(True, "")))
    application.status = Status.REJECTED
    with pytest.raises(InvalidTransition):
        review.save_manual_checks(reviewer, application, _entries(job_description=(True, "")))


# --- routes -------------------------------------------------------------------------------------


def _manual_post(**items):
    data = {}
    for index, code in enumerate(code for code, _label in review.MANUAL_CHECKS):
        done, note = items.get(code, (False, ""))
        data[f"items-{index}-item"] = code
        data[f"items-{index}-note"] = note
        if done:
            data[f"items-{index}-done"] = "y"
    return data


def test_reviewer_ticks_manual_items_with_notes_and_sees_them_on_decision_page(
    reviewer_client, submitted_id, app
):
    page = reviewer_client.get(f"/pruefung/{submitted_id}").get_data(as_text=True)
    for label in (
        "Unterlagen vollständig und lesbar",
        "Stellenbeschreibung plausibel",
        "Kooperationsvereinbarung unterzeichnet",
    ):
        assert label in page
    response = reviewer_client.post(
        f"/pruefung/{submitted_id}/pruefpunkte",
        data=_manual_post(
            documents_complete=(True, "alle Anlagen lesbar"),
            cooperation_signed=(False, "Unterschrift PD fehlt"),
        ),
    )
    assert response.status_code == 302 and response.location.endswith("#pruefliste")
    page = reviewer_client.get(f"/pruefung/{submitted_id}").get_data(as_text=True)
    assert "alle Anlagen lesbar" in page and "Unterschrift PD fehlt" in page
    assert reviewer_client.post(f"/pruefung/{submitted_id}/uebernehmen").status_code == 302
    form = reviewer_client.get(f"/pruefung/{submitted_id}/entscheidung").get_data(as_text=True)
    assert "1 von 5 manuellen Prüfpunkten erledigt" in form
    assert "Unterschrift PD fehlt" in form and "Kooperationsvereinbarung unterzeichnet" in form


def test_too_long_manual_note_is_refused_at_the_field_and_kept(reviewer_client, submitted_id, app):
    long_note = "Lang " * 500
    response = reviewer_client.post(
        f"/pruefung/{submitted_id}/pruefpunkte",
        data=_manual_post(job_description=(True, long_note)),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="items-1-note-error"' in html and "Höchstens 2000 Zeichen." in html
    assert long_note.strip() in html
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(ManualCheck.id))).scalar_one() == 0


def test_change_request_with_bad_date_keeps_message_and_sections(
    reviewer_client, submitted_id, app
):
    response = reviewer_client.post(
        f"/pruefung/{submitted_id}/nachforderung",
        data={
            "message": "Bitte die Kooperationsvereinbarung nachreichen",
            "sections": ["kpr", "documents"],
            "due_on": "31.02.2027",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="due_on-error"' in html and 'aria-invalid="true"' in html
    assert 'value="31.02.2027"' in html
    assert "Bitte die Kooperationsvereinbarung nachreichen</textarea>" in html
    assert re.search(r'<option selected value="kpr">|<option value="kpr" selected', html)
    assert re.search(
        r'<option selected value="documents">|<option value="documents" selected', html
    )
    with app.app_context():
        assert db.session.get(Application, submitted_id).status is Status.SUBMITTED


def test_change_request_with_past_deadline_is_refused_at_the_date(
    reviewer_client, submitted_id, app
):
    response = reviewer_client.post(
        f"/pruefung/{submitted_id}/nachforderung",
        data={"message": "Bitte ergänzen", "due_on": "01.01.2020"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="due_on-error"[^>]*>.*Vergangenheit', html, re.S)
    assert "Bitte ergänzen</textarea>" in html
    with app.app_context():
        assert db.session.get(Application, submitted_id).status is Status.SUBMITTED


def test_queue_filters_with_invalid_values_show_a_message(reviewer_client, submitted_id):
    response = reviewer_client.get(
        "/pruefung?jahr=20x7&min=abc&max=1.000,00&status=bogus&kreis=99999&sortierung=x"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nicht alle Filter konnten angewendet werden" in html
    assert "Bitte geben Sie ein Förderjahr wie 2027 ein." in html
    assert "Bitte geben Sie einen Betrag wie 10.000,00 ein." in html
    assert "Unbekannter Status" in html and "Unbekannter Landkreis" in html
    assert "Unbekannte Sortierung" in html
    assert 'value="20x7"' in html and 'value="abc"' in html  # typed input kept
    # valid filters still apply: max 1.000 € hides the 40.000 € application
    assert "LPR-KP-2027" not in html
    ok = reviewer_client.get("/pruefung?jahr=2027&min=1.000,00").get_data(as_text=True)
    assert "Nicht alle Filter" not in ok and "LPR-KP-2027" in ok


def test_queue_filter_min_above_max_is_reported(reviewer_client, submitted_id):
    html = reviewer_client.get("/pruefung?min=50.000&max=10.000").get_data(as_text=True)
    assert "Der Betrag „bis“ ist kleiner als der Betrag „von“." in html


def test_refused_manual_checks_show_the_reason_on_the_page(reviewer_client, submitted_id, app):
    data = _manual_post(job_description=(True, "passt"))
    data["items-1-item"] = "erfunden"
    response = reviewer_client.post(f"/pruefung/{submitted_id}/pruefpunkte", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Manuelle Prüfpunkte: Unbekannter Prüfpunkt." in html
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(ManualCheck.id))).scalar_one() == 0
