"""HTTP security headers, session time limits and bounded path integers (ASVS 3.4, 7.3, 2.2)."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Response, abort, current_app, session
from flask_login import current_user, logout_user

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


#: Largest id an ``INTEGER`` primary key holds. Bigger ``<int:…>`` path values would overflow the
#: query parameter (PostgreSQL: "integer out of range"; SQLite from 2**63 on: OverflowError).
MAX_ID = 2**31 - 1


def register_security(app: Flask) -> None:
    """Install the path-integer bound, the idle/absolute session limits and the headers."""

    @app.url_value_preprocessor
    def _bound_path_integers(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        """An ``<int:…>`` path value no row can have is simply not found (never a 500)."""
        for value in (values or {}).values():
            if isinstance(value, int) and not 0 <= value <= MAX_ID:
                abort(404)

    @app.before_request
    def _enforce_session_limits() -> None:
        if not current_user.is_authenticated:
            return
        now = int(time.time())
        idle = int(current_app.config["SESSION_IDLE_TIMEOUT"].total_seconds())
        absolute = int(current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds())
        last_seen = session.get("last_seen")
        login_at = session.get("login_at")
        # A login session without its timestamps did not come from the login view: fail closed.
        if (
            not isinstance(last_seen, int)
            or not isinstance(login_at, int)
            or now - last_seen > idle
            or now - login_at > absolute
        ):
            logout_user()
            session.clear()
            session["expired"] = True
            return
        if now - last_seen >= current_app.config["SESSION_TOUCH_INTERVAL"].total_seconds():
            session["last_seen"] = now  # only then is the cookie re-signed and re-sent

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers.setdefault(
            "Strict-Transport-Security",
            f"max-age={current_app.config['HSTS_MAX_AGE']}; includeSubDomains",
        )
        if current_user.is_authenticated:
            headers["Cache-Control"] = "no-store"
        return response


def parse_id(raw: str | None, maximum: int = MAX_ID) -> int | None:
    """A positive database id from untrusted text (ASCII digits only, within INTEGER), or None."""
    if not raw or not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        return None
    value = int(raw)
    return value if 0 < value <= maximum else None
