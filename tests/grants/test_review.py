"""Ministry review: assignment, conflicts of interest, change requests and resubmission with
version diff, comments, checklist, decision rules R10/R11, four eyes, finality."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.common.dates import add_months
from app.common.db import simulated_now
from app.common.errors import DomainError, InvalidTransition, NotPermitted
from app.extensions import db
from app.grants import queries
from app.grants.models import FinancingType, Status
from app.grants.services import applications as svc
from app.grants.services import compare, review
from tests import factories


@pytest.fixture
def people(app_ctx):
    return {
        "applicant": factories.create_user("applicant", ags="14626610"),
        "reviewer": factories.create_user("reviewer", name="Rita Review"),
        "reviewer2": factories.create_user("reviewer", name="Rolf Review"),
        "approver": factories.create_user("approver", name="Anton Approve"),
        "lead": factories.create_user(roles=["approver", "reviewer"], name="Lea Lead"),
    }


@pytest.fixture
def submitted(people):
    return factories.submitted_application(people["applicant"])


def _input(application, **overrides):
    data = review.proposal(application, 2026)
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


def test_lead_assigns_reviewer_and_review_starts(people, submitted):
    review.assign(people["lead"], submitted, people["reviewer"])
    assert submitted.status is Status.IN_REVIEW
    assert submitted.assigned_reviewer_id == people["reviewer"].id


def test_plain_reviewer_cannot_assign(people, submitted):
    with pytest.raises(NotPermitted):
        review.assign(people["reviewer2"], submitted, people["reviewer"])


def test_conflict_of_interest_blocks_assignment_review_and_approval(people, submitted):
    org_id = submitted.organisation_id
    review.declare_affiliation(people["reviewer"], org_id, "wohnt in Zittau")
    with pytest.raises(NotPermitted, match="Befangenheit"):
        review.assign(people["lead"], submitted, people["reviewer"])
    with pytest.raises(NotPermitted, match="Befangenheit"):
        review.start_review(people["reviewer"], submitted)
    review.start_review(people["reviewer2"], submitted)
    decision = review.prepare_decision(people["reviewer2"], submitted, _input(submitted))
    review.declare_affiliation(people["approver"], org_id, "Stadtrat")
    with pytest.raises(NotPermitted, match="Befangenheit"):
        review.approve(people["approver"], decision)


def test_change_request_reopens_and_resubmission_keeps_both_versions(people, submitted):
    review.start_review(people["reviewer"], submitted)
    review.request_changes(
        people["reviewer"],
        submitted,
        message="Bitte Stellenanteil prüfen",
        sections=["finance"],
        due_on=None,
    )
    assert submitted.status is Status.INCOMPLETE and submitted.is_editable
    svc.update_fields(submitted, people["applicant"], {"title": "Neuer Titel"}, svc.GENERAL_FIELDS)
    svc.submit_application(submitted, people["applicant"], now=factories.IN_WINDOW)
    assert submitted.status is Status.SUBMITTED
    versions = queries.submissions_of(submitted)
    assert [s.version for s in versions] == [2, 1]
    old, new = (queries.get_submission(submitted, v) for v in (1, 2))
    changes = {c.label: (c.old, c.new) for c in compare.diff_versions(old, new, {})}
    assert changes["Projekttitel"] == ("Koordinierungsstelle", "Neuer Titel")
    assert not any("submitted" in label for label in changes)
    assert all(c.resolved_at for c in queries.change_requests_of(submitted))
    assert old.pdf_sha256 != new.pdf_sha256


def test_change_request_needs_a_message(people, submitted):
    with pytest.raises(DomainError, match="beschreiben"):
        review.request_changes(people["reviewer"], submitted, message=" ", sections=[], due_on=None)


def test_internal_comments_are_hidden_from_applicants(people, submitted):
    review.add_comment(people["reviewer"], submitted, "nur intern", internal=True)
    review.add_comment(people["reviewer"], submitted, "an die Kommune", internal=False)
    review.add_comment(people["applicant"], submitted, "Rückfrage", internal=True)
    external = [e.message for e in queries.events_for(submitted, include_internal=False)]
    everything = [e.message for e in queries.events_for(submitted, include_internal=True)]
    assert "nur intern" not in external and "nur intern" in everything
    assert "an die Kommune" in external and "Rückfrage" in external


def test_checklist_shows_each_rule(people, submitted):
    items = {item.rule: item for item in review.checklist(submitted)}
    assert set(items) >= {"R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9"}
    assert all(item.ok for item in items.values())
    submitted.own_share_cash_cents += 1
    assert not {i.rule: i for i in review.checklist(submitted)}["R5"].ok


def test_R10_decision_stores_rate_cap_purpose_period_deadline_and_anbest(people, submitted):
    review.start_review(people["reviewer"], submitted)
    decision = review.prepare_decision(people["reviewer"], submitted, _input(submitted))
    assert decision.rate_bp > 0 and decision.max_amount_cents == decision.grant_cents
    assert decision.purpose and decision.period_start and decision.period_end
    assert decision.vn_deadline == date(2028, 12, 31)
    assert decision.anbest_version.startswith("ANBest-K")
    with pytest.raises(review.DecisionInvalid, match="Höchstbetrag"):
        review.prepare_decision(
            people["reviewer"], submitted, _input(submitted, max_amount_cents=0)
        )
    with pytest.raises(review.DecisionInvalid, match="Verwendungsnachweis"):
        review.prepare_decision(
            people["reviewer"], submitted, _input(submitted, vn_deadline=date(2029, 1, 1))
        )


def test_R11_deficit_financing_needs_override_and_full_funding_is_impossible(people, submitted):
    review.start_review(people["reviewer"], submitted)
    with pytest.raises(review.DecisionInvalid, match="R11"):
        review.prepare_decision(
            people["reviewer"], submitted, _input(submitted, financing_type=FinancingType.DEFICIT)
        )
    review.prepare_decision(
        people["reviewer"],
        submitted,
        _input(submitted, financing_type=FinancingType.DEFICIT, override_note="Sonderlage"),
    )
    with pytest.raises(review.DecisionInvalid):
        review.prepare_decision(people["reviewer"], submitted, _input(submitted, rate_bp=10000))


def test_decision_years_must_add_up_to_the_grant(people, submitted):
    review.start_review(people["reviewer"], submitted)
    data = _input(submitted)
    data.years = {2027: data.grant_cents - 1}
    with pytest.raises(review.DecisionInvalid, match="ergeben"):
        review.prepare_decision(people["reviewer"], submitted, data)


def test_R2_late_application_is_approved_only_with_accepted_justification(people):
    application = factories.complete_application(
        people["applicant"], project_start=date(2027, 6, 1)
    )
    from datetime import UTC, datetime

    svc.submit_application(
        application,
        people["applicant"],
        late_justification="Grund",
        now=datetime(2026, 11, 24, tzinfo=UTC),
    )
    review.start_review(people["reviewer"], application)
    _open_budget(2027, ve_for=2028)
    decision = review.prepare_decision(people["reviewer"], application, _input(application))
    with pytest.raises(review.DecisionInvalid, match="R2"):
        review.approve(people["approver"], decision, now=APPROVAL_TIME)
    assert application.status is Status.IN_REVIEW
    decision = review.prepare_decision(
        people["reviewer"], application, _input(application, late_accepted=True)
    )
    review.approve(people["approver"], decision, now=APPROVAL_TIME)
    assert application.status is Status.APPROVED


def _late_in_review(people):
    from datetime import UTC, datetime

    application = factories.complete_application(
        people["applicant"], project_start=date(2027, 6, 1)
    )
    svc.submit_application(
        application,
        people["applicant"],
        late_justification="Grund",
        now=datetime(2026, 11, 24, tzinfo=UTC),
    )
    review.start_review(people["reviewer"], application)
    return application


def test_R2_late_application_can_be_rejected_without_accepting_the_justification(people):
    """T6: the late justification need not be accepted to reject (issue 12, F8)."""
    application = _late_in_review(people)
    decision = review.prepare_decision(people["reviewer"], application, _input(application))
    review.reject(people["approver"], decision, "Verspätung nicht ausreichend begründet")
    assert application.status is Status.REJECTED
    assert application.late_accepted is False


def test_four_eyes_preparer_cannot_approve_or_reject(people, submitted):
    review.start_review(people["lead"], submitted)
    decision = review.prepare_decision(people["lead"], submitted, _input(submitted))
    with pytest.raises(NotPermitted, match="Vier-Augen"):
        review.approve(people["lead"], decision)
    with pytest.raises(NotPermitted, match="Vier-Augen"):
        review.reject(people["lead"], decision, "Gründe")
    with pytest.raises(NotPermitted):
        review.approve(people["reviewer2"], decision)  # not an approver


def test_rejection_needs_reasons_and_is_final(people, submitted):
    review.start_review(people["reviewer"], submitted)
    decision = review.prepare_decision(people["reviewer"], submitted, _input(submitted))
    with pytest.raises(DomainError, match="begründet"):
        review.reject(people["approver"], decision, "  ")
    review.reject(people["approver"], decision, "Keine Mittel für dieses Vorhaben")
    assert submitted.status is Status.REJECTED
    with pytest.raises(InvalidTransition):
        review.reject(people["approver"], decision, "nochmal")


def test_send_back_keeps_application_in_review(people, submitted):
    review.start_review(people["reviewer"], submitted)
    decision = review.prepare_decision(people["reviewer"], submitted, _input(submitted))
    review.send_back(people["approver"], decision, "Zeitraum prüfen")
    assert submitted.status is Status.IN_REVIEW
    assert review.open_decision(submitted) is None


def test_default_years_split_40_percent_first_rest_after_period():
    years = review.default_years(10_000_000, date(2027, 1, 1), date(2027, 12, 31), 2026)
    assert years == {2027: 4_000_000, 2028: 6_000_000}
    split = review.default_years(20_000_000, date(2027, 1, 1), date(2028, 6, 30), 2026)
    assert split == {2027: 8_000_000, 2028: 5_000_000, 2029: 7_000_000}
    assert sum(split.values()) == 20_000_000


def test_payout_plan_matches_vvk_examples(people, submitted):
    review.start_review(people["reviewer"], submitted)
    decision = review.prepare_decision(people["reviewer"], submitted, _input(submitted))
    assert [a for _, a in review.payout_plan(10_000_000, decision)] == [
        4_000_000,
        5_000_000,
        1_000_000,
    ]
    decision.period_end = date(2028, 6, 30)  # 18 months
    assert [a for _, a in review.payout_plan(20_000_000, decision)] == [
        8_000_000,
        5_000_000,
        5_000_000,
        2_000_000,
    ]
    assert sum(a for _, a in review.payout_plan(10_000_001, decision)) == 10_000_001


def test_add_months_clamps_to_month_end():
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2027, 12, 31), 12) == date(2028, 12, 31)


def test_queue_filters_and_paginates(people):
    a = factories.submitted_application(people["applicant"])
    other = factories.create_user("applicant", ags="14628270")
    b = factories.submitted_application(other, grant_cents=3_000_000)
    f = queries.QueueFilter
    assert {x.id for x in queries.review_queue(f()).items} >= {a.id, b.id}
    assert [x.id for x in queries.review_queue(f(kreis_key="14628")).items] == [b.id]
    assert [x.id for x in queries.review_queue(f(polizeidirektion="Görlitz")).items] == [a.id]
    assert [x.id for x in queries.review_queue(f(max_cents=3_500_000)).items] == [b.id]
    page = queries.review_queue(f(per_page=1, page=2, sort="amount"))
    assert page.total >= 2 and len(page.items) == 1 and page.pages >= 2
    db.session.flush()


# --- approval within the budget ---------------------------------------------------------------


def _open_budget(year=2027, cap_cents=130_000_000, ve_for=None):
    from app.budget import services as budget

    budget.open_year(year, cap_cents)
    if ve_for:
        budget.set_authorisation(year, ve_for, cap_cents)


def _approval_ready(people, submitted):
    review.start_review(people["reviewer"], submitted)
    return review.prepare_decision(
        people["reviewer"], submitted, _input(submitted), approval_year=2027
    )


APPROVAL_TIME = __import__("datetime").datetime(2027, 2, 1, 9, 0, tzinfo=__import__("datetime").UTC)


@pytest.mark.pdf
def test_approve_commits_budget_issues_bescheid_and_notifies(people, submitted):
    import io

    from pypdf import PdfReader

    from app.budget.models import BudgetYear
    from app.common.mail import OutboxMessage

    _open_budget(2027, ve_for=2028)
    decision = _approval_ready(people, submitted)
    bescheid = review.approve(people["approver"], decision, now=APPROVAL_TIME)
    assert submitted.status is Status.APPROVED
    assert decision.kassenzeichen == f"KP-2027-{submitted.id:04d}"
    assert db.session.get(BudgetYear, 2027).committed_cents == 1_600_000  # 40 % of 40.000 €
    pages = PdfReader(io.BytesIO(bescheid.pdf)).pages
    text = " ".join(page.extract_text() for page in pages).replace("\xa0", " ")
    assert "Zuwendungsbescheid" in text and submitted.reference in text
    assert "40.000,00 €" in text and "31.12.2028" in text and "ANBest-K" in text
    assert "16.000,00 €" in text  # first instalment (40 %)
    mails = db.session.execute(db.select(OutboxMessage)).scalars().all()
    assert any("Zuwendungsbescheid" in m.subject for m in mails)
    assert submitted.notified_on == date(2027, 2, 5)
    assert review.finality_date(submitted) == date(2027, 3, 6)


def test_R12_short_budget_writes_nothing_and_names_the_year(people, submitted):
    from app.budget.models import BudgetYear, Commitment
    from app.common.errors import BudgetCapExceeded

    _open_budget(2027, cap_cents=1_000_000, ve_for=2028)  # only 10.000 € in 2027
    decision = _approval_ready(people, submitted)
    nested = db.session.begin_nested()
    with pytest.raises(BudgetCapExceeded, match="2027"):
        review.approve(people["approver"], decision, now=APPROVAL_TIME)
    nested.rollback()
    db.session.expire_all()
    assert submitted.status is Status.IN_REVIEW
    assert db.session.get(BudgetYear, 2027).committed_cents == 0
    assert db.session.execute(db.select(Commitment)).first() is None


def test_R13_provisional_budget_blocks_approval(people, submitted):
    from app.budget import services as budget

    _open_budget(2027, ve_for=2028)
    budget.set_provisional(2027, True)
    decision = _approval_ready(people, submitted)
    with pytest.raises(DomainError):
        review.approve(people["approver"], decision, now=APPROVAL_TIME)


def test_waiver_and_remedy_period_make_the_grant_final(people, submitted):
    _open_budget(2027, ve_for=2028)
    decision = _approval_ready(people, submitted)
    review.approve(people["approver"], decision, now=APPROVAL_TIME)
    assert review.finalize_due(date(2027, 3, 5)) == []
    assert review.finalize_due(date(2027, 3, 6)) == [submitted]
    assert submitted.status is Status.FINAL and submitted.final_on == date(2027, 3, 6)
    assert review.finalize_due(date(2027, 3, 7)) == []  # idempotent


def test_waiver_makes_final_at_once(people, submitted):
    _open_budget(2027, ve_for=2028)
    decision = _approval_ready(people, submitted)
    review.approve(people["approver"], decision, now=APPROVAL_TIME)
    with simulated_now(APPROVAL_TIME + timedelta(days=20)):
        review.record_waiver(people["reviewer"], submitted, date(2027, 2, 20))
    assert submitted.status is Status.FINAL


def test_change_request_closes_a_prepared_decision(people, submitted):
    review.start_review(people["reviewer"], submitted)
    decision = review.prepare_decision(people["reviewer"], submitted, _input(submitted))
    review.request_changes(
        people["reviewer"], submitted, message="Bitte ergänzen", sections=["general"], due_on=None
    )
    db.session.refresh(decision)
    assert review.open_decision(submitted) is None
    with pytest.raises(InvalidTransition):
        review.approve(people["approver"], decision)


def test_R16_bescheid_prints_the_same_reimbursement_plan_as_the_payouts(people, submitted):
    review.start_review(people["reviewer"], submitted)
    decision = review.prepare_decision(people["reviewer"], submitted, _input(submitted))
    (only,) = review.payout_plan(1_500_000, decision)  # < 20.000 €: Erstattungsverfahren
    assert only == (review.INSTALMENT_LABELS["reimbursement"], 1_500_000)


def test_revising_a_prepared_decision_keeps_its_years(people, submitted):
    """Issue 11: revising a prepared decision that keeps a budget year raised
    ``UNIQUE constraint failed: decision_year.decision_id, decision_year.year`` (HTTP 500)."""
    review.start_review(people["reviewer"], submitted)
    first = review.prepare_decision(people["reviewer"], submitted, _input(submitted))
    years = dict(_input(submitted).years)
    kept, *_rest = sorted(years)
    revised = review.prepare_decision(
        people["reviewer"], submitted, _input(submitted, purpose="Überarbeiteter Zweck")
    )
    db.session.flush()
    assert revised.id == first.id
    assert {y.year: y.amount_cents for y in revised.years} == years
    assert kept in {y.year for y in revised.years}
    # Moving money between the years and dropping one works as well.
    total = sum(years.values())
    again = review.prepare_decision(
        people["reviewer"], submitted, _input(submitted, years={kept: total})
    )
    db.session.flush()
    assert {y.year: y.amount_cents for y in again.years} == {kept: total}


def test_bescheid_is_addressed_with_name_and_postal_address(people, submitted, monkeypatch):
    """Issue 11: the Bescheid addressed "Plauen, Stadt" without a postal address and printed a
    clock time ("Antrag vom 03.12.2026, 20:38 Uhr")."""
    from app.grants.services import snapshot

    pages: list[str] = []
    monkeypatch.setattr(snapshot, "render_pdf", lambda html: pages.append(html) or b"%PDF-1.4")
    submitted.organisation.address = "Markt 1\n02763 Zittau"
    _open_budget(2027, ve_for=2028)
    _open_budget(2028)
    decision = _approval_ready(people, submitted)
    review.approve(people["approver"], decision, now=APPROVAL_TIME)
    (html,) = pages
    address = html.split('<div class="address">', 1)[1].split("</div>", 1)[0]
    assert address.startswith("Stadt Zittau<br>")
    assert "Markt 1<br>02763 Zittau<br>" in address
    assert "Auf Ihren Antrag vom " in html
    sentence = html.split("Auf Ihren Antrag vom ", 1)[1].split(" ergeht", 1)[0]
    assert "Uhr" not in sentence and len(sentence) == 10


# --- R6/R11 caps at the decision (issue 12, F2) -----------------------------------------------


def _with_grant(application, grant, **overrides):
    data = _input(application, **overrides)
    data.grant_cents = data.max_amount_cents = grant
    data.years = {2027: grant}
    return data


@pytest.mark.parametrize("financing_type", [FinancingType.FIXED, FinancingType.DEFICIT])
def test_R6_fixed_and_deficit_grants_at_most_90_percent_of_eligible(
    people, submitted, financing_type
):
    review.start_review(people["reviewer"], submitted)
    eligible = queries.totals_for(submitted).eligible_cents  # 50.000 €
    note = {"override_note": "Sonderlage"}
    at_cap = eligible * 9 // 10
    review.prepare_decision(
        people["reviewer"],
        submitted,
        _with_grant(submitted, at_cap, financing_type=financing_type, **note),
    )
    with pytest.raises(review.DecisionInvalid, match="90") as exc:
        review.prepare_decision(
            people["reviewer"],
            submitted,
            _with_grant(submitted, at_cap + 1, financing_type=financing_type, **note),
        )
    assert exc.value.field == "grant"
    with pytest.raises(review.DecisionInvalid, match="90"):
        review.prepare_decision(
            people["reviewer"],
            submitted,
            _with_grant(submitted, eligible, financing_type=financing_type, **note),
        )


def test_R6_eligible_base_cannot_exceed_the_submitted_plan(people, submitted):
    review.start_review(people["reviewer"], submitted)
    eligible = queries.totals_for(submitted).eligible_cents
    review.prepare_decision(
        people["reviewer"], submitted, _input(submitted, eligible_base_cents=eligible)
    )
    doubled = _with_grant(
        submitted, eligible, eligible_base_cents=2 * eligible, rate_bp=9000
    )  # would reach 100 % of the plan's eligible expenditure
    with pytest.raises(review.DecisionInvalid, match="Finanzierungsplan") as exc:
        review.prepare_decision(people["reviewer"], submitted, doubled)
    assert exc.value.field == "eligible_base"
    with pytest.raises(review.DecisionInvalid) as exc:
        review.prepare_decision(
            people["reviewer"], submitted, _input(submitted, eligible_base_cents=eligible + 1)
        )
    assert exc.value.field == "eligible_base"


# --- R9 on the approved amount (issue 12, F3) -----------------------------------------------------


def test_R9_approved_amount_at_or_below_10000_needs_an_rl_v6_reason(people, submitted):
    from app.grants.models import SmallGrantReason

    review.start_review(people["reviewer"], submitted)
    assert submitted.small_grant_reason is None  # 40.000 € requested: no reason needed then
    for small in (900_000, 1_000_000):  # 9.000 € and exactly 10.000 €
        with pytest.raises(review.DecisionInvalid, match="RL V.6") as exc:
            review.prepare_decision(people["reviewer"], submitted, _with_grant(submitted, small))
        assert exc.value.field == "grant"
    review.prepare_decision(people["reviewer"], submitted, _with_grant(submitted, 1_000_001))
    submitted.small_grant_reason = SmallGrantReason.LOCAL_EVENT
    decision = review.prepare_decision(
        people["reviewer"], submitted, _with_grant(submitted, 900_000)
    )
    submitted.small_grant_reason = None  # the reason is checked again at approval
    with pytest.raises(review.DecisionInvalid, match="RL V.6"):
        review.approve(people["approver"], decision)


# --- R12 commitments per year = payout plan per year (issue 12, F4) ------------------------------


def test_R12_years_must_equal_what_the_payout_plan_pays_in_each_year(people, submitted):
    review.start_review(people["reviewer"], submitted)
    grant = submitted.requested_grant_cents  # 40.000 €: 40 % in 2027, 50 % + 10 % in 2028
    with pytest.raises(review.DecisionInvalid, match="R12") as exc:
        review.prepare_decision(
            people["reviewer"],
            submitted,
            _input(submitted, years={2027: 1_000_000, 2028: grant - 1_000_000}),
        )
    assert exc.value.field == "years"
    message = exc.value.message.replace("\xa0", " ")
    assert "2027: 16.000,00 €" in message and "2028: 24.000,00 €" in message
    decision = review.prepare_decision(
        people["reviewer"], submitted, _input(submitted, years={2027: 1_600_000, 2028: 2_400_000})
    )
    assert {y.year: y.amount_cents for y in decision.years} == {2027: 1_600_000, 2028: 2_400_000}


def test_R12_approval_refuses_years_that_differ_from_the_payout_plan(people, submitted):
    _open_budget(2027, ve_for=2028)
    decision = _approval_ready(people, submitted)
    first, last = sorted(decision.years, key=lambda y: y.year)
    first.amount_cents, last.amount_cents = 1_000_000, 3_000_000  # changed behind the form
    db.session.flush()
    with pytest.raises(review.DecisionInvalid, match="R12"):
        review.approve(people["approver"], decision, now=APPROVAL_TIME)
    assert submitted.status is Status.IN_REVIEW


def test_R30_reviewer_allows_pass_through_in_the_decision_with_the_ngo_named(people, submitted):
    review.start_review(people["reviewer"], submitted)
    with pytest.raises(review.DecisionInvalid, match="Weiterleitung") as err:
        review.prepare_decision(
            people["reviewer"], submitted, _input(submitted, pass_through_allowed=True)
        )
    assert err.value.field == "pass_through_recipient"
    with pytest.raises(review.DecisionInvalid, match="Weiterleitung"):
        review.prepare_decision(
            people["reviewer"],
            submitted,
            _input(submitted, pass_through_recipient="Präventionsverein Zittau e. V."),
        )
    decision = review.prepare_decision(
        people["reviewer"],
        submitted,
        _input(
            submitted,
            pass_through_allowed=True,
            pass_through_recipient=" Präventionsverein Zittau e. V. ",
        ),
    )
    assert decision.pass_through_allowed
    assert decision.pass_through_recipient == "Präventionsverein Zittau e. V."


# --- T8 and decision date plausibility (issue 12, F9) --------------------------------------------


def test_T8_waiver_and_notification_not_before_the_bescheid_date(people, submitted):
    _open_budget(2027, ve_for=2028)
    decision = _approval_ready(people, submitted)
    review.approve(people["approver"], decision, now=APPROVAL_TIME)  # Bescheid of 01.02.2027
    with simulated_now(APPROVAL_TIME + timedelta(days=10)):
        with pytest.raises(DomainError, match="Bescheid") as exc:
            review.record_notification(people["reviewer"], submitted, date(2027, 1, 31))
        assert exc.value.field == "notified_on"
        with pytest.raises(DomainError, match="Bescheid") as exc:
            review.record_waiver(people["reviewer"], submitted, date(2027, 1, 31))
        assert exc.value.field == "waiver_on"
        assert submitted.status is Status.APPROVED
        review.record_waiver(people["reviewer"], submitted, date(2027, 2, 1))  # the same day
    assert submitted.status is Status.FINAL and submitted.final_on == date(2027, 2, 1)


def test_T7_approval_period_may_not_start_before_the_application(people, submitted):
    review.start_review(people["reviewer"], submitted)  # submitted 01.10.2026
    with pytest.raises(review.DecisionInvalid, match="Antrag") as exc:
        review.prepare_decision(
            people["reviewer"], submitted, _input(submitted, period_start=date(2026, 9, 30))
        )
    assert exc.value.field == "period_start"
    review.prepare_decision(
        people["reviewer"], submitted, _input(submitted, period_start=date(2026, 10, 1))
    )


def test_T7_payout_years_after_the_last_possible_payment_are_refused(people, submitted):
    review.start_review(people["reviewer"], submitted)  # period ends 31.12.2027, VN 31.12.2028
    grant = submitted.requested_grant_cents
    with pytest.raises(review.DecisionInvalid, match="2031") as exc:
        review.prepare_decision(
            people["reviewer"], submitted, _input(submitted, years={2031: grant})
        )
    assert exc.value.field == "years"
    review.prepare_decision(people["reviewer"], submitted, _input(submitted, years={2029: grant}))
