"""End to end in Chromium, ministry side: the lead assigns a submitted application, the reviewer
asks for a change, the applicant edits and resubmits, the reviewer compares the versions and
prepares the decision, a second approver approves it (four eyes) within the budget, and the
applicant downloads the Zuwendungsbescheid."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import date
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

from app.common.dates import add_months
from app.common.money import format_eur, format_plain
from app.grants.services.review import default_years
from tests.browser.conftest import (
    APPROVER_EMAIL,
    LEAD_EMAIL,
    REVIEW_APPLICANT_EMAIL,
    REVIEWER_EMAIL,
    AxeCheck,
    Budget,
    LiveServer,
    PageProblems,
    ReviewCase,
    checked,
    login,
)

pytestmark = pytest.mark.browser

LATE_REASON = "Der Kreistagsbeschluss zur Kofinanzierung lag erst nach Ablauf der Frist vor."
CHECK_NOTE = "EG 11 passt zur Stellenbeschreibung der Koordinierungsstelle."
CHANGE_MESSAGE = "Bitte präzisieren Sie den Projekttitel (Bezug zur Sicherheitsbefragung)."


def money(cents: int) -> re.Pattern[str]:
    """A German amount as rendered ("40.000,00 €"); the space before "€" may be a non-breaking
    one."""
    return re.compile(re.escape(format_plain(cents)) + r"\s€")


def heading(page: Any, text: str | re.Pattern[str]) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)
    checked(page, str(text))


def fact(page: Any, term: str) -> Any:
    """The ``<dd>`` after the ``<dt>`` with ``term`` in the first facts list."""
    return page.locator("dl.facts").first.locator(f"dt:text-is('{term}') + dd")


def flash(page: Any, text: str) -> None:
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


def open_from_queue(page: Any, case: ReviewCase) -> Any:
    """Main navigation → "Prüfung" → the application's row → review page; returns the row."""
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role(
        "link", name="Prüfung", exact=True
    ).click()
    heading(page, "Anträge in der Prüfung")
    row = page.locator("table tbody tr", has_text=case.reference)
    expect(row).to_have_count(1)
    return row


def test_review_change_request_decision_four_eyes_and_bescheid(
    new_page: Callable[[], Any],
    live_server: LiveServer,
    budget: Budget,
    review_case: ReviewCase,
    page_problems: PageProblems,
    axe_check: AxeCheck,
    artifacts: Path,
) -> None:
    case = review_case
    review_url = f"/pruefung/{case.application_id}"
    new_title = f"{case.title} mit Sicherheitsbefragung"

    # --- 1. the lead (approver + reviewer) assigns the application --------------------------------
    lead = new_page()
    login(lead, LEAD_EMAIL)
    row = open_from_queue(lead, case)
    expect(row).to_contain_text("Pirna")
    expect(row).to_contain_text("Eingereicht")
    expect(row.locator("td").nth(5)).to_have_text(money(case.grant_cents))
    expect(row.locator("td").nth(7)).to_have_text("—")  # nobody assigned yet
    axe_check(lead, "review_queue")
    row.get_by_role("link", name=case.reference).click()
    expect(lead).to_have_url(re.compile(rf"{review_url}$"))
    heading(lead, f"{case.reference}: {case.title}")
    expect(fact(lead, "Status")).to_contain_text("Eingereicht")
    expect(fact(lead, "Sachbearbeitung")).to_have_text("nicht zugewiesen")
    lead.get_by_label("Zuweisen an").select_option(label=case.reviewer)
    lead.get_by_role("button", name="Zuweisen", exact=True).click()
    flash(lead, f"Der Antrag wurde {case.reviewer} zugewiesen.")
    expect(fact(lead, "Sachbearbeitung")).to_have_text(case.reviewer)
    expect(fact(lead, "Status")).to_contain_text("In Prüfung")

    # --- 2. the reviewer asks for a change --------------------------------------------------------
    reviewer = new_page()
    login(reviewer, REVIEWER_EMAIL)
    row = open_from_queue(reviewer, case)
    reviewer.get_by_label("Zugewiesen", exact=True).select_option(label="mir")
    reviewer.get_by_role("button", name="Filtern").click()
    expect(reviewer).to_have_url(re.compile(r"zugewiesen=ich"))
    axe_check(reviewer, "queue_filtered")
    expect(row).to_contain_text(case.reviewer)
    expect(reviewer.get_by_text(re.compile(r"^1 Antrag$"))).to_be_visible()  # singular
    row.get_by_role("link", name=case.reference).click()
    heading(reviewer, f"{case.reference}: {case.title}")
    expect(reviewer.get_by_role("button", name="Prüfung übernehmen")).to_have_count(0)
    # Assigning is for leads (approver/admin) only.
    expect(reviewer.get_by_label("Zuweisen an")).to_have_count(0)
    # The reviewer reads the whole application here: plan with totals, staff, documents.
    plan = reviewer.locator("table.plan")
    expect(plan).to_contain_text("Koordination")
    expect(plan).to_contain_text("EG 11 Stufe 3 · 0,5 VZÄ · 12 Monate")
    expect(plan.locator("tfoot tr").first).to_contain_text(money(case.eligible_cents))
    financing = reviewer.locator("table.financing")
    expect(financing.locator("tr", has_text="Beantragte Zuwendung")).to_contain_text(
        money(case.grant_cents)
    )
    expect(financing.locator("tr", has_text="Fördersatz")).to_contain_text(
        re.compile(r"\d+,\d\d\s%")
    )
    documents = reviewer.locator("#dokumente + table")
    expect(documents).to_contain_text("Projektbeschreibung")
    with reviewer.expect_download() as document_download:
        documents.get_by_role("link", name="project_description.pdf").click()
    assert document_download.value.suggested_filename == "project_description.pdf"
    document_path = artifacts / "browser-review-document.pdf"
    document_download.value.save_as(document_path)
    assert document_path.read_bytes().startswith(b"%PDF")
    reviewer.screenshot(path=str(artifacts / "browser-review-content.png"), full_page=True)
    # Manual check items with a note, beside the automatic rule checks.
    reviewer.get_by_label("Stellenbeschreibung plausibel", exact=True).check()
    reviewer.get_by_label("Notiz zu „Stellenbeschreibung plausibel“").fill(CHECK_NOTE)
    reviewer.get_by_role("button", name="Prüfpunkte speichern").click()
    flash(reviewer, "Die Prüfpunkte wurden gespeichert.")
    expect(reviewer.get_by_label("Stellenbeschreibung plausibel", exact=True)).to_be_checked()
    expect(reviewer.get_by_label("Notiz zu „Stellenbeschreibung plausibel“")).to_have_value(
        CHECK_NOTE
    )
    # A change request with an impossible date keeps what was typed; the error is at the field.
    reviewer.get_by_label("Betroffene Abschnitte").select_option(["general"])
    reviewer.get_by_label("Was soll geändert oder nachgereicht werden?").fill(CHANGE_MESSAGE)
    reviewer.get_by_label("Frist (optional)").fill("31.02.2027")
    reviewer.get_by_role("button", name="Änderungen anfordern").click()
    expect(reviewer.locator("#due_on-error")).to_be_visible()
    expect(reviewer.get_by_label("Frist (optional)")).to_have_value("31.02.2027")
    expect(reviewer.get_by_label("Was soll geändert oder nachgereicht werden?")).to_have_value(
        CHANGE_MESSAGE
    )
    expect(reviewer.get_by_label("Betroffene Abschnitte")).to_have_values(["general"])
    axe_check(reviewer, "change_request_error")
    # Chromium logs the expected refusal (422) as a console error; only this one is expected.
    expected = [m for m in page_problems.console if "status of 422" in m]
    assert len(expected) == 1, page_problems.console
    page_problems.console.remove(expected[0])
    reviewer.get_by_label("Frist (optional)").fill("")
    reviewer.get_by_role("button", name="Änderungen anfordern").click()
    flash(reviewer, "Die Nachforderung wurde an die Kommune gesendet.")
    expect(fact(reviewer, "Status")).to_contain_text("Nachforderung")
    expect(reviewer.locator("li", has_text=f"{case.reviewer}: {CHANGE_MESSAGE}")).to_contain_text(
        "offen"
    )
    # No further change request or decision while the applicant is working on it.
    expect(reviewer.get_by_role("button", name="Änderungen anfordern")).to_have_count(0)
    expect(reviewer.get_by_role("link", name="Entscheidung vorbereiten")).to_have_count(0)

    # --- 3. the applicant sees the request, edits the title and resubmits -------------------------
    applicant = new_page()
    login(applicant, REVIEW_APPLICANT_EMAIL)
    applicant.get_by_role("navigation", name="Hauptnavigation").get_by_role(
        "link", name="Meine Anträge"
    ).click()
    mine = applicant.locator("table tbody tr", has_text=case.reference)
    expect(mine).to_contain_text("Nachforderung")
    expect(mine).to_contain_text("Nachgeforderte Angaben ergänzen und erneut einreichen")
    mine.get_by_role("link", name=case.title).click()
    heading(applicant, case.title)
    expect(fact(applicant, "Status")).to_have_text("Nachforderung")
    change_requests = applicant.locator(
        "h2:text-is('Nachforderungen der Bewilligungsbehörde') + ul > li"
    )
    expect(change_requests).to_have_count(1)
    expect(change_requests).to_contain_text(CHANGE_MESSAGE)
    expect(change_requests).to_contain_text("offen")
    applicant.get_by_role("link", name="Antrag bearbeiten").click()
    heading(applicant, "Allgemeines")
    applicant.get_by_label("Projekttitel").fill(new_title)
    applicant.get_by_role("button", name="Speichern und weiter").click()
    heading(applicant, "KPR und Koordinierungsstelle")
    applicant.get_by_role("button", name="5. Prüfen und einreichen").click()
    heading(applicant, "Prüfen und einreichen")
    checklist = applicant.locator(".checklist li")
    # Late (after the window, judged by the first submission): a justification is required.
    if checklist.filter(has_text="Bitte begründen Sie die verspätete Einreichung.").count():
        applicant.get_by_label("Begründung der verspäteten Einreichung").fill(LATE_REASON)
    else:
        expect(applicant.get_by_text("Alle Voraussetzungen sind erfüllt.")).to_be_visible()
    applicant.get_by_label(re.compile("^Ich versichere, dass die Angaben richtig")).check()
    applicant.get_by_role("button", name="Antrag einreichen").click()
    expect(applicant).to_have_url(re.compile(rf"/antraege/{case.application_id}$"))
    flash(applicant, "Der Antrag wurde eingereicht (Version 2).")
    heading(applicant, new_title)
    expect(fact(applicant, "Status")).to_contain_text("Eingereicht")
    versions = applicant.get_by_role("table").filter(has_text="Prüfsumme").locator("tbody tr")
    expect(versions).to_have_count(2)
    expect(versions.nth(0).locator("td").first).to_have_text("2")
    expect(versions.nth(1).locator("td").first).to_have_text("1")
    expect(change_requests).to_contain_text("erledigt")
    # The applicant keeps the list of their uploads (read-only) after submitting.
    expect(applicant.locator("#dokumente + table")).to_contain_text("project_description.pdf")
    expect(applicant.get_by_role("link", name="Antrag bearbeiten")).to_have_count(0)

    # --- 4. the reviewer compares the versions and prepares the decision --------------------------
    reviewer.goto(review_url)
    heading(reviewer, f"{case.reference}: {new_title}")
    expect(fact(reviewer, "Status")).to_contain_text("Eingereicht")
    reviewer.get_by_role("link", name="Änderungen gegenüber Version 1").click()
    heading(reviewer, "Änderungen von Version 1 zu Version 2")
    changed = reviewer.locator("table tbody tr", has=reviewer.locator("ins", has_text=new_title))
    expect(changed).to_have_count(1)
    expect(changed.locator("th")).to_have_text("Projekttitel")
    expect(changed.locator("del")).to_have_text(case.title)
    # German labels only: no raw snapshot keys, cents or basis points.
    expect(reviewer.locator("table.compare")).not_to_contain_text(re.compile(r"_cents|_bp|\["))
    axe_check(reviewer, "compare")
    reviewer.screenshot(path=str(artifacts / "browser-review-compare.png"), full_page=True)
    reviewer.locator(".breadcrumb").get_by_role("link", name=case.reference).click()
    heading(reviewer, f"{case.reference}: {new_title}")
    # A resubmitted application is back in "Eingereicht": the reviewer takes it over again.
    reviewer.get_by_role("button", name="Prüfung übernehmen").click()
    flash(reviewer, "Sie prüfen jetzt diesen Antrag.")
    expect(fact(reviewer, "Status")).to_contain_text("In Prüfung")
    expect(fact(reviewer, "Sachbearbeitung")).to_have_text(case.reviewer)

    reviewer.get_by_role("link", name="Entscheidung vorbereiten").click()
    heading(reviewer, "Entscheidung vorbereiten")
    # The proposal is prefilled from the application.
    start, end = date(case.funding_year, 1, 1), date(case.funding_year, 12, 31)
    years = default_years(case.grant_cents, start, end, budget.year)
    assert set(years) <= {budget.year, *budget.authorisations}, years  # bookable in the budget
    rate = -(-case.grant_cents * 10000 // case.eligible_cents)
    form = reviewer.locator("form").filter(
        has=reviewer.get_by_role("button", name="Entscheidung vorbereiten")
    )
    expect(form.get_by_label("Finanzierungsart")).to_have_value("share")
    expect(form.get_by_label("Fördersatz (%)")).to_have_value(f"{rate // 100},{rate % 100:02d}")
    expect(form.get_by_label("Zuwendungsfähige Ausgaben")).to_have_value(
        format_plain(case.eligible_cents)
    )
    expect(form.get_by_label("Höchstbetrag")).to_have_value(format_plain(case.grant_cents))
    expect(form.get_by_label("Zuwendung", exact=True)).to_have_value(format_plain(case.grant_cents))
    expect(form.get_by_label("Bewilligungszeitraum von")).to_have_value(f"{start:%d.%m.%Y}")
    expect(form.get_by_label("Bewilligungszeitraum bis")).to_have_value(f"{end:%d.%m.%Y}")
    expect(form.get_by_label("Verwendungsnachweis bis")).to_have_value(
        f"{add_months(end, 12):%d.%m.%Y}"
    )
    expect(form.get_by_label("Beträge je Haushaltsjahr")).to_have_value(
        "\n".join(f"{y}: {format_plain(a)}" for y, a in sorted(years.items()))
    )
    # The decision preparation shows the rule checks and the manual items with their notes.
    expect(reviewer.locator(".prep-checklist summary")).to_contain_text(
        "1 von 5 manuellen Prüfpunkten erledigt"
    )
    expect(reviewer.locator(".prep-checklist")).to_contain_text(CHECK_NOTE)
    late_box = form.get_by_label("Begründung der verspäteten Antragstellung wird anerkannt")
    expect(late_box).to_have_count(1 if case.is_late else 0)
    axe_check(reviewer, "decision_form")
    if case.is_late:
        late_box.check()
    form.get_by_role("button", name="Entscheidung vorbereiten").click()

    expect(reviewer).to_have_url(re.compile(rf"{review_url}#entscheidung$"))
    flash(reviewer, "Die Entscheidung ist vorbereitet und wartet auf die Bewilligung")
    decision = reviewer.locator("h2#entscheidung + dl.facts")
    expect(decision.locator("dt:text-is('Vorbereitet von') + dd")).to_have_text(case.reviewer)
    expect(decision.locator("dt:text-is('Zuwendung') + dd")).to_contain_text(
        money(case.grant_cents)
    )
    expect(decision.locator("dt:text-is('Bewilligungszeitraum') + dd")).to_have_text(
        f"{start:%d.%m.%Y} – {end:%d.%m.%Y}"
    )
    for year, amount in years.items():
        expect(decision.locator("dt:text-is('Je Haushaltsjahr') + dd")).to_contain_text(
            money(amount)
        )
        expect(decision.locator("dt:text-is('Je Haushaltsjahr') + dd")).to_contain_text(f"{year}:")

    # --- 4b. the reviewer revises the prepared decision, keeping its budget years (issue 11:
    # this was an HTTP 500 on a UNIQUE constraint) --------------------------------------------
    reviewer.get_by_role("link", name="Entscheidung überarbeiten").click()
    expect(reviewer.get_by_role("heading", level=1)).to_have_text("Entscheidung vorbereiten")
    form = reviewer.locator("form").filter(
        has=reviewer.get_by_role("button", name="Entscheidung vorbereiten")
    )
    expect(form.get_by_label("Zuwendung", exact=True)).to_have_value(format_plain(case.grant_cents))
    vn_until = form.get_by_label("Verwendungsnachweis bis")
    earlier_vn = add_months(end, 6)
    vn_until.fill(f"{earlier_vn:%d.%m.%Y}")
    if case.is_late:
        form.get_by_label("Begründung der verspäteten Antragstellung wird anerkannt").check()
    form.get_by_role("button", name="Entscheidung vorbereiten").click()
    flash(reviewer, "Die Entscheidung ist vorbereitet und wartet auf die Bewilligung")
    expect(decision.locator("dt:text-is('Zuwendung') + dd")).to_contain_text(
        money(case.grant_cents)
    )
    expect(decision.locator("dt:text-is('Verwendungsnachweis bis') + dd")).to_have_text(
        f"{earlier_vn:%d.%m.%Y}"
    )
    for year in years:
        expect(decision.locator("dt:text-is('Je Haushaltsjahr') + dd")).to_contain_text(f"{year}:")
    assert live_server.server_errors() == [], live_server.server_errors()

    # --- 5. four eyes: the preparer cannot approve; a second approver does ------------------------
    for name in ("Bewilligen und Bescheid erstellen", "Ablehnen", "Zur Überarbeitung zurückgeben"):
        expect(reviewer.get_by_role("button", name=name)).to_have_count(0)
    # The open decision is not listed again among the earlier ones.
    expect(reviewer.get_by_text("Frühere Entscheidungen")).to_have_count(0)
    reviewer.screenshot(path=str(artifacts / "browser-review-decision.png"), full_page=True)
    axe_check(reviewer, "review_page")

    approver = new_page()
    login(approver, APPROVER_EMAIL)
    row = open_from_queue(approver, case)
    expect(row).to_contain_text("In Prüfung")
    row.get_by_role("link", name=case.reference).click()
    heading(approver, f"{case.reference}: {new_title}")
    expect(approver.get_by_role("link", name="Entscheidung vorbereiten")).to_have_count(0)
    expect(approver.get_by_role("link", name="Entscheidung überarbeiten")).to_have_count(0)
    approver.get_by_role("button", name="Bewilligen und Bescheid erstellen").click()
    expect(approver).to_have_url(re.compile(rf"{review_url}#entscheidung$"))
    flash(approver, "Bewilligt. Der Zuwendungsbescheid wurde erstellt.")
    expect(fact(approver, "Status")).to_contain_text("Bewilligt")
    expect(approver.get_by_role("button", name="Bewilligen und Bescheid erstellen")).to_have_count(
        0
    )
    expect(approver.get_by_role("heading", name="Zuwendungsbescheid")).to_be_visible()
    expect(approver.get_by_role("link", name="Bescheid herunterladen (PDF)")).to_be_visible()
    approver.get_by_text("Frühere Entscheidungen").click()
    expect(approver.locator("details li")).to_have_count(1)
    expect(approver.locator("details li")).to_contain_text(
        re.compile(r"– Bewilligt – " + money(case.grant_cents).pattern + f" – {case.approver}$")
    )
    # The answered change request keeps its heading once the request form is gone.
    expect(approver.locator("h2#nachforderung + ul > li")).to_contain_text("erledigt")

    # --- 6. the applicant downloads the Zuwendungsbescheid ----------------------------------------
    applicant.reload()
    expect(fact(applicant, "Status")).to_contain_text("Bewilligt")
    expect(fact(applicant, "Nächster Schritt")).to_have_text(
        "Zuwendungsbescheid lesen; Rechtsbehelfsfrist läuft"
    )
    link = applicant.get_by_role("link", name="Zuwendungsbescheid herunterladen (PDF)")
    expect(link).to_be_visible()
    applicant.screenshot(path=str(artifacts / "browser-applicant-bescheid.png"), full_page=True)
    with applicant.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == f"Zuwendungsbescheid-{case.reference}.pdf"
    pdf_path = artifacts / "browser-bescheid.pdf"
    download.save_as(pdf_path)
    data = pdf_path.read_bytes()
    assert data.startswith(b"%PDF"), data[:40]
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(pdf_path).pages).split())
    assert "Zuwendungsbescheid" in text
    assert f"Aktenzeichen: {case.reference}" in text
    assert format_eur(case.grant_cents).replace("\u00a0", " ") in text, text[:2000]

    assert page_problems.all() == [], page_problems.all()
    assert live_server.server_errors() == [], live_server.server_errors()
    assert axe_check.violations == [], "\n".join(axe_check.violations)
