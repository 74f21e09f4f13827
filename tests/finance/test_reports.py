"""Finance reports and exports (issue "Reconciliation … and finance exports", exports part):
ledger, grant statement and monitoring list (R34) as German CSV, plain CSV, XLSX and JSON.

Round trips read every file back with pandas (money columns as ``str``), convert
str → Decimal → cents and compare with the ledger exactly. Also: formula injection, German CSV
conventions, file names, the monitoring figures, access control, attachments, streaming, the CLI
and the number of SQL statements per frame.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
from freezegun import freeze_time
from sqlalchemy import select

from app.common.formatting import BERLIN
from app.extensions import db
from app.finance import queries, reports
from app.finance.models import EntryKind, GrantAccount, Posting
from app.finance.services import ledger, payouts
from app.grants.models import Application, Decision, DecisionStatus
from app.postaward.models import ProofKind, ProofOfUse, ProofStatus
from app.postaward.services import start
from tests import factories
from tests.conftest import _client_for
from tests.finance.factories import approved_grant, confirmed_account

BOM = b"\xef\xbb\xbf"
NOW = datetime(2026, 11, 24, 9, 15, tzinfo=UTC)  # 10:15 in Berlin
INJECTION = "=SUMME(A1:A9)"
EVIL_NAME = '=HYPERLINK("http://example.invalid","klick")'
DE_MONEY = ["Soll (EUR)", "Haben (EUR)"]


# --- data ---------------------------------------------------------------------------------------


def _to_cents(text: str) -> int:
    """A decimal string read back from a file → integer cents; refuses sub-cent digits."""
    value = Decimal(str(text).strip().replace(",", "."))
    cents = value.scaleb(2)
    assert cents == cents.to_integral_value(), text
    return int(cents)


def _build_ledger() -> dict:
    """Three approved grants in two Landkreise, released payouts, a cancelled + reversed order,
    a bank entry, an entry without grant and a grant in review (not approved)."""
    finance = factories.create_user("finance", name="Karl Kasse")
    finance2 = factories.create_user("finance", name="Frieda Finanz")
    zittau = factories.create_user("applicant", ags="14626610")
    pirna = factories.create_user("applicant", ags="14628270")
    seifhennersdorf = factories.create_user("applicant", ags="14626530")

    a = approved_grant(zittau)  # 40.000,00 €
    b = approved_grant(pirna, grant_cents=3_456_789)  # 34.567,89 €
    c = approved_grant(seifhennersdorf, grant_cents=2_000_001)  # 20.000,01 €
    b.applicant_name_at_submission = EVIL_NAME
    for user, application in ((zittau, a), (pirna, b), (seifhennersdorf, c)):
        confirmed_account(user, finance)
        start.notify_start(user, application, date(2026, 11, 2))

    order_a = payouts.prepare_order(finance, _first(a), idempotency_key="a" * 32)
    payouts.release_order(finance2, order_a, on=date(2027, 3, 1))
    order_b = payouts.prepare_order(finance, _first(b), idempotency_key="b" * 32)
    payouts.release_order(finance2, order_b, on=date(2027, 3, 2))
    with freeze_time("2027-03-15 10:00:00"):
        payouts.cancel_order(finance, order_b, "falsche Rate")
    kz_a = _kz(a)
    ledger.post_entry(  # the bank confirms the payout of A (as reconciliation would)
        kind=EntryKind.BANK,
        posting_date=date(2027, 3, 5),
        fiscal_year=2027,
        description=f"Kontoauszug: Auszahlung {order_a.end_to_end_id}",
        reference=order_a.end_to_end_id,
        idempotency_key=f"bank-order-{order_a.id}",
        lines=[
            ledger.Line(ledger.payable_account(kz_a), order_a.amount_cents, a.id),
            ledger.Line(ledger.BANK_ACCOUNT, -order_a.amount_cents, a.id),
        ],
        actor_id=finance.id,
    )
    ledger.post_entry(  # no grant attached; text that a spreadsheet would run as a formula
        kind=EntryKind.RECOVERY,
        posting_date=date(2027, 4, 1),
        fiscal_year=2027,
        description=INJECTION,
        reference="@KZ-R-1",
        idempotency_key="injection-1",
        lines=[
            ledger.Line("Assets:Forderungen:KZ-R-1", 12_345),
            ledger.Line("Income:Rueckforderungen:Y2027", -12_345),
        ],
        actor_id=finance.id,
    )
    factories.submitted_application(factories.create_user("applicant", ags="14628270"))
    db.session.flush()
    return {"a": a.id, "b": b.id, "c": c.id, "kz_a": kz_a, "kz_b": _kz(b), "kz_c": _kz(c)}


def _first(application):
    return queries.instalments_of(application.id)[0]


def _kz(application) -> str:
    return db.session.get(GrantAccount, application.id).kassenzeichen


def _postings(year: int | None = 2027) -> list[Posting]:
    stmt = select(Posting).order_by(Posting.id)
    if year is not None:
        from app.finance.models import JournalEntry

        stmt = stmt.join(JournalEntry).where(JournalEntry.fiscal_year == year)
    return list(db.session.execute(stmt).scalars())


@pytest.fixture
def data(app_ctx, fast_pdf):
    return _build_ledger()


@pytest.fixture
def committed_data(app, fast_pdf):
    """The same ledger committed into the test transaction (for HTTP and CLI tests)."""
    with app.app_context():
        built = _build_ledger()
        db.session.commit()
    return built


# --- frames -------------------------------------------------------------------------------------


def test_ledger_frame_has_integer_money_and_matches_the_ledger(data):
    df = reports.ledger_frame(2027)
    postings = _postings(2027)
    assert len(df) == len(postings)
    for column in ("debit_cents", "credit_cents"):
        assert df[column].dtype == "int64"
    assert df["posting_date"].tolist() == sorted(df["posting_date"].tolist())
    by_id = {p.id: p.amount_cents for p in postings}
    for posting_id, debit, credit in zip(
        df["posting_id"], df["debit_cents"], df["credit_cents"], strict=True
    ):
        assert debit - credit == by_id[posting_id] and min(debit, credit) == 0
    debit, credit = int(df["debit_cents"].sum()), int(df["credit_cents"].sum())
    assert debit == credit == sum(p.amount_cents for p in postings if p.amount_cents > 0)
    row = df[df["reference"] == data["kz_a"]].iloc[0]
    assert row["kind"] == "approval" and row["recipient"] == "Zittau, Stadt"
    assert (row["ags"], row["kreis_key"], row["landkreis"]) == ("14626610", "14626", "Görlitz")
    assert row["polizeidirektion"] == "Görlitz" and row["aktenzeichen"].startswith("LPR-KP-2027-")
    orphan = df[df["reference"] == "@KZ-R-1"]
    assert len(orphan) == 2 and orphan["aktenzeichen"].isna().all()
    reversal = df[df["kind"] == "reversal"]
    assert len(reversal) == 4 and reversal["reverses_id"].notna().all()
    assert df["reverses_id"].dtype == "Int64"


def test_ledger_frame_filters_by_year_and_date_range(data):
    assert set(reports.ledger_frame(2028)["kind"]) == {"approval"}
    march = reports.ledger_frame(date_from=date(2027, 3, 1), date_to=date(2027, 3, 31))
    assert set(march["kind"]) == {"payout", "reversal", "bank"}
    assert len(reports.ledger_frame()) == len(_postings(None))
    assert reports.ledger_frame(2031).empty
    assert reports.ledger_frame(2031)["debit_cents"].dtype == "int64"


def test_grant_statement_running_balance_per_account(data):
    df = reports.grant_statement_frame(data["a"])
    assert set(df["kassenzeichen"]) == {data["kz_a"]}
    assert df["balance_cents"].dtype == "int64"
    for _account, rows in df.groupby("account", sort=False):
        signed = (rows["debit_cents"] - rows["credit_cents"]).cumsum()
        assert list(rows["balance_cents"]) == list(signed)
    closing = df.groupby("account")["balance_cents"].last().to_dict()
    kz = data["kz_a"]
    assert closing[ledger.committed_account(kz)] == 4_000_000 - 1_600_000
    assert closing[ledger.payable_account(kz)] == 0  # paid and confirmed by the bank
    assert closing[ledger.BANK_ACCOUNT] == -1_600_000
    assert closing[ledger.expense_account(2027, kz)] == 1_600_000
    statement_b = reports.grant_statement_frame(data["b"])
    assert set(statement_b["kind"]) == {"approval", "payout", "reversal"}
    assert (
        statement_b.groupby("account")["balance_cents"].last()[ledger.payable_account(data["kz_b"])]
        == 0
    )


def _proof(application_id: int, kind: ProofKind, submitted_at: datetime, checked_on=None):
    status = ProofStatus.CHECKED if checked_on else ProofStatus.RECEIVED
    db.session.add(
        ProofOfUse(
            application_id=application_id,
            version=1,
            kind=kind,
            status=status,
            report="Sachbericht",
            submitted_at=submitted_at,
            check_due_on=submitted_at.date(),
            checked_on=checked_on,
        )
    )


def test_R34_monitoring_list_one_row_per_grant_with_correct_figures(data):
    # A: final VN received late on 15.01.2028 (UTC) = 16.01.2028 in Saxony, checked 01.03.2028;
    # C: only a partial VN (Erstattungsverfahren) — not a final VN.
    _proof(data["a"], ProofKind.FINAL, datetime(2028, 1, 15, 23, 30, tzinfo=UTC), date(2028, 3, 1))
    _proof(data["c"], ProofKind.PARTIAL, datetime(2027, 6, 1, 8, 0, tzinfo=UTC), date(2027, 6, 9))
    db.session.flush()
    df = reports.monitoring_frame(2027)
    assert len(df) == 3 and df["application_id"].is_unique
    assert set(df["application_id"]) == {data["a"], data["b"], data["c"]}
    money = ["granted_cents", "committed_cents", "paid_cents", "open_cents", "paid_total_cents"]
    assert all(df[c].dtype == "int64" for c in money)
    rows = df.set_index("kassenzeichen")
    expected = {
        data["kz_a"]: (4_000_000, 1_600_000, 1_600_000, 0, 1_600_000),
        data["kz_b"]: (3_456_789, 1_382_715, 0, 1_382_715, 0),  # released, cancelled, reversed
        data["kz_c"]: (2_000_001, 800_000, 0, 800_000, 0),
    }
    for kz, figures in expected.items():
        assert tuple(int(rows.loc[kz, c]) for c in money) == figures, kz
    decision = db.session.execute(
        select(Decision).where(
            Decision.application_id == data["a"], Decision.status == DecisionStatus.APPROVED
        )
    ).scalar_one()
    a = rows.loc[data["kz_a"]]
    assert a["vn_deadline"] == decision.vn_deadline == date(2028, 12, 31)
    assert a["purpose"] == decision.purpose
    assert a["decided_on"] == decision.decided_at.astimezone(BERLIN).date()
    assert (a["recipient"], a["ags"], a["landkreis"], a["polizeidirektion"]) == (
        "Zittau, Stadt",
        "14626610",
        "Görlitz",
        "Görlitz",
    )
    assert a["aktenzeichen"] == db.session.get(Application, data["a"]).reference
    assert rows.loc[data["kz_b"], "landkreis"] == "Sächsische Schweiz-Osterzgebirge"
    assert (a["vn_received_on"], a["vn_checked_on"]) == (date(2028, 1, 16), date(2028, 3, 1))
    for kz in (data["kz_b"], data["kz_c"]):
        assert rows.loc[kz, "vn_received_on"] is None and rows.loc[kz, "vn_checked_on"] is None
    german = reports.to_csv_de(df).decode("utf-8-sig")
    assert ";31.12.2028;16.01.2028;01.03.2028\r\n" in german
    # 2028: the 60 % commitments, nothing paid yet; 2026: no grant at all.
    later = reports.monitoring_frame(2028).set_index("kassenzeichen")
    assert int(later.loc[data["kz_b"], "committed_cents"]) == 3_456_789 - 1_382_715
    assert int(later["paid_cents"].sum()) == 0
    assert reports.monitoring_frame(2026).empty


def test_R34_monitoring_summary_per_landkreis(data):
    summary = reports.monitoring_summary(reports.monitoring_frame(2027))
    rows = summary.set_index("landkreis")
    assert int(rows.loc["Görlitz", "grants"]) == 2  # Zittau and Seifhennersdorf
    assert int(rows.loc["Görlitz", "committed_cents"]) == 1_600_000 + 800_000
    assert int(rows.loc["Sächsische Schweiz-Osterzgebirge", "open_cents"]) == 1_382_715
    total = rows.loc[reports.TOTAL_LABEL]
    assert int(total["grants"]) == 3
    assert int(total["granted_cents"]) == 4_000_000 + 3_456_789 + 2_000_001
    assert int(total["paid_cents"]) == 1_600_000


def test_frames_use_one_sql_statement_regardless_of_size(data, count_statements):
    with count_statements() as small:
        reports.ledger_frame(2027)
    for i in range(25):
        ledger.post_entry(
            kind=EntryKind.APPROVAL,
            posting_date=date(2027, 5, 1),
            fiscal_year=2027,
            description=f"Zusatz {i}",
            reference=data["kz_c"],
            idempotency_key=f"extra-{i}",
            lines=[
                ledger.Line(ledger.committed_account(data["kz_c"]), 100 + i, data["c"]),
                ledger.Line(ledger.budget_account(2027), -(100 + i), data["c"]),
            ],
            actor_id=None,
        )
    db.session.flush()
    with count_statements() as large:
        df = reports.ledger_frame(2027)
    assert len(df) == len(_postings(2027))
    assert len(small) == len(large) == 1
    with count_statements() as others:
        reports.monitoring_frame(2027)
        reports.grant_statement_frame(data["c"])
        reports.account_totals_frame(2027)
    assert len(others) == 3


# --- round trips --------------------------------------------------------------------------------


def _assert_exact(df: pd.DataFrame, debit: pd.Series, credit: pd.Series) -> None:
    """Cents read back from a file equal the frame's cents row by row, and Σ debit = Σ credit."""
    debit_cents = [_to_cents(v) for v in debit]
    credit_cents = [_to_cents(v) for v in credit]
    assert debit_cents == df["debit_cents"].tolist()
    assert credit_cents == df["credit_cents"].tolist()
    assert sum(debit_cents) == sum(credit_cents) == int(df["debit_cents"].sum())


def test_round_trip_csv_de(data):
    df = reports.ledger_frame(2027)
    raw = reports.to_csv_de(df)
    assert raw.startswith(BOM) and b"\r\n" in raw
    header = raw[3:].split(b"\r\n", 1)[0].decode()
    assert header.split(";")[:4] == ["Buchungs-Nr.", "Zeilen-Nr.", "Buchungsdatum", "Haushaltsjahr"]
    back = pd.read_csv(
        io.BytesIO(raw), sep=";", encoding="utf-8-sig", dtype={c: str for c in DE_MONEY}
    )
    assert all("," in v for v in back["Soll (EUR)"])  # decimal comma, e.g. "16000,00"
    assert not any("." in v for v in back["Soll (EUR)"])
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4}", back["Buchungsdatum"].iloc[0])
    assert "Bewilligung" in set(back["Buchungsart"])
    _assert_exact(df, back["Soll (EUR)"], back["Haben (EUR)"])


def test_round_trip_csv_plain(data):
    df = reports.ledger_frame(2027)
    raw = reports.to_csv_plain(df)
    assert not raw.startswith(BOM) and raw.startswith(b"entry_id,posting_id,")
    back = pd.read_csv(io.BytesIO(raw), dtype={"debit": str, "credit": str, "reference": str})
    assert list(back.columns) == [reports.plain_name(c) for c in df.columns]
    assert back["posting_date"].iloc[0] == df["posting_date"].iloc[0].isoformat()
    assert set(back["kind"]) >= {"approval", "payout", "reversal", "bank"}
    _assert_exact(df, back["debit"], back["credit"])


def test_round_trip_xlsx_gives_exact_cents(data):
    df = reports.ledger_frame(2027)
    totals = reports.account_totals_frame(2027)
    raw = reports.to_xlsx({"Hauptbuch 2027": df}, totals, summary_title=reports.SUMMARY_BY_ACCOUNT)
    back = pd.read_excel(
        io.BytesIO(raw), sheet_name="Hauptbuch 2027", dtype={c: str for c in DE_MONEY}
    )
    _assert_exact(df, back["Soll (EUR)"], back["Haben (EUR)"])
    book = openpyxl.load_workbook(io.BytesIO(raw))
    assert book.sheetnames == ["Hauptbuch 2027", reports.SUMMARY_BY_ACCOUNT]
    sheet = book["Hauptbuch 2027"]
    money_col = [c.value for c in sheet[1]].index("Soll (EUR)") + 1
    cell = sheet.cell(row=2, column=money_col)
    assert cell.data_type == "n" and cell.number_format == reports.MONEY_FORMAT
    assert sheet.cell(row=2, column=3).number_format == reports.DATE_FORMAT
    assert sheet.freeze_panes == "A2"
    summary = pd.read_excel(
        io.BytesIO(raw),
        sheet_name=reports.SUMMARY_BY_ACCOUNT,
        dtype={"Soll (EUR)": str, "Haben (EUR)": str, "Saldo (EUR)": str},
    )
    total = summary[summary["Konto"] == reports.TOTAL_LABEL].iloc[0]
    assert (
        _to_cents(total["Soll (EUR)"])
        == _to_cents(total["Haben (EUR)"])
        == int(df["debit_cents"].sum())
    )
    assert _to_cents(total["Saldo (EUR)"]) == 0


def test_xlsx_stores_the_exact_decimal_text_even_at_15_digits():
    """openpyxl's own ``%.16g`` would store 634014733006.4399; the cell text is exact."""
    amounts = [63_401_473_300_644, -972_297_537_921_028, 1, -1, 0, 99_999_999_999_999]
    df = pd.DataFrame({"account": ["X"] * len(amounts), "balance_cents": amounts})
    raw = reports.to_xlsx({"Test": df})
    sheet_xml = zipfile.ZipFile(io.BytesIO(raw)).read("xl/worksheets/sheet1.xml").decode()
    assert "<v>634014733006.44</v>" in sheet_xml
    back = pd.read_excel(io.BytesIO(raw), dtype={"Saldo (EUR)": str})
    assert [_to_cents(v) for v in back["Saldo (EUR)"]] == amounts
    with pytest.raises(ValueError, match="zu groß"):
        reports.to_xlsx({"Test": pd.DataFrame({"x_cents": [10**15]})})


def test_round_trip_json(data):
    df = reports.ledger_frame(2027)
    raw = reports.to_json(df)
    records = json.loads(raw.decode("utf-8"))
    assert len(records) == len(df)
    first = records[0]
    assert isinstance(first["debit_cents"], int) and isinstance(first["debit"], str)
    assert first["posting_date"] == df["posting_date"].iloc[0].isoformat()
    assert not re.search(rb'"(debit|credit)": \d', raw)  # the decimal form is always a string
    back = pd.read_json(io.BytesIO(raw), dtype={"debit": str, "credit": str})
    assert back["debit_cents"].dtype == "int64"
    _assert_exact(df, back["debit"], back["credit"])
    assert [_to_cents(v) for v in back["debit"]] == back["debit_cents"].tolist()


def test_streamed_csv_equals_the_one_shot_file_and_reports_progress(data):
    df = reports.ledger_frame(2027)
    seen: list[int] = []
    chunks = list(reports.iter_ledger_csv(2027, "csv", chunk_rows=7, progress=seen.append))
    assert len(chunks) > 2 and sum(seen) == len(df) and max(seen) <= 7
    assert b"".join(chunks) == reports.to_csv_de(df)
    assert b"".join(reports.iter_ledger_csv(2027, "csv-plain", 5)) == reports.to_csv_plain(df)
    streamed = b"".join(reports.iter_ledger_json(2027, 4))
    assert json.loads(streamed) == json.loads(reports.to_json(df))
    empty = b"".join(reports.iter_ledger_csv(2031, "csv"))
    assert empty.startswith(BOM) and empty.count(b"\r\n") == 1  # header only
    assert json.loads(b"".join(reports.iter_ledger_json(2031))) == []


# --- formats --------------------------------------------------------------------------------------


def test_formula_injection_is_neutralised_in_csv_and_xlsx(data):
    df = reports.ledger_frame(2027)
    german = reports.to_csv_de(df).decode("utf-8-sig")
    plain = reports.to_csv_plain(df).decode("utf-8")
    for text in (german, plain):
        assert f"'{INJECTION}" in text and "'@KZ-R-1" in text
        assert "'=HYPERLINK(" in text
        fields = [f.strip('"') for line in text.splitlines() for f in re.split(r"[;,]", line)]
        assert not any(f.startswith(("=", "@")) for f in fields)
    raw = reports.to_xlsx({"Hauptbuch": df})
    sheet = openpyxl.load_workbook(io.BytesIO(raw))["Hauptbuch"]
    texts = [c.value for row in sheet.iter_rows() for c in row if c.data_type == "s"]
    assert f"'{INJECTION}" in texts and "'@KZ-R-1" in texts
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)


def test_negative_amounts_stay_numbers_and_control_characters_are_neutralised(data):
    statement = reports.grant_statement_frame(data["a"])
    german = reports.to_csv_de(statement).decode("utf-8-sig")
    assert re.search(r";-16000,00(;|\r\n)", german) and "'-16000" not in german
    plain = reports.to_csv_plain(statement).decode()
    assert re.search(r",-16000\.00(,|\r\n)", plain)
    raw = reports.to_xlsx({"Konto": statement})
    sheet = openpyxl.load_workbook(io.BytesIO(raw))["Konto"]
    balances = [row[-1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert -16000 in balances  # a number, not the text "'-16000.00"
    tricky = pd.DataFrame(
        {"description": ["+49 351", "-Korrektur", "\tTab", "\rCR", "\0NUL", "normal", None]}
    )
    text = reports.to_csv_plain(tricky).decode()
    assert '"\'\rCR"' in text  # quoted: a bare CR would end the record in many readers
    cells = [row[0] if row else "" for row in csv.reader(io.StringIO(text, newline=""))][1:]
    assert cells == ["'+49 351", "'-Korrektur", "'\tTab", "'\rCR", "'\0NUL", "normal", ""]
    sheet = openpyxl.load_workbook(io.BytesIO(reports.to_xlsx({"T": tricky})))["T"]
    values = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert values[:3] == ["'+49 351", "'-Korrektur", "'\tTab"] and values[4] == "'\ufffdNUL"


def test_german_csv_uses_semicolon_decimal_comma_bom_and_german_dates():
    df = pd.DataFrame(
        {
            "posting_date": [date(2027, 2, 1)],
            "description": ["Bewilligung; mit Semikolon"],
            "debit_cents": [123_456_789],
            "credit_cents": [5],
        }
    )
    raw = reports.to_csv_de(df)
    assert raw.startswith(BOM)
    assert raw.decode("utf-8-sig") == (
        "Buchungsdatum;Buchungstext;Soll (EUR);Haben (EUR)\r\n"
        '01.02.2027;"Bewilligung; mit Semikolon";1234567,89;0,05\r\n'
    )
    assert reports.to_csv_plain(df).decode() == (
        "posting_date,description,debit,credit\r\n"
        "2027-02-01,Bewilligung; mit Semikolon,1234567.89,0.05\r\n"
    )
    float_frame = pd.DataFrame({"debit_cents": [0.1]})
    with pytest.raises(TypeError, match="integer cents"):
        reports.to_csv_de(float_frame)
    with pytest.raises(TypeError, match="integer cents"):
        reports.to_json(float_frame)


def test_german_files_show_german_account_names_and_headers():
    """Issue 11: the German CSV/XLSX speak German (account names, reference header); plain CSV,
    JSON and the beancount file keep the beancount names."""
    df = pd.DataFrame(
        {
            "reference": ["KP-2027-0001-R1"],
            "account": ["Expenses:Zuwendungen:Y2027:KP-2027-0001"],
            "debit_cents": [100],
        }
    )
    text = reports.to_csv_de(df).decode("utf-8-sig")
    assert text.splitlines()[0] == "Referenz (Kassenzeichen/Ende-zu-Ende-Referenz);Konto;Soll (EUR)"
    assert "Aufwendungen:Zuwendungen:2027:KP-2027-0001" in text
    assert "Expenses" not in text and "EndToEndId" not in text
    assert "Expenses:Zuwendungen:Y2027:KP-2027-0001" in reports.to_csv_plain(df).decode()
    assert reports.account_de("Income:Rueckforderungen:Y2027:KZ-R-1") == (
        "Erträge:Rückforderungen:2027:KZ-R-1"
    )
    assert reports.account_de("Liabilities:Auszahlungen:KZ") == "Verbindlichkeiten:Auszahlungen:KZ"


def test_file_names_contain_year_and_timestamp():
    assert reports.export_filename("ledger", "2027", "csv", now=NOW) == (
        "ledger-2027-20261124T101500.csv"
    )
    assert reports.export_filename("ledger", "2027", "csv-plain", now=NOW).endswith(
        "20261124T101500-plain.csv"
    )
    assert reports.export_filename("monitoring", "2027", "xlsx", now=NOW) == (
        "monitoring-2027-20261124T101500.xlsx"
    )
    assert reports.export_filename("grant", "KP-2027-0001", "json", now=NOW) == (
        "grant-KP-2027-0001-20261124T101500.json"
    )
    assert reports.ledger_scope(2027, date(2027, 1, 1), date(2027, 3, 31)) == (
        "2027-20270101-20270331"
    )
    assert reports.ledger_scope() == "alle"
    assert reports.export_filename("ledger", "../etc", "csv", now=NOW).startswith("ledger-etc-")
    with pytest.raises(ValueError):
        reports.export_filename("ledger", "2027", "pdf", now=NOW)


def test_monitoring_xlsx_has_summary_per_landkreis(data):
    export = reports.monitoring_export(2027, "xlsx", now=NOW)
    assert export.filename == "monitoring-2027-20261124T101500.xlsx"
    raw = b"".join(export.chunks)
    book = openpyxl.load_workbook(io.BytesIO(raw))
    assert book.sheetnames == ["Überwachungsliste 2027", reports.SUMMARY_BY_KREIS]
    money = ["Zuwendung (EUR)", "Festlegung im Haushaltsjahr (EUR)", "Offene Festlegung (EUR)"]
    rows = pd.read_excel(
        io.BytesIO(raw), sheet_name="Überwachungsliste 2027", dtype={c: str for c in money}
    )
    assert len(rows) == 3 and "VN eingegangen am" in rows.columns
    assert sorted(_to_cents(v) for v in rows["Zuwendung (EUR)"]) == [
        2_000_001,
        3_456_789,
        4_000_000,
    ]
    assert rows["Zuwendungsempfänger"].str.startswith("'=HYPERLINK(").sum() == 1
    summary = pd.read_excel(
        io.BytesIO(raw), sheet_name=reports.SUMMARY_BY_KREIS, dtype={c: str for c in money}
    )
    total = summary[summary["Landkreis / kreisfreie Stadt"] == reports.TOTAL_LABEL].iloc[0]
    assert _to_cents(total["Offene Festlegung (EUR)"]) == 1_382_715 + 800_000
    for fmt in ("csv", "csv-plain", "json"):
        body = b"".join(reports.monitoring_export(2027, fmt).chunks)
        assert body.count(b"KP-2027-") >= 3


def test_grant_export_by_kassenzeichen(data):
    export = reports.grant_export(data["kz_a"], "json", now=NOW)
    assert export.filename == f"grant-{data['kz_a']}-20261124T101500.json"
    records = json.loads(b"".join(export.chunks))
    assert {r["kassenzeichen"] for r in records} == {data["kz_a"]}
    assert all(isinstance(r["balance_cents"], int) for r in records)
    from app.common.errors import NotFound

    with pytest.raises(NotFound):
        reports.grant_export("KP-1999-0000", "csv")


# --- HTTP -----------------------------------------------------------------------------------------


@pytest.fixture
def finance_client(app):
    return _client_for(app, role="finance", email="kasse@lpr.test-kp.de")


EXPORT_URLS = [
    "/kasse/exporte",
    "/kasse/exporte/hauptbuch?ledger-year=2027&ledger-file_format=csv",
    "/kasse/exporte/ueberwachungsliste?monitoring-year=2027&monitoring-file_format=xlsx",
    "/kasse/exporte/kontoauszug?grant-kassenzeichen=KP-2027-0001&grant-file_format=json",
]


@pytest.mark.parametrize("url", EXPORT_URLS)
def test_export_pages_are_forbidden_for_applicants_and_reviewers(
    url, applicant_client, reviewer_client
):
    assert applicant_client.get(url).status_code == 403
    assert reviewer_client.get(url).status_code == 403


def test_export_page_lists_the_forms_for_finance_and_admin(committed_data, finance_client, app):
    page = finance_client.get("/kasse/exporte")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for action in ("/kasse/exporte/hauptbuch", "/kasse/exporte/ueberwachungsliste"):
        assert f'action="{action}"' in html
    assert 'name="grant-kassenzeichen"' in html
    assert re.search(r'<option (selected )?value="2027">2027</option>', html)
    assert "/kasse/exporte" in finance_client.get("/kasse").get_data(as_text=True)
    admin = _client_for(app, role="admin", email="admin2@lpr.test-kp.de")
    assert admin.get("/kasse/exporte").status_code == 200


def test_downloads_are_attachments_with_exact_content(committed_data, finance_client):
    response = finance_client.get(EXPORT_URLS[1])
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert re.search(r'filename="?ledger-2027-\d{8}T\d{6}\.csv', disposition)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith(BOM)
    back = pd.read_csv(
        io.BytesIO(response.data), sep=";", encoding="utf-8-sig", dtype={c: str for c in DE_MONEY}
    )
    debit = sum(_to_cents(v) for v in back["Soll (EUR)"])
    assert debit == sum(_to_cents(v) for v in back["Haben (EUR)"]) > 0

    monitoring = finance_client.get(EXPORT_URLS[2])
    assert monitoring.status_code == 200
    assert monitoring.headers["Content-Disposition"].startswith("attachment")
    assert "monitoring-2027-" in monitoring.headers["Content-Disposition"]
    sheets = openpyxl.load_workbook(io.BytesIO(monitoring.data)).sheetnames
    assert reports.SUMMARY_BY_KREIS in sheets

    kz = committed_data["kz_a"]
    grant = finance_client.get(
        f"/kasse/exporte/kontoauszug?grant-kassenzeichen={kz.lower()}&grant-file_format=xlsx"
    )
    assert grant.status_code == 200
    assert f"grant-{kz}-" in grant.headers["Content-Disposition"]

    ranged = finance_client.get(
        "/kasse/exporte/hauptbuch?ledger-year=&ledger-date_from=01.03.2027"
        "&ledger-date_to=31.03.2027&ledger-file_format=json"
    )
    assert ranged.status_code == 200
    assert "ledger-20270301-20270331-" in ranged.headers["Content-Disposition"]
    assert {r["kind"] for r in json.loads(ranged.data)} == {"payout", "reversal", "bank"}


def test_invalid_export_requests_show_the_form_errors(committed_data, finance_client):
    unknown = finance_client.get(
        "/kasse/exporte/kontoauszug?grant-kassenzeichen=KP-1999-0000&grant-file_format=csv"
    )
    assert unknown.status_code == 422
    assert "keine Bewilligung" in unknown.get_data(as_text=True)
    assert "Content-Disposition" not in unknown.headers
    reversed_range = finance_client.get(
        "/kasse/exporte/hauptbuch?ledger-date_from=31.03.2027&ledger-date_to=01.03.2027"
    )
    assert reversed_range.status_code == 422
    assert finance_client.get("/kasse/exporte/ueberwachungsliste").status_code == 422
    bad_format = finance_client.get("/kasse/exporte/hauptbuch?ledger-file_format=pdf")
    assert bad_format.status_code == 422


# --- CLI ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "csv-plain", "xlsx", "json"])
def test_cli_export_ledger_writes_exact_files(committed_data, runner, tmp_path, fmt):
    out = tmp_path / f"ledger-2027.{fmt}"
    result = runner.invoke(
        args=["finance", "export-ledger", "--year", "2027", "--format", fmt, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Buchungszeilen" in result.output and out.exists()
    assert not list(tmp_path.glob("*.part"))
    raw = out.read_bytes()
    if fmt == "csv":
        back = pd.read_csv(io.BytesIO(raw), sep=";", encoding="utf-8-sig", dtype=str)
        debit, credit = back["Soll (EUR)"], back["Haben (EUR)"]
    elif fmt == "csv-plain":
        back = pd.read_csv(io.BytesIO(raw), dtype=str)
        debit, credit = back["debit"], back["credit"]
    elif fmt == "xlsx":
        back = pd.read_excel(io.BytesIO(raw), sheet_name=0, dtype=str)
        debit, credit = back["Soll (EUR)"], back["Haben (EUR)"]
    else:
        back = pd.read_json(io.BytesIO(raw), dtype={"debit": str, "credit": str})
        debit, credit = back["debit"], back["credit"]
    assert sum(map(_to_cents, debit)) == sum(map(_to_cents, credit)) > 0


def test_cli_export_monitoring_and_grant(committed_data, runner, tmp_path):
    out = tmp_path / "monitoring.xlsx"
    result = runner.invoke(
        args=["finance", "export-monitoring", "--year", "2027", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(out).sheetnames[-1] == reports.SUMMARY_BY_KREIS
    out = tmp_path / "grant.csv"
    kz = committed_data["kz_b"]
    result = runner.invoke(
        args=[
            "finance",
            "export-grant",
            "--kassenzeichen",
            kz,
            "--format",
            "csv",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert kz in out.read_bytes().decode("utf-8-sig")
    result = runner.invoke(args=["finance", "export-grant", "--kassenzeichen", "KP-0000-0000"])
    assert result.exit_code == 1 and "keine Bewilligung" in result.output
    result = runner.invoke(
        args=["finance", "export-ledger", "--from", "2027-04-01", "--to", "2027-03-01"]
    )
    assert result.exit_code == 2
