"""Project start (T9): the recipient notifies the start; the first instalment becomes due."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from app.auth.models import Role, User
from app.common.db import today
from app.common.errors import DomainError, NotPermitted
from app.finance.services import payouts
from app.grants.models import Application, EventKind, Status
from app.grants.services.applications import add_event, transition


def notify_start(user: User, application: Application, started_on: date) -> None:
    """The recipient notifies the project start (ANBK 5.4): FINAL → RUNNING; the first instalment
    (and an interim one) becomes due (R14). Reimbursement plans stay planned (R16)."""
    if not (user.has_role(Role.APPLICANT) and user.organisation_id == application.organisation_id):
        raise NotPermitted(_l("Nur die Zuwendungsempfängerin kann den Beginn anzeigen."))
    if started_on > today():
        raise DomainError(
            _l("Der Projektbeginn darf nicht in der Zukunft liegen."), field="started_on"
        )
    transition(application, [Status.FINAL], Status.RUNNING)
    payouts.start_payments(application, started_on)
    add_event(application, EventKind.START_NOTIFIED, user, started_on=started_on)
