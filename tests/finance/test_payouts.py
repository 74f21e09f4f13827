"""Payout plan, orders with four eyes and payment runs: R14–R17, R20, R31, R32."""

from __future__ import annotations

from datetime import date

import pytest

from app.common import programme as fcfg
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
from tests.finance.factories import approved_grant, confirmed_account


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

    review.record_waiver(factories.create_user("reviewer"), application, date(2026, 11, 1))
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
        payouts.release_order(people["finance"], order)
    payouts.release_order(people["finance2"], order)
    assert order.status is OrderStatus.RELEASED
    with pytest.raises(InvalidTransition):
        payouts.release_order(people["finance2"], order)
    kz = db.session.get(GrantAccount, running.id).kassenzeichen
    assert ledger.balance(ledger.payable_account(kz)) == -1_600_000
    assert ledger.balance(ledger.committed_account(kz)) == 2_400_000
    assert ledger.unbalanced_entries() == []


def test_cancel_released_order_reverses_ledger_and_frees_the_instalment(people, running):
    order = payouts.prepare_order(people["finance"], _first(running), idempotency_key="c" * 32)
    payouts.release_order(people["finance2"], order)
    payouts.cancel_order(people["finance"], order, "falsche Rate")
    kz = db.session.get(GrantAccount, running.id).kassenzeichen
    assert ledger.balance(ledger.payable_account(kz)) == 0
    assert db.session.get(GrantAccount, running.id).ordered_cents == 0
    db.session.expire_all()
    assert _first(running).status is InstalmentStatus.DUE


def test_R32_payment_run_counts_sums_and_unique_msg_id(people, running):
    order = payouts.prepare_order(people["finance"], _first(running), idempotency_key="p" * 32)
    payouts.release_order(people["finance2"], order)
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
    assert account.holder == "Stadtkasse Goerlitz" and account.iban == "DE89370400440532013000"
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
        payouts.release_order(people["finance2"], order)


def test_closed_budget_year_refuses_ledger_postings(people, running):
    from app.budget import services as budget

    order = payouts.prepare_order(people["finance"], _first(running), idempotency_key="z" * 32)
    budget.close_year(_first(running).budget_year)
    with pytest.raises(ledger.LedgerError, match="abgeschlossen"):
        payouts.release_order(people["finance2"], order)
    with pytest.raises(DomainError):
        budget.close_year(_first(running).budget_year)  # already closed


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


# --- plan details that the mutation run (docs/mutation.md) found untested ------------------------


def _plan(grant: int, years: list[int], end: date = date(2029, 12, 31)):
    return [
        (p.number, p.kind, p.percent, p.amount_cents, p.budget_year)
        for p in payouts.split_plan(grant, date(2027, 1, 1), end, years)
    ]


def test_R15_split_plan_numbers_percentages_and_budget_years():
    # 200.000,01 € over three payout years: the interim 25 % falls in the middle year
    assert _plan(20_000_001, [2029, 2027, 2028]) == [
        (1, InstalmentKind.FIRST, 40, 8_000_000, 2027),
        (2, InstalmentKind.INTERIM, 25, 5_000_000, 2028),
        (3, InstalmentKind.AFTER_VN, 25, 5_000_000, 2029),
        (4, InstalmentKind.FINAL, 10, 2_000_001, 2029),  # the last one takes the remainder
    ]
    # with two payout years the interim is paid in the first year
    assert [p[4] for p in _plan(20_000_000, [2027, 2028])] == [2027, 2027, 2028, 2028]


def test_R14_standard_plan_numbers_percentages_and_budget_years():
    assert _plan(4_000_001, [2028, 2027], end=date(2027, 12, 31)) == [
        (1, InstalmentKind.FIRST, 40, 1_600_000, 2027),
        (2, InstalmentKind.AFTER_VN, 50, 2_000_000, 2028),
        (3, InstalmentKind.FINAL, 10, 400_001, 2028),
    ]
    # no payout years known: everything in the year the period starts
    assert {p[4] for p in _plan(4_000_000, [], end=date(2027, 12, 31))} == {2027}


def test_R16_reimbursement_plan_is_one_instalment_of_100_percent_in_the_last_year():
    assert _plan(1_999_999, [2028, 2027]) == [
        (1, InstalmentKind.REIMBURSEMENT, 100, 1_999_999, 2028)
    ]
