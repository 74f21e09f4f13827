"""Beancount as an independent ledger oracle (RELIABILITY §3.5, test plan item 7).

After a realistic flow (two approvals, start notice, orders with four eyes, a cancelled released
order with its reversal, a re-issued order, a payment run) the exported ledger passes
``bean-check``. Control: the same file with one posting changed by one cent fails, and the error
names the changed transaction.
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from hypothesis import given
from hypothesis import strategies as st

from app.common.db import today
from app.extensions import db
from app.finance import exports, queries
from app.finance.models import EntryKind, InstalmentKind, JournalEntry
from app.finance.services import ledger, payouts
from app.postaward.services import start
from tests import factories
from tests.finance.factories import approved_grant, confirmed_account

BEAN_CHECK = Path(sys.executable).with_name("bean-check")


def bean_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed executable from the venv, our own file
        [str(BEAN_CHECK), str(path)], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def flow(app_ctx, fast_pdf) -> dict[str, int]:
    """Approve two grants and pay: returns ids of the interesting entries."""
    applicant = factories.create_user("applicant", ags="14626610")
    finance = factories.create_user("finance", name="Karl Kasse")
    finance2 = factories.create_user("finance", name="Frieda Finanz")
    big = approved_grant(applicant, grant_cents=4_000_000)
    small = approved_grant(applicant, grant_cents=1_500_000)  # R16: reimbursement
    confirmed_account(applicant, finance)
    start.notify_start(applicant, big, date(2026, 11, 2))
    start.notify_start(applicant, small, date(2026, 11, 2))
    payouts.mark_due(small, [InstalmentKind.REIMBURSEMENT])
    db.session.expire_all()
    first = queries.instalments_of(big.id)[0]
    wrong = payouts.prepare_order(finance, first, idempotency_key="o1" * 16)
    payouts.release_order(finance2, wrong, confirm_early=True)
    payouts.cancel_order(finance, wrong, "Falscher Betrag")  # reversal of a released order
    db.session.expire_all()
    again = payouts.prepare_order(finance, first, idempotency_key="o2" * 16)
    payouts.release_order(finance2, again, confirm_early=True)
    refund = payouts.prepare_order(
        finance, queries.instalments_of(small.id)[0], idempotency_key="o3" * 16
    )
    payouts.release_order(finance2, refund, confirm_early=True)
    payouts.create_payment_run(finance, execution_date=today() + timedelta(days=2))
    db.session.flush()
    assert ledger.unbalanced_entries() == []

    def entry_id(key: str) -> int:
        return db.session.execute(
            db.select(JournalEntry.id).where(JournalEntry.idempotency_key == key)
        ).scalar_one()

    payout = entry_id(f"payout-{wrong.id}")
    return {
        "payout": payout,
        "reversal": entry_id(f"reversal-{payout}"),
        "repaid": entry_id(f"payout-{again.id}"),
        "entries": len(db.session.execute(db.select(JournalEntry.id)).all()),
        "entries_2027": len(
            db.session.execute(
                db.select(JournalEntry.id).where(JournalEntry.fiscal_year == 2027)
            ).all()
        ),
    }


def _export(tmp_path: Path, name: str = "ledger.beancount") -> tuple[Path, str]:
    path = tmp_path / name
    with path.open("w", encoding="utf-8") as fh:
        exports.write_beancount(fh)
    return path, path.read_text(encoding="utf-8")


def test_exported_ledger_passes_bean_check(flow, tmp_path):
    path, text = _export(tmp_path)
    result = bean_check(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "" and result.stderr == ""
    entries, errors, options = loader.load_string(text)
    assert errors == []
    assert options["operating_currency"] == ["EUR"]
    txns = [e for e in entries if type(e).__name__ == "Transaction"]
    assert len(txns) == flow["entries"]
    by_id = {int(t.meta["entry_id"]): t for t in txns}
    reversal = by_id[flow["reversal"]]
    assert reversal.meta["kind"] == "reversal" and reversal.meta["key"].startswith("reversal-")
    assert int(reversal.meta["reverses"]) == flow["payout"]
    # The reversal negates the payout posting by posting, exactly (Decimal, no float).
    original = sorted((p.account, p.units.number) for p in by_id[flow["payout"]].postings)
    negated = sorted((p.account, -p.units.number) for p in reversal.postings)
    assert original == negated
    assert all(isinstance(p.units.number, Decimal) for t in txns for p in t.postings)
    # Every account is opened (bean-check would report "inactive account" otherwise).
    opened = {e.account for e in entries if type(e).__name__ == "Open"}
    assert opened == {p.account for t in txns for p in t.postings}


def _tamper_one_cent(text: str, entry_id: int) -> tuple[str, int]:
    """Add one cent to the first posting of entry ``entry_id``; return text and header line."""
    lines = text.splitlines(keepends=True)
    meta = lines.index(f"  entry_id: {entry_id}\n")
    header = meta - 1
    posting = next(
        i for i in range(meta, len(lines)) if re.search(r" -?\d+\.\d\d EUR$", lines[i].rstrip())
    )
    match = re.search(r"(-?\d+)\.(\d\d) EUR$", lines[posting].rstrip())
    assert match is not None
    euros, cents = match.groups()
    value = int(euros) * 100 + (-1 if euros.startswith("-") else 1) * int(cents)
    old = f"{euros}.{cents} EUR"
    lines[posting] = lines[posting].replace(old, f"{exports.amount_text(value + 1)} EUR")
    assert lines[posting] != text.splitlines(keepends=True)[posting]
    return "".join(lines), header + 1  # 1-based line number of the transaction


def test_control_one_cent_changed_fails_bean_check_naming_the_transaction(flow, tmp_path):
    _, text = _export(tmp_path)
    tampered, lineno = _tamper_one_cent(text, flow["repaid"])
    path = tmp_path / "tampered.beancount"
    path.write_text(tampered, encoding="utf-8")
    result = bean_check(path)
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert f"{path}:{lineno}:" in output
    assert "Transaction does not balance: (0.01 EUR)" in output
    assert f"entry_id: {flow['repaid']}" in output
    # The Python API says the same and points at the same entry.
    _, errors, _ = loader.load_string(tampered)
    assert len(errors) == 1
    assert "does not balance" in errors[0].message
    assert int(errors[0].entry.meta["entry_id"]) == flow["repaid"]


def test_cli_exports_one_year(flow, app, runner, tmp_path):
    ledger.post_entry(
        kind=EntryKind.APPROVAL,
        posting_date=date(2028, 1, 15),
        fiscal_year=2028,
        description="Bewilligung im Folgejahr",
        reference="KP-2028-0001",
        idempotency_key="cli-2028",
        lines=[
            ledger.Line(ledger.committed_account("KP-2028-0001"), 250_000),
            ledger.Line(ledger.budget_account(2028), -250_000),
        ],
        actor_id=None,
    )
    db.session.commit()  # into the per-test transaction: the CLI's session sees it
    out = tmp_path / "ledger-2027.beancount"
    result = runner.invoke(
        args=["finance", "export-beancount", "--year", "2027", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert f"Haushaltsjahr 2027): {flow['entries_2027']} Buchungen" in result.output
    assert bean_check(out).returncode == 0
    text = out.read_text(encoding="utf-8")
    assert "KP-2028-0001" not in text and "fiscal_year: 2028" not in text
    assert text.count("fiscal_year: 2027") == flow["entries_2027"] < flow["entries"]
    everything = tmp_path / "ledger.beancount"
    result = runner.invoke(args=["finance", "export-beancount", "--out", str(everything)])
    assert result.exit_code == 0 and f"{flow['entries'] + 1} Buchungen" in result.output
    assert bean_check(everything).returncode == 0
    assert runner.invoke(args=["finance", "export-beancount", "--out"]).exit_code == 2
    bad_year = ["finance", "export-beancount", "--year", "1999", "--out", str(out)]
    assert runner.invoke(args=bad_year).exit_code == 2


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "0.00"),
        (1, "0.01"),
        (-1, "-0.01"),
        (-99, "-0.99"),
        (100, "1.00"),
        (123_456, "1234.56"),
        (-123_456, "-1234.56"),
        (10**15 + 7, "10000000000000.07"),
    ],
)
def test_amount_text_from_integer_cents(cents, text):
    assert exports.amount_text(cents) == text


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_amount_text_round_trips_exactly(cents):
    assert Decimal(exports.amount_text(cents)) * 100 == cents


def test_strings_are_escaped_and_read_back(app_ctx):
    description = 'Bewilligung "Sonderfall" C:\\Pfad\nzweite Zeile'
    entry = ledger.post_entry(
        kind=EntryKind.APPROVAL,
        posting_date=date(2027, 3, 1),
        fiscal_year=2027,
        description=description,
        reference='KP-"X"',
        idempotency_key="escape",
        lines=[ledger.Line("Assets:Bewilligt:KP-X", 1), ledger.Line("Equity:Haushalt:Y2027", -1)],
        actor_id=None,
    )
    text = exports.beancount_text([entry])
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    txn = entries[-1]
    assert txn.payee == 'Bewilligung "Sonderfall" C:\\Pfad zweite Zeile'
    assert txn.narration == 'KP-"X"'
    assert text.startswith('option "title"')
    assert "2027-03-01 open Assets:Bewilligt:KP-X EUR" in text
