"""The ledger service and its database backstops (RELIABILITY §3.2, test plan item 6).

The service refuses empty, zero and unbalanced entries, replays idempotent requests, refuses a
reused key with other content, reverses (once) instead of editing and refuses closed years. The
database refuses UPDATE/DELETE on the ledger tables on both backends and, on PostgreSQL, an
unbalanced entry at commit (deferred constraint trigger).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.finance.models import EntryKind, JournalEntry, PaymentRun, Posting
from app.finance.services import ledger
from app.finance.services.ledger import IdempotencyConflict, LedgerError, Line
from tests import factories
from tests.finance.conftest import ON_POSTGRES

KZ = "KP-2027-9001"
DAY = date(2027, 2, 1)


def _lines(amount: int = 100_000, kz: str = KZ, year: int = 2027) -> list[Line]:
    return [
        Line(ledger.committed_account(kz), amount),
        Line(ledger.budget_account(year), -amount),
    ]


def _post(key: str = "test-1", lines: list[Line] | None = None, **overrides):
    args = {
        "kind": EntryKind.APPROVAL,
        "posting_date": DAY,
        "fiscal_year": 2027,
        "description": "Bewilligung Test",
        "reference": KZ,
        "idempotency_key": key,
        "lines": _lines() if lines is None else lines,
        "actor_id": None,
    }
    args.update(overrides)
    return ledger.post_entry(**args)


def _counts() -> tuple[int, int]:
    entries = db.session.execute(sa.select(sa.func.count()).select_from(JournalEntry)).scalar()
    postings = db.session.execute(sa.select(sa.func.count()).select_from(Posting)).scalar()
    return int(entries or 0), int(postings or 0)


def test_balanced_entry_is_posted(app_ctx):
    entry = _post(
        lines=[
            Line(ledger.committed_account(KZ), 60_000),
            Line(ledger.committed_account("KP-2027-9002"), 40_000),
            Line(ledger.budget_account(2027), -100_000),
        ]
    )
    assert entry.id is not None and entry.kind is EntryKind.APPROVAL
    assert [p.amount_cents for p in entry.postings] == [60_000, 40_000, -100_000]
    assert ledger.balance(ledger.committed_account(KZ)) == 60_000
    assert ledger.balance("Assets:Bewilligt:") == 100_000
    assert ledger.balance(ledger.budget_account(2027)) == -100_000
    assert ledger.unbalanced_entries() == []


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([Line("Assets:Bewilligt:KP-X", 100)], "mindestens zwei"),
        ([], "mindestens zwei"),
        ([Line("Assets:Bewilligt:KP-X", 0), Line("Equity:Haushalt:Y2027", 0)], "0,00"),
        (
            [Line("Assets:A", 100), Line("Equity:B", 0), Line("Equity:C", -100)],
            "0,00",
        ),
        ([Line("Assets:Bewilligt:KP-X", 500), Line("Equity:Haushalt:Y2027", -499)], "1 Cent"),
    ],
    ids=["one-line", "no-line", "zero-lines", "one-zero-line", "sum-not-zero"],
)
def test_service_refuses_malformed_entries(app_ctx, lines, message):
    before = _counts()
    with pytest.raises(LedgerError, match=message):
        _post(key="bad", lines=lines)
    assert _counts() == before


def test_idempotent_replay_returns_the_same_entry_and_writes_nothing(app_ctx):
    first = _post(key="approval-42-2027")
    before = _counts()
    again = _post(key="approval-42-2027", description="a retried request, other wording")
    assert again.id == first.id
    assert _counts() == before


@pytest.mark.parametrize(
    "change",
    [
        {"lines": _lines(100_001)},
        {"reference": "KP-2027-9999"},
        {"fiscal_year": 2028},
        {"posting_date": date(2027, 2, 2)},
        {"kind": EntryKind.PAYOUT},
    ],
    ids=["amount", "reference", "year", "date", "kind"],
)
def test_same_key_with_other_content_is_a_conflict(app_ctx, change):
    _post(key="k-conflict")
    before = _counts()
    with pytest.raises(IdempotencyConflict):
        _post(key="k-conflict", **change)
    assert _counts() == before


def test_reversal_negates_every_posting_once(app_ctx):
    entry = _post(key="to-reverse")
    reversal = ledger.post_reversal(entry, posting_date=DAY, reason="Fehlbuchung", actor_id=None)
    assert reversal.kind is EntryKind.REVERSAL and reversal.reverses_id == entry.id
    assert reversal.fiscal_year == entry.fiscal_year
    assert sorted((p.account, p.amount_cents) for p in reversal.postings) == sorted(
        (p.account, -p.amount_cents) for p in entry.postings
    )
    assert ledger.balance(ledger.committed_account(KZ)) == 0
    assert ledger.balance(ledger.budget_account(2027)) == 0
    # A retried reversal replays the first one …
    before = _counts()
    again = ledger.post_reversal(entry, posting_date=DAY, reason="Doppelklick", actor_id=None)
    assert again.id == reversal.id and _counts() == before
    # … a reversal on another day is a conflicting request for the same key …
    with pytest.raises(IdempotencyConflict):
        ledger.post_reversal(entry, posting_date=date(2027, 3, 1), reason="x", actor_id=None)
    # … and a second reversal entry under another key violates UNIQUE(reverses_id), which the
    # service reports as a clear ledger error.
    with pytest.raises(ledger.LedgerError, match="bereits storniert"):
        _post(
            key="second-reversal",
            kind=EntryKind.REVERSAL,
            lines=[Line(p.account, -p.amount_cents) for p in entry.postings],
            reverses_id=entry.id,
        )
    assert _counts() == before
    assert ledger.unbalanced_entries() == []


def test_a_reversal_cannot_be_reversed(app_ctx):
    entry = _post(key="orig")
    reversal = ledger.post_reversal(entry, posting_date=DAY, reason="Storno", actor_id=None)
    before = _counts()
    with pytest.raises(LedgerError, match="Stornobuchung kann nicht storniert"):
        ledger.post_reversal(reversal, posting_date=DAY, reason="Storno vom Storno", actor_id=None)
    assert _counts() == before


def _close(year: int) -> None:
    """Year-end closing through the budget service."""
    from app.budget import services as budget
    from tests.finance.factories import open_budget

    open_budget((year,))
    budget.close_year(year)


def test_closed_budget_year_refuses_postings_and_reversals(app_ctx):
    before_closing = _post(key="before-closing")
    _close(2027)
    count = _counts()
    with pytest.raises(LedgerError, match="2027 ist abgeschlossen"):
        _post(key="after-closing")
    with pytest.raises(LedgerError, match="abgeschlossen"):
        ledger.post_reversal(before_closing, posting_date=DAY, reason="zu spät", actor_id=None)
    # A replay of an entry made before the closing is not a new posting: it returns the entry.
    assert _post(key="before-closing").id == before_closing.id
    assert _counts() == count
    # Other years stay open.
    assert _post(key="next-year", fiscal_year=2028, lines=_lines(year=2028)).fiscal_year == 2028


def _payment_run() -> PaymentRun:
    finance = factories.create_user("finance")
    run = PaymentRun(
        msg_id="KPTESTAPPENDONLY",
        execution_date=DAY,
        schema="pain.001.001.09",
        nb_of_txs=1,
        ctrl_sum_cents=100,
        xml=b"<Document/>",
        sha256="0" * 64,
        created_by_id=finance.id,
        created_at=datetime(2027, 2, 1, tzinfo=UTC),
    )
    db.session.add(run)
    db.session.flush()
    return run


@pytest.mark.parametrize("table", ["journal_entry", "posting", "payment_run"])
def test_ledger_tables_refuse_update_and_delete(app_ctx, table):
    _post(key="append-only")
    _payment_run()
    db.session.flush()
    for statement in (
        f"UPDATE {table} SET id = id",  # noqa: S608
        f"DELETE FROM {table}",  # noqa: S608
    ):
        nested = db.session.begin_nested()
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            db.session.execute(sa.text(statement))
        nested.rollback()
    assert _counts() == (1, 2)


def test_posting_amount_zero_is_refused_by_a_check_constraint(app_ctx):
    entry = _post(key="check")
    nested = db.session.begin_nested()
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(
            sa.text("INSERT INTO posting (entry_id, account, amount_cents) VALUES (:e, 'X:Y', 0)"),
            {"e": entry.id},
        )
    nested.rollback()


_INSERT_ENTRY = sa.text(
    "INSERT INTO journal_entry (kind, posting_date, fiscal_year, description, reference, "
    "idempotency_key, request_hash, created_at) VALUES ('approval', :day, 2027, 'roh', 'KP-RAW', "
    ":key, :hash, :now) RETURNING id"
)
_INSERT_POSTING = sa.text(
    "INSERT INTO posting (entry_id, account, amount_cents) VALUES (:entry, :account, :amount)"
)


def _raw_entry(amounts: list[int], key: str) -> None:
    entry_id = db.session.execute(
        _INSERT_ENTRY,
        {"day": DAY, "key": key, "hash": "0" * 64, "now": datetime(2027, 2, 1, tzinfo=UTC)},
    ).scalar_one()
    for n, amount in enumerate(amounts):
        db.session.execute(
            _INSERT_POSTING, {"entry": entry_id, "account": f"Assets:Raw:N{n}", "amount": amount}
        )


@pytest.mark.skipif(
    not ON_POSTGRES,
    reason="SQLite has no deferred constraint triggers; there the service refuses the entry",
)
def test_postgres_refuses_an_unbalanced_raw_entry_at_commit(committed_app):
    cases = [  # (postings written with raw SQL, committed?)
        ([500, -500], True),
        ([500, -499], False),
        ([500], False),
        ([300, 200, -499], False),
        ([700, -700], True),
    ]
    for n, (amounts, balanced) in enumerate(cases):
        with committed_app.app_context():
            _raw_entry(amounts, key=f"raw-{n}")
            db.session.flush()  # the inserts are accepted: the check is deferred to the commit
            if balanced:
                db.session.commit()
            else:
                with pytest.raises(sa.exc.IntegrityError, match="unbalanced"):
                    db.session.commit()
                db.session.rollback()
            db.session.remove()
    with committed_app.app_context():
        keys = db.session.execute(
            sa.select(JournalEntry.idempotency_key).order_by(JournalEntry.id)
        ).scalars()
        assert list(keys) == ["raw-0", "raw-4"]
        assert ledger.unbalanced_entries() == []
