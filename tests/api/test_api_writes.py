"""Idempotent plan PUT, problem+json in German and English, 429."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.common.audit import AuditEvent
from app.extensions import db
from app.grants.models import Application
from tests.api.conftest import PIRNA, ZITTAU, problem_of
from tests.factories import complete_application, create_user

PLAN: dict[str, Any] = {
    "lines": [
        {"category": "running", "description": "Befragung", "amount_cents": 1_000_000},
        {"category": "running", "description": "Druck", "amount_cents": 250_050},
    ],
    "own_share_cash_cents": 250_050,
    "requested_grant_cents": 1_000_000,
}


@pytest.fixture
def draft(app) -> dict[str, int]:
    with app.app_context():
        zittau = create_user("applicant", ags=ZITTAU)
        pirna = create_user("applicant", ags=PIRNA)
        application = complete_application(zittau, documents=False)
        db.session.commit()
        return {"zittau": zittau.id, "pirna": pirna.id, "id": application.id}


def _put(api, headers, application_id, body, key="k-1"):
    extra = {"Idempotency-Key": key} if key else {}
    return api.put(
        f"/api/v1/applications/{application_id}/plan",
        data=json.dumps(body),
        content_type="application/json",
        headers={**headers, **extra},
    )


def test_put_plan_saves_through_the_service_and_a_replay_returns_the_stored_response(
    app, api, make_token, draft
):
    headers = make_token(user_id=draft["zittau"])
    first = _put(api, headers, draft["id"], PLAN)
    assert first.status_code == 200, first.data[:500]
    body = first.get_json()
    assert [line["amount"] for line in body["lines"]] == ["10000.00", "2500.50"]
    assert body["requested_grant_cents"] == 1_000_000 and body["requested_grant"] == "10000.00"
    replay = _put(api, headers, draft["id"], PLAN)
    assert replay.status_code == 200 and replay.data == first.data
    assert replay.headers["Idempotent-Replayed"] == "true"
    with app.app_context():
        application = db.session.get(Application, draft["id"])
        assert [line.amount_cents for line in application.lines] == [1_000_000, 250_050]
        saved = db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == "api_plan_saved")
        ).scalars()
        assert len(list(saved)) == 1  # the replay changed nothing


def test_same_key_with_another_body_is_409(api, make_token, draft):
    headers = make_token(user_id=draft["zittau"])
    assert _put(api, headers, draft["id"], PLAN).status_code == 200
    other = {**PLAN, "own_share_cash_cents": 1}
    problem_of(_put(api, headers, draft["id"], other))
    assert _put(api, headers, draft["id"], other).status_code == 409


def test_put_without_idempotency_key_is_428(api, make_token, draft):
    response = _put(api, make_token(user_id=draft["zittau"]), draft["id"], PLAN, key=None)
    assert response.status_code == 428
    problem_of(response)


def test_put_on_another_organisations_draft_is_404(api, make_token, draft):
    response = _put(api, make_token(user_id=draft["pirna"]), draft["id"], PLAN)
    assert response.status_code == 404


def test_put_needs_the_write_scope_and_the_applicant_role(api, make_token, draft):
    read_only = make_token(user_id=draft["zittau"], scopes=["read:applications"])
    assert _put(api, read_only, draft["id"], PLAN).status_code == 403
    reviewer = make_token("reviewer", scopes=["write:applications"])
    assert _put(api, reviewer, draft["id"], PLAN).status_code == 403


def test_put_on_a_submitted_application_is_409(app, api, make_token):
    from tests.factories import submitted_application

    with app.app_context():
        user = create_user("applicant", ags=ZITTAU)
        application_id = submitted_application(user).id
        db.session.commit()
        user_id = user.id
    response = _put(api, make_token(user_id=user_id), application_id, PLAN)
    assert response.status_code == 409
    problem_of(response)


def test_invalid_plan_is_422_problem_with_field_errors(api, make_token, draft):
    bad = {**PLAN, "lines": [{"category": "nope", "amount_cents": -1}]}
    response = _put(api, make_token(user_id=draft["zittau"]), draft["id"], bad)
    assert response.status_code == 422
    assert "lines" in problem_of(response)["errors"]["json"]


def test_problem_json_follows_accept_language(api):
    german = problem_of(api.get("/api/v1/applications"))
    english = problem_of(api.get("/api/v1/applications", headers={"Accept-Language": "en"}))
    assert german["title"] == "Nicht angemeldet"
    assert english["title"] == "Not authenticated"
    assert english["detail"].startswith("A valid API token")


def test_rate_limit_gives_429_with_retry_after(app, api, make_token, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", 3)
    headers = make_token("reviewer")
    statuses = [api.get("/api/v1/programme", headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert api.get("/api/v1/programme", headers=make_token("reviewer")).status_code == 200
    response = api.get("/api/v1/programme", headers=headers)
    assert int(response.headers["Retry-After"]) in range(1, 61)
    problem_of(response)


def test_openapi_is_3_1_and_documents_every_api_route(app, api):
    spec = api.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    rules = {
        str(rule).replace("<int:", "{").replace(">", "}")
        for rule in app.url_map.iter_rules()
        if str(rule).startswith("/api/v1/") and rule.endpoint.startswith("api.")
    }
    assert rules - {"/api/v1/docs"} == set(spec["paths"])


def test_docs_page_works_offline_with_the_csp(api):
    response = api.get("/api/v1/docs")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    assert "/api/v1/applications/{application_id}/plan" in page
    assert 'src="http' not in page and 'href="http' not in page  # nothing from a CDN
