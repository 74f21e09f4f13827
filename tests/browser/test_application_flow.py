"""End to end in Chromium: an applicant logs in, fills in a new application step by step (live
totals of the financing plan while typing), uploads the documents, submits late with a
justification, and downloads the frozen PDF copy."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

try:
    from playwright.sync_api import expect
    from pypdf import PdfReader
except ImportError:  # pragma: no cover - both are pinned in requirements-dev.txt
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("playwright or pypdf is not installed", allow_module_level=True)

from app.common.programme import PAY_SCALE_SEED
from app.demo import MINIMAL_PDF
from app.grants.labels import QUALIFICATION_LABELS
from app.grants.models import Qualification
from tests.browser.conftest import APPLICANT_EMAIL, AxeCheck, LiveServer, PageProblems, checked
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def _amount(text: str) -> str:
    """Regex for a German amount; the space before "€" may be a non-breaking one."""
    return re.escape(text).replace(r"\ ", r"\s")


def money(text: str) -> re.Pattern[str]:
    """Matches exactly one German amount as rendered ("16.000,00 €")."""
    return re.compile(r"^\s*" + _amount(text) + r"\s*$")


def heading(page: Any, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)
    checked(page, str(text))


def _expected_cap_cents(funding_year: int, pay_group: int, fte_permille: int, months: int) -> int:
    """TV-L cap as plan.js computes it (latest seeded table up to the funding year)."""
    year = max(y for y in PAY_SCALE_SEED if y <= funding_year)
    return PAY_SCALE_SEED[year][pay_group] * fte_permille * months // 1000


def _eur(cents: int) -> str:
    euros, rest = divmod(cents, 100)
    return f"{euros:,}".replace(",", ".") + f",{rest:02d} €"


def test_applicant_fills_in_submits_late_and_downloads_pdf(
    page: Any,
    live_server: LiveServer,
    page_problems: PageProblems,
    axe_check: AxeCheck,
    artifacts: Path,
    tmp_path: Path,
) -> None:
    year = live_server.funding_year

    # --- login through the form -------------------------------------------------------------------
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/auth/login"))
    heading(page, "Anmelden")
    axe_check(page, "login")
    page.get_by_label("E-Mail-Adresse").fill(APPLICANT_EMAIL)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden", exact=True).click()
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()
    assert any(c["name"] == "__Host-session" for c in page.context.cookies()), (
        "Chromium dropped the Secure __Host- session cookie on http://127.0.0.1"
    )

    # --- "Meine Anträge": new application ---------------------------------------------------------
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role(
        "link", name="Meine Anträge"
    ).click()
    heading(page, "Meine Anträge")
    expect(page.get_by_text("Ihre Kommune hat noch keine Anträge.")).to_be_visible()
    axe_check(page, "my_applications")
    page.get_by_label("Förderjahr").select_option(str(year))
    page.get_by_role("button", name="Neuen Antrag anlegen").click()
    expect(page).to_have_url(re.compile(r"/antraege/\d+/bearbeiten/general$"))
    application_id = int(re.search(r"/antraege/(\d+)/", page.url).group(1))  # type: ignore[union-attr]
    heading(page, "Allgemeines")
    axe_check(page, "edit_general")

    # --- step 1: Allgemeines ----------------------------------------------------------------------
    title = f"Koordinierungsstelle KPR Zittau {year}"
    page.get_by_label("Projekttitel").fill(title)
    page.get_by_label("Zuwendungszweck").fill(
        "Aufbau der Koordinierungsstelle des Kommunalen Präventionsrates: Lagebild, "
        "Sicherheitsbefragung und Projektsteuerung nach Beccaria-Standards."
    )
    page.get_by_label("Projektbeginn").fill(f"01.06.{year}")
    page.get_by_label("Projektende").fill(f"31.12.{year}")
    page.get_by_role("button", name="Speichern und weiter").click()

    # --- step 2: KPR und Koordinierungsstelle -----------------------------------------------------
    heading(page, "KPR und Koordinierungsstelle")
    axe_check(page, "edit_kpr")
    page.get_by_label("Koordinierungsstelle (Ansiedlung in der Verwaltung)").fill(
        "Ordnungsamt, Stabsstelle Prävention"
    )
    page.get_by_role("button", name="Speichern und weiter").click()

    # --- step 3: financing plan with live totals --------------------------------------------------
    heading(page, "Ausgaben- und Finanzierungsplan")
    total, balance = page.locator("#t-total"), page.locator("#t-balance")
    expect(total).to_have_text(money("0,00 €"))
    expect(balance).to_have_text("Der Plan ist nicht ausgeglichen.")
    finance_url = page.url
    # Marker on the window object: it vanishes if anything below reloads the page.
    page.evaluate("window.__sameDocument = true")

    rows = page.locator("#plan-lines tr.plan-line")
    page.get_by_role("button", name="Personalposition hinzufügen").click()
    expect(rows).to_have_count(1)
    staff = rows.nth(0)
    expect(staff).to_have_attribute("data-category", "staff")
    expect(staff.locator(".js-category")).to_have_value("staff")
    # WTForms FieldList names: lines-<index>-<field>
    expect(staff.get_by_label("Bezeichnung / Funktion")).to_have_attribute(
        "name", "lines-0-description"
    )
    expect(staff.get_by_label("Bezeichnung / Funktion")).to_be_focused()
    staff.get_by_label("Bezeichnung / Funktion").fill("Koordinator/in (0,5 VZÄ)")
    staff.get_by_label("EG", exact=True).select_option(label="EG 11")
    staff.get_by_label("Stufe", exact=True).select_option("3")
    qualification = QUALIFICATION_LABELS[Qualification.UNIVERSITY_APPLIED]
    assert str(qualification).startswith("Abgeschlossene Fachhochschul")
    staff.get_by_label("Qualifikation").select_option(label=str(qualification))
    staff.get_by_label("Stellenanteil").fill("0,5")
    staff.get_by_label("Monate").fill("7")
    cap = _expected_cap_cents(year, 11, 500, 7)
    expect(staff.locator(".js-cap")).to_have_text(
        re.compile(r"^Obergrenze " + _amount(_eur(cap)) + "$")
    )
    amount = staff.get_by_label("Betrag (€)")
    amount.press_sequentially("16")
    expect(total).to_have_text(money("16,00 €"))  # follows the keystrokes ...
    amount.press_sequentially(".000,00")
    expect(total).to_have_text(money("16.000,00 €"))  # ... up to the full amount
    expect(page.locator("#t-eligible")).to_have_text(money("16.000,00 €"))  # below the cap

    page.get_by_role("button", name="Sachausgabe hinzufügen").click()
    expect(rows).to_have_count(2)
    running = rows.nth(1)
    expect(running).to_have_attribute("data-category", "running")
    running.get_by_label("Bezeichnung / Funktion").fill("Sicherheitsbefragung")
    running.get_by_label("Betrag (€)").press_sequentially("4.000")
    expect(total).to_have_text(money("20.000,00 €"))
    expect(page.locator("#t-eligible")).to_have_text(money("20.000,00 €"))

    # The financing fields of a new plan are empty (placeholder "0,00"), so typing is clean.
    own_share = page.get_by_label("Eigenanteil (Geldmittel)")
    expect(own_share).to_have_value("")
    own_share.click()
    own_share.press_sequentially("2.000,00")
    expect(own_share).to_have_value("2.000,00")
    # An amount the live totals cannot read is marked, and unmarked once it is readable again.
    third_party = page.get_by_label("Drittmittel", exact=True)
    third_party.fill("1.2.3")
    expect(third_party).to_have_attribute("aria-invalid", "true")
    third_party.fill("0,00")
    expect(third_party).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#t-own")).to_have_text(money("2.000,00 €"))
    expect(page.locator("#t-diff")).to_have_text(money("18.000,00 €"))
    expect(balance).to_have_text("Der Plan ist nicht ausgeglichen.")
    expect(balance).to_have_attribute("data-balanced", "no")

    grant = page.get_by_label("Beantragte Zuwendung")
    grant.click()
    grant.press_sequentially("18.000")
    expect(grant).to_have_value("18.000")
    expect(page.locator("#t-financing")).to_have_text(money("20.000,00 €"))
    expect(page.locator("#t-diff")).to_have_text(money("0,00 €"))
    expect(page.locator("#t-rate")).to_have_text("90,00 %")
    expect(balance).to_have_text("Der Plan ist ausgeglichen.")
    expect(balance).to_have_attribute("data-balanced", "yes")
    # One more digit and the plan is unbalanced again (the totals follow every keystroke).
    grant.press("End")
    grant.press_sequentially("0")
    expect(balance).to_have_text("Der Plan ist nicht ausgeglichen.")
    grant.press("Backspace")
    expect(balance).to_have_text("Der Plan ist ausgeglichen.")

    # Nothing was sent yet: same URL, same document.
    assert page.url == finance_url
    assert page.evaluate("window.__sameDocument") is True
    page.screenshot(path=str(artifacts / "browser-finance-plan.png"), full_page=True)
    axe_check(page, "edit_finance")

    page.get_by_role("button", name="Speichern und weiter").click()

    # --- step 4: documents ------------------------------------------------------------------------
    heading(page, "Dokumente")
    uploads = [
        ("Projektbeschreibung (nach Beccaria-Standards)", "projektbeschreibung.pdf", None),
        ("Ausgaben- und Finanzierungsplan (unterschrieben)", "finanzierungsplan.pdf", None),
        (
            "Erklärung, dass mit dem Projekt noch nicht begonnen wurde",
            "erklaerung-nicht-begonnen.pdf",
            None,
        ),
        ("Qualifikationsnachweis", "qualifikation.pdf", "Koordinator/in (0,5 VZÄ)"),
    ]
    missing = page.locator(".notice", has_text="Noch erforderlich")
    expect(missing).to_contain_text("Qualifikationsnachweis fehlt für „Koordinator/in (0,5 VZÄ)“")
    for position, (doc_type, filename, staff_line) in enumerate(uploads, start=1):
        path = tmp_path / filename
        path.write_bytes(MINIMAL_PDF)
        page.get_by_label("Dokumentart").select_option(label=doc_type)
        if staff_line:
            page.get_by_label("Personalposition (für Qualifikationsnachweise)").select_option(
                label=staff_line
            )
        page.get_by_label("Datei").set_input_files(path)
        page.get_by_role("button", name="Hochladen").click()
        expect(page.get_by_role("status")).to_contain_text("Das Dokument wurde hochgeladen.")
        documents = page.get_by_role("table", name="Hochgeladene Dokumente").locator("tbody tr")
        expect(documents).to_have_count(position)
        expect(documents.nth(position - 1)).to_contain_text(filename)
    expect(missing).to_have_count(0)
    # The qualification proof is tied to the staff line.
    expect(documents.filter(has_text="qualifikation.pdf")).to_contain_text(
        "Qualifikationsnachweis – Koordinator/in (0,5 VZÄ)"
    )
    axe_check(page, "edit_documents")
    page.get_by_role("button", name="Weiter zu „Prüfen und einreichen“").click()

    # --- step 5: check and submit (late: the window is over) --------------------------------------
    heading(page, "Prüfen und einreichen")
    opens, closes = (d.strftime("%d.%m.%Y") for d in live_server.window)
    expect(
        page.get_by_text(f"Antragsfrist für das Förderjahr {year}: {opens} bis {closes}.")
    ).to_be_visible()
    checklist = page.locator(".checklist li")
    expect(checklist).to_have_count(1)  # only the missing justification is left
    expect(checklist).to_contain_text("Bitte begründen Sie die verspätete Einreichung.")
    axe_check(page, "edit_submit")
    page.get_by_label("Begründung der verspäteten Einreichung").fill(
        "Der Kreistagsbeschluss zur Kofinanzierung lag erst nach Ablauf der Antragsfrist vor."
    )
    page.get_by_label(re.compile("^Ich versichere, dass die Angaben richtig")).check()
    page.get_by_role("button", name="Antrag einreichen").click()

    # --- detail page: submitted, PDF copy ---------------------------------------------------------
    expect(page).to_have_url(re.compile(rf"/antraege/{application_id}$"))
    expect(page.get_by_role("status")).to_contain_text("Der Antrag wurde eingereicht (Version 1).")
    heading(page, title)
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Eingereicht")
    expect(facts).to_contain_text("verspätet eingereicht")
    expect(facts).to_contain_text(f"LPR-KP-{year}-{application_id:05d}")
    expect(facts).to_contain_text(f"01.06.{year} – 31.12.{year}")
    expect(facts.locator("dd").nth(5)).to_have_text(money("18.000,00 €"))  # requested grant
    expect(facts.locator("dd").nth(6)).to_have_text(money("20.000,00 €"))  # eligible
    expect(page.get_by_role("link", name="Antrag bearbeiten")).to_have_count(0)
    page.screenshot(path=str(artifacts / "browser-detail.png"), full_page=True)
    axe_check(page, "detail")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="PDF herunterladen").click()
    download = download_info.value
    assert download.suggested_filename == f"LPR-KP-{year}-{application_id:05d}-v1.pdf"
    pdf_path = artifacts / "browser-submission-v1.pdf"
    download.save_as(pdf_path)
    data = pdf_path.read_bytes()
    assert data.startswith(b"%PDF"), data[:40]
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(pdf_path).pages).split())
    assert f"Aktenzeichen LPR-KP-{year}-{application_id:05d}" in text
    assert "Verspätet Ja. Begründung: Der Kreistagsbeschluss" in text
    assert "Koordinator/in (0,5 VZÄ)" in text
    assert f"Obergrenze {_eur(cap)}" in text
    assert "Beantragte Zuwendung 18.000,00 €" in text

    assert page_problems.all() == [], page_problems.all()
    assert live_server.server_errors() == [], live_server.server_errors()
    assert axe_check.violations == [], "\n".join(axe_check.violations)
