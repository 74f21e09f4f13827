"""Personal API tokens: shown once, stored hashed, scoped, expiring, revocable, audited."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from app.auth.models import ApiToken
from app.common.audit import AuditEvent
from app.common.db import utcnow
from app.extensions import db
from tests.api.conftest import bearer, problem_of

TOKEN_RE = re.compile(r"kp_[A-Za-z0-9_-]{43}")


def _create(client, **data):
    page = client.get("/auth/tokens")
    assert page.status_code == 200
    form = {"name": "Haushalt", "scopes": ["read:applications"], "days": "30", **data}
    return client.post("/auth/tokens", data=form)


def test_token_is_shown_once_and_stored_as_sha256(app, applicant_client, api):
    response = _create(applicant_client)
    assert response.status_code == 201
    secret = TOKEN_RE.search(response.get_data(as_text=True)).group(0)
    with app.app_context():
        row = db.session.execute(db.select(ApiToken)).scalar_one()
        assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in (row.token_hash, row.prefix) and secret.startswith(row.prefix)
        assert row.scopes == "read:applications"
        events = db.session.execute(
            db.select(AuditEvent.action).where(AuditEvent.object_type == "api_token")
        ).scalars()
        assert list(events) == ["api_token_created"]
    listing = applicant_client.get("/auth/tokens").get_data(as_text=True)
    assert secret not in listing and row.prefix in listing
    assert api.get("/api/v1/applications", headers=bearer(secret)).status_code == 200


def test_token_scope_outside_the_role_is_refused(applicant_client):
    response = _create(applicant_client, scopes=["read:finance"])
    assert response.status_code == 422
    assert not TOKEN_RE.search(response.get_data(as_text=True))


def test_revoked_token_gives_401_and_is_audited(app, applicant_client, api):
    secret = TOKEN_RE.search(_create(applicant_client).get_data(as_text=True)).group(0)
    with app.app_context():
        token_id = db.session.execute(db.select(ApiToken.id)).scalar_one()
    page = applicant_client.get("/auth/tokens").get_data(as_text=True)
    assert f"/auth/tokens/{token_id}/widerrufen" in page
    assert applicant_client.post(f"/auth/tokens/{token_id}/widerrufen").status_code == 302
    response = api.get("/api/v1/applications", headers=bearer(secret))
    assert response.status_code == 401
    problem_of(response)
    with app.app_context():
        actions = db.session.execute(
            db.select(AuditEvent.action).where(AuditEvent.object_type == "api_token")
        ).scalars()
        assert sorted(actions) == ["api_token_created", "api_token_revoked"]


def test_revoking_another_users_token_is_404(app, applicant_client, other_applicant_client):
    _create(other_applicant_client)
    with app.app_context():
        token_id = db.session.execute(db.select(ApiToken.id)).scalar_one()
    assert applicant_client.post(f"/auth/tokens/{token_id}/widerrufen").status_code == 404


def test_expired_token_gives_401(app, api, make_token):
    headers = make_token("applicant")
    with app.app_context():
        token = db.session.execute(db.select(ApiToken)).scalar_one()
        token.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert api.get("/api/v1/applications", headers=headers).status_code == 401


def test_unknown_or_malformed_token_gives_401(api):
    for value in ("Bearer kp_nope", "Bearer ", "Basic abc", "Bearer " + "x" * 500):
        response = api.get("/api/v1/applications", headers={"Authorization": value})
        assert response.status_code == 401, value
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_no_token_gives_401(api):
    problem_of(api.get("/api/v1/applications"))


def test_api_ignores_the_login_session(applicant_client):
    """A session cookie authorises nothing on the API (so no CSRF is needed there)."""
    assert applicant_client.get("/api/v1/applications").status_code == 401


def _reviewer(app):
    from app.auth.models import User

    with app.app_context():
        return db.session.execute(
            db.select(User).where(User.email == "r@lpr.test-kp.de")
        ).scalar_one()


def test_ministry_token_needs_a_current_second_factor_code(app, reviewer_client):
    from tests.factories import totp_code

    without = _create(reviewer_client, totp="")
    assert without.status_code == 422
    assert not TOKEN_RE.search(without.get_data(as_text=True))
    wrong = _create(reviewer_client, totp="000000")
    assert wrong.status_code == 422
    response = _create(reviewer_client, totp=totp_code(_reviewer(app)))
    assert response.status_code == 201
    assert TOKEN_RE.search(response.get_data(as_text=True))


def test_tokens_are_listed_on_the_account_page(applicant_client):
    _create(applicant_client, name="Ratsinfo")
    page = applicant_client.get("/auth/konto").get_data(as_text=True)
    assert "Ratsinfo" in page and "/auth/tokens" in page
