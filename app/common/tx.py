"""One transaction per request: ``@transactional`` commits when the view succeeds.

Services only ``flush``; the view decorated here commits on a 2xx/3xx response and rolls back on
anything else (including exceptions), so a request is all-or-nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import flash, g, make_response, redirect
from werkzeug.wrappers import Response

from app.extensions import db

F = TypeVar("F", bound=Callable[..., Any])


def transactional(view: F) -> F:
    """Commit the session if ``view`` returns a success or redirect response, else roll back."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            db.session.rollback()
            raise
        if 200 <= response.status_code < 400 and not g.pop("tx_refused", False):
            db.session.commit()
        else:
            db.session.rollback()
        return response

    return cast(F, wrapper)


def refuse(reason: str | Exception, target: str, *, status: int = 303) -> Response:
    """Refuse the request with a message: roll back whatever the service already flushed, show
    ``reason`` (a ``DomainError``'s German message or a text) and redirect to ``target``. The
    surrounding ``@transactional`` does not commit after a refusal."""
    db.session.rollback()
    g.tx_refused = True
    flash(getattr(reason, "message", None) or str(reason), "error")
    return redirect(target, code=status)


def refuse_at(field: Any, reason: str | Exception) -> None:
    """Refuse the request at a form field: roll back, show ``reason`` at ``field`` (the view then
    re-renders the form with 422 and the typed input). The surrounding ``@transactional`` does not
    commit after a refusal."""
    db.session.rollback()
    g.tx_refused = True
    field.errors = [*(field.errors or ()), getattr(reason, "message", None) or str(reason)]
