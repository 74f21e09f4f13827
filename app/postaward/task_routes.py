""" "Meine Aufgaben": open notifications (tasks, reminders) of the deadline job for the user.

Applicants see their organisation's notifications; reviewers, approvers and admins every ministry
notification; finance staff the ministry notifications about payments (R19). Anything else is 404.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, false, func, or_
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.elements import ColumnElement

from app.auth.decorators import PUBLIC_ENDPOINTS, role_required
from app.auth.models import Role, User
from app.common.audit import record_event
from app.common.db import today, utcnow
from app.common.tx import transactional
from app.extensions import db
from app.grants import queries as grant_queries
from app.grants.models import Application
from app.postaward import task_texts  # noqa: F401 - registers the task texts for the "stored" filter
from app.postaward.blueprint import bp
from app.postaward.models import Notification
from app.postaward.services.deadlines import FINANCE_KINDS

logger = logging.getLogger(__name__)

ALL_ROLES = tuple(Role)
#: The task page shows at most this many open tasks (oldest due date first).
MAX_TASKS = 500


def _user() -> User:
    return cast(User, current_user._get_current_object())


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


@bp.app_context_processor
def _inject_task_count() -> dict[str, Any]:
    """``open_tasks()`` for the nav link: runs its COUNT only when a logged-in user's page calls
    it, once per request, and never on public pages (login, /healthz, …)."""

    def open_tasks() -> int | None:
        if not current_user.is_authenticated or request.endpoint in PUBLIC_ENDPOINTS:
            return None
        if "open_task_count" not in g:
            try:
                g.open_task_count = open_task_count(_user())
            except SQLAlchemyError:  # e.g. on the error page while the database is down
                logger.warning("task_count_failed", exc_info=True)
                g.open_task_count = None
        return cast("int | None", g.open_task_count)

    return {"open_tasks": open_tasks}


@bp.route("/aufgaben")
@role_required(*ALL_ROLES)
def tasks() -> ResponseReturnValue:
    user = _user()
    rows = (
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
            .limit(MAX_TASKS)
        )
        .scalars()
        .all()
    )
    requests = (
        grant_queries.open_change_requests(user.organisation_id)
        if user.has_role(Role.APPLICANT)
        else []
    )
    if len(rows) < MAX_TASKS:  # the nav count needs no second query
        g.open_task_count = len(rows) + len(requests)
    return render_template(
        "postaward/tasks.html",
        tasks=rows,
        change_requests=requests,
        ministry=user.is_ministry,
        finance_only=user.has_role(Role.FINANCE)
        and not user.has_role(Role.REVIEWER, Role.APPROVER, Role.ADMIN),
        review_link=user.has_role(Role.REVIEWER, Role.APPROVER, Role.ADMIN),
        limit=MAX_TASKS,
        today=today(),
    )


@bp.route("/aufgaben/<int:notification_id>/erledigt", methods=["POST"])
@role_required(*ALL_ROLES)
@transactional
def task_done(notification_id: int) -> ResponseReturnValue:
    user = _user()
    notification = db.session.execute(
        db.select(Notification).where(Notification.id == notification_id, visible_to(user))
    ).scalar_one_or_none()
    if notification is None:
        abort(404)
    if notification.done_at is None:
        notification.done_at = utcnow()
        record_event(
            "notification_done",
            "notification",
            notification.id,
            actor_id=user.id,
            kind=notification.kind,
            application_id=notification.application_id,
        )
        flash(_("Die Aufgabe ist als erledigt markiert."), "success")
    return redirect(url_for("postaward.tasks"))
