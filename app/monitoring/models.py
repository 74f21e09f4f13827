"""Milestone events of the programme (issue 15): the n-th consulted municipality or KPR."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.common.db import enum_type, utcnow
from app.extensions import Model
from app.orgs.models import Organisation


class MilestoneKind(enum.StrEnum):
    CONSULTED = "consulted"  # n-th municipality consulted
    KPR = "kpr"  # n-th KPR founded (council resolution)


class MilestoneEvent(Model):
    """Recorded once per (kind, threshold): who reached it and when. Append-only."""

    __tablename__ = "milestone_event"
    __table_args__ = (
        UniqueConstraint("kind", "threshold", name="uq_milestone_event_kind_threshold"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MilestoneKind] = mapped_column(enum_type(MilestoneKind))
    threshold: Mapped[int]
    reached_on: Mapped[date]
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()
