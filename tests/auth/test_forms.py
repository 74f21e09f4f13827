"""The auth forms convert themselves into the arguments of their service (``service_input``)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict

from app.auth.forms import ApiTokenForm, InviteForm, LoginForm, PasswordChangeForm
from app.auth.models import Role
from tests import factories


def _form(app: Flask, cls: type, data: dict[str, object]) -> Any:
    with app.test_request_context(method="POST"):
        return cls(formdata=MultiDict(data), meta={"csrf": False})


def test_login_form_gives_the_credentials(app: Flask) -> None:
    form = _form(app, LoginForm, {"email": "a@example.org", "password": "geheim"})
    assert form.service_input() == {"email": "a@example.org", "password": "geheim"}


def test_password_form_gives_current_and_new(app: Flask) -> None:
    data = {"current_password": "alt", "new_password": "neu", "confirm": "neu"}
    form = _form(app, PasswordChangeForm, data)
    assert form.service_input() == {"current": "alt", "new": "neu"}


def test_token_form_gives_name_scopes_and_days(app: Flask) -> None:
    form = _form(app, ApiTokenForm, {"name": "Skript", "days": "30"})
    assert form.service_input() == {"name": "Skript", "scopes": [], "days": 30}


@pytest.mark.usefixtures("app_ctx")
def test_invite_form_looks_up_the_organisation(app: Flask) -> None:
    org = factories.organisation()
    factories.flush()
    data = {"email": "neu@example.org", "role": Role.APPLICANT.value, "organisation": str(org.id)}
    form = _form(app, InviteForm, data)
    assert form.service_input() == {
        "email": "neu@example.org",
        "roles": [Role.APPLICANT],
        "organisation": org,
        "is_org_manager": False,
    }


@pytest.mark.usefixtures("app_ctx")
@pytest.mark.parametrize("raw", ["", "²", "0", "-1", "999999999999", "abc"])
def test_invite_form_ignores_implausible_organisation_ids(app: Flask, raw: str) -> None:
    form = _form(app, InviteForm, {"email": "neu@example.org", "organisation": raw})
    assert form.service_input()["organisation"] is None
