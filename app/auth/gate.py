"""The second-factor gate (issue 14): reviewers, approvers, finance and admins who have not set
up their second factor reach nothing but the enrolment page (and logout) after logging in."""

from __future__ import annotations

from flask import Flask, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

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


def register_mfa_gate(app: Flask) -> None:
    """Install the gate (after the session limits, so that an expired session ends first)."""

    @app.before_request
    def _require_second_factor() -> ResponseReturnValue | None:
        if not current_user.is_authenticated or request.endpoint in MFA_EXEMPT_ENDPOINTS:
            return None
        if current_user.mfa_required and not current_user.mfa_enabled:
            return redirect(url_for("auth.mfa_setup"))
        return None
