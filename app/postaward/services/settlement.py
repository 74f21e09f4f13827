"""What follows money movements for the grant's life: closing grants whose money is settled.

The finance services move money and report what they settled (a payment run's orders, the
recovery claims a statement paid); the grant's status belongs to this layer (T19, T21). Routes
and CLI commands call these functions instead of the bare finance services.
"""

from __future__ import annotations

from datetime import date, datetime

from app.auth.models import User
from app.extensions import db
from app.finance.models import PaymentRun, PayoutOrder
from app.finance.services import payouts, reconcile
from app.grants.models import Application, Status
from app.postaward.services.closing import close_if_settled
from app.postaward.services.revocation import close_recovered


def create_payment_run(
    finance: User, *, execution_date: date, now: datetime | None = None
) -> PaymentRun:
    """A payment run (``finance.services.payouts``); then T19: a checked grant whose final
    instalment went to the bank closes. Only grants in VN_CHECKED can close, so they are
    selected in one statement."""
    run = payouts.create_payment_run(finance, execution_date=execution_date, now=now)
    close_settled_grants(run)
    return run


def close_settled_grants(run: PaymentRun) -> int:
    """T19 for the grants paid by ``run``; returns how many closed."""
    checked = db.session.execute(
        db.select(Application).where(
            Application.id.in_(
                db.select(PayoutOrder.application_id).where(PayoutOrder.payment_run_id == run.id)
            ),
            Application.status == Status.VN_CHECKED,
        )
    ).scalars()
    return sum(1 for application in checked if close_if_settled(application))


def import_statement(user: User, data: bytes, filename: str) -> reconcile.ImportResult:
    """Import and reconcile a camt.053 file; recovery claims it paid in full close their grants
    (T21)."""
    result = reconcile.import_statement(user, data, filename)
    for claim in result.settled_claims:
        close_recovered(user, claim)
    return result
