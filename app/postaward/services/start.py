"""Project start (T9): the recipient notifies the start; the first instalment becomes due."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.auth.models import Role, User
from app.common.dates import legal_date
from app.common.db import today
from app.common.errors import DomainError, NotPermitted
from app.finance.services import payouts
from app.grants.models import Application, EventKind, Status
from app.grants.services.applications import add_event, transition


def check_t9_start_date(application: Application, started_on: date) -> None:
    """T9 plausibility: a project cannot have started before the application was first submitted
    (the applicant confirmed "not started" with it, RL VI.3) — a start in 2020 would make the
    first 40 % due at once.

    :raises DomainError: at ``started_on``.
    """
    first = application.first_submitted_at
    submitted_on = legal_date(first) if first else None
    if submitted_on is not None and started_on < submitted_on:
        raise DomainError(
            _(
                "Der Projektbeginn darf nicht vor der Einreichung des Antrags (%(submitted)s) "
                "liegen.",
                submitted=f"{submitted_on:%d.%m.%Y}",
            ),
            field="started_on",
            rule="T9",
        )


def notify_start(user: User, application: Application, started_on: date) -> None:
    """The recipient notifies the project start (ANBK 5.4): FINAL → RUNNING; the first instalment
    (and an interim one) becomes due (R14). Reimbursement plans stay planned (R16)."""
    if not (user.has_role(Role.APPLICANT) and user.organisation_id == application.organisation_id):
        raise NotPermitted(_l("Nur die Zuwendungsempfängerin kann den Beginn anzeigen."))
    if started_on > today():
        raise DomainError(
            _l("Der Projektbeginn darf nicht in der Zukunft liegen."), field="started_on"
        )
    check_t9_start_date(application, started_on)
    transition(application, [Status.FINAL], Status.RUNNING)
    payouts.start_payments(application, started_on)
    add_event(application, EventKind.START_NOTIFIED, user, started_on=started_on)
