"""Reconciliation of camt.053 statements against payout orders (R33, RELIABILITY test 11)."""

from __future__ import annotations

from datetime import date

import pytest

from app.auth.models import User
from app.extensions import db
from app.finance.models import (
    BankStatement,
    GrantAccount,
    InstalmentStatus,
    MatchRule,
    MatchStatus,
    OrderStatus,
    PayoutOrder,
    StatementLine,
)
from app.finance.services import claims, ledger, payouts, reconcile
from app.postaward.services import settlement, start
from tests import factories
from tests.finance.factories import approved_grant

OUR_IBAN = "DE02120300000000202051"
IBANS = ["DE89370400440532013000", "DE02500105170137075030", "DE88100900001234567892"]


@pytest.fixture(autouse=True)
def statements_already_booked(monkeypatch):
    """The statements here are booked in 2027 and 2099 (after the payment runs they answer); the
    import refuses dates after today, so these tests read them on 31.12.2099."""
    monkeypatch.setattr(reconcile, "today", lambda: date(2099, 12, 31))


def camt(lines, *, stmt_id="KP-STMT-1", seq="1", booked="2027-02-03", valued=None):
    """A minimal camt.053.001.08 statement. ``lines``: dicts with cd, amount (cents), e2e,
    remittance, iban, rvsl, rtr."""
    entries = []
    for ln in lines:
        euros = f"{ln['amount'] // 100}.{ln['amount'] % 100:02d}"
        party = "Cdtr" if ln["cd"] == "DBIT" else "Dbtr"
        if ln.get("rtr") or ln.get("rvsl"):
            party = "Cdtr"
        rtr = "<RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf>" if ln.get("rtr") else ""
        entries.append(f"""
    <Ntry><Amt Ccy="EUR">{euros}</Amt><CdtDbtInd>{ln["cd"]}</CdtDbtInd>
      {"<RvslInd>true</RvslInd>" if ln.get("rvsl") else ""}
      <Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{booked}</Dt></BookgDt><ValDt><Dt>{valued or booked}</Dt></ValDt>
      <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>{"RRTN" if ln.get("rtr") else "ESCT"}</SubFmlyCd></Fmly></Domn></BkTxCd>
      <NtryDtls><TxDtls>
        <Refs><EndToEndId>{ln.get("e2e") or "NOTPROVIDED"}</EndToEndId></Refs>
        <Amt Ccy="EUR">{euros}</Amt><CdtDbtInd>{ln["cd"]}</CdtDbtInd>
        <RltdPties><{party}><Pty><Nm>Gemeinde</Nm></Pty></{party}><{party}Acct><Id><IBAN>{ln.get("iban", IBANS[0])}</IBAN></Id></{party}Acct></RltdPties>
        <RmtInf><Ustrd>{ln.get("remittance", "")}</Ustrd></RmtInf>
        {rtr}
      </TxDtls></NtryDtls>
    </Ntry>""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>MSG-{stmt_id}</MsgId><CreDtTm>2027-02-04T06:00:00</CreDtTm></GrpHdr>
  <Stmt><Id>{stmt_id}</Id><ElctrncSeqNb>{seq}</ElctrncSeqNb><CreDtTm>2027-02-04T06:00:00</CreDtTm>
   <Acct><Id><IBAN>{OUR_IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>
   {"".join(entries)}
  </Stmt>
 </BkToCstmrStmt>
</Document>""".encode()


@pytest.fixture
def sent(app_ctx):
    """Three grants of three municipalities, each with its first instalment in a sent run."""
    k1, k2 = factories.create_user("finance"), factories.create_user("finance")
    orders = []
    for ags, iban in zip(("14626610", "14628270", "14523320"), IBANS, strict=True):
        applicant = factories.create_user("applicant", ags=ags)
        application = approved_grant(applicant)
        account = payouts.submit_bank_account(
            applicant, password=factories.PASSWORD, holder="Kasse", iban=iban, bic=""
        )
        payouts.confirm_bank_account(k1, account)
        start.notify_start(applicant, application, date(2026, 11, 2))
        from app.finance import queries

        first = queries.instalments_of(application.id)[0]
        order = payouts.prepare_order(k1, first, idempotency_key=f"key-{ags}-xxxxxxxxxxxx")
        payouts.release_order(k2, order, confirm_early=True)
        orders.append(order)
    settlement.create_payment_run(k1, execution_date=date(2099, 1, 4))
    for order in orders:
        db.session.refresh(order)
    return {"finance": k1, "orders": orders}


def _line(statement, n):
    return next(ln for ln in statement.lines if ln.line_no == n)


def _kz(order):
    return db.session.get(GrantAccount, order.application_id).kassenzeichen


def test_R33_matches_by_end_to_end_id_then_kassenzeichen_then_amount_and_iban(sent):
    o1, o2, o3 = sent["orders"]
    data = camt(
        [
            {"cd": "DBIT", "amount": o1.amount_cents, "e2e": o1.end_to_end_id, "iban": IBANS[0]},
            {
                "cd": "DBIT",
                "amount": o2.amount_cents,
                "remittance": f"{_kz(o2)} Zuwendung",
                "iban": "DE12500105170648489890",
            },
            {
                "cd": "DBIT",
                "amount": o3.amount_cents,
                "remittance": "Sammelueberweisung",
                "iban": IBANS[2],
            },
        ]
    )
    result = settlement.import_statement(sent["finance"], data, "auszug.xml")
    statement = result.statements[0]
    rules = [_line(statement, n).match_rule for n in (1, 2, 3)]
    assert rules == [MatchRule.END_TO_END, MatchRule.KASSENZEICHEN, MatchRule.AMOUNT_IBAN]
    assert result.matched == 3 and result.open == 0
    for order in sent["orders"]:
        db.session.refresh(order)
        assert order.status is OrderStatus.RECONCILED
        assert ledger.balance(ledger.payable_account(_kz(order))) == 0
    assert ledger.balance(ledger.BANK_ACCOUNT) == -sum(o.amount_cents for o in sent["orders"])
    assert ledger.unbalanced_entries() == []


def test_R33_unknown_id_and_one_cent_off_go_to_the_queue(sent):
    o1 = sent["orders"][0]
    data = camt(
        [
            {
                "cd": "DBIT",
                "amount": 471_100,
                "e2e": "KP-2027-9999-R1",
                "iban": "DE12500105170648489890",
            },
            {"cd": "DBIT", "amount": o1.amount_cents - 1, "e2e": o1.end_to_end_id},
        ]
    )
    result = settlement.import_statement(sent["finance"], data, "auszug.xml")
    statement = result.statements[0]
    assert [ln.match_status for ln in statement.lines] == [MatchStatus.UNMATCHED] * 2
    assert "Betrag" in _line(statement, 2).note
    db.session.refresh(o1)
    assert o1.status is OrderStatus.IN_RUN  # nothing matched by guess
    assert {ln.id for ln in reconcile.open_lines()} == {ln.id for ln in statement.lines}


def test_R33_same_statement_twice_changes_nothing(sent):
    o1 = sent["orders"][0]
    data = camt([{"cd": "DBIT", "amount": o1.amount_cents, "e2e": o1.end_to_end_id}])
    settlement.import_statement(sent["finance"], data, "a.xml")
    entries_before = len(db.session.execute(db.select(ledger.JournalEntry)).all())
    again = settlement.import_statement(sent["finance"], data.replace(b"MSG-", b"MSG2-"), "b.xml")
    assert again.statements == [] and again.duplicates == ["KP-STMT-1"]
    assert db.session.execute(db.select(BankStatement)).scalars().all().__len__() == 1
    assert len(db.session.execute(db.select(ledger.JournalEntry)).all()) == entries_before


def test_returned_transfer_reopens_the_order(sent):
    o1 = sent["orders"][0]
    settlement.import_statement(
        sent["finance"],
        camt([{"cd": "DBIT", "amount": o1.amount_cents, "e2e": o1.end_to_end_id}]),
        "a.xml",
    )
    settlement.import_statement(
        sent["finance"],
        camt(
            [{"cd": "CRDT", "amount": o1.amount_cents, "e2e": o1.end_to_end_id, "rtr": True}],
            stmt_id="KP-STMT-2",
            seq="2",
        ),
        "b.xml",
    )
    db.session.refresh(o1)
    assert o1.status is OrderStatus.RETURNED
    assert o1.instalment.status is InstalmentStatus.DUE
    kz = _kz(o1)
    assert db.session.get(GrantAccount, o1.application_id).ordered_cents == 0
    assert ledger.balance(ledger.BANK_ACCOUNT) == 0
    assert ledger.balance(ledger.committed_account(kz)) == 4_000_000
    assert ledger.unbalanced_entries() == []
    # A new order for the reopened instalment is possible (the returned one does not block it).
    again = payouts.prepare_order(sent["finance"], o1.instalment, idempotency_key="n" * 32)
    assert again.status is OrderStatus.PREPARED


def test_bank_reversal_undoes_the_reconciliation(sent):
    o1 = sent["orders"][0]
    settlement.import_statement(
        sent["finance"],
        camt([{"cd": "DBIT", "amount": o1.amount_cents, "e2e": o1.end_to_end_id}]),
        "a.xml",
    )
    settlement.import_statement(
        sent["finance"],
        camt(
            [{"cd": "CRDT", "amount": o1.amount_cents, "e2e": o1.end_to_end_id, "rvsl": True}],
            stmt_id="KP-STMT-3",
            seq="3",
        ),
        "c.xml",
    )
    db.session.refresh(o1)
    assert o1.status is OrderStatus.IN_RUN
    assert ledger.balance(ledger.BANK_ACCOUNT) == 0
    assert ledger.balance(ledger.payable_account(_kz(o1))) == -o1.amount_cents


def test_manual_assignment_exact_cents_only_and_explanation(sent):
    o1, o2, _ = sent["orders"]
    result = settlement.import_statement(
        sent["finance"],
        camt(
            [
                {
                    "cd": "DBIT",
                    "amount": o1.amount_cents,
                    "remittance": "ohne Bezug",
                    "iban": "DE12500105170648489890",
                },
                {
                    "cd": "DBIT",
                    "amount": 12_345,
                    "remittance": "Gebuehren",
                    "iban": "DE12500105170648489890",
                },
            ]
        ),
        "a.xml",
    )
    statement = result.statements[0]
    first, second = _line(statement, 1), _line(statement, 2)
    assert first.match_status is MatchStatus.UNMATCHED  # no id, no Kassenzeichen, unknown IBAN
    with pytest.raises(Exception, match="centgenau"):
        reconcile.assign_line(sent["finance"], second, o2)
    reconcile.assign_line(sent["finance"], first, o2)
    assert first.match_rule is MatchRule.MANUAL
    db.session.refresh(o2)
    assert o2.status is OrderStatus.RECONCILED
    reconcile.explain_line(sent["finance"], second, "Kontoführungsgebühr")
    assert second.match_status is MatchStatus.EXPLAINED
    report = reconcile.statement_report(statement)
    assert (report.matched, report.open, report.explained) == (1, 0, 1)


def test_hostile_file_is_refused_and_nothing_stored(sent):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><Document>&lol2;</Document>'
    )
    with pytest.raises(reconcile.StatementRejected):
        settlement.import_statement(sent["finance"], bomb, "bomb.xml")
    assert db.session.execute(db.select(StatementLine)).first() is None


def test_stale_orders_report_lists_unconfirmed_payments(sent):
    stale = reconcile.stale_orders(10, on=date(2099, 2, 1))
    assert {o.id for o in stale} == {o.id for o in sent["orders"]}
    assert reconcile.stale_orders(10, on=date(2099, 1, 5)) == []
    report = reconcile.year_report(2027)
    assert report["in_run_count"] == 3


def test_statement_pages_over_http(app, client):
    from tests.conftest import _client_for

    finance = _client_for(app, role="finance", email="recon@lpr.test-kp.de")
    assert finance.get("/kasse/kontoauszuege").status_code == 200
    assert finance.get("/kasse/abgleich").status_code == 200
    upload = finance.post(
        "/kasse/kontoauszuege",
        data={"file": (__import__("io").BytesIO(b"<kein xml"), "x.xml")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 422 and "XML" in upload.get_data(as_text=True)
    ok = finance.post(
        "/kasse/kontoauszuege",
        data={
            "file": (
                __import__("io").BytesIO(camt([{"cd": "DBIT", "amount": 100, "e2e": "X-1"}])),
                "a.xml",
            )
        },
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    with app.app_context():
        line = db.session.execute(db.select(StatementLine)).scalar_one()
        line_id, statement_id = line.id, line.statement_id
    assert finance.get(f"/kasse/kontoauszuege/{statement_id}").status_code == 200
    assert finance.get(f"/kasse/abgleich/{line_id}").status_code == 200
    explained = finance.post(
        f"/kasse/abgleich/{line_id}/erlaeutern", data={"explain-text": "Testbuchung"}
    )
    assert explained.status_code == 302
    assert PayoutOrder  # imported for type context


def test_R33_incoming_refund_with_the_claim_kassenzeichen_settles_the_claim(sent):
    from app.grants.models import Status
    from app.postaward.models import RevocationReason
    from app.postaward.services import revocation

    o1 = sent["orders"][0]
    application = o1.application
    reviewer = factories.create_user("reviewer")
    approver = factories.create_user("approver")
    revocation.open_check(
        application,
        reason=RevocationReason.MISUSE,
        facts_known_on=date(2026, 11, 20),
        actor=reviewer,
    )
    claim = revocation.revoke(
        approver,
        application,
        new_grant_cents=0,
        reasons="zweckwidrig",
        effective_from=date(2026, 1, 5),
        on=date(2026, 11, 24),
    )
    interest, _ = claims.interest_due(claim, date(2026, 11, 20))
    total = claim.principal_cents + interest
    data = camt(
        [
            {
                "cd": "CRDT",
                "amount": total,
                "iban": IBANS[0],
                "remittance": f"{claim.kassenzeichen} Rueckzahlung",
            }
        ],
        stmt_id="KP-STMT-9",
        seq="9",
        booked="2026-11-20",
    )
    result = settlement.import_statement(sent["finance"], data, "refund.xml")
    line = result.statements[0].lines[0]
    assert line.match_status is MatchStatus.MATCHED and claim.kassenzeichen in line.note
    assert claim.status.value == "paid" and claim.interest_cents == interest
    assert application.status is Status.CLOSED
    assert ledger.unbalanced_entries() == []


def test_refund_without_a_base_rate_stays_in_the_queue(sent):
    from app.postaward.models import RevocationReason
    from app.postaward.services import revocation

    application = sent["orders"][1].application
    revocation.open_check(
        application,
        reason=RevocationReason.MISUSE,
        facts_known_on=date(2026, 11, 20),
        actor=factories.create_user("reviewer"),
    )
    claim = revocation.revoke(
        factories.create_user("approver"),
        application,
        new_grant_cents=0,
        reasons="zweckwidrig",
        effective_from=date(2026, 1, 5),
        on=date(2026, 11, 24),
    )
    data = camt(
        [
            {
                "cd": "CRDT",
                "amount": claim.principal_cents,
                "iban": IBANS[1],
                "remittance": claim.kassenzeichen,
            }
        ],
        stmt_id="KP-STMT-8",
        seq="8",
        booked="2027-03-01",
    )  # no base rate maintained for 2027 yet
    line = settlement.import_statement(sent["finance"], data, "r.xml").statements[0].lines[0]
    assert line.match_status is MatchStatus.UNMATCHED and "Zinsen" in line.note
    assert claim.status.value == "open"


def test_matched_payout_shows_as_paid_for_the_instalment_and_the_run(sent):
    """Issue 11: after the statement matched them, run and instalment still said "an Bank
    übergeben"; now both read as paid, with the statement's booking date."""
    from app.finance import queries

    o1, o2, _o3 = sent["orders"]
    data = camt([{"cd": "DBIT", "amount": o1.amount_cents, "e2e": o1.end_to_end_id}])
    settlement.import_statement(sent["finance"], data, "auszug.xml")
    confirmed = queries.bank_confirmations(o1.application_id)
    assert list(confirmed) == [o1.instalment_id]
    assert queries.bank_confirmations(o2.application_id) == {}
    assert queries.run_confirmations([o1.payment_run_id]) == {o1.payment_run_id: 1}


def test_statement_of_a_foreign_account_is_refused_and_nothing_stored(sent):
    """Issue 11: a statement of another account was imported silently."""
    from app.finance.models import BankStatement
    from app.finance.services.reconcile import StatementRejected

    o1 = sent["orders"][0]
    data = camt([{"cd": "DBIT", "amount": o1.amount_cents, "e2e": o1.end_to_end_id}])
    foreign = data.replace(OUR_IBAN.encode(), b"DE89370400440532013000")
    with pytest.raises(StatementRejected, match="DE89 3704 0044 0532 0130 00"):
        settlement.import_statement(sent["finance"], foreign, "fremd.xml")
    assert db.session.execute(db.select(BankStatement.id)).first() is None


def test_iban_filter_groups_in_fours():
    from app.common.formatting import iban

    assert iban("de89370400440532013000") == "DE89 3704 0044 0532 0130 00"
    assert iban(None) == ""


def test_statement_dated_after_today_is_refused_and_nothing_stored(sent, monkeypatch):
    """Issue 11: a statement with bookings after today was imported silently."""
    from app.finance.services.reconcile import StatementRejected

    monkeypatch.setattr(reconcile, "today", lambda: date(2027, 2, 2))
    o1 = sent["orders"][0]
    data = camt([{"cd": "DBIT", "amount": o1.amount_cents, "e2e": o1.end_to_end_id}])
    with pytest.raises(StatementRejected, match="03.02.2027"):
        settlement.import_statement(sent["finance"], data, "zukunft.xml")
    assert db.session.execute(db.select(BankStatement.id)).first() is None
    monkeypatch.setattr(reconcile, "today", lambda: date(2027, 2, 3))
    assert settlement.import_statement(sent["finance"], data, "heute.xml").lines == 1


# --- boundary tests (issue 12: value at, one cent below, one cent above) ------------------------


@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_R33_boundary_matching_by_payment_reference_checks_the_amount(sent, delta):
    o1 = sent["orders"][0]
    unknown_iban = "DE12500105170648489890"  # no fallback by amount and IBAN
    by_e2e = StatementLine(
        credit_debit="DBIT",
        amount_cents=o1.amount_cents + delta,
        end_to_end_id=o1.end_to_end_id,
        remittance="",
        counterparty_iban=unknown_iban,
    )
    by_kz = StatementLine(
        credit_debit="DBIT",
        amount_cents=o1.amount_cents + delta,
        end_to_end_id=None,
        remittance=f"{_kz(o1)} Zuwendung",
        counterparty_iban=unknown_iban,
    )
    for line, rule in ((by_e2e, MatchRule.END_TO_END), (by_kz, MatchRule.KASSENZEICHEN)):
        found, matched_rule, note = reconcile.candidates(line)
        if delta == 0:
            assert (found, matched_rule) == ([o1], rule)
        else:
            assert (found, matched_rule) == ([], None) and note


def test_R27_refund_in_two_parts_by_kassenzeichen_is_booked_and_closes_the_grant(sent):
    from app.grants.models import Status
    from app.postaward.models import RevocationReason
    from app.postaward.services import revocation

    application = sent["orders"][0].application
    revocation.open_check(
        application,
        reason=RevocationReason.MISUSE,
        facts_known_on=date(2026, 11, 20),
        actor=factories.create_user("reviewer"),
    )
    claim = revocation.revoke(
        factories.create_user("approver"),
        application,
        new_grant_cents=0,
        reasons="zweckwidrig",
        effective_from=date(2026, 1, 5),
        on=date(2026, 11, 24),
    )
    # 16.000 € from 05.01.2026 (see tests/postaward/test_revocation.py for the hand calculation):
    # 10.000 € on 30.06.2026 pay 490,45 € interest + 9.509,55 € principal; the rest 6.490,45 €
    # bears 105,79 € to 30.09.2026 → 6.596,24 € settle the claim.
    for n, (amount, booked) in enumerate(((1_000_000, "2026-06-30"), (659_624, "2026-09-30"))):
        data = camt(
            [{"cd": "CRDT", "amount": amount, "iban": IBANS[0], "remittance": claim.kassenzeichen}],
            stmt_id=f"KP-STMT-2{n}",
            seq=f"2{n}",
            booked=booked,
        )
        line = settlement.import_statement(sent["finance"], data, "r.xml").statements[0].lines[0]
        assert line.match_status is MatchStatus.MATCHED
        if n == 0:
            assert "Teilzahlung" in line.note and claim.status.value == "open"
            assert application.status is Status.RECOVERY
    assert claim.status.value == "paid" and claim.paid_cents == 1_659_624
    assert application.status is Status.CLOSED
    assert ledger.unbalanced_entries() == []


def test_R33_bank_entry_is_booked_in_the_fiscal_year_of_the_value_date(sent):
    """Issue 12 F9: a payout valued on 31.12.2026 and booked on 04.01.2027 belongs to 2026."""
    o1 = sent["orders"][0]
    data = camt(
        [{"cd": "DBIT", "amount": o1.amount_cents, "e2e": o1.end_to_end_id, "iban": IBANS[0]}],
        booked="2027-01-04",
        valued="2026-12-31",
    )
    settlement.import_statement(sent["finance"], data, "auszug.xml")
    entry = db.session.execute(
        db.select(ledger.JournalEntry).where(
            ledger.JournalEntry.idempotency_key == f"bank-order-{o1.id}"
        )
    ).scalar_one()
    assert entry.fiscal_year == 2026
    assert entry.posting_date == date(2026, 12, 31)


def test_zero_amount_booking_is_reported_not_silently_dropped(app, runner, tmp_path):
    """Issue 14, finding 5: a 0,00 € entry is not stored (it reconciles nothing) but the clerk
    is told, on the page and in the CLI."""
    from tests.conftest import _client_for

    finance = _client_for(app, role="finance", email="zero@lpr.test-kp.de")
    data = camt(
        [{"cd": "DBIT", "amount": 100, "e2e": "X-1"}, {"cd": "CRDT", "amount": 0, "e2e": "X-0"}]
    )
    page = finance.post(
        "/kasse/kontoauszuege",
        data={"file": (__import__("io").BytesIO(data), "null.xml")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    body = page.get_data(as_text=True)
    assert "Kontoauszug KP-STMT-1, Buchung 2 (–, 03.02.2027) lautet auf 0,00 €" in body
    with app.app_context():
        assert db.session.execute(db.select(StatementLine.id)).all() != []
        assert len(db.session.execute(db.select(StatementLine.id)).all()) == 1
    second = tmp_path / "zweiter.xml"
    second.write_bytes(data.replace(b"KP-STMT-1", b"KP-STMT-2"))
    with app.app_context():
        user = db.session.execute(
            db.select(User).where(User.email == "zero@lpr.test-kp.de")
        ).scalar_one()
        code = factories.totp_code(user)
    result = runner.invoke(
        args=["finance", "import-statement", str(second), "--as", user.email, "--totp", code]
    )
    assert result.exit_code == 0, result.output
    assert "Kontoauszug KP-STMT-2, Buchung 2 (–, 03.02.2027) lautet auf 0,00 €" in result.output
