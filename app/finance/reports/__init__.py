"""Finance reports: the ledger, the per-grant account statement and the monitoring list
(*Haushaltsüberwachungsliste*, R34, VVK 9.2) as pandas DataFrames, and their files.

The layouts are *design* (RULES.md §10.3: the ledger format is not fixed by law); amounts leave
the system as decimal strings derived from integer cents.

Data builders (one SQL ``SELECT`` each, aggregates in SQL, no N+1)
-----------------------------------------------------------------
Every builder returns a DataFrame whose money columns are named ``*_cents`` and have dtype
``int64`` (integer cents, never float). Other columns: ``int64`` ids/years, nullable ``Int64``
(``reverses_id``), ``object`` text, ``object`` ``datetime.date`` values (or ``None``).

``ledger_frame(year, date_from, date_to)`` — one row per posting, ordered by posting date, entry,
posting: ``entry_id, posting_id, posting_date, fiscal_year, kind, reference, description,
reverses_id, account, debit_cents, credit_cents, aktenzeichen, kassenzeichen, recipient, ags,
kreis_key, landkreis, polizeidirektion``. ``debit_cents``/``credit_cents`` split the signed
posting amount (debit > 0, credit < 0); both are ≥ 0 and exactly one is > 0. ``reference`` is
the entry's Kassenzeichen or EndToEndId; the grant columns are empty for postings without an
application. Recipient name and AGS are those valid at submission (R35).

``grant_statement_frame(application_id)`` — the account statement of one grant: every posting
that carries the application, ordered by account and then date/entry/posting, with
``balance_cents`` = running Σ of the signed amounts per account (SQL window function):
``kassenzeichen, aktenzeichen, account, posting_date, entry_id, posting_id, fiscal_year, kind,
reference, description, reverses_id, debit_cents, credit_cents, balance_cents``.

``monitoring_frame(year)`` — the Haushaltsüberwachungsliste: one row per approved grant with a
commitment (Festlegung) for ``year`` or an expense booked in ``year``: ``budget_year,
application_id, aktenzeichen, kassenzeichen, recipient, ags, kreis_key, landkreis,
polizeidirektion, purpose, decided_on, period_start, period_end, granted_cents,
committed_cents, paid_cents, open_cents, paid_total_cents, vn_deadline, vn_received_on,
vn_checked_on``. ``granted_cents`` is the (possibly reduced) grant, ``committed_cents`` Σ of the
commitment rows for the year (approvals minus reductions), ``paid_cents`` Σ of the ledger expense
(``Expenses:Zuwendungen:Y<year>:…``, i.e. released payout orders minus their reversals) booked in
the year, ``open_cents`` = committed − paid, ``paid_total_cents`` all expense booked for the
grant in any year. ``vn_deadline`` comes from the decision; ``vn_received_on`` is the (local)
date the first *final* proof of use (``ProofKind.FINAL``) was submitted and ``vn_checked_on`` the
date its check was finished (latest ``checked_on`` of a final proof). Both stay empty while no
final proof has been received or checked; partial and provisional proofs are not counted.

``account_totals_frame(...)`` (``account, postings, debit_cents, credit_cents, balance_cents``,
SQL ``GROUP BY``) and ``monitoring_summary(df)`` (per Kreis: ``kreis_key, landkreis, grants,
granted_cents, committed_cents, paid_cents, open_cents``) feed the summary sheets; both end
with a total row (``Summe``).

Writers (generic over these frames)
-----------------------------------
* ``to_csv_de`` — for people/Excel: UTF-8 with BOM, ``;``, CRLF, German headers (``LABELS_DE``),
  amounts ``-1234,56`` (decimal comma, no thousands separator), dates ``TT.MM.JJJJ``, entry
  kinds in German.
* ``to_csv_plain`` — for tools: UTF-8 without BOM, ``,``, CRLF, the column names as headers with
  ``_cents`` dropped from money columns, amounts ``-1234.56``, ISO dates.
* ``to_xlsx(sheets, summary)`` — openpyxl (write-only, streamed): bold German header row,
  frozen, with auto filter; money as *numbers* with the format ``#,##0.00 "€"`` (the € quoted so
  that every spreadsheet program accepts the format; shown as ``1.234,56 €`` in German Excel),
  dates as dates (``DD.MM.YYYY``), ids as integers, entry kinds in German. Summary sheets:
  ``Zusammenfassung je Landkreis`` (monitoring list), ``Summen je Konto`` (ledger, grant).
  A money cell's XML value is the exact decimal text built from the cents (``<v>1234.56</v>``)
  — no float conversion on the way out; Excel/openpyxl read it as the double nearest to that
  decimal, and every amount below 10^13 € (15 significant digits) reads back to exactly the
  same cents. Larger amounts are refused.
* ``to_json`` — a JSON array, one object per row (one per line), UTF-8; each money column twice:
  ``"debit_cents": 123456`` (integer) and ``"debit": "1234.56"`` (decimal string); ISO dates;
  empty values are ``null``. Never a JSON float.

Text cells starting with ``= + - @``, tab, CR or NUL get a leading ``'`` in CSV and XLSX
(formula injection); money cells are numbers, so a negative amount stays ``-1234,56``. XLSX
also replaces characters that XML cannot hold with U+FFFD.

Files and streaming
-------------------
``export_filename`` builds ``<kind>-<scope>-<JJJJMMTT>T<HHMMSS>.<ext>`` in local time, e.g.
``ledger-2027-20261124T101500.csv``, ``monitoring-2027-….xlsx``, ``grant-KP-2027-0001-….json``;
the plain CSV ends in ``-plain.csv``. ``iter_ledger_csv`` / ``iter_ledger_json`` stream the
ledger in chunks of ``chunk_rows`` postings (SQLAlchemy ``yield_per``), so memory stays bounded;
``ledger_export`` / ``monitoring_export`` / ``grant_export`` return an ``ExportFile`` (name,
MIME type, byte chunks) used by the CLI and the download routes.

Modules
-------
``columns`` (formats, limits, column layouts, German headers), ``cells`` (typed frames, cell
values), ``ledger`` (ledger, account totals, grant statement), ``monitoring`` (R34),
``csv_json`` and ``xlsx`` (writers), ``files`` (file names, streaming, ``ExportFile``). This
package re-exports their public names, so ``reports.<name>`` keeps working.
"""

from app.finance.reports.cells import cents_text, is_money, neutralise, plain_name
from app.finance.reports.columns import (
    ACCOUNT_TOTALS_COLUMNS,
    CHUNK_ROWS,
    DATE_FORMAT,
    FORMATS,
    LABELS_DE,
    LEDGER_COLUMNS,
    MAX_XLSX_CENTS,
    MIME_TYPES,
    MONEY_FORMAT,
    MONITORING_COLUMNS,
    MONITORING_SUMMARY_COLUMNS,
    STATEMENT_COLUMNS,
    SUMMARY_BY_ACCOUNT,
    SUMMARY_BY_KREIS,
    TOTAL_LABEL,
    VALUES_DE,
    account_de,
)
from app.finance.reports.csv_json import iter_csv, iter_json, to_csv_de, to_csv_plain, to_json
from app.finance.reports.files import (
    ExportFile,
    export_filename,
    grant_export,
    iter_ledger_csv,
    iter_ledger_json,
    ledger_export,
    ledger_scope,
    monitoring_export,
    render,
)
from app.finance.reports.ledger import (
    account_totals_frame,
    application_id_for,
    available_years,
    grant_statement_frame,
    iter_ledger_frames,
    ledger_frame,
    ledger_row_count,
)
from app.finance.reports.monitoring import monitoring_frame, monitoring_summary
from app.finance.reports.xlsx import to_xlsx, write_xlsx

__all__ = [
    "ACCOUNT_TOTALS_COLUMNS",
    "CHUNK_ROWS",
    "DATE_FORMAT",
    "FORMATS",
    "LABELS_DE",
    "LEDGER_COLUMNS",
    "MAX_XLSX_CENTS",
    "MIME_TYPES",
    "MONEY_FORMAT",
    "MONITORING_COLUMNS",
    "MONITORING_SUMMARY_COLUMNS",
    "STATEMENT_COLUMNS",
    "SUMMARY_BY_ACCOUNT",
    "SUMMARY_BY_KREIS",
    "TOTAL_LABEL",
    "VALUES_DE",
    "ExportFile",
    "account_de",
    "account_totals_frame",
    "application_id_for",
    "available_years",
    "cents_text",
    "export_filename",
    "grant_export",
    "grant_statement_frame",
    "is_money",
    "iter_csv",
    "iter_json",
    "iter_ledger_csv",
    "iter_ledger_frames",
    "iter_ledger_json",
    "ledger_export",
    "ledger_frame",
    "ledger_row_count",
    "ledger_scope",
    "monitoring_export",
    "monitoring_frame",
    "monitoring_summary",
    "neutralise",
    "plain_name",
    "render",
    "to_csv_de",
    "to_csv_plain",
    "to_json",
    "to_xlsx",
    "write_xlsx",
]
