"""Reads of "Meine Aufgaben": which notifications a user sees, the open count for the navigation,
and the task list (one statement each); the audit samples drawn so far."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, false, func, or_
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.elements import ColumnElement

from app.auth.models import Role, User
from app.extensions import db
from app.grants import queries as grant_queries
from app.grants.models import Application, ChangeRequest
from app.postaward.models import AuditSample, Notification
from app.postaward.services.deadlines import FINANCE_KINDS

#: The task page shows at most this many open tasks (oldest due date first).
MAX_TASKS = 500


def visible_to(user: User) -> ColumnElement[bool]:
    """SQL condition: notifications ``user`` may see."""
    clauses: list[ColumnElement[bool]] = []
    if user.has_role(Role.APPLICANT) and user.organisation_id is not None:
        clauses.append(
            and_(
                Notification.for_ministry.is_(False),
                Notification.organisation_id == user.organisation_id,
            )
        )
    if user.has_role(Role.REVIEWER, Role.APPROVER, Role.ADMIN):
        clauses.append(Notification.for_ministry.is_(True))
    elif user.has_role(Role.FINANCE):
        clauses.append(
            and_(Notification.for_ministry.is_(True), Notification.kind.in_(sorted(FINANCE_KINDS)))
        )
    return or_(*clauses) if clauses else false()


def open_task_count(user: User) -> int:
    """One COUNT query: the user's open tasks (for the navigation) — notifications plus, for
    applicants, unanswered change requests."""
    notes = (
        db.select(func.count(Notification.id))
        .where(visible_to(user), Notification.done_at.is_(None))
        .scalar_subquery()
    )
    if user.has_role(Role.APPLICANT) and user.organisation_id is not None:
        total = notes + grant_queries.open_change_request_count(user.organisation_id)
        return int(db.session.execute(db.select(total)).scalar_one())
    return int(db.session.execute(db.select(notes)).scalar_one())


def open_tasks_of(user: User, limit: int = MAX_TASKS) -> Sequence[Notification]:
    """The user's open notifications, the earliest due first (undated last), with application
    and organisation loaded in the same statement."""
    return (
        db.session.execute(
            db.select(Notification)
            .where(visible_to(user), Notification.done_at.is_(None))
            .options(joinedload(Notification.application).joinedload(Application.organisation))
            .order_by(
                Notification.due_on.is_(None),
                Notification.due_on,
                Notification.created_at,
                Notification.id,
            )
            .limit(limit)
        )
        .scalars()
        .all()
    )


def visible_notification(user: User, notification_id: int) -> Notification | None:
    """The notification if ``user`` may see it."""
    return db.session.execute(
        db.select(Notification).where(Notification.id == notification_id, visible_to(user))
    ).scalar_one_or_none()


@dataclass(frozen=True)
class TaskList:
    """The task page of a user: open notifications and, for applicants, open change requests."""

    tasks: Sequence[Notification]
    change_requests: Sequence[ChangeRequest]

    @property
    def complete(self) -> bool:
        """True when no task was cut off at :data:`MAX_TASKS` (then the count is exact)."""
        return len(self.tasks) < MAX_TASKS

    @property
    def count(self) -> int:
        return len(self.tasks) + len(self.change_requests)


def task_list(user: User) -> TaskList:
    """The user's open tasks (two statements: notifications, change requests for applicants)."""
    applicant = user.has_role(Role.APPLICANT)
    requests = grant_queries.open_change_requests(user.organisation_id) if applicant else []
    return TaskList(open_tasks_of(user), requests)


def audit_samples() -> Sequence[AuditSample]:
    """Every audit sample drawn (R18 sample check), the latest year first."""
    return (
        db.session.execute(db.select(AuditSample).order_by(AuditSample.year.desc())).scalars().all()
    )
