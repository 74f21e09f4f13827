"""Generic append-only audit trail: who did what to which object, with the changed values.

Rows are written in the same transaction as the change they record; database triggers (see the
migrations) refuse UPDATE and DELETE.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.common.db import utcnow
from app.extensions import Model, db


class AuditEvent(Model):
    """One legally or security relevant act."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    action: Mapped[str] = mapped_column(index=True)
    object_type: Mapped[str] = mapped_column(index=True)
    object_id: Mapped[str] = mapped_column(index=True)
    details: Mapped[str] = mapped_column(Text, default="{}")


def record_event(
    action: str,
    object_type: str,
    object_id: object,
    *,
    actor_id: int | None,
    **details: Any,
) -> AuditEvent:
    """Add an audit row to the current session (no commit)."""
    event = AuditEvent(
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        actor_id=actor_id,
        details=json.dumps(details, default=str, ensure_ascii=False, sort_keys=True),
    )
    db.session.add(event)
    return event
