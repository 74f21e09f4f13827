"""Reads of the auth package (no writes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from app.auth.models import User, UserSession
from app.extensions import db


def all_users() -> Sequence[User]:
    """Every account, by e-mail (roles come with one extra select-in query)."""
    return db.session.execute(db.select(User).order_by(User.email)).scalars().all()


def devices_of(user: User, *, seen_since: datetime) -> Sequence[UserSession]:
    """The user's signed-in devices seen since ``seen_since`` (older ones have passed the idle
    limit), most recently seen first."""
    return (
        db.session.execute(
            db.select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.last_seen_at >= seen_since)
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
        .scalars()
        .all()
    )
