"""Proof of use: R16, R18, R19, R21, R22, R23, R25, R29, R30 and the path to CLOSED."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.common.db import simulated_now
from app.common.errors import DomainError, InvalidTransition
from app.extensions import db
from app.finance import queries as fq
from app.finance.models import GrantAccount, InstalmentKind, InstalmentStatus
from app.finance.services import ledger, payouts
from app.grants.models import Status
from app.postaward.models import ProofKind, ProofStatus
from app.postaward.services import proof as vn
from app.postaward.services import settlement, start
from tests import factories
from tests.finance.factories import approved_grant, confirmed_account


@pytest.fixture
def people(app_ctx):
    return {
        "applicant": factories.create_user("applicant", ags="14626610"),
        "reviewer": factories.create_user("reviewer"),
        "finance": factories.create_user("finance"),
        "finance2": factories.create_user("finance"),
    }


def _running(people, **kwargs):
    application = approved_grant(people["applicant"], **kwargs)
    confirmed_account(people["applicant"], people["finance"])
    start.notify_start(people["applicant"], application, date(2026, 11, 2))
    return application


def _input(application, factor=1.0, **overrides):
    actuals = {ln.id: int(ln.amount_cents * factor) for ln in application.lines}
    data = vn.ProofInput(
        kind=ProofKind.FINAL,
        report="Sachbericht: Lagebild erstellt.",
        publicity_confirmed=True,
        publicity_note="Pressemitteilung",
        actuals=actuals,
        actual_own_cents=application.own_share_cash_cents,
        actual_third_party_cents=application.third_party_cents,
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


def _due(application, people, fulfilled=date(2027, 2, 10)):
    # T11: not before the approval period (from 01.01.2027), so reported on a simulated day
    with simulated_now(datetime(2027, 2, 15, 9, 0, tzinfo=UTC)):
        vn.declare_purpose_fulfilled(people["applicant"], application, fulfilled)
    return application


def test_R21_vn_deadline_is_the_earlier_of_fulfilment_and_period_end_plus_a_year(people):
    application = _due(_running(people), people)
    assert application.status is Status.VN_DUE
    # fulfilled 10.02.2027 + 1 year = 10.02.2028; period end 31.12.2027 + 1 year = 31.12.2028
    assert application.vn_due_on == date(2028, 2, 10)
    decision = vn.approved_decision(application)
    assert vn.vn_due_date(decision, date(2028, 6, 1)) == date(2028, 12, 31)


def test_R18_completeness_check_due_in_30_days_and_restarts(people):
    application = _due(_running(people), people)
    first = vn.submit_proof(
        people["applicant"], application, _input(application), on=date(2027, 1, 10)
    )
    assert first.check_due_on == date(2027, 2, 9)
    vn.mark_incomplete(people["reviewer"], first, "Sachbericht zu kurz")
    assert application.status is Status.VN_INCOMPLETE
    second = vn.submit_proof(
        people["applicant"], application, _input(application), on=date(2027, 2, 1)
    )
    assert second.version == 2 and second.check_due_on == date(2027, 3, 3)
    assert application.status is Status.VN_RECEIVED


def test_R18_complete_makes_the_50_percent_instalment_due_and_R19_sets_6_months(people):
    application = _due(_running(people), people)
    proof = vn.submit_proof(people["applicant"], application, _input(application))
    vn.mark_complete(people["reviewer"], proof, on=date(2027, 3, 1))
    assert application.status is Status.VN_COMPLETE
    db.session.expire_all()
    kinds = {i.kind: i.status for i in fq.instalments_of(application.id)}
    assert kinds[InstalmentKind.AFTER_VN] is InstalmentStatus.DUE
    assert kinds[InstalmentKind.FINAL] is InstalmentStatus.PLANNED
    assert application.final_payment_due_on == date(2027, 9, 1)


def test_R16_reimbursement_paid_only_after_a_partial_proof(people):
    application = _running(people, grant_cents=1_500_000)
    (only,) = fq.instalments_of(application.id)
    assert only.kind is InstalmentKind.REIMBURSEMENT and only.status is InstalmentStatus.PLANNED
    proof = vn.submit_proof(
        people["applicant"], application, _input(application, kind=ProofKind.PARTIAL)
    )
    vn.mark_complete(people["reviewer"], proof)
    db.session.expire_all()
    assert fq.instalments_of(application.id)[0].status is InstalmentStatus.DUE


def test_R22_lower_spending_reduces_the_grant_pro_rata_and_releases_budget(people):
    application = _due(_running(people), people)
    kz = db.session.get(GrantAccount, application.id).kassenzeichen
    proof = vn.submit_proof(people["applicant"], application, _input(application, factor=0.8))
    new_grant = vn.mark_complete(people["reviewer"], proof)
    # planned 50.000 € eligible at 80 % → actual 40.000 € × 80 % = 32.000 €
    assert new_grant == 3_200_000
    account = db.session.get(GrantAccount, application.id)
    assert account.granted_cents == 3_200_000
    assert sum(i.amount_cents for i in fq.instalments_of(application.id)) == 3_200_000
    assert ledger.balance(ledger.committed_account(kz)) == 3_200_000
    assert ledger.unbalanced_entries() == []


def test_R22_small_changes_and_overspend_do_not_change_the_grant(people):
    application = _due(_running(people), people)
    lines = {ln.id: ln.amount_cents for ln in application.lines}
    first = next(iter(lines))
    lines[first] -= 40_000  # 400 € less: within the 500 € tolerance
    proof = vn.submit_proof(people["applicant"], application, _input(application, actuals=lines))
    assert vn.mark_complete(people["reviewer"], proof) is None
    decision = vn.approved_decision(application)
    planned = vn.queries.totals_for(application)
    actual = vn.actual_totals(application, _input(application, factor=1.5))
    assert vn.recalculated_grant(decision, planned, actual, 0) == decision.grant_cents


def test_R23_reductions_over_7_5_percent_or_10000_eur_need_a_change_notice():
    assert not vn.change_notice_required(10_000_000, 9_300_000)  # 7 %
    assert vn.change_notice_required(10_000_000, 9_200_000)  # 8 %
    assert vn.change_notice_required(50_000_000, 48_900_000)  # 11.000 € (2.2 %)
    assert not vn.change_notice_required(10_000_000, 12_000_000)  # overspend


def test_R25_audit_sample_draws_at_least_half_and_is_logged(people):
    apps = []
    for ags in ("14626610", "14628270", "14523320"):
        applicant = factories.create_user("applicant", ags=ags)
        group = {**people, "applicant": applicant}
        application = _due(_running(group), group)
        proof = vn.submit_proof(applicant, application, _input(application))
        vn.mark_complete(people["reviewer"], proof)
        apps.append(application)
    year = vn.latest_proof(apps[0]).submitted_at.year
    sample = vn.draw_audit_sample(people["reviewer"], year, seed="fixed-seed")
    assert sample.population == 3 and sample.selected == 2 and sample.seed == "fixed-seed"
    assert sum(a.status is Status.VN_AUDIT for a in apps) == 2
    with pytest.raises(DomainError, match="bereits"):
        vn.draw_audit_sample(people["reviewer"], year)


def test_R29_missing_publicity_gets_an_eight_week_cure_period(people):
    application = _due(_running(people), people)
    proof = vn.submit_proof(
        people["applicant"], application, _input(application, publicity_confirmed=False)
    )
    vn.mark_complete(people["reviewer"], proof, on=date(2027, 3, 1))
    assert proof.publicity_cure_until == date(2027, 3, 1) + timedelta(weeks=8)
    vn.confirm_publicity(people["applicant"], application, "Schild am Rathaus")
    assert proof.publicity_confirmed


def test_R30_pass_through_needs_permission_in_the_bescheid(people):
    application = _due(_running(people), people)
    with pytest.raises(DomainError, match="Weiterleitung"):
        vn.submit_proof(
            people["applicant"], application, _input(application, ngo_share_cents=100_000)
        )
    vn.approved_decision(application).pass_through_allowed = True
    proof = vn.submit_proof(
        people["applicant"], application, _input(application, ngo_share_cents=100_000)
    )
    assert proof.ngo_share_cents == 100_000


def test_full_life_approved_paid_proven_checked_closed(people):
    application = _running(people)
    first = fq.instalments_of(application.id)[0]

    def pay(instalment, key):
        order = payouts.prepare_order(people["finance"], instalment, idempotency_key=key * 32)
        payouts.release_order(people["finance2"], order, confirm_early=True)
        settlement.create_payment_run(people["finance"], execution_date=date(2099, 1, 4))

    pay(first, "a")
    _due(application, people)
    proof = vn.submit_proof(people["applicant"], application, _input(application))
    vn.mark_complete(people["reviewer"], proof)
    db.session.expire_all()
    pay(fq.instalments_of(application.id)[1], "b")
    vn.mark_checked(people["reviewer"], application)
    db.session.expire_all()
    pay(fq.instalments_of(application.id)[2], "c")
    db.session.refresh(application)
    assert application.status is Status.CLOSED
    assert db.session.get(GrantAccount, application.id).ordered_cents == 4_000_000
    assert proof.status is ProofStatus.CHECKED


def test_submit_refused_in_wrong_state_or_without_report(people):
    application = _running(people)
    with pytest.raises(InvalidTransition):
        vn.submit_proof(people["applicant"], application, _input(application))
    _due(application, people)
    with pytest.raises(DomainError, match="Sachbericht"):
        vn.submit_proof(people["applicant"], application, _input(application, report=" "))


# --- T9/T11 date plausibility (issue 12, F9) -----------------------------------------------------


def test_T9_project_start_not_before_the_submission(people):
    application = approved_grant(people["applicant"])  # submitted 01.10.2026
    for too_early in (date(2020, 1, 1), date(2026, 9, 30)):
        with pytest.raises(DomainError, match="Einreichung") as exc:
            start.notify_start(people["applicant"], application, too_early)
        assert exc.value.field == "started_on"
    assert application.status is Status.FINAL
    start.notify_start(people["applicant"], application, date(2026, 10, 1))
    assert application.status is Status.RUNNING


def test_T11_purpose_fulfilled_not_before_the_approval_period_starts(people):
    application = _running(people)  # approval period from 01.01.2027
    with simulated_now(datetime(2027, 3, 1, 9, 0, tzinfo=UTC)):
        with pytest.raises(DomainError, match="Bewilligungszeitraum") as exc:
            vn.declare_purpose_fulfilled(people["applicant"], application, date(2026, 12, 31))
        assert exc.value.field == "fulfilled_on"
        assert application.status is Status.RUNNING
        vn.declare_purpose_fulfilled(people["applicant"], application, date(2027, 1, 1))
    assert application.status is Status.VN_DUE
