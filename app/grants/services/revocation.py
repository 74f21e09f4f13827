"""Revocation checks and revocation decisions with recovery claims (T20, T23–T27; R24, R26,
R28, R29).

A revocation check remembers the status it interrupted; it ends either with "no revocation"
(back to that status, T27) or with a partial/total revocation (T26) that creates a recovery
claim with its own Kassenzeichen, posted to the ledger as a receivable and matched by the
reconciliation when the money arrives (T21).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import func

from app.auth.models import Role, User
from app.common.db import today
from app.common.errors import DomainError, InvalidTransition, NotPermitted
from app.extensions import db
from app.grants.models import (
    Application,
    EventKind,
    RevocationCase,
    RevocationReason,
    Status,
)
from app.grants.services.applications import add_event, transition

logger = logging.getLogger(__name__)

#: T23–T25: states from which a revocation check can be opened.
CHECKABLE = (
    Status.FINAL,
    Status.RUNNING,
    Status.VN_DUE,
    Status.VN_RECEIVED,
    Status.VN_INCOMPLETE,
    Status.VN_COMPLETE,
    Status.VN_AUDIT,
    Status.VN_CHECKED,
)
#: R26: the decision must be taken within a year of knowing the facts; warn at 10 months.
DECISION_MONTHS = 12
WARNING_MONTHS = 10
#: R29: eight weeks to cure missing publicity (§ 44a SäHO).
PUBLICITY_CURE_DAYS = 56


def open_case(application: Application) -> RevocationCase | None:
    return db.session.execute(
        db.select(RevocationCase).where(
            RevocationCase.application_id == application.id, RevocationCase.closed_on.is_(None)
        )
    ).scalar_one_or_none()


def open_check(
    application: Application,
    *,
    reason: RevocationReason,
    facts_known_on: date,
    actor: User | None,
    note: str = "",
) -> RevocationCase:
    """Move the grant into REVOCATION_CHECK (T23 no start, T24 VN overdue, T25 by a reviewer).

    :raises InvalidTransition: not in a checkable state or a check is already open.
    """
    if actor is not None and not actor.has_role(Role.REVIEWER, Role.APPROVER):
        raise NotPermitted("Widerrufsprüfungen eröffnet die Bewilligungsbehörde.")
    if open_case(application) is not None:
        raise InvalidTransition("Für diese Zuwendung läuft bereits eine Widerrufsprüfung.")
    previous = application.status
    transition(application, list(CHECKABLE), Status.REVOCATION_CHECK)
    case = RevocationCase(
        application_id=application.id,
        reason=reason,
        previous_status=previous,
        facts_known_on=facts_known_on,
        note=note.strip(),
        opened_by_id=actor.id if actor else None,
        cure_deadline=(
            facts_known_on + timedelta(days=PUBLICITY_CURE_DAYS)
            if reason is RevocationReason.PUBLICITY
            else None
        ),
    )
    db.session.add(case)
    db.session.flush()
    add_event(
        application,
        EventKind.REVOCATION_CHECK,
        actor,
        internal=False,
        reason=reason.value,
        facts_known_on=facts_known_on,
        message=note.strip(),
    )
    return case


def close_without_revocation(reviewer: User, application: Application, note: str) -> None:
    """T27: no revocation; the grant returns to the status the check interrupted."""
    if not reviewer.has_role(Role.REVIEWER, Role.APPROVER):
        raise NotPermitted("Nur die Bewilligungsbehörde entscheidet über einen Widerruf.")
    if not note.strip():
        raise DomainError("Bitte begründen Sie, warum nicht widerrufen wird.", field="note")
    case = open_case(application)
    if case is None:
        raise InvalidTransition("Es läuft keine Widerrufsprüfung.")
    transition(application, [Status.REVOCATION_CHECK], case.previous_status)
    case.closed_on, case.outcome = today(), "no_revocation"
    case.note = (case.note + "\n" + note.strip()).strip()
    add_event(application, EventKind.REVOCATION_CLOSED, reviewer, message=note.strip())


def decision_deadline(case: RevocationCase) -> date:
    """R26: one year after the facts were fully known (§ 48 (4), § 49 (2) VwVfG)."""
    from app.grants.services.review import add_months

    return add_months(case.facts_known_on, DECISION_MONTHS)


def warning_date(case: RevocationCase) -> date:
    """R26: warn at ten months."""
    from app.grants.services.review import add_months

    return add_months(case.facts_known_on, WARNING_MONTHS)


def publicity_recovery_proposal(grant_cents: int) -> tuple[int, int]:
    """R29: after the cure period, a recovery of 5–15 % of the state funds is proposed."""
    return grant_cents * 5 // 100, grant_cents * 15 // 100


def paid_out_cents(application: Application) -> int:
    """Σ released/sent/reconciled payout orders (money that left the state)."""
    from app.finance.models import OrderStatus, PayoutOrder

    return int(
        db.session.execute(
            db.select(func.coalesce(func.sum(PayoutOrder.amount_cents), 0)).where(
                PayoutOrder.application_id == application.id,
                PayoutOrder.status.in_(
                    [OrderStatus.RELEASED, OrderStatus.IN_RUN, OrderStatus.RECONCILED]
                ),
            )
        ).scalar_one()
    )
