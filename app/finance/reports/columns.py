"""Formats, MIME types, limits and the column layouts (names, kinds, German headers) of the
finance report frames."""

from __future__ import annotations

import re

from app.finance.models import EntryKind

FORMATS = ("csv", "csv-plain", "xlsx", "json")
MIME_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "csv-plain": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
CHUNK_ROWS = 50_000
#: Excel shows 15 significant digits; below this bound every amount round-trips exactly.
MAX_XLSX_CENTS = 10**15
MONEY_FORMAT = '#,##0.00 "€"'
DATE_FORMAT = "DD.MM.YYYY"
SUMMARY_BY_KREIS = "Zusammenfassung je Landkreis"
SUMMARY_BY_ACCOUNT = "Summen je Konto"
TOTAL_LABEL = "Summe"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")
#: Root of the expense accounts (``ledger.expense_account``: ``Expenses:Zuwendungen:Y<year>:<KZ>``).
_EXPENSE_ROOT = "Expenses:Zuwendungen:"

#: German column headers for the CSV (de) and XLSX files.
LABELS_DE: dict[str, str] = {
    "entry_id": "Buchungs-Nr.",
    "posting_id": "Zeilen-Nr.",
    "posting_date": "Buchungsdatum",
    "fiscal_year": "Haushaltsjahr",
    "kind": "Buchungsart",
    "reference": "Referenz (Kassenzeichen/Ende-zu-Ende-Referenz)",
    "description": "Buchungstext",
    "reverses_id": "Storno zu Buchungs-Nr.",
    "account": "Konto",
    "debit_cents": "Soll (EUR)",
    "credit_cents": "Haben (EUR)",
    "balance_cents": "Saldo (EUR)",
    "application_id": "Antrags-ID",
    "aktenzeichen": "Aktenzeichen",
    "kassenzeichen": "Kassenzeichen",
    "recipient": "Zuwendungsempfänger",
    "ags": "AGS",
    "kreis_key": "Kreisschlüssel",
    "landkreis": "Landkreis / kreisfreie Stadt",
    "polizeidirektion": "Polizeidirektion",
    "budget_year": "Haushaltsjahr",
    "purpose": "Zuwendungszweck",
    "decided_on": "Bescheid vom",
    "period_start": "Bewilligungszeitraum von",
    "period_end": "Bewilligungszeitraum bis",
    "granted_cents": "Zuwendung (EUR)",
    "committed_cents": "Festlegung im Haushaltsjahr (EUR)",
    "paid_cents": "Ausgezahlt im Haushaltsjahr (EUR)",
    "open_cents": "Offene Festlegung (EUR)",
    "paid_total_cents": "Ausgezahlt insgesamt (EUR)",
    "vn_deadline": "VN fällig am",
    "vn_received_on": "VN eingegangen am",
    "vn_checked_on": "VN geprüft am",
    "grants": "Anzahl Zuwendungen",
    "postings": "Anzahl Buchungszeilen",
}

#: German display values of coded columns (CSV de and XLSX only; plain CSV/JSON keep codes).
VALUES_DE: dict[str, dict[str, str]] = {
    "kind": {
        EntryKind.APPROVAL.value: "Bewilligung",
        EntryKind.PAYOUT.value: "Auszahlung",
        EntryKind.BANK.value: "Bank",
        EntryKind.RECOVERY.value: "Rückforderung",
        EntryKind.RECEIPT.value: "Zahlungseingang",
        EntryKind.REVERSAL.value: "Storno",
    }
}

#: German names of the ledger's account roots and components (CSV de and XLSX only; the
#: beancount file, plain CSV and JSON keep the beancount names such as ``Expenses:…``).
ACCOUNT_PARTS_DE: dict[str, str] = {
    "Assets": "Vermögen",
    "Liabilities": "Verbindlichkeiten",
    "Equity": "Eigenkapital",
    "Income": "Erträge",
    "Expenses": "Aufwendungen",
    "Rueckforderungen": "Rückforderungen",
}
_YEAR_PART = re.compile(r"^Y(\d{4})$")


def account_de(name: str) -> str:
    """German account name: ``Expenses:Zuwendungen:Y2027:KP-1`` → ``Aufwendungen:…:2027:KP-1``."""
    parts = []
    for part in name.split(":"):
        year = _YEAR_PART.match(part)
        parts.append(year.group(1) if year else ACCOUNT_PARTS_DE.get(part, part))
    return ":".join(parts)


def value_de(column: str, value: str) -> str:
    """A coded text cell as shown in the German files (booking kinds, account names)."""
    if column == "account":
        return account_de(value)
    return VALUES_DE.get(column, {}).get(value, value)


# Column kinds: "int" (int64), "money" (int64 cents, name ends in _cents), "optint" (Int64),
# "text" (object), "code" (enum value as text), "date" (object: datetime.date or None).
LEDGER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("entry_id", "int"),
    ("posting_id", "int"),
    ("posting_date", "date"),
    ("fiscal_year", "int"),
    ("kind", "code"),
    ("reference", "text"),
    ("description", "text"),
    ("reverses_id", "optint"),
    ("account", "text"),
    ("debit_cents", "money"),
    ("credit_cents", "money"),
    ("aktenzeichen", "text"),
    ("kassenzeichen", "text"),
    ("recipient", "text"),
    ("ags", "text"),
    ("kreis_key", "text"),
    ("landkreis", "text"),
    ("polizeidirektion", "text"),
)
STATEMENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("kassenzeichen", "text"),
    ("aktenzeichen", "text"),
    ("account", "text"),
    ("posting_date", "date"),
    ("entry_id", "int"),
    ("posting_id", "int"),
    ("fiscal_year", "int"),
    ("kind", "code"),
    ("reference", "text"),
    ("description", "text"),
    ("reverses_id", "optint"),
    ("debit_cents", "money"),
    ("credit_cents", "money"),
    ("balance_cents", "money"),
)
MONITORING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("budget_year", "int"),
    ("application_id", "int"),
    ("aktenzeichen", "text"),
    ("kassenzeichen", "text"),
    ("recipient", "text"),
    ("ags", "text"),
    ("kreis_key", "text"),
    ("landkreis", "text"),
    ("polizeidirektion", "text"),
    ("purpose", "text"),
    ("decided_on", "date"),
    ("period_start", "date"),
    ("period_end", "date"),
    ("granted_cents", "money"),
    ("committed_cents", "money"),
    ("paid_cents", "money"),
    ("open_cents", "money"),
    ("paid_total_cents", "money"),
    ("vn_deadline", "date"),
    ("vn_received_on", "date"),
    ("vn_checked_on", "date"),
)
MONITORING_SUMMARY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("kreis_key", "text"),
    ("landkreis", "text"),
    ("grants", "int"),
    ("granted_cents", "money"),
    ("committed_cents", "money"),
    ("paid_cents", "money"),
    ("open_cents", "money"),
)
ACCOUNT_TOTALS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("account", "text"),
    ("postings", "int"),
    ("debit_cents", "money"),
    ("credit_cents", "money"),
    ("balance_cents", "money"),
)
