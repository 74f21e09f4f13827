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
from sqlalchemy.exc import SQLAlchemyError

from app.auth.decorators import PUBLIC_ENDPOINTS, role_required
from app.auth.models import Role, User
from app.common.db import today
from app.common.tx import transactional
from app.postaward import queries as task_queries
from app.postaward import task_texts  # noqa: F401 - registers the task texts for the "stored" filter
from app.postaward.blueprint import bp
from app.postaward.services import tasks as tasks_service

logger = logging.getLogger(__name__)

ALL_ROLES = tuple(Role)
CASE_WORKERS = (Role.REVIEWER, Role.APPROVER, Role.ADMIN)


def _user() -> User:
    return cast(User, current_user._get_current_object())


@bp.app_context_processor
def _inject_task_count() -> dict[str, Any]:
    """``open_tasks()`` for the nav link: runs its COUNT only when a logged-in user's page calls
    it, once per request, and never on public pages (login, /healthz, …)."""

    def open_tasks() -> int | None:
        if not current_user.is_authenticated or request.endpoint in PUBLIC_ENDPOINTS:
            return None
        if "open_task_count" not in g:
            try:
                g.open_task_count = task_queries.open_task_count(_user())
            except SQLAlchemyError:  # e.g. on the error page while the database is down
                logger.warning("task_count_failed", exc_info=True)
                g.open_task_count = None
        return cast("int | None", g.open_task_count)

    return {"open_tasks": open_tasks}


@bp.route("/aufgaben")
@role_required(*ALL_ROLES)
def tasks() -> ResponseReturnValue:
    user = _user()
    found = task_queries.task_list(user)
    if found.complete:  # the nav count needs no second query
        g.open_task_count = found.count
    return render_template(
        "postaward/tasks.html",
        tasks=found.tasks,
        change_requests=found.change_requests,
        ministry=user.is_ministry,
        finance_only=user.has_role(Role.FINANCE) and not user.has_role(*CASE_WORKERS),
        review_link=user.has_role(*CASE_WORKERS),
        limit=task_queries.MAX_TASKS,
        today=today(),
    )


@bp.route("/aufgaben/<int:notification_id>/erledigt", methods=["POST"])
@role_required(*ALL_ROLES)
@transactional
def task_done(notification_id: int) -> ResponseReturnValue:
    notification = task_queries.visible_notification(_user(), notification_id)
    if notification is None:
        abort(404)
    if tasks_service.mark_done(_user(), notification):
        flash(_("Die Aufgabe ist als erledigt markiert."), "success")
    return redirect(url_for("postaward.tasks"))
