"""Tasks ("Aufgaben"): a user marks a notification of the deadline job as done."""

from __future__ import annotations

from sqlalchemy import update

from app.auth.models import User
from app.common.audit import record_event
from app.common.db import utcnow
from app.extensions import db
from app.postaward.models import Notification


def mark_done(user: User, notification: Notification) -> bool:
    """Mark ``notification`` done (the caller checked that ``user`` may see it); audited.
    Guarded: of two concurrent clicks one marks it, the other changes nothing. Returns whether
    this call marked it."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.id == notification.id, Notification.done_at.is_(None))
        .values(done_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return False
    db.session.refresh(notification)
    record_event(
        "notification_done",
        "notification",
        notification.id,
        actor_id=user.id,
        kind=notification.kind,
        application_id=notification.application_id,
    )
    return True
