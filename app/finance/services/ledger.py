"""The only writer of the double-entry ledger.

Entries have two or more postings with signed integer cents (debit > 0, credit < 0) summing to
zero. Every entry carries an idempotency key: posting the same request again returns the first
entry and writes nothing; the same key with different content is refused. Corrections are
reversal entries. Entries of a closed budget year are refused. Database triggers make the tables
append-only; on PostgreSQL a deferred constraint trigger also refuses an unbalanced entry at
commit.

Account names follow beancount's rules (``Root:Component:…``) so that the ledger can be checked
by ``bean-check`` as an independent oracle:

===========================================  ===============================================
``Assets:Bewilligt:<KZ>``                    committed (approved, not yet paid) per grant
``Equity:Haushalt:Y<year>``                  budget appropriation used by commitments
``Expenses:Zuwendungen:Y<year>:<KZ>``        grant paid out (released payout orders)
``Liabilities:Auszahlungen:<KZ>``            payable to the recipient until the bank confirms
``Assets:Bank:Landeskasse``                  the state cash office's bank account
===========================================  ===============================================
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from app.budget.models import BudgetYear
from app.common.errors import DomainError
from app.extensions import db
from app.finance.models import EntryKind, JournalEntry, Posting

logger = logging.getLogger(__name__)

BANK_ACCOUNT = "Assets:Bank:Landeskasse"


def committed_account(kassenzeichen: str) -> str:
    return f"Assets:Bewilligt:{kassenzeichen}"


def budget_account(year: int) -> str:
    return f"Equity:Haushalt:Y{year}"


def expense_account(year: int, kassenzeichen: str) -> str:
    return f"Expenses:Zuwendungen:Y{year}:{kassenzeichen}"


def payable_account(kassenzeichen: str) -> str:
    return f"Liabilities:Auszahlungen:{kassenzeichen}"


def receivable_account(claim_kassenzeichen: str) -> str:
    """An open recovery claim (Rückforderung)."""
    return f"Assets:Forderungen:{claim_kassenzeichen}"


def recovered_account(year: int, kassenzeichen: str) -> str:
    """Grant expenditure reclaimed by a revocation (reduces the year's grant expense)."""
    return f"Income:Rueckforderungen:Y{year}:{kassenzeichen}"


def interest_account(year: int) -> str:
    """§ 49a interest received."""
    return f"Income:Zinsen:Y{year}"


def costs_account(year: int) -> str:
    """Costs of a recovery claim received (settled first, § 367 BGB)."""
    return f"Income:Kosten:Y{year}"


class LedgerError(DomainError):
    """An entry is unbalanced, empty, in a closed year, or conflicts with its idempotency key."""


class IdempotencyConflict(LedgerError):
    """The idempotency key was used before for a different request."""


@dataclass(frozen=True)
class Line:
    """A posting to be written."""

    account: str
    amount_cents: int
    application_id: int | None = None


def _request_hash(
    kind: EntryKind,
    posting_date: date,
    fiscal_year: int,
    reference: str,
    lines: Sequence[Line],
    reverses_id: int | None,
) -> str:
    canonical = json.dumps(
        {
            "kind": kind.value,
            "date": posting_date.isoformat(),
            "year": fiscal_year,
            "reference": reference,
            "reverses": reverses_id,
            "lines": sorted((ln.account, ln.amount_cents, ln.application_id) for ln in lines),
        },
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _year_closed(fiscal_year: int) -> bool:
    return bool(
        db.session.execute(
            db.select(BudgetYear.closed).where(BudgetYear.year == fiscal_year)
        ).scalar_one_or_none()
    )


def validate_lines(lines: Sequence[Line]) -> None:
    """:raises LedgerError: fewer than two postings, a zero amount or Σ ≠ 0."""
    if len(lines) < 2:
        raise LedgerError(_l("Eine Buchung braucht mindestens zwei Buchungszeilen."))
    if any(ln.amount_cents == 0 for ln in lines):
        raise LedgerError(_l("Buchungszeilen über 0,00 € sind nicht zulässig."))
    total = sum(ln.amount_cents for ln in lines)
    if total != 0:
        raise LedgerError(
            _l("Die Buchung ist nicht ausgeglichen (Differenz %(total)s Cent).", total=total)
        )


def post_entry(
    *,
    kind: EntryKind,
    posting_date: date,
    fiscal_year: int,
    description: str,
    reference: str,
    idempotency_key: str,
    lines: Sequence[Line],
    actor_id: int | None,
    reverses_id: int | None = None,
) -> JournalEntry:
    """Write one balanced entry, or return the entry already written under ``idempotency_key``.

    :raises LedgerError: unbalanced/empty entry or a closed budget year;
    :raises IdempotencyConflict: the key was used for a different request.
    """
    validate_lines(lines)
    request_hash = _request_hash(kind, posting_date, fiscal_year, reference, lines, reverses_id)
    existing = _by_key(idempotency_key)
    if existing is not None:
        return _replay(existing, request_hash)
    if _year_closed(fiscal_year):
        raise LedgerError(
            _l(
                "Das Haushaltsjahr %(fiscal_year)s ist abgeschlossen; es sind keine "
                "Buchungen mehr möglich.",
                fiscal_year=fiscal_year,
            )
        )
    entry = JournalEntry(
        kind=kind,
        posting_date=posting_date,
        fiscal_year=fiscal_year,
        description=description[:300],
        reference=reference[:60],
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        reverses_id=reverses_id,
        created_by_id=actor_id,
    )
    entry.postings = [
        Posting(account=ln.account, amount_cents=ln.amount_cents, application_id=ln.application_id)
        for ln in lines
    ]
    savepoint = db.session.begin_nested()
    try:
        db.session.add(entry)
        db.session.flush()
    except IntegrityError as exc:
        # A concurrent request with the same key won the race: replay its entry.
        savepoint.rollback()
        winner = _by_key(idempotency_key)
        if winner is None:
            if reverses_id is not None:  # unique reverses_id: one reversal per entry
                raise LedgerError(_l("Diese Buchung wurde bereits storniert.")) from exc
            raise
        return _replay(winner, request_hash)
    savepoint.commit()
    logger.info("ledger_entry_posted", extra={"entry_id": entry.id, "kind": kind.value})
    return entry


def _by_key(key: str) -> JournalEntry | None:
    return db.session.execute(
        db.select(JournalEntry).where(JournalEntry.idempotency_key == key)
    ).scalar_one_or_none()


def _replay(entry: JournalEntry, request_hash: str) -> JournalEntry:
    if entry.request_hash != request_hash:
        raise IdempotencyConflict(
            "Dieser Vorgang wurde bereits mit anderen Angaben gebucht (Idempotenzschlüssel)."
        )
    return entry


def post_reversal(
    entry: JournalEntry, *, posting_date: date, reason: str, actor_id: int | None
) -> JournalEntry:
    """Cancel ``entry`` by an entry with negated postings (at most one reversal per entry)."""
    if entry.kind is EntryKind.REVERSAL:
        raise LedgerError(_l("Eine Stornobuchung kann nicht storniert werden."))
    lines = [Line(p.account, -p.amount_cents, p.application_id) for p in entry.postings]
    return post_entry(
        kind=EntryKind.REVERSAL,
        posting_date=posting_date,
        fiscal_year=entry.fiscal_year,
        description=f"Storno: {reason}"[:300],
        reference=entry.reference,
        idempotency_key=f"reversal-{entry.id}",
        lines=lines,
        actor_id=actor_id,
        reverses_id=entry.id,
    )


def balance(account_prefix: str) -> int:
    """Σ postings of every account starting with ``account_prefix`` (one statement)."""
    return int(
        db.session.execute(
            db.select(func.coalesce(func.sum(Posting.amount_cents), 0)).where(
                Posting.account.startswith(account_prefix, autoescape=True)
            )
        ).scalar_one()
    )


def unbalanced_entries() -> list[int]:
    """Ids of entries whose postings do not sum to zero (must always be empty)."""
    rows = db.session.execute(
        db.select(Posting.entry_id)
        .group_by(Posting.entry_id)
        .having(func.sum(Posting.amount_cents) != 0)
    ).scalars()
    return list(rows)
