"""Route decorators for access control. Every view uses one of them or is on the public list."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, request
from flask_login import current_user, login_required

from app.auth.models import Role

F = TypeVar("F", bound=Callable[..., Any])

#: Endpoints reachable without login (checked by the route inventory test).
PUBLIC_ENDPOINTS = frozenset(
    {
        "static",
        "main.healthz",
        "main.index",
        "main.set_language",
        "main.sources",
        "opendata.grants_page",
        "opendata.download",
        "monitoring.public_figures",
        "auth.login",
        "auth.accept_invitation",
        "api.docs",
        "api.programme",
        "api-docs.openapi_json",
        "auth.unlock",
        "auth.second_factor",
    }
)


def public(view: F) -> F:
    """Mark a view as deliberately public (it must also be in ``PUBLIC_ENDPOINTS``)."""
    view._public = True  # type: ignore[attr-defined]
    return view


def role_required(*roles: Role) -> Callable[[F], F]:
    """Require login and one of ``roles``; others get 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        guarded = login_required(wrapper)
        guarded._roles = roles
        return cast(F, guarded)

    return decorator


def login_only(view: F) -> F:
    """Any logged-in user (e.g. own password change)."""
    guarded = login_required(view)
    guarded._roles = ("any",)
    return cast(F, guarded)


def client_source() -> str:
    """The client address of the current request as seen after ``ProxyFix``
    (``TRUSTED_PROXIES``): the source of login throttling and locks."""
    return request.remote_addr or "unknown"
