"""Budget test helpers: applications in chosen municipalities, approvers, budget figures.

Application rows come from ``tests.factories``; this module only adds budget-specific builders.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import User
from app.budget import services as budget
from app.budget.models import BudgetYear, Commitment, CommitmentAuthorisation
from app.common.audit import AuditEvent
from app.extensions import db
from app.grants.models import Application
from tests import factories

CAP = 130_000_000  # 1,300,000.00 EUR in cents

ZITTAU = "14626610"  # Landkreis Görlitz, PD Görlitz
PIRNA = "14628270"  # Sächsische Schweiz-Osterzgebirge, PD Dresden


def approver() -> User:
    return factories.create_user("approver")


def application(ags: str = ZITTAU, *, submitted: bool = True) -> Application:
    """A submitted application of the municipality ``ags`` (a fresh applicant user)."""
    user = factories.create_user("applicant", ags=ags)
    if submitted:
        return factories.submitted_application(user)
    return factories.complete_application(user, documents=False)


def open_years(*years: int, cap: int = CAP) -> None:
    for year in years:
        budget.open_year(year, cap)


def committed(year: int) -> int:
    return db.session.execute(
        sa.select(BudgetYear.committed_cents).where(BudgetYear.year == year)
    ).scalar_one()


def ve_committed(budget_year: int, target_year: int) -> int:
    return db.session.execute(
        sa.select(CommitmentAuthorisation.committed_cents).where(
            CommitmentAuthorisation.budget_year == budget_year,
            CommitmentAuthorisation.target_year == target_year,
        )
    ).scalar_one()


def ledger(year: int) -> int:
    """Σ commitment rows for a payout year."""
    return db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(Commitment.amount_cents), 0)).where(
            Commitment.payout_year == year
        )
    ).scalar_one()


def row_count(model: type) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def audit_count(action: str) -> int:
    return db.session.execute(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    ).scalar_one()
