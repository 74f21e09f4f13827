"""End to end in Chromium, bank reconciliation (issue 6): a finance user uploads a camt.053.001.08
statement with three debits — one carrying the EndToEndId of a sent order (matched automatically),
one with an unknown EndToEndId and one with the exact amount of a second sent order but without
any reference (both stay open) —, assigns the second one to its order in the review queue,
explains the unknown one, uploads the same file again (nothing changes) and downloads the ledger
of the current budget year as XLSX, whose sums are checked against the database."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

try:
    from openpyxl import load_workbook
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - both are pinned in the requirements
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("playwright or openpyxl is not installed", allow_module_level=True)

from sqlalchemy import case, func

from app.common.db import today
from app.common.money import format_plain
from app.extensions import db
from app.finance.models import JournalEntry, Posting
from tests.browser.camt import OPENING_CENTS, STATEMENT_ID, camt053
from tests.browser.conftest import (
    AxeCheck,
    LiveServer,
    PageProblems,
    ReconciliationCase,
    checked,
    login,
)

pytestmark = pytest.mark.browser

UNKNOWN_E2E = "KP-2027-9999-R1"
UNKNOWN_CENTS = 47_111
EXPLANATION = "Fremdbuchung der Landeskasse, kein Förderfall (Rückfrage Bank vom Vortag)."


def money(cents: int, sign: str = "") -> re.Pattern[str]:
    """Exactly one German amount as rendered ("−16.000,00 €"; the space may be non-breaking)."""
    return re.compile(r"^\s*" + re.escape(sign + format_plain(cents)) + r"\s€\s*$")


def heading(page: Any, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)
    checked(page, str(text))


def flash(page: Any, text: str | re.Pattern[str]) -> None:
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


def fact(page: Any, term: str) -> Any:
    return page.locator("dl.facts").first.locator(f"dt:text-is('{term}') + dd")


def open_kasse(page: Any) -> None:
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role(
        "link", name="Kasse", exact=True
    ).click()
    heading(page, "Auszahlungen")


def upload(page: Any, path: Path) -> None:
    """Kasse → "Kontoauszüge einlesen und abgleichen" → choose the file → submit."""
    open_kasse(page)
    page.get_by_role("link", name="Kontoauszüge einlesen und abgleichen").click()
    heading(page, "Kontoauszüge")
    page.get_by_label("Kontoauszug (camt.053, XML)").set_input_files(path)
    page.get_by_role("button", name="Einlesen und abgleichen").click()
    heading(page, "Kontoauszüge")


def cents(value: Any) -> int:
    """An XLSX money cell (a number, or empty) as integer cents."""
    return 0 if value in (None, "") else round(float(value) * 100)


def test_statement_upload_matching_review_queue_duplicate_and_ledger_xlsx(
    new_page: Callable[[], Any],
    live_server: LiveServer,
    reconciliation_case: ReconciliationCase,
    page_problems: PageProblems,
    axe_check: AxeCheck,
    artifacts: Path,
    tmp_path: Path,
) -> None:
    matched, assigned = reconciliation_case.orders
    assert matched.amount_cents == 2_000_000 and assigned.amount_cents == 1_200_000
    booked = today()
    statement_file = tmp_path / "auszug-landeskasse.xml"
    statement_file.write_bytes(
        camt053(
            [
                {
                    "amount": matched.amount_cents,
                    "e2e": matched.end_to_end_id,
                    "remittance": f"{matched.kassenzeichen} Rate 1",
                },
                {"amount": UNKNOWN_CENTS, "e2e": UNKNOWN_E2E, "remittance": "Unbekannt"},
                # Exactly the second order's amount, but no EndToEndId, no Kassenzeichen and a
                # counterparty IBAN no order pays to: never matched by a guess.
                {"amount": assigned.amount_cents, "remittance": "Sammelueberweisung"},
            ],
            booked=booked,
        )
    )

    # --- 1. upload: one line matched by its EndToEndId, two open ------------------------------
    kasse = new_page()
    login(kasse, reconciliation_case.finance_email)
    upload(kasse, statement_file)
    flash(kasse, "3 Buchungen eingelesen: 1 zugeordnet, 2 offen.")
    expect(kasse.get_by_role("alert")).to_have_count(0)
    statements = kasse.locator("table tbody tr").filter(has_text=STATEMENT_ID)
    expect(statements).to_have_count(1)
    expect(statements.locator("td").nth(1)).to_have_text(
        "DE02 1203 0000 0000 2020 51"
    )  # grouped in fours
    expect(statements.locator("td").nth(2)).to_have_text(f"{booked:%d.%m.%Y} – {booked:%d.%m.%Y}")
    expect(statements.locator("td").nth(3)).to_have_text(statement_file.name)
    expect(statements.locator("td").nth(4)).to_contain_text(f"({reconciliation_case.finance})")

    statements.get_by_role("link", name=STATEMENT_ID).click()
    heading(kasse, f"Kontoauszug {STATEMENT_ID}")
    total = matched.amount_cents + UNKNOWN_CENTS + assigned.amount_cents
    expect(fact(kasse, "Buchungen")).to_have_text(
        "3: 1 zugeordnet, 2 offen, 0 erläutert, 0 nicht relevant"
    )
    expect(fact(kasse, "Anfangs-/Endsaldo")).to_have_text(
        re.compile(
            re.escape(format_plain(OPENING_CENTS))
            + r"\s€ / "
            + re.escape(format_plain(OPENING_CENTS - total))
            + r"\s€"
        )
    )
    lines = kasse.locator("table tbody tr")
    expect(lines).to_have_count(3)
    first, unknown, no_ref = lines.nth(0), lines.nth(1), lines.nth(2)
    expect(first.locator("td").nth(2)).to_have_text(money(matched.amount_cents, "−"))
    expect(first.locator("td").nth(5)).to_contain_text("zugeordnet (Ende-zu-Ende-Referenz)")
    expect(first.locator("td").nth(5)).to_contain_text(matched.end_to_end_id)
    expect(first.get_by_role("link", name="bearbeiten")).to_have_count(0)
    expect(unknown.locator("td").nth(3)).to_contain_text(UNKNOWN_E2E)
    expect(unknown.locator("td").nth(5)).to_contain_text("offen")
    expect(unknown.locator("td").nth(5)).to_contain_text("Kein passender Auszahlungsauftrag")
    expect(no_ref.locator("td").nth(2)).to_have_text(money(assigned.amount_cents, "−"))
    expect(no_ref.locator("td").nth(5)).to_contain_text(re.compile(r"^\s*(offen|mehrdeutig)"))
    expect(no_ref.get_by_role("link", name="bearbeiten")).to_be_visible()
    axe_check(kasse, "statement")
    kasse.screenshot(path=str(artifacts / "browser-statement.png"), full_page=True)

    # --- 2. the review queue: assign the line without reference to the second order -----------
    open_kasse(kasse)
    kasse.get_by_role("link", name="Offene Buchungen", exact=True).click()
    heading(kasse, "Offene Buchungen")
    queue = kasse.locator("table").first.locator("tbody tr")
    expect(queue).to_have_count(2)
    expect(queue.filter(has_text=STATEMENT_ID)).to_have_count(2)
    axe_check(kasse, "reconciliation_queue")
    kasse.screenshot(path=str(artifacts / "browser-reconciliation-queue.png"), full_page=True)

    queue.filter(has_text=format_plain(assigned.amount_cents)).get_by_role(
        "link", name="Zuordnen oder erläutern"
    ).click()
    heading(kasse, "Buchung zuordnen oder erläutern")
    expect(fact(kasse, "Ende-zu-Ende-Referenz")).to_have_text("—")
    order_select = kasse.get_by_label("Auszahlungsauftrag")
    options = order_select.locator("option")
    # Only orders in a sent run with exactly this amount are offered (centgenau).
    expect(options.filter(has_text=assigned.end_to_end_id)).to_have_count(1)
    expect(options.filter(has_text=matched.end_to_end_id)).to_have_count(0)
    for text in options.all_inner_texts():
        assert format_plain(assigned.amount_cents) in text, text
    value = options.filter(has_text=assigned.end_to_end_id).get_attribute("value")
    assert value is not None
    order_select.select_option(value)
    axe_check(kasse, "resolve_line")
    kasse.get_by_role("button", name="Zuordnen", exact=True).click()
    flash(kasse, "Die Buchung wurde zugeordnet.")
    heading(kasse, "Offene Buchungen")
    expect(queue).to_have_count(1)
    expect(queue.first).to_contain_text(UNKNOWN_E2E)

    # --- 3. explain the unknown line: the queue is empty --------------------------------------
    queue.first.get_by_role("link", name="Zuordnen oder erläutern").click()
    heading(kasse, "Buchung zuordnen oder erläutern")
    expect(
        kasse.get_by_text("Kein an die Bank übergebener Auftrag hat genau diesen Betrag.")
    ).to_be_visible()
    expect(kasse.get_by_role("button", name="Zuordnen", exact=True)).to_have_count(0)
    expect(kasse.get_by_role("heading", name="Erläutern", level=2)).to_be_visible()
    kasse.get_by_label("Erläuterung").fill(EXPLANATION)
    kasse.get_by_role("button", name="Erläuterung speichern").click()
    flash(kasse, "Die Erläuterung wurde gespeichert.")
    heading(kasse, "Offene Buchungen")
    expect(queue).to_have_text(["Keine offenen Buchungen."])

    # --- 4. the same file again: "bereits eingelesen", nothing changes ------------------------
    upload(kasse, statement_file)
    flash(
        kasse,
        f"Der Kontoauszug {STATEMENT_ID} wurde bereits eingelesen; es wurde nichts geändert.",
    )
    expect(kasse.get_by_role("status").filter(has_text="Buchungen eingelesen")).to_have_count(0)
    expect(kasse.locator("table tbody tr").filter(has_text=STATEMENT_ID)).to_have_count(1)
    kasse.get_by_role("link", name="Offene Buchungen im Abgleich").click()
    heading(kasse, "Offene Buchungen")
    expect(queue).to_have_text(["Keine offenen Buchungen."])
    kasse.get_by_role("link", name="Kontoauszüge", exact=True).click()
    kasse.get_by_role("link", name=STATEMENT_ID).click()
    heading(kasse, f"Kontoauszug {STATEMENT_ID}")
    expect(fact(kasse, "Buchungen")).to_have_text(
        "3: 2 zugeordnet, 0 offen, 1 erläutert, 0 nicht relevant"
    )
    expect(lines.nth(2).locator("td").nth(5)).to_contain_text("zugeordnet (manuell)")
    expect(lines.nth(2).locator("td").nth(5)).to_contain_text(assigned.end_to_end_id)
    expect(lines.nth(1).locator("td").nth(5)).to_contain_text("erläutert")
    expect(lines.nth(1).locator("td").nth(5)).to_contain_text(EXPLANATION)
    kasse.screenshot(path=str(artifacts / "browser-statement-reconciled.png"), full_page=True)

    # --- 5. the ledger of the current budget year as XLSX -------------------------------------
    open_kasse(kasse)
    kasse.get_by_role("link", name=re.compile(r"^Exporte: ")).click()
    heading(kasse, "Exporte für Haushalt und Kasse")
    ledger_form = kasse.locator("form").filter(
        has=kasse.get_by_role("button", name="Hauptbuch herunterladen")
    )
    year = booked.year
    ledger_form.get_by_label("Haushaltsjahr").select_option(str(year))
    ledger_form.get_by_label("Format").select_option(label="Excel-Arbeitsmappe (XLSX)")
    with kasse.expect_download() as download_info:
        ledger_form.get_by_role("button", name="Hauptbuch herunterladen").click()
    download = download_info.value
    assert re.fullmatch(rf"ledger-{year}-\d{{8}}T\d{{6}}\.xlsx", download.suggested_filename), (
        download.suggested_filename
    )
    xlsx = tmp_path / download.suggested_filename
    download.save_as(xlsx)
    kasse.screenshot(path=str(artifacts / "browser-exports.png"), full_page=True)

    workbook = load_workbook(xlsx, read_only=True)
    assert workbook.sheetnames == [f"Hauptbuch {year}", "Summen je Konto"]
    rows = list(workbook[f"Hauptbuch {year}"].iter_rows(values_only=True))
    header, body = list(rows[0]), rows[1:]
    col = {name: header.index(name) for name in header}
    debit, credit = col["Soll (EUR)"], col["Haben (EUR)"]
    sum_debit = sum(cents(r[debit]) for r in body)
    sum_credit = sum(cents(r[credit]) for r in body)
    assert sum_debit == sum_credit > 0
    by_entry: dict[int, int] = {}  # every journal entry balances on its own
    for r in body:
        entry_id = r[col["Buchungs-Nr."]]
        by_entry[entry_id] = by_entry.get(entry_id, 0) + cents(r[debit]) - cents(r[credit])
    assert set(by_entry.values()) == {0}, by_entry
    assert {r[col["Haushaltsjahr"]] for r in body} == {year}

    # The bank lines of both reconciled orders (the payable is debited, the bank credited).
    bank = "Vermögen:Bank:Landeskasse"  # German account names in the German workbook
    for order in (matched, assigned):
        refs = [
            r
            for r in body
            if r[col["Referenz (Kassenzeichen/Ende-zu-Ende-Referenz)"]] == order.end_to_end_id
        ]
        bank_rows = [r for r in refs if r[col["Konto"]] == bank]
        assert len(bank_rows) == 1, refs
        assert cents(bank_rows[0][credit]) == order.amount_cents
        assert bank_rows[0][col["Buchungsart"]] == "Bank"
        assert bank_rows[0][col["Kassenzeichen"]] == order.kassenzeichen
        payable = [
            r
            for r in refs
            if r[col["Konto"]] == f"Verbindlichkeiten:Auszahlungen:{order.kassenzeichen}"
        ]
        assert [cents(r[debit]) for r in payable if r[col["Buchungsart"]] == "Bank"] == [
            order.amount_cents
        ]

    totals = list(workbook["Summen je Konto"].iter_rows(values_only=True))
    t_header = list(totals[0])
    t_total = totals[-1]
    assert t_total[t_header.index("Konto")] == "Summe"
    assert cents(t_total[t_header.index("Soll (EUR)")]) == sum_debit
    assert cents(t_total[t_header.index("Haben (EUR)")]) == sum_credit
    bank_total = next(r for r in totals if r[t_header.index("Konto")] == bank)
    # the bank total is the sum of the bank lines (other journeys on the same live server may
    # have paid out in this year too); both reconciled orders are among them (checked above)
    bank_credits = sum(cents(r[credit]) for r in body if r[col["Konto"]] == bank)
    assert cents(bank_total[t_header.index("Haben (EUR)")]) == bank_credits
    assert bank_credits >= matched.amount_cents + assigned.amount_cents
    workbook.close()

    # The same sums straight from the ledger tables of the live server.
    with live_server.app.app_context():
        db_debit, db_credit, db_rows = db.session.execute(
            db.select(
                func.sum(case((Posting.amount_cents > 0, Posting.amount_cents), else_=0)),
                func.sum(case((Posting.amount_cents < 0, -Posting.amount_cents), else_=0)),
                func.count(Posting.id),
            )
            .join(JournalEntry, Posting.entry_id == JournalEntry.id)
            .where(JournalEntry.fiscal_year == year)
        ).one()
        db.session.remove()
    assert (sum_debit, sum_credit, len(body)) == (db_debit, db_credit, db_rows)

    assert page_problems.all() == [], page_problems.all()
    assert live_server.server_errors() == [], live_server.server_errors()
    assert axe_check.violations == [], "\n".join(axe_check.violations)
