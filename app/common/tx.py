"""One transaction per request: ``@transactional`` commits when the view succeeds.

Services only ``flush``; the view decorated here commits on a 2xx/3xx response and rolls back on
anything else (including exceptions), so a request is all-or-nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import make_response

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
        if 200 <= response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response

    return cast(F, wrapper)
