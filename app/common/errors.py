"""Domain errors and the HTTP error handlers.

Services raise ``DomainError`` subclasses; routes turn the expected ones into form errors or
flash messages. Anything else reaches the generic handlers here (no stack traces to users).
"""

from __future__ import annotations

import logging
from typing import TypeAlias

from flask import Flask, current_app, jsonify, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from app.extensions import db

logger = logging.getLogger(__name__)


def upload_limit_mb() -> int:
    """The per-file upload limit in MB (config ``UPLOAD_MAX_BYTES``), as users are told."""
    return int(current_app.config["UPLOAD_MAX_BYTES"]) // (1024 * 1024)


#: A message for users: German text, or a lazy string (``lazy_gettext``, msgid = German text)
#: that reads in the language of the request where it is shown (issue 11).
Message: TypeAlias = "str | LazyString"


class DomainError(Exception):
    """A business rule refused an action. ``message`` is shown to the user.

    Services pass lazy strings (``_l("…", name=value)``): no request object is needed where the
    error is raised, and ``message`` gives the text in the language of the current request
    (German outside a request, e.g. in the CLI).
    """

    def __init__(
        self, message: Message, *, field: str | None = None, rule: str | None = None
    ) -> None:
        super().__init__(message)
        self._message = message
        self.field = field
        self.rule = rule

    @property
    def message(self) -> str:
        """The text in the language of the current request (German outside a request)."""
        return str(self._message)

    @message.setter
    def message(self, value: Message) -> None:
        self._message = value

    def __str__(self) -> str:
        return self.message


class NotPermitted(DomainError):
    """The user may not perform this action (HTTP 403)."""


class NotFound(DomainError):
    """The object does not exist or is not visible to the user (HTTP 404)."""


class InvalidTransition(DomainError):
    """The object is not in a state that allows the action (HTTP 409)."""


class RuleViolation(DomainError):
    """One or more programme rules (RULES.md R-numbers) are not met."""

    def __init__(self, problems: list[DomainError]) -> None:
        super().__init__(_JoinedMessages(problems))
        self.problems = problems


class _JoinedMessages:
    """The messages of several problems, joined when shown (each in the request's language)."""

    def __init__(self, problems: list[DomainError]) -> None:
        self.problems = problems

    def __str__(self) -> str:
        return "; ".join(p.message for p in self.problems)


class BudgetCapExceeded(DomainError):
    """An approval would take a budget year over its available funds (R12)."""


def _log_path() -> str:
    """The request path for the log, with secret path parts (invitation tokens) masked."""
    rule = request.url_rule
    if rule is not None and request.view_args and "token" in request.view_args:
        return rule.rule
    return request.path


def _actor() -> dict[str, object]:
    """``user_id`` of the logged-in user for a log record (empty for anonymous requests)."""
    if current_user and getattr(current_user, "is_authenticated", False):
        return {"user_id": current_user.id}
    return {}


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" or request.path.startswith("/api/")


def register_error_handlers(app: Flask) -> None:
    """Render generic error pages (HTML or JSON) for HTTP errors and domain errors."""

    def _render(
        code: int, message: str | None = None, back: str | None = None
    ) -> ResponseReturnValue:
        if _wants_json():
            return jsonify({"status_code": code, "message": message or str(code)}), code
        page = render_template("errors/error.html", code=code, message=message, back=back)
        return page, code

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        code = exc.code or 500
        if code == 400:
            logger.info("input_validation_fail", extra={"path": _log_path(), **_actor()})
        elif code == 403:  # role_required and abort(403) in views
            logger.info("authz_fail", extra={"path": _log_path(), **_actor()})
        if code == 413:  # one number (UPLOAD_MAX_BYTES) for the field hint and this page
            message = _(
                "Erlaubt sind höchstens %(mb)s MB je Datei. Bitte verkleinern Sie die Datei "
                "(z. B. als PDF mit geringerer Auflösung) und laden Sie sie erneut hoch.",
                mb=upload_limit_mb(),
            )
            # Back to the form: a GET of the same address shows it again (same origin).
            response = make_response(_render(413, message, back=request.path))
        else:
            response = make_response(_render(code))
        # Keep the headers the status needs (Allow on 405, Retry-After on 429, …).
        for key, value in exc.get_headers():
            if key.lower() != "content-type":
                response.headers[key] = value
        return response

    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound) -> ResponseReturnValue:
        return _render(404)

    @app.errorhandler(NotPermitted)
    def _forbidden(exc: NotPermitted) -> ResponseReturnValue:
        logger.info("authz_fail", extra={"path": _log_path(), **_actor()})
        return _render(403, exc.message)

    @app.errorhandler(DomainError)
    def _conflict(exc: DomainError) -> ResponseReturnValue:
        db.session.rollback()
        return _render(409, exc.message)

    @app.errorhandler(Exception)
    def _internal(exc: Exception) -> ResponseReturnValue:
        db.session.rollback()
        if app.config.get("RAISE_UNHANDLED"):
            raise exc  # tests want the traceback, not the error page
        logger.exception("unhandled_exception", extra={"path": _log_path()})
        return _render(500)
