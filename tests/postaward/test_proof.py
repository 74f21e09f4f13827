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
    _allow_pass_through(application)
    proof = vn.submit_proof(
        people["applicant"],
        application,
        _input(application, ngo_share_cents=100_000, ngo_proof_received_on=date(2026, 11, 20)),
    )
    assert proof.ngo_share_cents == 100_000


def _allow_pass_through(application):
    decision = vn.approved_decision(application)
    decision.pass_through_allowed = True
    decision.pass_through_recipient = "Präventionsverein Zittau e. V."


def test_R30_ngo_proof_must_be_attached_and_its_6_month_deadline_is_recorded(people):
    application = _due(_running(people), people)  # purpose fulfilled 10.02.2027
    _allow_pass_through(application)
    with pytest.raises(DomainError, match="Verwendungsnachweis des Dritten") as err:
        vn.submit_proof(
            people["applicant"], application, _input(application, ngo_share_cents=100_000)
        )
    assert err.value.field == "ngo_proof_received_on"
    decision = vn.approved_decision(application)
    # 6 months after purpose fulfilled (10.05.2027), at most 6 months after the period (30.06.2028)
    assert vn.ngo_proof_due_date(decision, date(2026, 11, 10)) == date(2027, 5, 10)
    assert vn.ngo_proof_due_date(decision, date(2028, 6, 1)) == date(2028, 6, 30)
    late = vn.submit_proof(
        people["applicant"],
        application,
        _input(application, ngo_share_cents=100_000, ngo_proof_received_on=date(2026, 11, 30)),
    )
    assert late.ngo_proof_due_on == date(2027, 8, 10) and not vn.ngo_proof_late(late)
    late.ngo_proof_received_on = date(2027, 8, 11)
    assert vn.ngo_proof_late(late)


def test_R30_ngo_proof_is_checked_before_the_grants_own_proof_check(people):
    application = _due(_running(people), people)
    _allow_pass_through(application)
    proof = vn.submit_proof(
        people["applicant"],
        application,
        _input(application, ngo_share_cents=100_000, ngo_proof_received_on=date(2026, 11, 20)),
    )
    vn.mark_complete(people["reviewer"], proof)
    with pytest.raises(DomainError, match="Dritten"):
        vn.mark_checked(people["reviewer"], application)
    assert application.status is Status.VN_COMPLETE
    vn.check_ngo_proof(people["reviewer"], proof, on=date(2026, 12, 1))
    assert proof.ngo_proof_checked_on == date(2026, 12, 1)
    vn.mark_checked(people["reviewer"], application)
    assert application.status is Status.VN_CHECKED


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


def _pay(people, instalment, key):
    order = payouts.prepare_order(people["finance"], instalment, idempotency_key=key * 32)
    payouts.release_order(people["finance2"], order, confirm_early=True)
    settlement.create_payment_run(people["finance"], execution_date=date(2099, 1, 4))


def test_R16_standard_grant_cannot_file_a_partial_proof(people):
    application = _running(people)  # 40.000 €: 40/50/10, not Erstattungsverfahren
    with pytest.raises(DomainError, match="Teil-Verwendungsnachweis"):
        vn.submit_proof(
            people["applicant"], application, _input(application, kind=ProofKind.PARTIAL)
        )
    assert application.status is Status.RUNNING


def test_R18_provisional_proof_releases_neither_the_50_nor_the_final_10_percent(people):
    application = _running(people)
    proof = vn.submit_proof(
        people["applicant"], application, _input(application, kind=ProofKind.PROVISIONAL)
    )
    vn.mark_complete(people["reviewer"], proof)
    vn.mark_checked(people["reviewer"], application)
    db.session.expire_all()
    kinds = {i.kind: i.status for i in fq.instalments_of(application.id)}
    assert kinds[InstalmentKind.AFTER_VN] is InstalmentStatus.PLANNED
    assert kinds[InstalmentKind.FINAL] is InstalmentStatus.PLANNED
    # the final proof follows and releases the 50 % on completeness, the 10 % on its check
    final = vn.submit_proof(people["applicant"], application, _input(application))
    assert application.status is Status.VN_RECEIVED
    vn.mark_complete(people["reviewer"], final)
    db.session.expire_all()
    kinds = {i.kind: i.status for i in fq.instalments_of(application.id)}
    assert kinds[InstalmentKind.AFTER_VN] is InstalmentStatus.DUE
    assert kinds[InstalmentKind.FINAL] is InstalmentStatus.PLANNED
    vn.mark_checked(people["reviewer"], application)
    db.session.expire_all()
    assert fq.instalments_of(application.id)[2].status is InstalmentStatus.DUE


def test_R18_grant_is_never_closed_without_a_checked_final_proof(people):
    application = _running(people, grant_cents=1_500_000)  # Erstattungsverfahren
    proof = vn.submit_proof(
        people["applicant"], application, _input(application, kind=ProofKind.PARTIAL)
    )
    vn.mark_complete(people["reviewer"], proof)
    vn.mark_checked(people["reviewer"], application)
    db.session.expire_all()
    _pay(people, fq.instalments_of(application.id)[0], "r")
    db.session.refresh(application)
    assert application.status is Status.VN_CHECKED  # only a partial proof so far
    assert not vn.close_if_settled(application)
    final = vn.submit_proof(people["applicant"], application, _input(application))
    vn.mark_complete(people["reviewer"], final)
    vn.mark_checked(people["reviewer"], application)
    db.session.refresh(application)
    assert application.status is Status.CLOSED


def _checked_with_reduction(people):
    """40.000 € grant, 16.000 € + 20.000 € paid; the check finds 45.000 € eligible instead of
    50.000 €: 80 % → 36.000 €, so the final 4.000 € instalment is cancelled."""
    application = _running(people)
    _pay(people, fq.instalments_of(application.id)[0], "a")
    _due(application, people)
    proof = vn.submit_proof(people["applicant"], application, _input(application))
    vn.mark_complete(people["reviewer"], proof)
    db.session.expire_all()
    _pay(people, fq.instalments_of(application.id)[1], "b")
    vn.mark_checked(people["reviewer"], application, final_eligible_cents=4_500_000)
    db.session.expire_all()
    assert fq.instalments_of(application.id)[2].status is InstalmentStatus.CANCELLED
    return application


def test_T19_grant_whose_final_instalment_was_cancelled_by_the_reduction_closes(people):
    application = _checked_with_reduction(people)
    db.session.refresh(application)
    assert application.status is Status.CLOSED


def _complete_proofs(people, keys):
    apps = []
    for ags in keys:
        applicant = factories.create_user("applicant", ags=ags)
        group = {**people, "applicant": applicant}
        application = _due(_running(group), group)
        proof = vn.submit_proof(applicant, application, _input(application))
        vn.mark_complete(people["reviewer"], proof)
        apps.append(application)
    return apps


def test_R25_sample_covers_proofs_checked_before_the_draw(people):
    apps = _complete_proofs(people, ("14626610", "14628270", "14523320", "14612000"))
    vn.mark_checked(people["reviewer"], apps[0])  # checked before the yearly draw
    year = vn.latest_proof(apps[0]).submitted_at.year
    sample = vn.draw_audit_sample(people["reviewer"], year, seed="fixed-seed")
    assert sample.population == 4 and sample.selected == 2
    selected = [a for a in apps if vn.latest_proof(a).audit_selected]
    assert len(selected) == 2
    for application in selected:  # a checked one keeps its status; the flag asks for the audit
        assert application.status in (Status.VN_AUDIT, Status.VN_CHECKED, Status.CLOSED)


def test_R25_seed_is_random_not_derived_from_year_and_date(people):
    import hashlib

    from app.common.db import today

    apps = _complete_proofs(people, ("14626610",))
    year = vn.latest_proof(apps[0]).submitted_at.year
    sample = vn.draw_audit_sample(people["reviewer"], year)
    guessable = hashlib.sha256(f"{year}-{today()}".encode()).hexdigest()[:16]
    assert sample.seed != guessable and len(sample.seed) == 32
    int(sample.seed, 16)  # hex, stored for reproducing the draw


@pytest.mark.parametrize(
    ("population", "size"), [(0, 0), (1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (10, 5), (11, 6)]
)
def test_R25_sample_size_is_at_least_half_never_more_than_needed(population, size):
    assert vn.audit_sample_size(population) == size


def test_R25_proof_drawn_during_the_completeness_check_is_audited_once_complete(people):
    application = _due(_running(people), people)
    proof = vn.submit_proof(people["applicant"], application, _input(application))
    sample = vn.draw_audit_sample(people["reviewer"], proof.submitted_at.year, seed="s")
    assert sample.population == 1 and sample.selected == 1
    assert application.status is Status.VN_RECEIVED
    vn.mark_complete(people["reviewer"], proof)
    assert application.status is Status.VN_AUDIT


def test_R30_pass_through_over_http_ngo_proof_then_check(app, applicant_client, reviewer_client):
    from app.auth.models import User
    from app.grants.models import Application

    with app.app_context():
        user = db.session.execute(
            db.select(User).filter_by(email=applicant_client.user_email)
        ).scalar_one()
        group = {"applicant": user, "finance": factories.create_user("finance")}
        application = _due(_running(group), group)
        _allow_pass_through(application)
        app_id = application.id
        lines = {f"actual-{ln.id}": "" for ln in application.lines}
        for ln in application.lines:
            lines[f"actual-{ln.id}"] = f"{ln.amount_cents // 100},00"
        db.session.commit()
    url = f"/antraege/{app_id}/verwendungsnachweis"
    form = applicant_client.get(url).get_data(as_text=True)
    assert 'name="ngo_proof_received_on"' in form
    data = {
        "kind": "final",
        "report": "Sachbericht",
        "actual_own": "0,00",
        "actual_third_party": "0,00",
        "ngo_share": "1.000,00",
        "own_zero_confirmed": "y",  # no own share spent (the form warns otherwise)
        "publicity_confirmed": "y",
        **lines,
    }
    refused = applicant_client.post(url, data=data)
    assert refused.status_code == 422 and "Dritten" in refused.get_data(as_text=True)
    ok = applicant_client.post(url, data={**data, "ngo_proof_received_on": "20.11.2026"})
    assert ok.status_code == 302
    base = f"/pruefung/{app_id}/verwendungsnachweis"
    assert "Nachweis des Dritten" in reviewer_client.get(base).get_data(as_text=True)
    assert reviewer_client.post(f"{base}/vollstaendig").status_code == 302
    reviewer_client.post(f"{base}/geprueft", data={"final_eligible": ""})
    with app.app_context():
        assert db.session.get(Application, app_id).status is Status.VN_COMPLETE
    assert reviewer_client.post(f"{base}/dritter").status_code == 302
    reviewer_client.post(f"{base}/geprueft", data={"final_eligible": ""})
    with app.app_context():
        assert db.session.get(Application, app_id).status is Status.VN_CHECKED


# --- boundary tests (issue 12: value at, one cent below, one cent above) ------------------------


def _decision():
    from app.grants.models import Decision, FinancingType

    return Decision(
        grant_cents=4_000_000,
        financing_type=FinancingType.SHARE,
        rate_bp=8000,
        max_amount_cents=4_000_000,
    )


def _totals(eligible: int, third_party: int = 0):
    from app.grants.services.financing import PlanTotals

    return PlanTotals(eligible_cents=eligible, third_party_cents=third_party)


@pytest.mark.parametrize(
    ("drop", "new_grant"),
    [
        (50_000 - 1, 4_000_000),
        (50_000, 4_000_000),  # exactly 500 €: no recalculation
        (50_000 + 1, 3_959_999),  # 49.499,99 € × 80 % = 39.599,992 € → 39.599,99 €
    ],
)
def test_R22_boundary_eligible_expenditure_falls_by_500_euro(drop, new_grant):
    planned = _totals(5_000_000)
    assert vn.recalculated_grant(_decision(), planned, _totals(5_000_000 - drop), 0) == new_grant


@pytest.mark.parametrize(
    ("rise", "new_grant"),
    [
        (50_000 - 1, 4_000_000),
        (50_000, 4_000_000),  # third-party funds exactly 500 € higher: no recalculation
        (50_000 + 1, 3_959_999),  # (50.000 − 500,01) × 80 % = 39.599,992 € → 39.599,99 €
    ],
)
def test_R22_boundary_third_party_funds_rise_by_500_euro(rise, new_grant):
    planned = _totals(5_000_000, third_party=100_000)
    actual = _totals(5_000_000, third_party=100_000 + rise)
    assert vn.recalculated_grant(_decision(), planned, actual, 100_000) == new_grant


def test_R22_boundary_the_grant_never_rises():
    assert vn.recalculated_grant(_decision(), _totals(5_000_000), _totals(6_000_000), 0) == (
        4_000_000
    )


@pytest.mark.parametrize(
    ("reduction", "required"), [(750_000 - 1, False), (750_000, False), (750_000 + 1, True)]
)
def test_R23_boundary_reduction_of_7_5_percent(reduction, required):
    # 100.000 € planned: 7,5 % = 7.500 € (below the 10.000 € limit, so only the rate decides)
    assert vn.change_notice_required(10_000_000, 10_000_000 - reduction) is required


@pytest.mark.parametrize(
    ("reduction", "required"),
    [(1_000_000 - 1, False), (1_000_000, False), (1_000_000 + 1, True)],
)
def test_R23_boundary_reduction_of_10000_euro(reduction, required):
    # 1 Mio. € planned: 10.000 € are 1 % (far below 7,5 %), so only the amount decides
    assert vn.change_notice_required(100_000_000, 100_000_000 - reduction) is required


@pytest.mark.parametrize(
    ("population", "size"), [(0, 0), (1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (99, 50), (100, 50)]
)
def test_R25_boundary_audit_share_is_at_least_half_rounded_up(population, size):
    assert vn.audit_sample_size(population) == size
    # at least 50 %, and one fewer would be below 50 %
    assert size * 2 >= population and (size - 1) * 2 < population or population == 0


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
