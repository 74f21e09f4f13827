"""Finance test builders: an approved, final grant with a confirmed bank account."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.auth.models import User
from app.budget import services as budget
from app.common.dates import add_months
from app.common.db import simulated_now
from app.extensions import db
from app.finance.services import payouts
from app.grants.models import Application
from app.grants.services import review
from tests import factories

APPROVAL_TIME = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
IBAN = "DE89370400440532013000"


def open_budget(years: tuple[int, ...] = (2027, 2028, 2029), cap: int = 130_000_000) -> None:
    from app.budget.models import BudgetYear

    for year in years:
        if db.session.get(BudgetYear, year) is None:
            budget.open_year(year, cap)
    for later in years[1:]:
        budget.set_authorisation(years[0], later, cap)


def approved_grant(
    applicant: User,
    *,
    grant_cents: int = 4_000_000,
    final: bool = True,
    period_end: date | None = None,
) -> Application:
    """Submitted, reviewed, approved (approval year 2027) and — by default — final."""
    reviewer = factories.create_user("reviewer")
    approver = factories.create_user("approver")
    application = factories.submitted_application(applicant, grant_cents=grant_cents)
    open_budget()
    review.start_review(reviewer, application)
    data = review.proposal(application, 2027)
    if period_end is not None:
        data.period_end = period_end
        data.vn_deadline = add_months(period_end, 12)
        data.years = review.default_years(data.grant_cents, data.period_start, period_end, 2027)
    decision = review.prepare_decision(reviewer, application, data, approval_year=2027)
    review.approve(approver, decision, now=APPROVAL_TIME)
    if final:
        with simulated_now(APPROVAL_TIME):  # the waiver is dated on the Bescheid's day (T8)
            review.record_waiver(reviewer, application, APPROVAL_TIME.date())
    return application


def confirmed_account(applicant: User, finance: User) -> None:
    from tests.factories import PASSWORD

    account = payouts.submit_bank_account(
        applicant, password=PASSWORD, holder="Stadtkasse Zittau", iban=IBAN, bic=""
    )
    payouts.confirm_bank_account(finance, account)
