"""Payout plan, orders with four eyes and payment runs: R14–R17, R20, R31, R32."""

from __future__ import annotations

from datetime import date

import pytest

from app.common import programme as fcfg
from app.common.db import simulated_now
from app.common.errors import DomainError, InvalidTransition, NotPermitted
from app.extensions import db
from app.finance import queries, sepa
from app.finance.models import (
    GrantAccount,
    Instalment,
    InstalmentKind,
    InstalmentStatus,
    OrderStatus,
)
from app.finance.services import ledger, payouts
from app.grants.models import Status
from app.postaward.services import start
from tests import factories
from tests.finance.factories import APPROVAL_TIME, approved_grant, confirmed_account


@pytest.fixture
def people(app_ctx):
    return {
        "applicant": factories.create_user("applicant", ags="14626610"),
        "finance": factories.create_user("finance", name="Karl Kasse"),
        "finance2": factories.create_user("finance", name="Frieda Finanz"),
    }


@pytest.fixture
def running(people):
    application = approved_grant(people["applicant"])
    confirmed_account(people["applicant"], people["finance"])
    start.notify_start(people["applicant"], application, date(2026, 11, 2))
    return application


def _first(application):
    return queries.instalments_of(application.id)[0]


def test_plan_40_50_10_and_ledger_commitment(people):
    application = approved_grant(people["applicant"], final=False)
    plan = queries.instalments_of(application.id)
    assert [(i.kind, i.amount_cents) for i in plan] == [
        (InstalmentKind.FIRST, 1_600_000),
        (InstalmentKind.AFTER_VN, 2_000_000),
        (InstalmentKind.FINAL, 400_000),
    ]
    kz = db.session.get(GrantAccount, application.id).kassenzeichen
    assert ledger.balance(ledger.committed_account(kz)) == 4_000_000
    assert ledger.unbalanced_entries() == []


def test_R14_first_instalment_needs_finality_and_start_notice(people):
    application = approved_grant(people["applicant"], final=False)
    confirmed_account(people["applicant"], people["finance"])
    assert _first(application).status is InstalmentStatus.PLANNED
    with pytest.raises(InvalidTransition):  # not final yet: no start notice possible
        start.notify_start(people["applicant"], application, date(2026, 11, 2))
    with pytest.raises(InvalidTransition, match="nicht zur Auszahlung fällig"):
        payouts.prepare_order(people["finance"], _first(application), idempotency_key="k" * 32)
    from app.grants.services import review

    with simulated_now(APPROVAL_TIME):  # the waiver is dated on the Bescheid's day (T8)
        review.record_waiver(factories.create_user("reviewer"), application, APPROVAL_TIME.date())
    start.notify_start(people["applicant"], application, date(2026, 11, 2))
    assert application.status is Status.RUNNING
    db.session.expire_all()
    assert _first(application).status is InstalmentStatus.DUE


def test_R15_split_plan_for_large_long_grants(people):
    application = approved_grant(
        people["applicant"], grant_cents=16_000_000, period_end=date(2028, 6, 30)
    )
    plan = queries.instalments_of(application.id)
    assert [(i.kind, i.percent) for i in plan] == [
        (InstalmentKind.FIRST, 40),
        (InstalmentKind.INTERIM, 25),
        (InstalmentKind.AFTER_VN, 25),
        (InstalmentKind.FINAL, 10),
    ]
    assert sum(i.amount_cents for i in plan) == 16_000_000


def test_R16_small_grants_use_reimbursement(people):
    application = approved_grant(people["applicant"], grant_cents=1_500_000)
    plan = queries.instalments_of(application.id)
    assert [(i.kind, i.amount_cents) for i in plan] == [(InstalmentKind.REIMBURSEMENT, 1_500_000)]
    confirmed_account(people["applicant"], people["finance"])
    start.notify_start(people["applicant"], application, date(2026, 11, 2))
    db.session.expire_all()
    assert plan[0].status is InstalmentStatus.PLANNED  # nothing before a (partial) VN


def test_R17_small_instalment_warns_or_blocks(people, running, monkeypatch):
    instalment = _first(running)
    instalment.amount_cents = 900_000  # below 10.000 €
    assert "10.000,00" in payouts.small_instalment_warning(instalment)
    monkeypatch.setattr(fcfg, "SMALL_INSTALMENT_POLICY", "block")
    with pytest.raises(DomainError, match="nicht zulässig"):
        payouts.prepare_order(people["finance"], instalment, idempotency_key="b" * 32)
    monkeypatch.setattr(fcfg, "SMALL_INSTALMENT_POLICY", "warn")
    order = payouts.prepare_order(people["finance"], instalment, idempotency_key="w" * 32)
    assert "7.5 VVK" in order.note


def test_R20_orders_never_exceed_the_grant(people, running):
    grant = db.session.get(GrantAccount, running.id)
    grant.granted_cents = 1_000_000  # reduced grant, below the first instalment
    db.session.flush()
    with pytest.raises(DomainError, match="R20"):
        payouts.prepare_order(people["finance"], _first(running), idempotency_key="r" * 32)


def test_R31_end_to_end_id_and_remittance_from_kassenzeichen(people, running):
    order = payouts.prepare_order(people["finance"], _first(running), idempotency_key="e" * 32)
    kz = db.session.get(GrantAccount, running.id).kassenzeichen
    assert order.end_to_end_id == f"{kz}-R1" and len(order.end_to_end_id) <= 35
    assert order.remittance.startswith(kz) and len(order.remittance) <= 140
    assert sepa.transliterate(order.remittance) == order.remittance


def test_four_eyes_and_idempotent_prepare(people, running):
    order = payouts.prepare_order(people["finance"], _first(running), idempotency_key="i" * 32)
    again = payouts.prepare_order(people["finance"], _first(running), idempotency_key="i" * 32)
    assert again.id == order.id
    with pytest.raises(NotPermitted, match="Vier-Augen"):
        payouts.release_order(people["finance"], order, confirm_early=True)
    payouts.release_order(people["finance2"], order, confirm_early=True)
    assert order.status is OrderStatus.RELEASED
    with pytest.raises(InvalidTransition):
        payouts.release_order(people["finance2"], order, confirm_early=True)
    kz = db.session.get(GrantAccount, running.id).kassenzeichen
    assert ledger.balance(ledger.payable_account(kz)) == -1_600_000
    assert ledger.balance(ledger.committed_account(kz)) == 2_400_000
    assert ledger.unbalanced_entries() == []


def test_cancel_released_order_reverses_ledger_and_frees_the_instalment(people, running):
    order = payouts.prepare_order(people["finance"], _first(running), idempotency_key="c" * 32)
    payouts.release_order(people["finance2"], order, confirm_early=True)
    payouts.cancel_order(people["finance"], order, "falsche Rate")
    kz = db.session.get(GrantAccount, running.id).kassenzeichen
    assert ledger.balance(ledger.payable_account(kz)) == 0
    assert db.session.get(GrantAccount, running.id).ordered_cents == 0
    db.session.expire_all()
    assert _first(running).status is InstalmentStatus.DUE


def test_R32_payment_run_counts_sums_and_unique_msg_id(people, running):
    order = payouts.prepare_order(people["finance"], _first(running), idempotency_key="p" * 32)
    payouts.release_order(people["finance2"], order, confirm_early=True)
    run = payouts.create_payment_run(people["finance"], execution_date=date(2099, 1, 4))
    summary = sepa.parse_pain001_summary(run.xml)
    assert summary.nb_of_txs == run.nb_of_txs == 1
    assert summary.ctrl_sum_cents == run.ctrl_sum_cents == 1_600_000
    assert summary.transactions == [(order.end_to_end_id, 1_600_000)]
    db.session.refresh(order)
    assert order.status is OrderStatus.IN_RUN and order.payment_run_id == run.id
    with pytest.raises(DomainError, match="keine freigegebenen"):
        payouts.create_payment_run(people["finance"], execution_date=date(2099, 1, 4))
    assert payouts.new_msg_id(date(2027, 1, 1)) != payouts.new_msg_id(date(2027, 1, 1))


def test_bank_account_needs_password_valid_iban_and_confirmation(people):
    from tests.factories import PASSWORD

    with pytest.raises(DomainError, match="Passwort"):
        payouts.submit_bank_account(
            people["applicant"],
            password="falsch",
            holder="X",
            iban="DE89370400440532013000",
            bic="",
        )
    with pytest.raises(DomainError) as exc:
        payouts.submit_bank_account(
            people["applicant"],
            password=PASSWORD,
            holder="X",
            iban="DE00370400440532013000",
            bic="",
        )
    assert exc.value.field == "iban"
    account = payouts.submit_bank_account(
        people["applicant"],
        password=PASSWORD,
        holder="Stadtkasse Görlitz",
        iban="de89 3704 0044 0532 0130 00",
        bic="",
    )
    assert account.holder == "Stadtkasse Görlitz" and account.iban == "DE89370400440532013000"
    assert payouts.current_account(account.organisation_id) is None
    with pytest.raises(NotPermitted):
        payouts.confirm_bank_account(people["applicant"], account)
    payouts.confirm_bank_account(people["finance"], account)
    assert payouts.current_account(account.organisation_id).id == account.id


def test_changed_iban_blocks_release_of_an_older_order(people, running):
    from tests.factories import PASSWORD

    order = payouts.prepare_order(people["finance"], _first(running), idempotency_key="x" * 32)
    new = payouts.submit_bank_account(
        people["applicant"], password=PASSWORD, holder="Neu", iban="DE02120300000000202051", bic=""
    )
    payouts.confirm_bank_account(people["finance"], new)
    with pytest.raises(DomainError, match="Bankverbindung hat sich geändert"):
        payouts.release_order(people["finance2"], order, confirm_early=True)


def test_closed_budget_year_refuses_ledger_postings(people, running):
    from app.budget import services as budget

    order = payouts.prepare_order(people["finance"], _first(running), idempotency_key="z" * 32)
    budget.close_year(_first(running).budget_year)
    with pytest.raises(ledger.LedgerError, match="abgeschlossen"):
        payouts.release_order(people["finance2"], order, confirm_early=True)
    with pytest.raises(DomainError):
        budget.close_year(_first(running).budget_year)  # already closed


def _planned_per_year(application_id):
    per_year: dict[int, int] = {}
    for instalment in queries.instalments_of(application_id):
        if instalment.status is not InstalmentStatus.CANCELLED:
            per_year[instalment.budget_year] = (
                per_year.get(instalment.budget_year, 0) + instalment.amount_cents
            )
    return per_year


@pytest.mark.parametrize("grant", [1_500_000, 4_000_000, 20_000_000])
def test_R12_commitment_per_year_equals_the_instalments_after_approval_and_reduction(people, grant):
    """Issue 12 F4: what is committed for a year is what the plan pays in that year — at
    approval (reimbursement, 40/50/10 and split plans) and after a reduction."""
    from app.budget.services import committed_plan
    from app.finance.services import adjust

    application = approved_grant(
        people["applicant"], grant_cents=grant, period_end=date(2028, 6, 30)
    )
    assert committed_plan(application.id) == _planned_per_year(application.id)
    adjust.reduce_granted(people["finance"], application, grant * 6 // 10)
    db.session.expire_all()
    assert committed_plan(application.id) == _planned_per_year(application.id)
    assert sum(committed_plan(application.id).values()) == grant * 6 // 10


@pytest.mark.parametrize(
    ("start", "end", "split"),
    [
        (date(2027, 1, 1), date(2028, 1, 1), True),  # 366 days incl. both ends: more than a year
        (date(2027, 1, 1), date(2027, 12, 31), False),  # exactly one year (365 days)
        (date(2028, 1, 1), date(2028, 12, 31), False),  # exactly one leap year (366 days)
        (date(2028, 1, 1), date(2029, 1, 1), True),
        (date(2027, 3, 1), date(2028, 2, 29), False),  # one year across 29.02.
        (date(2027, 3, 1), date(2028, 3, 1), True),
        (date(2028, 2, 29), date(2029, 2, 28), False),  # § 188 (3) BGB: ends on 28.02.
        (date(2028, 2, 29), date(2029, 3, 1), True),
    ],
)
def test_R15_more_than_one_year_is_counted_in_calendar_years_with_the_end_day(start, end, split):
    plan = payouts.split_plan(16_000_000, start, end, [start.year, start.year + 1])
    assert (InstalmentKind.INTERIM in {p.kind for p in plan}) is split


@pytest.mark.parametrize(("grant", "split"), [(15_000_000, False), (15_000_001, True)])
def test_R15_threshold_150000_eur_is_exclusive(grant, split):
    plan = payouts.split_plan(grant, date(2027, 1, 1), date(2028, 1, 1), [2027, 2028, 2029])
    assert (InstalmentKind.INTERIM in {p.kind for p in plan}) is split


def test_R15_leap_period_2027_2028_plans_the_interim_year_at_approval(people):
    application = approved_grant(
        people["applicant"], grant_cents=16_000_000, period_end=date(2028, 1, 1)
    )
    plan = queries.instalments_of(application.id)
    assert [(i.kind, i.amount_cents) for i in plan] == [
        (InstalmentKind.FIRST, 6_400_000),
        (InstalmentKind.INTERIM, 4_000_000),
        (InstalmentKind.AFTER_VN, 4_000_000),
        (InstalmentKind.FINAL, 1_600_000),
    ]


# --- boundary tests (issue 12: value at, one cent below, one cent above) ------------------------


def _kinds(grant: int, start: date, end: date) -> list[InstalmentKind]:
    return [p.kind for p in payouts.split_plan(grant, start, end, [start.year, end.year])]


STANDARD = [InstalmentKind.FIRST, InstalmentKind.AFTER_VN, InstalmentKind.FINAL]
SPLIT = [
    InstalmentKind.FIRST,
    InstalmentKind.INTERIM,
    InstalmentKind.AFTER_VN,
    InstalmentKind.FINAL,
]


@pytest.mark.parametrize(
    ("grant", "expected"),
    [(15_000_000 - 1, STANDARD), (15_000_000, STANDARD), (15_000_000 + 1, SPLIT)],
)
def test_R15_boundary_split_only_above_150000_euro(grant, expected):
    # a two-year project: only the amount decides (VVK 7.2 "mehr als 150.000 €")
    assert _kinds(grant, date(2027, 1, 1), date(2028, 12, 31)) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2027, 1, 1), date(2027, 12, 30), STANDARD),  # one day short of a year
        (date(2027, 1, 1), date(2027, 12, 31), STANDARD),  # exactly one year
        (date(2027, 1, 1), date(2028, 1, 1), SPLIT),  # one year and one day (366 days)
        (date(2027, 3, 1), date(2028, 2, 29), STANDARD),  # exactly one year over a 29 February
        (date(2027, 3, 1), date(2028, 3, 1), SPLIT),  # one day more
        (date(2028, 1, 1), date(2028, 12, 31), STANDARD),  # a whole leap year is one year
        (date(2028, 1, 1), date(2029, 1, 1), SPLIT),
        (date(2028, 2, 29), date(2029, 2, 28), STANDARD),  # from 29 February: ends 28 February
        (date(2028, 2, 29), date(2029, 3, 1), SPLIT),
    ],
)
def test_R15_boundary_split_only_for_more_than_one_year(start, end, expected):
    # VVK 7.2: "Laufzeit von mehr als einem Jahr"; the grant period includes its last day.
    assert _kinds(20_000_000, start, end) == expected


@pytest.mark.parametrize(
    ("grant", "reimbursement"),
    [(2_000_000 - 1, True), (2_000_000, False), (2_000_000 + 1, False)],
)
def test_R16_boundary_reimbursement_below_20000_euro(grant, reimbursement):
    kinds = _kinds(grant, date(2027, 1, 1), date(2027, 12, 31))
    assert (kinds == [InstalmentKind.REIMBURSEMENT]) is reimbursement
    assert (
        sum(
            p.amount_cents
            for p in payouts.split_plan(grant, date(2027, 1, 1), date(2027, 12, 31), [])
        )
        == grant
    )


@pytest.mark.parametrize(
    ("amount", "warns"), [(1_000_000 - 1, True), (1_000_000, False), (1_000_000 + 1, False)]
)
def test_R17_boundary_instalment_of_10000_euro(amount, warns):
    warning = payouts.small_instalment_warning(Instalment(amount_cents=amount))
    assert (warning is not None) is warns


def test_R12_release_before_the_budget_year_needs_confirmation_and_is_audited(people, running):
    """Issue 12 F9: an instalment budgeted for 2027 released in December 2026 is a warning that
    must be confirmed explicitly; the confirmation is audited."""
    from app.common.audit import AuditEvent

    order = payouts.prepare_order(people["finance"], _first(running), idempotency_key="k" * 32)
    assert _first(running).budget_year == 2027
    with pytest.raises(payouts.EarlyPayoutUnconfirmed, match="2027") as exc:
        payouts.release_order(people["finance2"], order, on=date(2026, 12, 4))
    assert exc.value.field == "confirm_early"
    assert order.status is OrderStatus.PREPARED
    payouts.release_order(people["finance2"], order, on=date(2026, 12, 4), confirm_early=True)
    assert order.status is OrderStatus.RELEASED
    audit = db.session.execute(
        db.select(AuditEvent).where(AuditEvent.action == "payout_before_budget_year_confirmed")
    ).scalar_one()
    assert audit.actor_id == people["finance2"].id


def test_R12_release_in_the_budget_year_needs_no_confirmation(people, running):
    order = payouts.prepare_order(people["finance"], _first(running), idempotency_key="k" * 32)
    payouts.release_order(people["finance2"], order, on=date(2027, 1, 4))
    assert order.status is OrderStatus.RELEASED


def _released(people, running, key="c" * 32):
    order = payouts.prepare_order(people["finance"], _first(running), idempotency_key=key)
    payouts.release_order(people["finance2"], order, confirm_early=True)
    db.session.commit()  # into the per-test transaction: the CLI's session sees it
    return order


def _run_cli(runner, out, email):
    from app.auth.models import User

    user = db.session.execute(db.select(User).where(User.email == email)).scalar_one()
    args = ["finance", "payment-run", "--execution-date", "2099-01-04", "--out", str(out)]
    return runner.invoke(args=[*args, "--as", email, "--totp", factories.totp_code(user)])


def test_payment_run_file_appears_only_after_the_commit(people, running, runner, tmp_path):
    """Issue 14 finding 1: a failure before the commit leaves neither the file nor a temp file;
    the orders stay released for the next run, which then writes the file."""
    _released(people, running)
    out = tmp_path / "lauf.xml"

    def fail_at_commit(*args, **kwargs):
        raise RuntimeError("killed at commit")

    from unittest import mock

    with mock.patch.object(db.session, "commit", fail_at_commit):
        result = _run_cli(runner, out, people["finance"].email)
    assert result.exit_code != 0 and isinstance(result.exception, RuntimeError)
    db.session.rollback()
    assert list(tmp_path.iterdir()) == []  # neither lauf.xml nor .lauf.xml.*.part
    assert queries.recent_runs() == []
    result = _run_cli(runner, out, people["finance"].email)
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir()] == ["lauf.xml"]
    (run,) = queries.recent_runs()
    assert out.read_bytes() == db.session.get(type(run), run.id).xml


def test_payment_run_file_can_be_written_again_from_the_database(people, running, runner, tmp_path):
    order = _released(people, running)
    first = tmp_path / "lauf.xml"
    assert _run_cli(runner, first, people["finance"].email).exit_code == 0
    (run,) = queries.recent_runs()
    for ref in (str(run.id), run.msg_id):
        again = tmp_path / f"nochmal-{ref}.xml"
        result = runner.invoke(args=["finance", "payment-run-file", ref, "--out", str(again)])
        assert result.exit_code == 0, result.output
        assert again.read_bytes() == first.read_bytes()
    for ref in ("999", "9" * 30, "²", "KP-GIBT-ES-NICHT"):
        unknown = runner.invoke(args=["finance", "payment-run-file", ref, "--out", str(first)])
        assert unknown.exit_code == 1 and "Unbekannter Zahlungslauf" in unknown.output
    # a re-run never includes an order of an earlier run
    rerun = _run_cli(runner, tmp_path / "zweiter.xml", people["finance"].email)
    assert rerun.exit_code == 1 and "keine freigegebenen" in rerun.output
    assert not (tmp_path / "zweiter.xml").exists()
    db.session.refresh(order)
    assert order.payment_run_id == run.id


def test_payment_run_into_a_missing_directory_is_refused_before_the_commit(
    people, running, runner, tmp_path
):
    _released(people, running)
    result = _run_cli(runner, tmp_path / "fehlt" / "lauf.xml", people["finance"].email)
    assert result.exit_code == 1 and "kann nicht angelegt werden" in result.output
    db.session.rollback()
    assert queries.recent_runs() == []
