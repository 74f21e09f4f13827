"""T22: the recipient renounces an approved grant (Verzicht): status, open orders and
instalments cancelled, budget released, a recovery claim for what was paid (§ 49a interest
from the withdrawal), audited and race-guarded; the applicant's button and the reviewer's view."""

from __future__ import annotations

from datetime import date

import pytest

from app.common.errors import DomainError, InvalidTransition, NotPermitted
from app.extensions import db
from app.finance import queries as fq
from app.finance.models import (
    ClaimStatus,
    GrantAccount,
    InstalmentStatus,
    OrderStatus,
    PayoutOrder,
)
from app.finance.services import ledger, payouts
from app.grants.models import Status
from app.postaward.models import RevocationReason
from app.postaward.services import revocation, settlement, start, withdrawal
from tests import factories
from tests.finance.factories import approved_grant, confirmed_account

ON = date(2026, 11, 30)


@pytest.fixture
def people(app_ctx):
    return {
        "applicant": factories.create_user("applicant", ags="14626610"),
        "reviewer": factories.create_user("reviewer"),
        "finance": factories.create_user("finance"),
        "finance2": factories.create_user("finance"),
    }


def _running(people):
    application = approved_grant(people["applicant"])
    confirmed_account(people["applicant"], people["finance"])
    start.notify_start(people["applicant"], application, date(2026, 11, 2))
    return application


def _order(people, application, *, release=True, run=False):
    first = fq.instalments_of(application.id)[0]
    order = payouts.prepare_order(people["finance"], first, idempotency_key="w" * 32)
    if release:
        payouts.release_order(people["finance2"], order, confirm_early=True)
    if run:
        settlement.create_payment_run(people["finance"], execution_date=date(2099, 1, 4))
    return order


def _committed(application):
    kz = db.session.get(GrantAccount, application.id).kassenzeichen
    return ledger.balance(ledger.committed_account(kz))


def test_T22_withdrawal_before_any_payment_ends_the_grant_and_releases_the_budget(people):
    application = approved_grant(people["applicant"])  # FINAL, nothing paid
    claim = withdrawal.withdraw_grant(
        people["applicant"], application, reason="Projekt entfällt", confirmed=True, on=ON
    )
    assert claim is None
    assert application.status is Status.WITHDRAWN
    with pytest.raises(InvalidTransition):  # a double click changes nothing
        withdrawal.withdraw_grant(people["applicant"], application, reason="", confirmed=True)
    assert {i.status for i in fq.instalments_of(application.id)} == {InstalmentStatus.CANCELLED}
    assert db.session.get(GrantAccount, application.id).granted_cents == 0
    assert _committed(application) == 0
    assert ledger.unbalanced_entries() == []


def test_T22_withdrawal_after_a_payment_claims_it_back_with_interest_from_the_withdrawal(
    people,
):
    application = _running(people)
    _order(people, application, run=True)  # 16.000 € went to the bank
    claim = withdrawal.withdraw_grant(
        people["applicant"], application, reason="Projekt entfällt", confirmed=True, on=ON
    )
    assert application.status is Status.RECOVERY
    assert claim is not None and claim.status is ClaimStatus.OPEN
    assert claim.principal_cents == 1_600_000 and claim.effective_from == ON
    statuses = [i.status for i in fq.instalments_of(application.id)]
    assert statuses == [
        InstalmentStatus.PAID,
        InstalmentStatus.CANCELLED,
        InstalmentStatus.CANCELLED,
    ]
    assert _committed(application) == 0  # unpaid years released
    assert ledger.balance(ledger.receivable_account(claim.kassenzeichen)) == 1_600_000
    assert ledger.unbalanced_entries() == []
    revocation.record_claim_payment(
        people["finance"], claim, paid_on=date(2026, 12, 10), paid_cents=1_600_000
    )  # 10 days of interest stay below 250 € (R28)
    assert application.status is Status.CLOSED


def test_T22_orders_not_yet_sent_are_cancelled_nothing_is_claimed(people):
    application = _running(people)
    order = _order(people, application)  # released, not in a payment run
    claim = withdrawal.withdraw_grant(
        people["applicant"], application, reason="", confirmed=True, on=ON
    )
    assert claim is None and application.status is Status.WITHDRAWN
    db.session.refresh(order)
    assert order.status is OrderStatus.CANCELLED
    assert db.session.get(GrantAccount, application.id).ordered_cents == 0
    assert _committed(application) == 0
    assert ledger.unbalanced_entries() == []
    assert not db.session.execute(
        db.select(PayoutOrder).where(PayoutOrder.status == OrderStatus.RELEASED)
    ).first()


def test_T22_needs_confirmation_the_recipient_and_an_open_grant(people):
    application = _running(people)
    with pytest.raises(DomainError, match="bestätigen") as err:
        withdrawal.withdraw_grant(people["applicant"], application, reason="", confirmed=False)
    assert err.value.field == "confirm"
    other = factories.create_user("applicant", ags="14628270")
    with pytest.raises(NotPermitted):
        withdrawal.withdraw_grant(other, application, reason="", confirmed=True)
    with pytest.raises(NotPermitted):
        withdrawal.withdraw_grant(people["reviewer"], application, reason="", confirmed=True)
    revocation.open_check(
        application,
        reason=RevocationReason.MISUSE,
        facts_known_on=ON,
        actor=people["reviewer"],
    )
    with pytest.raises(InvalidTransition):
        withdrawal.withdraw_grant(people["applicant"], application, reason="", confirmed=True)
    assert application.status is Status.REVOCATION_CHECK


def test_T22_applicant_button_with_confirmation_and_reviewer_sees_it(
    app, applicant_client, reviewer_client
):
    with app.app_context():
        from app.auth.models import User

        user = db.session.execute(
            db.select(User).filter_by(email=applicant_client.user_email)
        ).scalar_one()
        application = approved_grant(user)
        app_id = application.id
        db.session.commit()
    page = applicant_client.get(f"/antraege/{app_id}").get_data(as_text=True)
    assert f'href="/antraege/{app_id}/verzicht"' in page
    confirm = applicant_client.get(f"/antraege/{app_id}/verzicht")
    assert confirm.status_code == 200 and 'name="confirm"' in confirm.get_data(as_text=True)
    refused = applicant_client.post(f"/antraege/{app_id}/verzicht", data={"reason": "x"})
    assert refused.status_code == 422
    assert "bestätigen" in refused.get_data(as_text=True)
    done = applicant_client.post(
        f"/antraege/{app_id}/verzicht", data={"reason": "Projekt entfällt", "confirm": "y"}
    )
    assert done.status_code == 302
    html = reviewer_client.get(f"/pruefung/{app_id}").get_data(as_text=True)
    assert "Zurückgezogen" in html and "Projekt entfällt" in html
    assert reviewer_client.post(f"/antraege/{app_id}/verzicht").status_code == 403
