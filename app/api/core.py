"""The API object and blueprint, bearer-token authentication, scopes, rate limit, problem+json.

Requests carry ``Authorization: Bearer kp_…``; the API never reads the login session and is
CSRF-exempt (a cookie alone authorises nothing here). Authorisation is the UI's: an applicant
sees their organisation only, ministry and finance data by role; a token's scopes narrow it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, Response, current_app, g, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_smorest import Api, Blueprint
from werkzeug.exceptions import HTTPException

from app.auth import throttle, tokens
from app.auth.decorators import public
from app.auth.models import ApiToken, Role, User
from app.common.db import utcnow
from app.common.errors import DomainError
from app.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

PROBLEM_TYPE = "about:blank"
PROBLEM_JSON = "application/problem+json"

BEARER_SCHEME = {"type": "http", "scheme": "bearer", "description": "Personal API token kp_…"}


class PortalApi(Api):
    """flask-smorest's Api without its app-wide JSON error handlers (the UI keeps its HTML
    error pages; the API blueprint answers problem+json itself)."""

    def _register_error_handlers(self) -> None:
        return None


api = PortalApi()
bp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="Förderportal KommPräv REST API",
)


class ApiProblem(HTTPException):
    """An HTTP error with an RFC 9457 body."""

    def __init__(self, status: int, detail: Any, **extra: Any) -> None:
        super().__init__(description=detail)
        self.code = status
        self.extra = extra


def problem(status: int, detail: Any, **extra: Any) -> ApiProblem:
    return ApiProblem(status, detail, **extra)


def _titles() -> dict[int, str]:
    return {
        304: _("Nicht geändert"),
        400: _("Ungültige Anfrage"),
        401: _("Nicht angemeldet"),
        403: _("Keine Berechtigung"),
        404: _("Nicht gefunden"),
        405: _("Methode nicht erlaubt"),
        409: _("Konflikt"),
        412: _("Vorbedingung fehlgeschlagen"),
        415: _("Nicht unterstützter Medientyp"),
        422: _("Ungültige Eingabe"),
        428: _("Vorbedingung erforderlich"),
        429: _("Zu viele Anfragen"),
        500: _("Interner Fehler"),
    }


def request_language() -> str:
    return request.accept_languages.best_match(["de", "en"]) or "de"


def problem_response(status: int, detail: Any, **extra: Any) -> Response:
    """An ``application/problem+json`` response in the language of ``Accept-Language``."""
    with force_locale(request_language()):
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE,
            "title": _titles().get(status, str(status)),
            "status": status,
            "detail": str(detail),
        }
    body.update(extra)
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON
    )
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _detail(status: int) -> Any:
    details = {
        401: _l("Ein gültiger API-Token (Authorization: Bearer kp_…) ist erforderlich."),
        403: _l("Der Token hat dafür keine Berechtigung."),
        404: _l("Die Ressource gibt es nicht oder sie ist nicht sichtbar."),
        405: _l("Diese Methode ist hier nicht erlaubt."),
        429: _l("Zu viele Anfragen. Bitte später erneut versuchen."),
    }
    return details.get(status, _l("Die Anfrage konnte nicht verarbeitet werden."))


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    with force_locale(request_language()):
        if isinstance(exc, ApiProblem):
            detail = str(exc.description)
            extra = exc.extra
        else:
            detail = _detail(status)
            extra = {}
            messages = getattr(exc, "data", {}).get("messages")
            if messages:
                extra["errors"] = messages
        response = problem_response(status, detail, **extra)
    for name, value in (getattr(exc, "headers", None) or {}).items():
        response.headers[name] = value
    return response


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> Response:
    with force_locale(request_language()):
        extra = {"field": exc.field} if exc.field else {}
        return problem_response(422, str(exc.message), **extra)


# --- authentication ---------------------------------------------------------------------------


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


@bp.before_request
def _authenticate() -> Response | None:
    """Resolve the bearer token (if any); a bad token is 401 even on public endpoints."""
    g.api_token = None
    g.api_user = None
    if request.headers.get("Authorization"):
        secret = _bearer()
        token = tokens.token_for_secret(secret) if secret else None
        if token is None:
            with force_locale(request_language()):
                return problem_response(401, _detail(401))
        g.api_token = token
        g.api_user = token.user
        token.last_used_at = utcnow()  # committed only with a successful write
    return _rate_limit()


def current_token() -> ApiToken | None:
    return cast(ApiToken | None, g.get("api_token"))


def api_user() -> User:
    user = g.get("api_user")
    if user is None:
        raise problem(401, _detail(401))
    return cast(User, user)


def requires(scope: str, *roles: Role) -> Callable[[F], F]:
    """Require a token with ``scope`` (else 401/403) and, if given, one of ``roles``."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = current_token()
            if token is None:
                raise problem(401, _detail(401))
            if scope not in token.scope_list:
                raise problem(403, _detail(403), required_scope=scope)
            if roles and not token.user.has_role(*roles):
                raise problem(403, _detail(403))
            return view(*args, **kwargs)

        wrapper._api_scope = scope  # type: ignore[attr-defined]
        wrapper._roles = (f"token:{scope}",)  # type: ignore[attr-defined]  # route inventory
        return cast(F, wrapper)

    return decorator


# --- rate limit -------------------------------------------------------------------------------


def _rate_limit() -> Response | None:
    """``API_RATE_LIMIT`` requests per minute and token (or client address without a token),
    counted with the login throttle's sliding-window counters (``app.auth.throttle``: database
    upsert, or Redis with ``RATELIMIT_STORAGE_URL``), so the limit holds across workers. Above it
    ``429`` with ``Retry-After``. The count is committed at once (a read request never commits)."""
    limit = int(current_app.config.get("API_RATE_LIMIT", 300))
    token = current_token()
    key = f"api:t{token.id}" if token is not None else f"api:ip:{request.remote_addr}"
    count = throttle.hit(key[:80], window=60, now=time.time())
    db.session.commit()  # also keeps the token's last_used_at
    if count.estimate > limit:
        with force_locale(request_language()):
            response = problem_response(429, _detail(429))
        response.headers["Retry-After"] = str(count.seconds_left)
        return response
    return None


PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details (German or English by Accept-Language)",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "field": {"type": "string"},
        "required_scope": {"type": "string"},
        "errors": {"type": "object"},
    },
}


def _document_problems() -> None:
    """Every operation answers errors (401, 403, 404, 409, 428, 429 …) as problem+json."""
    api.spec.components.schema("Problem", PROBLEM_SCHEMA)
    problem_response = {
        "description": "Error (RFC 9457 problem details)",
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for item in api.spec._paths.values():  # noqa: SLF001 - apispec keeps no public accessor
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                responses = operation["responses"]
                if method == "get":
                    responses.setdefault(
                        "304", {"description": "Not modified (the ETag matches If-None-Match)"}
                    )
                for code, response in list(responses.items()):
                    if str(code).startswith(("4", "5")):
                        description = response.get("description") or problem_response["description"]
                        responses[code] = {**problem_response, "description": description}
                responses["default"] = problem_response
                if operation.get("security"):
                    responses.setdefault("401", problem_response)
                    responses.setdefault("403", problem_response)
                responses.setdefault("429", problem_response)


def init_api(app: Flask) -> None:
    """Configure flask-smorest (OpenAPI 3.1 at ``/api/v1/openapi.json``) and register ``bp``."""
    app.config.setdefault("API_TITLE", "Förderportal KommPräv API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api.init_app(app, spec_kwargs={"servers": [{"url": "/"}]})
    api.spec.components.security_scheme("bearer", BEARER_SCHEME)
    api.register_blueprint(bp)
    _document_problems()
    openapi_json = app.view_functions["api-docs.openapi_json"]

    @wraps(openapi_json)
    def _openapi_json() -> Any:
        return openapi_json()

    app.view_functions["api-docs.openapi_json"] = public(_openapi_json)
