"""Revocation checks and revocation with recovery claims (T20, T23–T27; R24, R26, R28)."""

from __future__ import annotations

from datetime import date

import pytest

from app.common.errors import DomainError, InvalidTransition
from app.extensions import db
from app.finance.models import ClaimStatus, GrantAccount, InstalmentStatus
from app.finance.services import claims, ledger, payouts
from app.grants.models import Status
from app.postaward.models import RevocationReason
from app.postaward.services import revocation, start
from tests import factories
from tests.finance.factories import approved_grant, confirmed_account


@pytest.fixture
def people(app_ctx):
    return {
        "applicant": factories.create_user("applicant", ags="14626610"),
        "reviewer": factories.create_user("reviewer"),
        "approver": factories.create_user("approver"),
        "finance": factories.create_user("finance"),
        "finance2": factories.create_user("finance"),
    }


def _paid_first(people):
    """A running grant of 40.000 € whose first instalment (16.000 €) was paid."""
    application = approved_grant(people["applicant"])
    confirmed_account(people["applicant"], people["finance"])
    start.notify_start(people["applicant"], application, date(2026, 11, 2))
    from app.finance import queries

    first = queries.instalments_of(application.id)[0]
    order = payouts.prepare_order(people["finance"], first, idempotency_key="p" * 32)
    payouts.release_order(people["finance2"], order, confirm_early=True)
    return application


def test_T27_check_without_revocation_returns_to_previous_status(people):
    application = _paid_first(people)
    revocation.open_check(
        application,
        reason=RevocationReason.MISUSE,
        facts_known_on=date(2026, 11, 20),
        actor=people["reviewer"],
    )
    assert application.status is Status.REVOCATION_CHECK
    with pytest.raises(InvalidTransition):
        revocation.open_check(
            application,
            reason=RevocationReason.OTHER,
            facts_known_on=date(2026, 11, 20),
            actor=people["reviewer"],
        )
    with pytest.raises(DomainError, match="begründen"):
        revocation.close_without_revocation(people["reviewer"], application, "")
    revocation.close_without_revocation(people["reviewer"], application, "Hinweis unbegründet")
    assert application.status is Status.RUNNING


def test_T26_total_revocation_creates_a_claim_for_what_was_paid(people):
    application = _paid_first(people)
    revocation.open_check(
        application,
        reason=RevocationReason.MISUSE,
        facts_known_on=date(2026, 11, 20),
        actor=people["reviewer"],
    )
    claim = revocation.revoke(
        people["approver"],
        application,
        new_grant_cents=0,
        reasons="Zweckwidrige Verwendung",
        effective_from=date(2026, 11, 5),
        on=date(2026, 11, 24),
    )
    assert application.status is Status.RECOVERY
    assert claim.principal_cents == 1_600_000 and claim.status is ClaimStatus.OPEN
    assert claim.kassenzeichen.endswith("-RF1")
    account = db.session.get(GrantAccount, application.id)
    assert account.granted_cents == 1_600_000  # only what was paid stays bound
    from app.finance import queries

    statuses = [i.status for i in queries.instalments_of(application.id)]
    assert statuses.count(InstalmentStatus.CANCELLED) == 2
    assert ledger.balance(ledger.receivable_account(claim.kassenzeichen)) == 1_600_000
    assert ledger.balance(ledger.committed_account(account.kassenzeichen)) == 0
    assert ledger.unbalanced_entries() == []


def test_R26_revocation_refused_after_one_year_of_knowing_the_facts(people):
    application = _paid_first(people)
    revocation.open_check(
        application,
        reason=RevocationReason.WRONG_DATA,
        facts_known_on=date(2025, 11, 1),
        actor=people["reviewer"],
    )
    case = revocation.open_case(application)
    assert revocation.warning_date(case) == date(2026, 9, 1)
    assert revocation.decision_deadline(case) == date(2026, 11, 1)
    with pytest.raises(DomainError, match="Widerrufsfrist"):
        revocation.revoke(
            people["approver"],
            application,
            new_grant_cents=0,
            reasons="x",
            effective_from=date(2025, 11, 1),
            on=date(2026, 11, 2),
        )


def test_R28_small_recovery_within_vvk_8_7_is_not_raised(people):
    application = _paid_first(people)
    revocation.open_check(
        application,
        reason=RevocationReason.OTHER,
        facts_known_on=date(2026, 11, 20),
        actor=people["reviewer"],
    )
    # Keep 15.500 € of the 16.000 € paid: 500 € to recover on a 40.000 € grant is ≤ 3 %.
    claim = revocation.revoke(
        people["approver"],
        application,
        new_grant_cents=1_550_000,
        reasons="geringe Minderausgabe",
        effective_from=date(2026, 11, 5),
        on=date(2026, 11, 24),
    )
    assert claim.status is ClaimStatus.WAIVED and claim.waiver_reason
    assert application.status is Status.CLOSED


def test_R29_publicity_proposal_is_5_to_15_percent():
    assert revocation.publicity_recovery_proposal(4_000_000) == (200_000, 600_000)


def _total_revocation(people):
    """The paid first instalment (16.000 €) is reclaimed; the Bescheid lost effect 05.01.2026."""
    application = _paid_first(people)
    revocation.open_check(
        application,
        reason=RevocationReason.MISUSE,
        facts_known_on=date(2026, 11, 20),
        actor=people["reviewer"],
    )
    claim = revocation.revoke(
        people["approver"],
        application,
        new_grant_cents=0,
        reasons="Zweckwidrig",
        effective_from=date(2026, 1, 5),
        on=date(2026, 11, 24),
    )
    return application, claim


def test_R27_claim_paid_with_interest_closes_the_grant(people):
    application, claim = _total_revocation(people)
    # 30/360, payment day included (Zins-A Nr. 2.1, 2.3), base rate + 5 pp per half-year:
    #   05.01.–30.06.2026: 176 days at 1,27 % + 5 = 6,27 %: 16.000 × 0,0627 × 176/360 = 490,45 €
    #   01.07.–20.11.2026: 140 days at 1,52 % + 5 = 6,52 %: 16.000 × 0,0652 × 140/360 = 405,69 €
    interest, _why = claims.interest_due(claim, date(2026, 11, 20))
    assert interest == 49_045 + 40_569  # 896,14 € > 250 €: charged (R28)
    revocation.record_claim_payment(
        people["finance"], claim, paid_on=date(2026, 11, 20), paid_cents=1_600_000 + interest
    )
    assert claim.status is ClaimStatus.PAID and claim.interest_cents == interest
    assert application.status is Status.CLOSED
    assert ledger.balance(ledger.receivable_account(claim.kassenzeichen)) == 0
    assert ledger.unbalanced_entries() == []


def test_R27_missing_base_rate_is_a_clear_error_not_a_crash(people):
    _application, claim = _total_revocation(people)
    with pytest.raises(DomainError, match="Zinsen können nicht berechnet werden"):
        claims.interest_due(claim, date(2027, 3, 1))  # no rate for 2027 maintained yet
