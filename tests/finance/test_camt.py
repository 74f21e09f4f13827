"""camt.053 bank statements (``app.finance.camt``; RULES §10.2–10.3, R33; RELIABILITY §2 "XML
parsing", §3.4, test plans 11 and 19).

The module under test is pure, so these tests need no database: ``_db_transaction`` below
replaces the project-wide autouse fixture of ``tests/conftest.py`` for this module only. Fixture
files live in ``tests/finance/fixtures/camt`` (provenance and contents in ``SOURCES.md`` there).
"""

from __future__ import annotations

import ast
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from app.finance import camt
from app.finance.camt import (
    CamtError,
    Entry,
    Statement,
    file_sha256,
    parse_statement,
    statement_fingerprint,
)

FIXTURES = Path(__file__).parent / "fixtures" / "camt"
NS08 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
NS02 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
OWN_IBAN = "DE02120300000000202051"
CET = timezone(timedelta(hours=1))

VR_BANK = "camt053.001.02_DE_VR-Bank_batch_viafintech.xml"
FFFS = "camt053.001.02_FI_FFFS-official-sample_moov-io.xml"
UBS = "camt053.001.08_CH_UBS_viafintech.xml"
GENKGO = "camt053.001.08_synthetic-multiccy_genkgo.xml"
CAMT054 = "camt054.001.04_CH_reversal-batch_viafintech.xml"
PAIN001 = "pain.001.001.09_sebastienrousseau-pain001.xml"
OWN = [
    "kp_a_payouts.xml",
    "kp_b_return.xml",
    "kp_c_reversal.xml",
    "kp_d_unknown_e2e.xml",
    "kp_e_refund_kassenzeichen.xml",
    "kp_f_one_cent_off.xml",
    "kp_g_duplicate_of_a.xml",
]


@pytest.fixture(autouse=True)
def _db_transaction() -> Iterator[None]:
    """Override the conftest fixture: these tests touch no database (and prove they need none)."""
    yield


def _load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _one(name: str) -> Statement:
    statements = parse_statement(_load(name))
    assert len(statements) == 1
    return statements[0]


def _entries(xml: bytes) -> list[Entry]:
    (stmt,) = parse_statement(xml)
    return stmt.entries


def _xml_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _schema(version: str) -> etree.XMLSchema:
    xsd = FIXTURES / f"camt.053.001.{version}.xsd"
    return etree.XMLSchema(etree.parse(str(xsd), _xml_parser()))


def _e2e(entry: Entry) -> list[str | None]:
    return [tx.end_to_end_id for tx in entry.transactions]


# --- small synthetic documents -----------------------------------------------------------------


def _ntry(
    amount: str = "10.00",
    cdi: str = "DBIT",
    *,
    details: str = "",
    status: str = "<Sts><Cd>BOOK</Cd></Sts>",
    ccy: str = "EUR",
    extra: str = "",
    code: str = "<BkTxCd/>",
) -> str:
    body = f"<NtryDtls>{details}</NtryDtls>" if details else ""
    return (
        f'<Ntry><Amt Ccy="{ccy}">{amount}</Amt><CdtDbtInd>{cdi}</CdtDbtInd>{extra}{status}'
        f"<BookgDt><Dt>2027-03-03</Dt></BookgDt>{code}{body}</Ntry>"
    )


def _bal(code: str, amount: str, cdi: str = "CRDT", ccy: str = "EUR") -> str:
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
        f'<Amt Ccy="{ccy}">{amount}</Amt><CdtDbtInd>{cdi}</CdtDbtInd>'
        "<Dt><Dt>2027-03-03</Dt></Dt></Bal>"
    )


def _doc(
    entries: str = "",
    *,
    ns: str = NS08,
    balances: str = "",
    head: str = "<Id>S-1</Id><ElctrncSeqNb>7</ElctrncSeqNb>",
    account: str = f"<Id><IBAN>{OWN_IBAN}</IBAN></Id><Ccy>EUR</Ccy>",
    statements: int = 1,
) -> bytes:
    stmt = f"<Stmt>{head}<Acct>{account}</Acct>{balances}{entries}</Stmt>"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Document xmlns="{ns}"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>M-1</MsgId><CreDtTm>2027-03-03T20:00:00+01:00</CreDtTm></GrpHdr>"
        f"{stmt * statements}</BkToCstmrStmt></Document>"
    ).encode()


def _tx08(amount: str | None, e2e: str = "E-1", *, parties: str = "", more: str = "") -> str:
    amt = f'<Amt Ccy="EUR">{amount}</Amt>' if amount is not None else ""
    return f"<TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs>{amt}{parties}{more}</TxDtls>"


# --- real samples ------------------------------------------------------------------------------


def test_vr_bank_02_german_statement_with_batch():
    stmt = _one(VR_BANK)
    assert stmt.message_version == "camt.053.001.02"
    assert (stmt.account_iban, stmt.currency) == ("DE14740618130000033626", "EUR")
    assert (stmt.statement_id, stmt.electronic_seq_nb, stmt.legal_seq_nb) == (
        "0352C5320131227220503",
        "130000005",
        None,
    )
    assert stmt.created_at == datetime(2013, 12, 27, 22, 4, 52, tzinfo=CET)
    assert stmt.message_id == "053D2013-12-27T22:05:03.0N130000005"
    # PRCD (previous closing) is the opening balance when there is no OPBD.
    assert (stmt.opening_balance_cents, stmt.closing_balance_cents) == (3306, 2306)
    assert stmt.balances_match is True and stmt.warnings == []

    assert [(e.amount_cents, e.credit_debit) for e in stmt.entries] == [
        (200, "DBIT"),
        (300, "DBIT"),
        (100, "CRDT"),
        (600, "DBIT"),
    ]
    assert [len(e.transactions) for e in stmt.entries] == [1, 1, 1, 2]
    assert {e.status for e in stmt.entries} == {"BOOK"}
    assert all(e.booking_date == e.value_date == date(2013, 12, 27) for e in stmt.entries)
    first, second, third, batch = stmt.entries
    assert first.entry_ref == "1234567890sdfghjk"  # NtryRef after Amt (schema-invalid order)
    assert _e2e(first) == ["EndToEndReference"]
    assert _e2e(second) == [None]  # NOTPROVIDED
    assert _e2e(third) == [None]  # no Refs at all
    # The entry-level <BkTxCd/> is empty: the ZKA code of the transaction is used.
    assert (first.bank_tx_code, first.bank_tx_code_proprietary) == ("NTRF+020", "NTRF+020")
    assert second.transactions[0].counterparty_iban == "DE58740618130100033626"
    # CRDT: the debtor is the counterparty; its account is a BBAN, so there is no IBAN.
    assert third.transactions[0].counterparty_name == "Testkonto Nummer 2"
    assert third.transactions[0].counterparty_iban is None
    assert third.transactions[0].remittance == "R CKBUCHUNG"

    assert batch.batch_pmt_inf_id == "STZV-PmInf27122013-11:02-2"
    assert batch.batch_nb_of_txs == 2
    assert [tx.amount_cents for tx in batch.transactions] == [350, 250]
    assert _e2e(batch) == ["STZV-EtE27122013-11:02-1", "STZV-EtE27122013-11:02-2"]
    assert batch.split_mismatch is False
    assert batch.transactions[1].remittance == "Sammelueberweisung 1. Zahlung   TAN:283044"
    # The sample lists our own account as creditor of this debit: the other side is taken.
    assert {(tx.counterparty_name, tx.counterparty_iban) for tx in batch.transactions} == {
        ("Testkonto Nummer 2", "DE58740618130100033626")
    }
    assert not any(e.reversal for e in stmt.entries)


def test_fffs_02_official_sample_batches_and_structured_remittance():
    stmt = _one(FFFS)
    assert stmt.account_iban == "FI7433010001222090"
    assert (stmt.electronic_seq_nb, stmt.legal_seq_nb) == ("120", "97")
    assert (stmt.from_date, stmt.to_date) == (date(2009, 10, 29), date(2009, 10, 29))
    # OPBD wins over PRCD; the statement reconciles.
    assert (stmt.opening_balance_cents, stmt.closing_balance_cents) == (1_000_000, 2_364_483)
    assert stmt.balances_match is True
    assert len(stmt.entries) == 10
    assert sum(len(e.transactions) for e in stmt.entries) == 13
    credits = [e.amount_cents for e in stmt.entries if e.credit_debit == "CRDT"]
    debits = [e.amount_cents for e in stmt.entries if e.credit_debit == "DBIT"]
    assert (len(credits), sum(credits)) == (6, 2_307_500)  # TxsSummry: 6 / 23075.00
    assert (len(debits), sum(debits)) == (4, 943_017)  # TxsSummry: 4 / 9430.17

    salaries, lump_sum, batch = stmt.entries[:3]
    # One TxDtls without an amount: the entry amount is used.
    assert [tx.amount_cents for tx in salaries.transactions] == [100_012]
    assert salaries.batch_nb_of_txs == 4
    # No TxDtls at all: one transaction built from the entry.
    assert [(tx.amount_cents, tx.end_to_end_id) for tx in lump_sum.transactions] == [
        (400_000, None)
    ]
    assert [tx.amount_cents for tx in batch.transactions] == [200_002, 100_001, 123_002]
    assert [tx.instruction_id for tx in batch.transactions] == [
        "TITOT1106ID01",
        "TITOT1106ID02",
        "TITOT1106ID03",
    ]
    assert batch.amount_cents == 423_005 and batch.split_mismatch is False
    assert [tx.remittance for tx in batch.transactions] == ["3900", "Invoices 123 and 321", ""]
    assert batch.bank_tx_code == "PMNT/ICDT/DMCT"
    assert batch.bank_tx_code_proprietary == "NTRF+702TransactionCodeText"

    fx = stmt.entries[6]
    assert (
        fx.amount_cents == 212_000 and fx.transactions[0].amount_cents == 212_000
    )  # TxAmt, not USD
    assert fx.value_date == date(2009, 10, 30)
    sct = stmt.entries[8]
    assert _e2e(sct) == ["EndToEndIdSCT01"]
    assert sct.transactions[0].remittance == "RF98123456789012"
    assert sct.transactions[0].counterparty_name == "DEBTOR"
    assert not any(e.reversal or e.split_mismatch for e in stmt.entries)


def test_ubs_08_pty_wrapper_and_foreign_currency_entry():
    stmt = _one(UBS)
    assert stmt.message_version == "camt.053.001.08"
    assert (stmt.account_iban, stmt.currency) == ("CH1111111111111111111", "CHF")
    assert (stmt.statement_id, stmt.electronic_seq_nb) == ("R30B4SA880HMZ9XA", "122")
    assert (stmt.opening_balance_cents, stmt.closing_balance_cents) == (8_272_195, 8_451_525)
    assert stmt.from_datetime == datetime(2023, 6, 20, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    assert [(e.amount_cents, e.currency, e.credit_debit) for e in stmt.entries] == [
        (47_440, "CHF", "CRDT"),  # "474.4": one decimal only
        (8_885, "CHF", "CRDT"),
        (2_097, "EUR", "DBIT"),
    ]
    assert [_e2e(e) for e in stmt.entries] == [
        ["80000004540000100095"],
        ["435A9287E088BDB1D97FAABD181C70C8"],
        ["1208481"],
    ]
    incoming, reference, outgoing = stmt.entries
    assert incoming.status == "BOOK"  # Sts/Cd in .08
    assert incoming.transactions[0].counterparty_name == "Jon Doe"  # Dbtr/Pty/Nm
    assert reference.transactions[0].remittance == "RF38000000000000000000552"
    assert reference.batch_nb_of_txs == 1
    tx = outgoing.transactions[0]
    assert (tx.counterparty_name, tx.counterparty_iban) == (
        "DHL Express (Schweiz) AG",
        "CH2222222222222222222",
    )
    assert tx.instruction_id == "373502949-1208481"
    assert tx.remittance == "000000270148751802165444888"
    assert outgoing.bank_tx_code == "PMNT/ICDT/AUTT"
    # Entries in EUR on a CHF account: the balance check is impossible, and says so.
    assert stmt.balances_match is None
    assert any("verschiedene Währungen" in w for w in stmt.warnings)


def test_genkgo_08_synthetic_odd_but_valid():
    stmt = _one(GENKGO)
    assert stmt.account_iban is None and stmt.account_id == "NL26VAYB8060476890"
    assert stmt.currency is None and stmt.page_number == 2
    assert stmt.legal_seq_nb == "12312"
    assert stmt.opening_balance_cents == 1_815
    assert stmt.closing_balance_cents == -2_700  # DBIT balance (in SEK) is negative
    (entry,) = stmt.entries
    assert entry.booking_date == date(2014, 12, 31)  # from BookgDt/DtTm
    assert entry.value_date == date(2015, 1, 2)
    (tx,) = entry.transactions
    assert (tx.amount_cents, tx.currency) == (0, "SEK")
    assert entry.split_mismatch is True  # an EUR 8.85 entry "split" into SEK 0
    assert tx.end_to_end_id == "MUELL/FINP/RA12345"
    assert tx.counterparty_name == "NAME NAME" and tx.counterparty_iban == "NL56AGDH9619008421"
    assert any("Einzelumsätze" in w for w in stmt.warnings)


def test_real_samples_schema_status_and_the_parser_reads_them_anyway():
    """Real files are not always schema-valid; the import reads them anyway (lenient)."""
    expected = {
        VR_BANK: ("02", False),
        FFFS: ("02", True),
        UBS: ("08", False),
        GENKGO: ("08", True),
    }
    for name, (version, valid) in expected.items():
        tree = etree.fromstring(_load(name), _xml_parser())
        assert _schema(version).validate(tree) is valid, name
        assert parse_statement(_load(name))


# --- project fixtures (reused by the reconciliation tests) -------------------------------------


@pytest.mark.parametrize("name", OWN)
def test_own_fixtures_are_valid_camt_053_001_08(name):
    schema = _schema("08")
    tree = etree.fromstring(_load(name), _xml_parser())
    assert schema.validate(tree), schema.error_log
    stmt = _one(name)
    assert stmt.message_version == "camt.053.001.08"
    assert (stmt.account_iban, stmt.currency) == (OWN_IBAN, "EUR")
    assert stmt.balances_match is True and stmt.warnings == []


def test_fixture_a_outgoing_payouts():
    stmt = _one("kp_a_payouts.xml")
    assert (stmt.statement_id, stmt.electronic_seq_nb) == ("KP-STMT-2027-0042", "42")
    assert (stmt.opening_balance_cents, stmt.closing_balance_cents) == (250_000_000, 248_126_542)
    assert [e.credit_debit for e in stmt.entries] == ["DBIT"] * 4
    assert [e.amount_cents for e in stmt.entries] == [1_000_000, 123_457, 1, 750_000]
    txs = [tx for e in stmt.entries for tx in e.transactions]
    assert [(tx.end_to_end_id, tx.amount_cents) for tx in txs] == [
        ("KP-2027-0001-R1", 1_000_000),
        ("KP-2027-0002-R1", 123_457),
        ("KP-2027-0003-R1", 1),
        ("KP-2027-0004-R1", 500_000),
        ("KP-2027-0005-R1", 250_000),
    ]
    # DBIT: the creditor is the counterparty, never our own account.
    assert [(tx.counterparty_name, tx.counterparty_iban) for tx in txs[:3]] == [
        ("Grosse Kreisstadt Goerlitz 1", "DE02500105170137075030"),
        ("Grosse Kreisstadt Goerlitz 2", "DE12500105170648489890"),
        ("Grosse Kreisstadt Goerlitz 3", "DE89370400440532013000"),
    ]
    assert txs[0].remittance == "KP-2027-0001 SMI-3-2027/0001 RL KommPraev Rate 1 14626110"
    assert not any(tx.is_return or tx.return_reason for tx in txs)
    assert stmt.entries[0].bank_tx_code == "PMNT/ICDT/ESCT"
    assert stmt.entries[0].bank_tx_code_proprietary == "NTRF+116"
    assert all(type(tx.amount_cents) is int for tx in txs)


def test_fixture_a_batch_entry_split_into_two_transactions():
    batch = _one("kp_a_payouts.xml").entries[3]
    assert (batch.batch_msg_id, batch.batch_pmt_inf_id, batch.batch_nb_of_txs) == (
        "KP-ZL-2027-0002",
        "KP-ZL-2027-0002",
        2,
    )
    assert batch.amount_cents == sum(tx.amount_cents or 0 for tx in batch.transactions)
    assert batch.split_mismatch is False
    assert [(tx.counterparty_name, tx.counterparty_iban) for tx in batch.transactions] == [
        ("Stadt Bautzen", "DE34855500000000080800"),
        ("Gemeinde Ottendorf-Okrilla", "DE83850503000000047110"),
    ]


def test_fixture_b_returned_transfer_keeps_original_end_to_end_id():
    (entry,) = _one("kp_b_return.xml").entries
    assert (entry.credit_debit, entry.amount_cents, entry.reversal) == ("CRDT", 123_457, False)
    (tx,) = entry.transactions
    assert tx.is_return is True and tx.return_reason == "AC04"
    assert tx.end_to_end_id == "KP-2027-0002-R1"
    # Parties are copied from the payout (Dbtr = us): the recipient is still the counterparty.
    assert (tx.counterparty_name, tx.counterparty_iban) == (
        "Grosse Kreisstadt Goerlitz 2",
        "DE12500105170648489890",
    )
    assert entry.bank_tx_code == "PMNT/ICDT/RRTN"


def test_fixture_c_reversal():
    (entry,) = _one("kp_c_reversal.xml").entries
    assert (entry.credit_debit, entry.amount_cents, entry.reversal) == ("CRDT", 1_000_000, True)
    (tx,) = entry.transactions
    assert tx.end_to_end_id == "KP-2027-0001-R1" and tx.is_return is False
    assert tx.counterparty_iban == "DE02500105170137075030"


def test_fixture_d_unknown_end_to_end_id():
    (entry,) = _one("kp_d_unknown_e2e.xml").entries
    assert (entry.credit_debit, entry.amount_cents) == ("DBIT", 471_100)
    assert _e2e(entry) == ["KP-2027-9999-R1"]
    assert entry.transactions[0].counterparty_iban == "DE72850501000000123456"


def test_fixture_e_incoming_refund_with_kassenzeichen_only():
    (entry,) = _one("kp_e_refund_kassenzeichen.xml").entries
    assert (entry.credit_debit, entry.amount_cents) == ("CRDT", 350_000)
    (tx,) = entry.transactions
    assert tx.end_to_end_id is None  # NOTPROVIDED
    assert tx.remittance == (
        "Rueckzahlung Zuwendung RL KommPraev Kassenzeichen KP-2027-0104 Stadt Bautzen"
    )
    # CRDT: the debtor is the counterparty.
    assert (tx.counterparty_name, tx.counterparty_iban) == (
        "Stadt Bautzen",
        "DE34855500000000080800",
    )
    assert tx.is_return is False


def test_fixture_f_amount_one_cent_off():
    (entry,) = _one("kp_f_one_cent_off.xml").entries
    assert _e2e(entry) == ["KP-2027-0006-R1"]
    assert entry.amount_cents == 79_999 == 80_000 - 1
    assert entry.transactions[0].amount_cents == 79_999


def test_fixture_g_duplicate_same_fingerprint_other_file_hash():
    a, g = _load("kp_a_payouts.xml"), _load("kp_g_duplicate_of_a.xml")
    (sa,), (sg,) = parse_statement(a), parse_statement(g)
    assert statement_fingerprint(sa) == statement_fingerprint(sg)
    assert file_sha256(a) != file_sha256(g)
    assert sa.message_id != sg.message_id
    assert sa.entries == sg.entries
    others = {
        statement_fingerprint(_one(name)) for name in OWN if name != "kp_g_duplicate_of_a.xml"
    }
    assert len(others) == 6  # every other statement has its own fingerprint


def test_own_fixtures_form_a_balance_chain():
    chain = [_one(name) for name in OWN[:6]]
    for previous, current in zip(chain, chain[1:], strict=False):
        assert current.opening_balance_cents == previous.closing_balance_cents
    assert [s.electronic_seq_nb for s in chain] == ["42", "43", "44", "45", "46", "47"]


# --- fingerprint and hash ----------------------------------------------------------------------


def test_fingerprint_depends_on_account_id_sequence_and_page():
    base = _one("kp_a_payouts.xml")
    fp = statement_fingerprint(base)
    assert len(fp) == 64 and int(fp, 16) >= 0
    assert statement_fingerprint(replace(base, entries=[])) == fp  # content is not part of it
    for change in (
        {"account_id": "DE89370400440532013000"},
        {"statement_id": "KP-STMT-2027-0099"},
        {"electronic_seq_nb": "43"},
        {"electronic_seq_nb": None},
        {"page_number": 2},
    ):
        assert statement_fingerprint(replace(base, **change)) != fp, change


def test_file_sha256():
    assert file_sha256(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert file_sha256(_load(VR_BANK)) == (
        "c1d4d1afecb51e3597cd8c4396bcacf11ba8ab7d2352f9831c26e2cdaa2c2c4d"
    )


# --- details: batches, parties, status, remittance, balances -----------------------------------


def test_batch_whose_transactions_do_not_add_up_is_kept_and_flagged():
    xml = _doc(_ntry("10.00", details=_tx08("6.00", "E-1") + _tx08("3.99", "E-2")))
    (stmt,) = parse_statement(xml)
    (entry,) = stmt.entries
    assert [(tx.end_to_end_id, tx.amount_cents) for tx in entry.transactions] == [
        ("E-1", 600),
        ("E-2", 399),
    ]
    assert entry.split_mismatch is True
    assert stmt.warnings == [
        "Kontoauszug S-1, Buchung 1: Die Einzelumsätze ergeben nicht den Buchungsbetrag."
    ]


def test_batch_transaction_without_amount_is_none_and_flagged():
    (stmt,) = parse_statement(_doc(_ntry("10.00", details=_tx08("6.00") + _tx08(None, "E-2"))))
    (entry,) = stmt.entries
    assert [tx.amount_cents for tx in entry.transactions] == [600, None]
    assert entry.split_mismatch is True


def test_transaction_amount_from_amtdtls_txamt_and_opposite_indicator():
    details = (
        "<TxDtls><AmtDtls><TxAmt><Amt Ccy='EUR'>12.00</Amt></TxAmt></AmtDtls></TxDtls>"
        "<TxDtls><Amt Ccy='EUR'>2.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></TxDtls>"
    )
    (entry,) = _entries(_doc(_ntry("10.00", details=details)))
    assert [(tx.amount_cents, tx.credit_debit) for tx in entry.transactions] == [
        (1200, "DBIT"),
        (200, "CRDT"),
    ]
    assert entry.split_mismatch is False  # 12.00 debit − 2.00 credit = 10.00 debit


def test_transaction_in_another_currency_is_a_split_mismatch():
    details = "<TxDtls><Amt Ccy='CHF'>10.00</Amt></TxDtls>"
    (entry,) = _entries(_doc(_ntry("10.00", details=details)))
    assert [(tx.amount_cents, tx.currency) for tx in entry.transactions] == [(1000, "CHF")]
    assert entry.split_mismatch is True


def test_single_transaction_without_amount_uses_the_entry_amount():
    (entry,) = _entries(_doc(_ntry("47.11", details=_tx08(None))))
    assert [(tx.amount_cents, tx.currency) for tx in entry.transactions] == [(4711, "EUR")]
    assert entry.split_mismatch is False


def test_counterparty_paths_of_both_versions():
    parties08 = (
        "<RltdPties><Dbtr><Pty><Nm>Zahler</Nm></Pty></Dbtr>"
        "<DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>"
        "<Cdtr><Pty><Nm>Empfänger</Nm></Pty></Cdtr>"
        "<CdtrAcct><Id><IBAN>DE02500105170137075030</IBAN></Id></CdtrAcct></RltdPties>"
    )
    parties02 = parties08.replace("<Pty>", "").replace("</Pty>", "")
    status02 = "<Sts>BOOK</Sts>"
    for ns, parties, status in ((NS08, parties08, None), (NS02, parties02, status02)):
        tx = f"<TxDtls><Refs><EndToEndId>E</EndToEndId></Refs>{parties}</TxDtls>"
        kwargs = {"status": status} if status else {}
        debit, credit = _entries(
            _doc(
                _ntry(cdi="DBIT", details=tx, **kwargs) + _ntry(cdi="CRDT", details=tx, **kwargs),
                ns=ns,
            )
        )
        assert (
            debit.transactions[0].counterparty_name,
            debit.transactions[0].counterparty_iban,
        ) == (
            "Empfänger",
            "DE02500105170137075030",
        ), ns
        assert (
            credit.transactions[0].counterparty_name,
            credit.transactions[0].counterparty_iban,
        ) == (
            "Zahler",
            "DE89370400440532013000",
        ), ns


def test_counterparty_of_a_return_with_swapped_roles():
    """Some banks report a return as a new transfer (Dbtr = recipient, Cdtr = us)."""
    parties = (
        "<RltdPties><Dbtr><Pty><Nm>Stadt Bautzen</Nm></Pty></Dbtr>"
        "<DbtrAcct><Id><IBAN>DE34855500000000080800</IBAN></Id></DbtrAcct>"
        "<Cdtr><Pty><Nm>Landeskasse</Nm></Pty></Cdtr>"
        f"<CdtrAcct><Id><IBAN>{OWN_IBAN}</IBAN></Id></CdtrAcct></RltdPties>"
        "<RtrInf><Rsn><Prtry>RUECKLAUF</Prtry></Rsn></RtrInf>"
    )
    details = _tx08("5.00", "KP-2027-0004-R1", parties=parties)
    (tx,) = _entries(_doc(_ntry("5.00", "CRDT", details=details)))[0].transactions
    assert tx.is_return is True and tx.return_reason == "RUECKLAUF"
    assert (tx.counterparty_name, tx.counterparty_iban) == (
        "Stadt Bautzen",
        "DE34855500000000080800",
    )


def test_reversal_takes_the_counterparty_of_the_original_direction():
    """A reversed direct-debit collection (DBIT + RvslInd, as in the camt.054 sample) keeps the
    original roles: the payer (debtor) is the counterparty, not the missing creditor."""
    parties = (
        "<RltdPties><Dbtr><Pty><Nm>Bernasconi Maria</Nm></Pty></Dbtr>"
        "<DbtrAcct><Id><IBAN>CH3709000000250094580</IBAN></Id></DbtrAcct></RltdPties>"
        "<RtrInf><Rsn><Cd>MD06</Cd></Rsn></RtrInf>"
    )
    details = _tx08("6.00", parties=parties)
    entry = _ntry("6.00", "DBIT", extra="<RvslInd>true</RvslInd>", details=details)
    (tx,) = _entries(_doc(entry))[0].transactions
    assert (tx.counterparty_name, tx.counterparty_iban) == (
        "Bernasconi Maria",
        "CH3709000000250094580",
    )
    assert tx.return_reason == "MD06"


def test_return_recognised_from_bank_transaction_code_rrtn():
    code = (
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>RRTN</SubFmlyCd></Fmly></Domn>"
        "</BkTxCd>"
    )
    (entry,) = _entries(_doc(_ntry("5.00", "CRDT", code=code, details=_tx08("5.00"))))
    assert entry.transactions[0].is_return is True
    assert entry.transactions[0].return_reason is None


@pytest.mark.parametrize(
    ("ns", "status"),
    [
        (NS08, "<Sts><Cd>PDNG</Cd></Sts>"),
        (NS02, "<Sts>PDNG</Sts>"),
        (NS08, "<Sts><Prtry>XY</Prtry></Sts>"),
    ],
)
def test_entry_status_of_both_versions(ns, status):
    (entry,) = _entries(_doc(_ntry(status=status), ns=ns))
    assert entry.status == ("XY" if "Prtry" in status else "PDNG")


def test_pending_entries_are_left_out_of_the_balance_check():
    entries = _ntry("3.00", "DBIT") + _ntry("9.99", "DBIT", status="<Sts><Cd>PDNG</Cd></Sts>")
    (stmt,) = parse_statement(_doc(entries, balances=_bal("OPBD", "10.00") + _bal("CLBD", "7.00")))
    assert stmt.balances_match is True


def test_reversal_indicator_values():
    values = {"true": True, "1": True, "false": False, "0": False}
    for text, expected in values.items():
        (entry,) = _entries(_doc(_ntry(extra=f"<RvslInd>{text}</RvslInd>")))
        assert entry.reversal is expected
    with pytest.raises(CamtError, match="kein Wahrheitswert"):
        _entries(_doc(_ntry(extra="<RvslInd>yes</RvslInd>")))


def test_remittance_joins_unstructured_and_structured_parts():
    rmt = (
        "<RmtInf><Ustrd> KP-2027-0042 SMI-3-2027/0042 </Ustrd><Ustrd>RL KommPraev Rate 2</Ustrd>"
        "<Strd><CdtrRefInf><Ref>RF18539007547034</Ref></CdtrRefInf>"
        "<AddtlRmtInf>Zusatz</AddtlRmtInf></Strd></RmtInf>"
    )
    (entry,) = _entries(_doc(_ntry(details=_tx08("10.00", "notprovided", more=rmt))))
    (tx,) = entry.transactions
    assert (
        tx.remittance == "KP-2027-0042 SMI-3-2027/0042 RL KommPraev Rate 2 RF18539007547034 Zusatz"
    )
    assert tx.end_to_end_id is None  # NOTPROVIDED in any case


def test_balances_signed_prcd_fallback_and_mismatch_warning():
    balances = _bal("PRCD", "5.00", "DBIT") + _bal("CLBD", "4.00") + _bal("CLAV", "999.00")
    (stmt,) = parse_statement(_doc(_ntry("8.00", "CRDT"), balances=balances))
    assert (stmt.opening_balance_cents, stmt.closing_balance_cents) == (-500, 400)
    assert stmt.balances_match is False
    assert stmt.warnings == [
        "Kontoauszug S-1: Anfangssaldo (-500 Cent) plus Buchungen (800 Cent) ergibt nicht den "
        "Endsaldo (400 Cent)."
    ]
    (bare,) = parse_statement(_doc(_ntry()))
    assert (bare.opening_balance_cents, bare.closing_balance_cents, bare.balances_match) == (
        None,
        None,
        None,
    )


def test_several_statements_in_one_file():
    statements = parse_statement(_doc(_ntry(), statements=3))
    assert len(statements) == 3 and all(s.message_id == "M-1" for s in statements)


def test_statement_dates_and_times():
    head = (
        "<Id>S-1</Id><CreDtTm>2027-03-03T20:15:00.123+01:00</CreDtTm>"
        "<FrToDt><FrDtTm>2027-03-03T00:00:00+01:00</FrDtTm><ToDtTm>2027-03-03T23:59:59Z</ToDtTm></FrToDt>"
    )
    (stmt,) = parse_statement(_doc(head=head))
    assert stmt.created_at == datetime(2027, 3, 3, 20, 15, 0, 123000, tzinfo=CET)
    assert stmt.from_datetime == datetime(2027, 3, 3, tzinfo=CET)
    assert stmt.to_datetime == datetime(2027, 3, 3, 23, 59, 59, tzinfo=UTC)
    assert (stmt.from_date, stmt.to_date) == (date(2027, 3, 3), date(2027, 3, 3))
    assert stmt.electronic_seq_nb is None


# --- refusals of unusable content --------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("1.001", "Bruchteile eines Cents"),
        ("0.005", "Bruchteile eines Cents"),
        ("-1.00", "kein gültiger Betrag"),
        ("+1.00", "kein gültiger Betrag"),
        ("1e2", "kein gültiger Betrag"),
        ("1,00", "kein gültiger Betrag"),
        ("", "kein gültiger Betrag"),
        ("NaN", "kein gültiger Betrag"),
        ("١٢.٠٠", "kein gültiger Betrag"),  # Arabic-Indic digits: Decimal would accept them
        ("1" * 19, "kein gültiger Betrag"),
    ],
)
def test_refuses_bad_amounts(amount, message):
    with pytest.raises(CamtError, match=message):
        parse_statement(_doc(_ntry(amount)))


def test_accepts_amount_with_surrounding_whitespace_and_trailing_zeros():
    (entry,) = _entries(_doc(_ntry(" 12.3000 ")))
    assert entry.amount_cents == 1230


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (_doc(_ntry(ccy="")), "Währung"),
        (_doc(_ntry(ccy="eur")), "Währung"),
        (_doc(_ntry(cdi="CREDIT")), "CdtDbtInd"),
        (_doc(_ntry(status="")), "Buchungsstatus"),
        (
            _doc(_ntry().replace("<Dt>2027-03-03</Dt>", "<Dt>03.03.2027</Dt>")),
            "kein gültiges Datum",
        ),
        (
            _doc(_ntry().replace("<Dt>2027-03-03</Dt>", "<Dt>2027-02-30</Dt>")),
            "kein gültiges Datum",
        ),
        (_doc(head="<ElctrncSeqNb>1</ElctrncSeqNb>"), "Stmt/Id"),
        (_doc(account="<Ccy>EUR</Ccy>"), "Kontonummer"),
        (_doc(head="<Id>S-1</Id><CreDtTm>gestern</CreDtTm>"), "kein gültiger Zeitpunkt"),
        (_doc(balances=_bal("CLBD", "1.00", "PLUS")), "CdtDbtInd"),
        (_doc(_ntry(details="<Btch><NbOfTxs>zwei</NbOfTxs></Btch>")), "keine Zahl"),
        (_doc(statements=0), "keinen Kontoauszug"),
    ],
)
def test_refuses_unusable_statements_with_german_messages(xml, message):
    with pytest.raises(CamtError, match=message):
        parse_statement(xml)


def test_error_message_names_statement_and_entry():
    with pytest.raises(CamtError, match=r"Kontoauszug S-1, Buchung 2: .*Bruchteile"):
        parse_statement(_doc(_ntry("1.00") + _ntry("1.001")))


# --- unsupported messages ----------------------------------------------------------------------


def test_pain001_is_refused_as_not_supported():
    with pytest.raises(CamtError, match=r"'pain\.001\.001\.09' wird nicht unterstützt"):
        parse_statement(_load(PAIN001))


def test_camt054_is_refused_as_not_supported():
    with pytest.raises(CamtError, match=r"'camt\.054\.001\.04' wird nicht unterstützt"):
        parse_statement(_load(CAMT054))


@pytest.mark.parametrize(
    "ns",
    [
        "urn:iso:std:iso:20022:tech:xsd:camt.052.001.08",
        "urn:iso:std:iso:20022:tech:xsd:camt.052.001.02",
        "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08",
        "urn:iso:std:iso:20022:tech:xsd:camt.053.001.04",
        "urn:iso:std:iso:20022:tech:xsd:camt.053.001.13",
    ],
)
def test_other_camt_messages_are_not_supported(ns):
    with pytest.raises(CamtError, match="wird nicht unterstützt"):
        parse_statement(_doc(_ntry(), ns=ns))


def test_foreign_roots_are_not_supported():
    with pytest.raises(CamtError, match="'Document' wird nicht unterstützt"):
        parse_statement(b"<Document><BkToCstmrStmt/></Document>")
    with pytest.raises(CamtError, match="wird nicht unterstützt"):
        parse_statement(b'<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>')
    with pytest.raises(CamtError, match="BkToCstmrStmt"):
        parse_statement(f'<Document xmlns="{NS08}"><Other/></Document>'.encode())


# --- hostile files (RELIABILITY test plan 19) --------------------------------------------------


def test_billion_laughs_is_refused_quickly():
    started = time.monotonic()
    with pytest.raises(CamtError, match="DOCTYPE") as info:
        parse_statement(_load("hostile_billion_laughs.xml"))
    assert time.monotonic() - started < 1
    assert "lol" not in str(info.value)


@pytest.mark.parametrize(
    "name", ["hostile_xxe_file.xml", "hostile_xxe_parameter_entity.xml", "hostile_xxe_utf16.xml"]
)
def test_external_entities_are_refused_and_never_read(name):
    passwd = Path("/etc/passwd")
    first_line = passwd.read_text(errors="replace").splitlines()[0] if passwd.exists() else "root:"
    with pytest.raises(CamtError, match="DOCTYPE") as info:
        parse_statement(_load(name))
    assert "root:" not in str(info.value)
    assert first_line not in str(info.value)


def test_utf16_doctype_is_caught_after_parsing():
    """The byte check cannot see a UTF-16 DOCTYPE; the document info check must."""
    data = _load("hostile_xxe_utf16.xml")
    assert b"<!DOCTYPE" not in data and b"<\x00!\x00D\x00O\x00C" in data
    with pytest.raises(CamtError, match="Sicherheitsgründen"):
        parse_statement(data)


def test_the_parser_itself_resolves_no_entities_and_loads_no_dtd(tmp_path):
    """Defence in depth: even without the DOCTYPE refusal, the parser reads no file."""
    secret = tmp_path / "secret.txt"
    secret.write_text("GEHEIM-4711", encoding="utf-8")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY leak "GEHEIM-0815">', encoding="utf-8")
    documents = [
        f'<!DOCTYPE D [<!ENTITY x SYSTEM "file://{secret}">]><D>&x;</D>',
        f'<!DOCTYPE D [<!ENTITY % p SYSTEM "file://{dtd}"> %p;]><D>&leak;</D>',
        f'<!DOCTYPE D SYSTEM "file://{dtd}"><D>&leak;</D>',
    ]
    for document in documents:
        root = etree.fromstring(document.encode(), camt._parser())
        text = etree.tostring(root, encoding="unicode")
        assert "GEHEIM" not in text, document


def test_oversized_file_is_refused_before_parsing():
    data = _load("kp_a_payouts.xml")
    with pytest.raises(CamtError, match=r"zu groß \(10478 Bytes; erlaubt sind höchstens 10477"):
        parse_statement(data, max_bytes=len(data) - 1)
    assert parse_statement(data, max_bytes=len(data))
    # Garbage over the limit is refused for its size, not parsed.
    with pytest.raises(CamtError, match="zu groß"):
        parse_statement(b"<" * 101, max_bytes=100)


def test_default_size_limit_is_20_mib():
    assert camt.DEFAULT_MAX_BYTES == 20 * 1024 * 1024
    with pytest.raises(CamtError, match="zu groß"):
        parse_statement(b" " * (20 * 1024 * 1024 + 1))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "leer"),
        (b" \n\t", "leer"),
        (b"Kontoauszug vom 03.03.2027", "kein wohlgeformtes XML"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "kein wohlgeformtes XML"),
        (b"PK\x03\x04\x14\x00\x00\x00", "kein wohlgeformtes XML"),
        (b"\x00\xff\xfe", "XML"),
    ],
)
def test_not_xml_is_refused(data, message):
    with pytest.raises(CamtError, match=message):
        parse_statement(data)


def test_malformed_xml_reports_the_line_number():
    data = f'<?xml version="1.0"?>\n<Document xmlns="{NS08}">\n<BkToCstmrStmt>\n</Document>\n'
    with pytest.raises(CamtError, match=r"kein wohlgeformtes XML \(Zeile 4\)"):
        parse_statement(data.encode())


def test_text_instead_of_bytes_is_refused():
    with pytest.raises(CamtError, match="Bytes"):
        parse_statement(_load("kp_a_payouts.xml").decode())  # type: ignore[arg-type]


# --- exact integer cents -----------------------------------------------------------------------


def _render(cents: int, style: str) -> str:
    euros, rest = divmod(cents, 100)
    if style == "two":
        return f"{euros}.{rest:02d}"
    if style == "padded":
        return f"{euros}.{rest:02d}000"
    if style == "short" and rest % 10 == 0:  # "474.4", "12"
        return f"{euros}.{rest // 10}" if rest else f"{euros}"
    return f"{euros}.{rest:02d}"


@settings(max_examples=150, deadline=None)
@given(
    cents=st.integers(min_value=1, max_value=10**11),
    style=st.sampled_from(["two", "padded", "short"]),
    cdi=st.sampled_from(["CRDT", "DBIT"]),
)
def test_amounts_round_trip_exactly_as_integer_cents(cents, style, cdi):
    text = _render(cents, style)
    balances = _bal("OPBD", "0.00") + _bal("CLBD", text, cdi)
    xml = _doc(_ntry(text, cdi, details=_tx08(text)), balances=balances)
    (stmt,) = parse_statement(xml)
    (entry,) = stmt.entries
    assert entry.amount_cents == cents and type(entry.amount_cents) is int
    assert entry.transactions[0].amount_cents == cents
    sign = 1 if cdi == "CRDT" else -1
    assert stmt.closing_balance_cents == sign * cents
    assert stmt.balances_match is True


def test_camt_module_uses_no_float():
    """Money never goes through float: no float literal, no ``float`` name in the module."""
    tree = ast.parse(Path(camt.__file__).read_text(encoding="utf-8"))
    floats = [
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.Constant) and isinstance(node.value, float))
        or (isinstance(node, ast.Name) and node.id == "float")
    ]
    assert floats == []
