"""API fixtures: a bearer token per role (committed into the test transaction)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.auth import tokens
from app.auth.models import User
from app.extensions import db
from tests.factories import create_user

ZITTAU = "14626610"
PIRNA = "14628270"


@pytest.fixture
def api(app: Flask) -> FlaskClient:
    """A client without any session cookie."""
    return app.test_client()


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def make_token(app: Flask) -> Callable[..., dict[str, str]]:
    """``make_token(role, ags=…, scopes=…)`` → Authorization header of a fresh user's token."""

    def make(
        role: str = "applicant",
        *,
        ags: str | None = None,
        scopes: list[str] | None = None,
        days: int = 30,
        user_id: int | None = None,
    ) -> dict[str, str]:
        with app.app_context():
            owner = db.session.get(User, user_id) if user_id else create_user(role, ags=ags)
            new = tokens.create_token(owner, "test", list(tokens.scopes_for(owner)), days)
            if scopes is not None:
                new.token.scopes = " ".join(scopes)  # also beyond the role (matrix tests)
            db.session.commit()
            return bearer(new.secret)

    return make


def problem_of(response: Any) -> dict[str, Any]:
    assert response.mimetype == "application/problem+json", response.data[:300]
    body: dict[str, Any] = response.get_json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == response.status_code
    return body
