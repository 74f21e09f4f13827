"""Per-request checks of the login session (issue 14): the user load with the device check, and
the second-factor gate — reviewers, approvers, finance and admins who have not set up their
second factor reach nothing but the enrolment page (and logout) after logging in."""

from __future__ import annotations

from flask import Flask, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.auth import services
from app.auth.models import User
from app.extensions import db

#: Endpoints a logged-in user without the required second factor may still reach.
MFA_EXEMPT_ENDPOINTS = frozenset(
    {
        "static",
        "main.healthz",
        "main.set_language",
        "main.sources",
        "auth.logout",
        "auth.mfa_setup",
    }
)


def load_user(session_id: str) -> User | None:
    """Flask-Login's user loader: the user *and* this device's row in one query; the row is kept
    in ``g.user_session`` for the device list and the last-seen time."""
    key = session.get("sid")
    found = services.load_user_for_session(session_id, key if isinstance(key, str) else "")
    if found is None:
        return None
    user, device = found
    g.user_session = device
    return user


def register_mfa_gate(app: Flask) -> None:
    """Install the gate (after the session limits, so that an expired session ends first) and
    the device's last-seen update."""

    @app.before_request
    def _touch_device() -> None:
        if not current_user.is_authenticated:
            return
        device = g.get("user_session")
        if device is not None and services.touch_session(device):
            db.session.commit()  # nothing else is pending before the view runs

    @app.before_request
    def _require_second_factor() -> ResponseReturnValue | None:
        if not current_user.is_authenticated or request.endpoint in MFA_EXEMPT_ENDPOINTS:
            return None
        if current_user.mfa_required and not current_user.mfa_enabled:
            return redirect(url_for("auth.mfa_setup"))
        return None
