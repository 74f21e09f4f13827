"""One test per submission rule R1–R9 (RULES.md §12); each fails if its rule is removed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from app.common.errors import RuleViolation
from app.extensions import db
from app.grants import queries
from app.grants.models import LineCategory, Qualification, SmallGrantReason, Status
from app.grants.services import applications as svc
from app.grants.services.rules import check_submission
from app.orgs.models import Organisation, OrgKind
from tests import factories

IN_WINDOW = datetime(2026, 10, 1, 10, 0, tzinfo=UTC)


def _rules(application, on=date(2026, 10, 1)):
    return {p.rule for p in check_submission(queries.submission_context(application, on))}


@pytest.fixture
def applicant(app_ctx):
    return factories.create_user("applicant", ags="14626610")


def test_complete_application_passes_all_rules(applicant):
    application = factories.complete_application(applicant)
    assert _rules(application) == set()
    svc.submit_application(application, applicant, now=IN_WINDOW)
    assert application.status is Status.SUBMITTED
    assert application.reference == f"LPR-KP-2027-{application.id:05d}"


def test_R1_submission_needs_a_consultation_dated_before(applicant):
    application = factories.complete_application(applicant)
    # The factory's consultation is dated 01.09.2026: submitting on 31.08. is refused.
    assert "R1" in _rules(application, on=date(2026, 8, 31))
    assert "R1" not in _rules(application, on=date(2026, 9, 1))


def test_R1_without_any_consultation_the_draft_stays_draft(app_ctx):
    user = factories.create_user("applicant", ags="14628270")
    application = svc.create_application(user, 2027)
    assert application.status is Status.DRAFT
    assert "R1" in _rules(application)
    with pytest.raises(RuleViolation) as exc:
        svc.submit_application(application, user, now=IN_WINDOW)
    assert any(p.rule == "R1" for p in exc.value.problems)


def test_R1_recording_a_consultation_moves_drafts_to_consulted(app_ctx):
    user = factories.create_user("applicant", ags="14628270")
    application = svc.create_application(user, 2027)
    factories.consultation(user.organisation)
    db.session.refresh(application)
    assert application.status is Status.CONSULTED


def test_R2_in_window_is_not_late(applicant):
    application = factories.complete_application(applicant)
    svc.submit_application(application, applicant, now=datetime(2026, 10, 15, 21, 0, tzinfo=UTC))
    assert application.is_late is False


def test_R2_late_needs_justification_and_42_days_before_start(applicant):
    late = date(2026, 11, 24)
    application = factories.complete_application(applicant, project_start=date(2027, 3, 1))
    assert "R2" in _rules(application, on=late)  # no justification yet
    application.late_justification = "Haushaltsbeschluss verzögert"
    assert "R2" not in _rules(application, on=late)  # 97 days before start
    application.project_start = date(2027, 1, 4)  # 41 days before start
    assert "R2" in _rules(application, on=late)
    application.project_start = date(2027, 1, 5)  # exactly 42 days
    assert "R2" not in _rules(application, on=late)


def test_R2_before_the_window_opens_is_refused(applicant):
    application = factories.complete_application(applicant)
    assert "R2" in _rules(application, on=date(2026, 8, 30))


def test_R2_late_submission_is_flagged(applicant):
    application = factories.complete_application(applicant, project_start=date(2027, 6, 1))
    svc.submit_application(
        application,
        applicant,
        late_justification="Begründung",
        now=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
    )
    assert application.is_late is True


def test_R3_only_saxon_gemeinden_and_landkreise(applicant):
    application = factories.complete_application(applicant)
    org = application.organisation
    org.ags = "09162000"  # a Bavarian key
    assert "R3" in _rules(application)
    org.ags = "14626610"
    org.valid_to = date(2025, 12, 31)  # merged away before submission (R35 validity)
    assert "R3" in _rules(application)


def test_R3_eigenbetrieb_of_a_gemeinde_is_eligible(app_ctx):
    parent = factories.organisation("14626610")
    eb = Organisation(
        kind=OrgKind.EIGENBETRIEB,
        name="Eigenbetrieb Test",
        parent=parent,
        kreis_key=parent.kreis_key,
        kreis_name=parent.kreis_name,
        polizeidirektion=parent.polizeidirektion,
        valid_from=date(2022, 1, 1),
    )
    db.session.add(eb)
    db.session.flush()
    from app.grants.services.rules import check_r3_applicant

    assert check_r3_applicant(eb, date(2026, 10, 1)) == []
    eb.parent = None
    assert check_r3_applicant(eb, date(2026, 10, 1))[0].rule == "R3"


def test_R4_required_documents_and_proof_per_funded_post(applicant):
    application = factories.complete_application(applicant, documents=False)
    problems = [
        p
        for p in check_submission(queries.submission_context(application, date(2026, 10, 1)))
        if p.rule == "R4"
    ]
    assert len(problems) == 4  # description, plan, declaration, one qualification proof
    factories.attach_required_documents(application, applicant)
    assert "R4" not in _rules(application)
    # A second grant-funded post needs its own proof.
    lines = [_as_input(line) for line in application.lines]
    lines.append(
        svc.LineInput(
            category=LineCategory.STAFF,
            description="Assistenz",
            amount_cents=100,
            pay_group=7,
            pay_step=3,
            qualification=Qualification.VOCATIONAL,
            fte_permille=100,
            months=1,
        )
    )
    _replan(application, applicant, lines, extra_grant=0, extra_own=100)
    assert "R4" in _rules(application)


def test_R5_plan_must_balance_to_the_cent(applicant):
    application = factories.complete_application(applicant)
    application.own_share_cash_cents += 1
    problems = check_submission(queries.submission_context(application, date(2026, 10, 1)))
    r5 = [p for p in problems if p.rule == "R5"]
    assert r5 and "Differenz -0,01" in r5[0].message


def test_R6_grant_at_most_90_percent_of_eligible(applicant):
    application = factories.complete_application(applicant)
    totals = queries.totals_for(application)
    ninety = totals.eligible_cents * 9 // 10
    _set_grant(application, ninety)
    assert "R6" not in _rules(application)
    _set_grant(application, ninety + 1)
    assert "R6" in _rules(application)


def test_R6_own_share_at_least_10_percent_and_in_kind_itemised(applicant):
    application = factories.complete_application(applicant)
    lines = [_as_input(line) for line in application.lines]
    lines.append(
        svc.LineInput(
            category=LineCategory.RUNNING, description="", amount_cents=1000, in_kind=True
        )
    )
    _replan(application, applicant, lines, extra_grant=0, extra_own=0)
    # Expenditure rose by 10 €, in kind own share by 10 €: balanced, but not itemised.
    assert "R6" in _rules(application)
    application.lines[-1].description = "Raum im Rathaus"
    assert "R6" not in _rules(application)


def test_R7_investive_lines_are_not_eligible(applicant):
    application = factories.complete_application(applicant)
    before = queries.totals_for(application).eligible_cents
    lines = [_as_input(line) for line in application.lines]
    lines.append(
        svc.LineInput(
            category=LineCategory.RUNNING,
            description="Kamera",
            amount_cents=500_000,
            investive=True,
        )
    )
    _replan(application, applicant, lines, extra_grant=0, extra_own=500_000)
    totals = queries.totals_for(application)
    assert totals.total_expenditure_cents == 5_500_000
    assert totals.eligible_cents == before
    assert totals.investive_cents == 500_000


def test_R7_all_investive_plan_is_refused(applicant):
    application = factories.complete_application(applicant)
    _replan(
        application,
        applicant,
        [
            svc.LineInput(
                category=LineCategory.RUNNING,
                description="Kamera",
                amount_cents=5_000_000,
                investive=True,
            )
        ],
        extra_grant=0,
        extra_own=0,
    )
    assert "R7" in _rules(application)


def test_R8_staff_cost_capped_at_stufe_3_of_qualification(applicant):
    application = factories.complete_application(applicant)
    staff = next(line for line in application.lines if line.category is LineCategory.STAFF)
    caps = queries.monthly_caps(2027)
    # 0.5 FTE × 12 months × EG 11 Stufe 3 (2026 table: 4.748,43 €) = 28.490,58 €.
    assert caps[11] == 474_843
    staff.amount_cents = 3_000_000
    totals = queries.totals_for(application)
    figures = next(f for f in totals.lines if f.line is staff)
    assert figures.cap_cents == 2_849_058
    assert figures.eligible_cents == 2_849_058 and figures.capped
    staff.qualification = Qualification.UNIVERSITY  # EG 14 → higher cap
    figures = next(f for f in queries.totals_for(application).lines if f.line is staff)
    assert figures.cap_cents == 582_141 * 500 * 12 // 1000


def test_R8_funded_staff_line_needs_pay_grade_and_qualification(applicant):
    application = factories.complete_application(applicant)
    staff = next(line for line in application.lines if line.category is LineCategory.STAFF)
    staff.pay_group = None
    assert "R8" in _rules(application)
    staff.pay_group = 11
    staff.qualification = None
    assert "R8" in _rules(application)


def test_R9_small_grants_need_an_exception_reason(applicant):
    application = factories.complete_application(applicant)
    _set_grant(application, 1_000_000)  # exactly 10,000 €
    assert "R9" in _rules(application)
    application.small_grant_reason = SmallGrantReason.LOCAL_EVENT
    assert "R9" not in _rules(application)
    application.small_grant_reason = None
    _set_grant(application, 1_000_001)
    assert "R9" not in _rules(application)


def test_R35_submission_keeps_name_and_key_valid_at_submission(applicant):
    application = factories.complete_application(applicant)
    svc.submit_application(application, applicant, now=IN_WINDOW)
    application.organisation.name = "Zittau (nach Fusion)"
    assert application.applicant_name_at_submission == "Zittau, Stadt"
    assert application.applicant_ags_at_submission == "14626610"


def test_submitted_application_cannot_be_edited(applicant):
    application = factories.submitted_application(applicant)
    with pytest.raises(Exception, match="eingereicht"):
        svc.update_fields(application, applicant, {"title": "x"}, svc.GENERAL_FIELDS)


def test_other_organisation_cannot_edit(applicant):
    application = factories.complete_application(applicant)
    stranger = factories.create_user("applicant", ags="14628270")
    with pytest.raises(Exception, match="Kommune"):
        svc.update_fields(application, stranger, {"title": "x"}, svc.GENERAL_FIELDS)


def test_withdraw_moves_to_withdrawn_once(applicant):
    application = factories.submitted_application(applicant)
    svc.withdraw_application(application, applicant, "Doppelt gestellt")
    assert application.status is Status.WITHDRAWN
    with pytest.raises(Exception, match="Bearbeitungsstand"):
        svc.withdraw_application(application, applicant, "")


# --- helpers -------------------------------------------------------------------------------


def _as_input(line):
    return svc.LineInput(
        id=line.id,
        category=line.category,
        description=line.description,
        amount_cents=line.amount_cents,
        pay_group=line.pay_group,
        pay_step=line.pay_step,
        qualification=line.qualification,
        fte_permille=line.fte_permille,
        months=line.months,
        investive=line.investive,
        in_kind=line.in_kind,
    )


def _replan(application, user, lines, *, extra_grant, extra_own):
    svc.save_plan(
        application,
        user,
        lines=lines,
        own_share_cash_cents=application.own_share_cash_cents + extra_own,
        third_party_cents=application.third_party_cents,
        third_party_source="",
        requested_grant_cents=application.requested_grant_cents + extra_grant,
        small_grant_reason=application.small_grant_reason,
        small_grant_note="",
    )


def _set_grant(application, grant_cents):
    total = queries.totals_for(application).total_expenditure_cents
    in_kind = queries.totals_for(application).in_kind_cents
    application.requested_grant_cents = grant_cents
    application.own_share_cash_cents = total - in_kind - grant_cents - application.third_party_cents


# --- R2 judged on the date in Germany (issue 12, F1) ----------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")


def _early_consulted(applicant):
    factories.consultation(applicant.organisation, held_on=date(2026, 8, 1))


def test_R2_window_judged_on_berlin_date_after_closing(applicant):
    """16.10. 00:30 in Dresden (15.10. 22:30 UTC) is after the window: late."""
    _early_consulted(applicant)
    application = factories.complete_application(applicant, project_start=date(2027, 6, 1))
    moment = datetime(2026, 10, 16, 0, 30, tzinfo=BERLIN)
    with freeze_time(moment):
        with pytest.raises(RuleViolation) as exc:
            svc.submit_application(application, applicant)
        assert [p.field for p in exc.value.problems if p.rule == "R2"] == ["late_justification"]
        svc.submit_application(application, applicant, late_justification="Ratsbeschluss")
    assert application.is_late is True


def test_R2_window_judged_on_berlin_date_at_opening(applicant):
    """31.08. 00:30 in Dresden (30.08. 22:30 UTC) is inside the window: in time."""
    _early_consulted(applicant)
    application = factories.complete_application(applicant)
    with freeze_time(datetime(2026, 8, 31, 0, 30, tzinfo=BERLIN)):
        svc.submit_application(application, applicant)
    assert application.is_late is False


def test_R2_late_42_days_counted_from_the_berlin_date(applicant):
    """21.11. 00:30 Berlin is 41 days before 01.01.: refused, though the UTC date gives 42."""
    _early_consulted(applicant)
    application = factories.complete_application(applicant, project_start=date(2027, 1, 1))
    with freeze_time(datetime(2026, 11, 21, 0, 30, tzinfo=BERLIN)):
        with pytest.raises(RuleViolation) as exc:
            svc.submit_application(application, applicant, late_justification="Grund")
    assert [p.field for p in exc.value.problems if p.rule == "R2"] == ["project_start"]


def test_R2_resubmission_and_checklist_judged_on_the_berlin_date_of_the_first_submission(
    applicant,
):
    from app.grants.services import review

    _early_consulted(applicant)
    application = factories.complete_application(applicant)
    application.first_submitted_at = datetime(2026, 10, 15, 22, 30, tzinfo=UTC)  # 16.10. Berlin
    application.late_justification = ""
    items = {item.rule: item for item in review.checklist(application)}
    assert not items["R2"].ok


# --- boundary tests (issue 12: value at, one cent below, one cent above) ------------------------


def _r6(grant: int, own: int, eligible: int = 1_000_000) -> list[str]:
    from app.grants.models import Application
    from app.grants.services.financing import PlanTotals
    from app.grants.services.rules import check_r6_rate_and_own_share

    totals = PlanTotals(eligible_cents=eligible, requested_grant_cents=grant, own_cash_cents=own)
    return [p.message for p in check_r6_rate_and_own_share(Application(), totals)]


@pytest.mark.parametrize(
    ("grant", "too_high"), [(900_000 - 1, False), (900_000, False), (900_000 + 1, True)]
)
def test_R6_boundary_grant_at_most_90_percent(grant, too_high):
    # 10.000 € eligible, own share 10 % (fine): only the 90 % half of the check can refuse.
    messages = _r6(grant, own=100_000)
    assert any("höchstens 90 %" in m for m in messages) is too_high
    assert not any("Eigenanteil" in m for m in messages)


@pytest.mark.parametrize(
    ("own", "too_low"), [(100_000 - 1, True), (100_000, False), (100_000 + 1, False)]
)
def test_R6_boundary_own_share_at_least_10_percent(own, too_low):
    # grant 90 % (fine): only the 10 % half of the check can refuse.
    messages = _r6(900_000, own=own)
    assert any("Eigenanteil" in m for m in messages) is too_low
    assert not any("höchstens 90 %" in m for m in messages)


@pytest.mark.parametrize(
    ("grant", "needs_reason"), [(1_000_000 - 1, True), (1_000_000, True), (1_000_000 + 1, False)]
)
def test_R9_boundary_small_grant_of_10000_euro(grant, needs_reason):
    from app.grants.models import Application
    from app.grants.services.rules import check_r9_small_grant

    problems = check_r9_small_grant(Application(requested_grant_cents=grant))
    assert bool(problems) is needs_reason


# --- R1 consultation recency (issue 12, F16) ------------------------------------------------------


def test_R1_consultation_counts_only_within_24_months_before_submission(app_ctx):
    from app.common.programme import CONSULTATION_VALID_MONTHS

    assert CONSULTATION_VALID_MONTHS == 24
    user = factories.create_user("applicant", ags="14628270")
    factories.consultation(user.organisation, held_on=date(2019, 5, 6))
    application = factories.complete_application(user)
    on = date(2026, 10, 1)
    assert "R1" in _rules(application, on=on)  # a 2019 consultation does not count
    factories.consultation(user.organisation, held_on=date(2024, 9, 30))  # one day too old
    assert "R1" in _rules(application, on=on)
    factories.consultation(user.organisation, held_on=date(2024, 10, 1))  # exactly 24 months
    assert "R1" not in _rules(application, on=on)
    with pytest.raises(RuleViolation) as exc:
        svc.submit_application(application, user, now=datetime(2026, 10, 2, 10, 0, tzinfo=UTC))
    assert any(p.rule == "R1" for p in exc.value.problems)


def test_R1_consultation_validity_is_configurable_per_funding_year(app_ctx):
    from app.grants.services import reference, review

    admin = factories.create_user("admin")
    user = factories.create_user("applicant", ags="14628270")
    factories.consultation(user.organisation, held_on=date(2025, 10, 1))
    application = factories.complete_application(user)
    assert "R1" not in _rules(application, on=date(2026, 10, 1))
    reference.set_window(
        admin,
        year=2027,
        opens=date(2026, 8, 31),
        closes=date(2026, 10, 15),
        consultation_months=12,
    )
    assert "R1" not in _rules(application, on=date(2026, 10, 1))  # exactly 12 months
    assert "R1" in _rules(application, on=date(2026, 10, 2))
    application.first_submitted_at = datetime(2026, 10, 2, 10, 0, tzinfo=UTC)
    assert not {i.rule: i for i in review.checklist(application)}["R1"].ok


def test_T2_planned_project_start_not_before_the_submission(applicant):
    """Issue 12 F9: a project start in 2020 (or the day before submitting) is refused."""
    application = factories.complete_application(applicant)
    on = date(2026, 10, 1)
    for too_early in (date(2020, 1, 1), date(2026, 9, 30)):
        application.project_start = too_early
        problems = check_submission(queries.submission_context(application, on))
        assert any(p.rule == "T2" and p.field == "project_start" for p in problems)
    application.project_start = on
    assert "T2" not in _rules(application, on=on)


# --- cases the mutation run (docs/mutation.md) found untested ------------------------------------


def test_R5_an_empty_plan_is_refused_and_one_cent_balances():
    from app.grants.services.financing import PlanTotals
    from app.grants.services.rules import check_r5_balance

    [empty] = check_r5_balance(PlanTotals())
    assert "noch keine Ausgaben" in empty.message
    assert check_r5_balance(PlanTotals(total_expenditure_cents=1, own_cash_cents=1)) == []


@pytest.mark.parametrize(("grant", "missing"), [(-1, True), (0, True), (1, False)])
def test_R6_boundary_a_grant_must_be_requested(grant, missing):
    messages = _r6(grant, own=100_000)
    assert ("Bitte geben Sie die beantragte Zuwendung an." in messages) is missing


def test_R6_messages_name_the_configured_percentages():
    assert any("höchstens 90 %" in m for m in _r6(900_001, own=100_000))
    assert any("mindestens 10 %" in m for m in _r6(900_000, own=99_999))


def test_R6_unitemised_in_kind_lines_give_one_problem():
    from types import SimpleNamespace

    from app.grants.services.financing import PlanTotals
    from app.grants.services.rules import check_r6_rate_and_own_share

    lines = [SimpleNamespace(in_kind=True, description=" ") for _ in range(2)]
    totals = PlanTotals(
        eligible_cents=1_000_000, requested_grant_cents=900_000, own_cash_cents=100_000
    )
    problems = check_r6_rate_and_own_share(SimpleNamespace(lines=lines), totals)  # type: ignore[arg-type]
    assert [p.message for p in problems] == [
        "Jede Eigenleistung (Sachmittel oder Personal der Kommune) muss einzeln bezeichnet werden."
    ]


@pytest.mark.parametrize(("grant", "needs_reason"), [(0, False), (1, True)])
def test_R9_boundary_no_reason_asked_without_an_amount(grant, needs_reason):
    # a missing amount is R6's message; R9 asks for a reason from the first cent
    from app.grants.models import Application
    from app.grants.services.rules import check_r9_small_grant

    assert bool(check_r9_small_grant(Application(requested_grant_cents=grant))) is needs_reason
