"""Exports of the double-entry ledger (read-only).

Today there is one format: a beancount file, so that ``bean-check`` can verify the ledger as an
independent oracle (RELIABILITY §3.5, test plan item 7). The module is laid out so that other
formats (CSV, XLSX, JSON — a later issue) can be added next to it without touching the ledger:

* **Selection** — ``entries_query`` / ``iter_entries`` pick the journal entries (optionally of one
  fiscal year) in a stable order (posting date, id) and stream them in batches (``yield_per``);
  the postings come with each batch (``selectin`` relationship). ``account_open_dates`` is the
  one aggregate query a format needs when it must name every account up front.
* **Money** — ``amount_text`` turns integer cents into a decimal string with integer arithmetic
  only (no float, no rounding); another format adds its own helper next to it (e.g. a German
  "1.234,56" via ``app.common.money.format_plain``).
* **Rendering** — one generator per format yields text lines (or rows), so that a CLI command or
  a streamed HTTP response can write them without building the whole file in memory;
  ``beancount_text`` is the join helper for tests and small ledgers. A new format follows the
  same shape: ``<format>_lines(entries, …) -> Iterator[…]`` plus ``write_<format>(out, …)``.

Account names are exported verbatim (the ledger service already uses beancount's
``Root:Component`` scheme); an invalid name is reported by ``bean-check`` instead of being hidden
by a rewrite here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import TextIO

from sqlalchemy import Select, func, select

from app.extensions import db
from app.finance.models import JournalEntry, Posting

CURRENCY = "EUR"
TITLE = "Förderportal KommPräv – Hauptbuch"


# --- selection ----------------------------------------------------------------------------------


def entries_query(fiscal_year: int | None = None) -> Select[JournalEntry]:
    """Journal entries (of one fiscal year, or all) in posting order."""
    stmt = select(JournalEntry).order_by(JournalEntry.posting_date, JournalEntry.id)
    if fiscal_year is not None:
        stmt = stmt.where(JournalEntry.fiscal_year == fiscal_year)
    return stmt


def iter_entries(
    fiscal_year: int | None = None, *, batch_size: int = 500
) -> Iterator[JournalEntry]:
    """Stream the entries in batches of ``batch_size`` (postings loaded per batch)."""
    stmt = entries_query(fiscal_year).execution_options(yield_per=batch_size)
    yield from db.session.scalars(stmt)


def account_open_dates(fiscal_year: int | None = None) -> dict[str, date]:
    """Every account used by the selected entries → the posting date of its first use."""
    stmt = (
        select(Posting.account, func.min(JournalEntry.posting_date))
        .join(JournalEntry, Posting.entry_id == JournalEntry.id)
        .group_by(Posting.account)
    )
    if fiscal_year is not None:
        stmt = stmt.where(JournalEntry.fiscal_year == fiscal_year)
    return {account: first for account, first in db.session.execute(stmt)}


# --- money --------------------------------------------------------------------------------------


def amount_text(cents: int) -> str:
    """Integer cents → decimal string with a point: ``-123456`` → ``"-1234.56"``."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{euros}.{rest:02d}"


# --- beancount ----------------------------------------------------------------------------------


def _quote(text: str) -> str:
    """A beancount string literal: one line, backslash and double quote escaped."""
    flat = " ".join(str(text).split())
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _open_dates_of(entries: Iterable[JournalEntry]) -> dict[str, date]:
    opens: dict[str, date] = {}
    for entry in entries:
        for posting in entry.postings:
            first = opens.get(posting.account)
            if first is None or entry.posting_date < first:
                opens[posting.account] = entry.posting_date
    return opens


def beancount_transaction(entry: JournalEntry) -> Iterator[str]:
    """The lines of one entry: header, metadata, one line per posting (no trailing blank)."""
    header = f"{entry.posting_date.isoformat()} * {_quote(entry.description)}"
    yield f"{header} {_quote(entry.reference)}"
    yield f"  entry_id: {entry.id}"
    yield f"  kind: {_quote(entry.kind.value)}"
    yield f"  key: {_quote(entry.idempotency_key)}"
    yield f"  fiscal_year: {entry.fiscal_year}"
    if entry.reverses_id is not None:
        yield f"  reverses: {entry.reverses_id}"
    width = max((len(p.account) for p in entry.postings), default=0)
    for posting in entry.postings:
        yield f"  {posting.account:<{width}}  {amount_text(posting.amount_cents):>16} {CURRENCY}"


def beancount_lines(
    entries: Iterable[JournalEntry], open_dates: Mapping[str, date] | None = None
) -> Iterator[str]:
    """Render ``entries`` as a beancount file, one line per item (without newline characters).

    ``open_dates`` (account → first use, see ``account_open_dates``) lets the entries stream; if
    it is omitted, the entries are read into a list first to find the accounts.
    """
    if open_dates is None:
        entries = list(entries)
        open_dates = _open_dates_of(entries)
    yield f'option "title" {_quote(TITLE)}'
    yield f'option "operating_currency" "{CURRENCY}"'
    yield ""
    for account in sorted(open_dates):
        yield f"{open_dates[account].isoformat()} open {account} {CURRENCY}"
    for entry in entries:
        yield ""
        yield from beancount_transaction(entry)


def beancount_text(
    entries: Iterable[JournalEntry], open_dates: Mapping[str, date] | None = None
) -> str:
    """The whole beancount file as one string (tests, small ledgers)."""
    return "".join(line + "\n" for line in beancount_lines(entries, open_dates))


def write_beancount(out: TextIO, fiscal_year: int | None = None) -> int:
    """Stream the ledger (of one fiscal year, or all) from the database to ``out``.

    :returns: the number of entries written.
    """
    count = 0

    def counted() -> Iterator[JournalEntry]:
        nonlocal count
        for entry in iter_entries(fiscal_year):
            count += 1
            yield entry

    for line in beancount_lines(counted(), account_open_dates(fiscal_year)):
        out.write(line + "\n")
    return count
