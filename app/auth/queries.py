"""Reads of the auth package (no writes)."""

from __future__ import annotations

from collections.abc import Sequence

from app.auth.models import User
from app.extensions import db


def all_users() -> Sequence[User]:
    """Every account, by e-mail (roles come with one extra select-in query)."""
    return db.session.execute(db.select(User).order_by(User.email)).scalars().all()
