"""Revocation checks and revocation with recovery claims (T20, T23–T27; R24, R26, R28)."""

from __future__ import annotations

from datetime import date

import pytest

from app.common.errors import DomainError, InvalidTransition
from app.extensions import db
from app.finance.models import ClaimStatus, GrantAccount, InstalmentStatus, RecoveryClaim
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
        reason=RevocationReason.RECALCULATION,
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


@pytest.mark.parametrize(
    "reason", [RevocationReason.MISUSE, RevocationReason.WRONG_DATA, RevocationReason.OTHER]
)
def test_R28_small_amount_waiver_does_not_apply_to_misuse_or_wrong_data(people, reason):
    application = _paid_first(people)
    revocation.open_check(
        application, reason=reason, facts_known_on=date(2026, 11, 20), actor=people["reviewer"]
    )
    # 500 € on a 40.000 € grant is within the VVK 8.7 limit (3 %, at most 1.000 €), but the
    # waiver covers only VVK 8.2.1/8.2.3/8.2.4: misuse and wrong data are recovered in full.
    claim = revocation.revoke(
        people["approver"],
        application,
        new_grant_cents=1_550_000,
        reasons="zweckwidrig verwendet",
        effective_from=date(2026, 11, 5),
        on=date(2026, 11, 24),
    )
    assert claim.status is ClaimStatus.OPEN and claim.waiver_reason == ""
    assert application.status is Status.RECOVERY
    assert ledger.balance(ledger.receivable_account(claim.kassenzeichen)) == 50_000


def test_R28_small_amount_waiver_applies_to_no_start(people):
    application = _paid_first(people)
    revocation.open_check(
        application,
        reason=RevocationReason.NO_START,
        facts_known_on=date(2026, 11, 20),
        actor=people["reviewer"],
    )
    claim = revocation.revoke(
        people["approver"],
        application,
        new_grant_cents=1_550_000,
        reasons="kein Beginn",
        effective_from=date(2026, 11, 5),
        on=date(2026, 11, 24),
    )
    assert claim.status is ClaimStatus.WAIVED


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


def test_T21_total_revocation_with_nothing_paid_closes_the_grant(people):
    application = approved_grant(people["applicant"])  # FINAL, nothing paid
    revocation.open_check(
        application,
        reason=RevocationReason.NO_START,
        facts_known_on=date(2026, 11, 20),
        actor=people["reviewer"],
    )
    claim = revocation.revoke(
        people["approver"],
        application,
        new_grant_cents=0,
        reasons="Kein Projektbeginn",
        effective_from=date(2026, 11, 5),
        on=date(2026, 11, 24),
    )
    assert claim is None
    assert application.status is Status.CLOSED
    account = db.session.get(GrantAccount, application.id)
    assert account.granted_cents == 0
    assert ledger.balance(ledger.committed_account(account.kassenzeichen)) == 0


def test_T21_partial_revocation_without_overpayment_returns_to_the_running_grant(people):
    application = _paid_first(people)  # 16.000 € of 40.000 € paid
    revocation.open_check(
        application,
        reason=RevocationReason.OTHER,
        facts_known_on=date(2026, 11, 20),
        actor=people["reviewer"],
    )
    claim = revocation.revoke(
        people["approver"],
        application,
        new_grant_cents=3_000_000,
        reasons="Teilwiderruf",
        effective_from=date(2026, 11, 5),
        on=date(2026, 11, 24),
    )
    assert claim is None
    assert application.status is Status.RUNNING  # nothing to recover: the grant runs on
    assert revocation.open_case(application) is None
    assert db.session.get(GrantAccount, application.id).granted_cents == 3_000_000


# --- partial payments (R27, T21; § 367 BGB) ------------------------------------------------------


def test_R27_recovery_paid_in_two_parts_reduces_principal_and_closes_the_grant(people):
    application, claim = _total_revocation(people)
    # 16.000 € from 05.01.2026, 30E/360, payment day included.
    # 1st payment 10.000,00 € on 30.06.2026: interest 05.01.–30.06.2026 on 16.000 €:
    #   176 days at 6,27 %: 1,600,000 × 0.0627 × 176 / 360 = 49,045.33 ct → 490,45 € (> 250 €,
    #   charged). § 367 BGB: interest first (490,45 €), then principal 9.509,55 €;
    #   open principal 16.000 − 9.509,55 = 6.490,45 €.
    assert not revocation.record_claim_payment(
        people["finance"], claim, paid_on=date(2026, 6, 30), paid_cents=1_000_000
    )
    assert claim.status is ClaimStatus.OPEN and application.status is Status.RECOVERY
    assert (claim.paid_cents, claim.interest_cents, claim.interest_paid_cents) == (
        1_000_000,
        49_045,
        49_045,
    )
    assert claim.principal_open_cents == 649_045
    # 2nd payment on 30.09.2026: interest 01.07.–30.09.2026 only on the open 6.490,45 €:
    #   90 days at 6,52 %: 649,045 × 0.0652 × 90 / 360 = 10,579.43 ct → 105,79 €
    #   (on the full 16.000 € it would be 260,80 €). Open: 105,79 + 6.490,45 = 6.596,24 €.
    interest, _why = claims.interest_due(claim, date(2026, 9, 30))
    assert interest == 49_045 + 10_579
    assert claim.open_cents == 649_045  # before the second payment's interest
    assert revocation.record_claim_payment(
        people["finance"], claim, paid_on=date(2026, 9, 30), paid_cents=659_624
    )
    assert claim.status is ClaimStatus.PAID and application.status is Status.CLOSED  # T21
    assert claim.paid_cents == 1_000_000 + 659_624  # accumulated, not overwritten
    assert (claim.interest_cents, claim.interest_paid_cents, claim.principal_paid_cents) == (
        59_624,
        59_624,
        1_600_000,
    )
    assert ledger.balance(ledger.receivable_account(claim.kassenzeichen)) == 0
    assert ledger.balance(ledger.interest_account(2026)) == -59_624
    assert ledger.unbalanced_entries() == []
    from app.common.audit import AuditEvent

    audited = db.session.execute(
        db.select(AuditEvent).where(AuditEvent.action == "recovery_payment")
    ).scalars()
    assert len(list(audited)) == 2


def test_R27_partial_payment_settles_costs_then_interest_then_principal(people):
    _application, claim = _total_revocation(people)
    claim.costs_cents = 2_000  # e.g. Mahnkosten; § 367 (1) BGB: costs, interest, principal
    db.session.flush()
    # interest to 30.06.2026: 490,45 € (see above); 300,00 € pay 20,00 € costs + 280,00 € interest
    revocation.record_claim_payment(
        people["finance"], claim, paid_on=date(2026, 6, 30), paid_cents=30_000
    )
    assert (claim.costs_paid_cents, claim.interest_paid_cents, claim.principal_paid_cents) == (
        2_000,
        28_000,
        0,
    )
    # the principal is untouched, so interest keeps running on all of it
    assert claim.principal_open_cents == 1_600_000 and claim.interest_open_cents == 21_045
    assert ledger.balance(ledger.costs_account(2026)) == -2_000


def test_R27_payment_above_the_open_amount_or_before_the_last_one_is_refused(people):
    _application, claim = _total_revocation(people)
    with pytest.raises(DomainError, match="übersteigt die offene Forderung"):
        revocation.record_claim_payment(
            people["finance"], claim, paid_on=date(2026, 6, 30), paid_cents=1_600_000 + 49_046
        )
    revocation.record_claim_payment(
        people["finance"], claim, paid_on=date(2026, 6, 30), paid_cents=100_000
    )
    with pytest.raises(DomainError, match="vor der zuletzt gebuchten Zahlung"):
        revocation.record_claim_payment(
            people["finance"], claim, paid_on=date(2026, 6, 29), paid_cents=100_000
        )
    with pytest.raises(DomainError, match="größer als 0"):
        revocation.record_claim_payment(
            people["finance"], claim, paid_on=date(2026, 7, 1), paid_cents=0
        )


def test_R27_concurrent_payment_on_a_stale_claim_is_refused(people, monkeypatch):
    _application, claim = _total_revocation(people)
    # Another session booked a payment meanwhile (payment_count 1 in the row) while this
    # session still sees 0: the conditional UPDATE must refuse instead of overwriting it.
    db.session.execute(
        db.update(RecoveryClaim)
        .where(RecoveryClaim.id == claim.id)
        .values(payment_count=1)
        .execution_options(synchronize_session=False)
    )
    monkeypatch.setattr(db.session, "refresh", lambda *args, **kwargs: None)
    with pytest.raises(InvalidTransition, match="gleichzeitig"):
        claims.record_payment(
            people["finance"], claim, paid_on=date(2026, 6, 30), paid_cents=100_000
        )
