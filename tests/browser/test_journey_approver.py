"""Journey of an approver (Bewilligung) in Chromium: two decisions prepared by a reviewer wait
for the approver. The approver sends the first back to the reviewer (a reason is required and
typed reasons are asked for again when missing), rejects the second with written reasons, and
each applicant sees the outcome on their application page. The approver's part runs in German
and in English (the approver switches the language in the header; every text the test expects is
looked up in the English catalog, so an untranslated text fails the English run). (Approving with
the Bescheid download is the last part of ``test_review_flow``.)"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - pinned in requirements-dev.txt
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("playwright is not installed", allow_module_level=True)

from app.extensions import db
from tests.browser.catalog import Translator
from tests.browser.conftest import AxeCheck, Budget, LiveServer, PageProblems, checked, login

pytestmark = pytest.mark.browser

#: Per language run: its own approver, reviewer and two organisations (the live server lives for
#: the whole session).
APPROVER = "bescheid-{lang}@lpr.browser-test.de"
PREPARER = "vorbereitung-{lang}@lpr.browser-test.de"
ORGANISATIONS = {
    "de": {"back": "14511000", "reject": "14713000"},  # Chemnitz, Leipzig
    "en": {"back": "14627140", "reject": "14627230"},  # Meißen, Riesa
}


def applicant_email(lang: str, key: str) -> str:
    return f"kpr-{key}-{lang}@kommune.browser-test.de"


BACK_REASON = "Die Personalkosten sind auf die TV-L-Obergrenze zu kürzen."
REJECT_REASON = "Der Kommunale Präventionsrat ist noch nicht konstituiert (RL KommPräv Nr. IV)."


@dataclass
class Prepared:
    application_id: int
    reference: str
    title: str


@pytest.fixture(params=["de", "en"])
def lang(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def heading(page: Any, text: str | re.Pattern[str]) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)
    checked(page, str(text))


def fact(page: Any, term: str) -> Any:
    return page.locator("dl.facts").first.locator(f"dt:text-is('{term}') + dd")


def flash(page: Any, text: str) -> None:
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


@pytest.fixture
def prepared(live_server: LiveServer, budget: Budget, lang: str) -> dict[str, Prepared]:
    """Committed: an approver, a reviewer who prepared a decision on two submitted applications
    (of organisations of their own)."""
    from app.grants.services import review
    from tests import factories

    with live_server.app.app_context():
        factories.create_user("approver", email=APPROVER.format(lang=lang), name="Arne Amtsleitung")
        preparer = factories.create_user(
            "reviewer", email=PREPARER.format(lang=lang), name="Ronja Referentin"
        )
        cases = {}
        for key, ags in ORGANISATIONS[lang].items():
            applicant = factories.create_user(
                "applicant", ags=ags, email=applicant_email(lang, key), name=f"Antrag {key}"
            )
            assert applicant.organisation is not None
            factories.consultation(applicant.organisation, preparer, held_on=date(2026, 9, 1))
            application = factories.submitted_application(
                applicant, funding_year=factories.IN_WINDOW.year + 1
            )
            review.start_review(preparer, application)
            data = review.proposal(application, budget.year)
            data.late_accepted = application.is_late
            if application.is_late:
                data.override_note = "Verspätung begründet."
            review.prepare_decision(preparer, application, data, approval_year=budget.year)
            cases[key] = Prepared(application.id, application.reference or "", application.title)
        db.session.commit()
        db.session.remove()
    return cases


def _open(page: Any, case: Prepared, t: Translator) -> None:
    page.get_by_role("navigation", name=t("Hauptnavigation")).get_by_role(
        "link", name=t("Prüfung"), exact=True
    ).click()
    heading(page, t("Anträge in der Prüfung"))
    row = page.locator("table tbody tr", has_text=case.reference)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(t("In Prüfung"))
    row.get_by_role("link", name=case.reference).click()
    heading(page, f"{case.reference}: {case.title}")


def test_approver_sends_back_and_rejects_with_reasons(
    new_page: Callable[[], Any],
    live_server: LiveServer,
    prepared: dict[str, Prepared],
    lang: str,
    page_problems: PageProblems,
    axe_check: AxeCheck,
) -> None:
    t = Translator(lang)
    approver = new_page()
    login(approver, APPROVER.format(lang=lang))
    if lang == "en":
        approver.get_by_role("button", name="English").click()
        expect(approver.get_by_role("button", name="Log out")).to_be_visible()
        checked(approver, "start_en")

    # --- 1. send back: a reason is required ---------------------------------------------------
    back = prepared["back"]
    _open(approver, back, t)
    send_back = t("Zur Überarbeitung zurückgeben")
    approver.get_by_role("button", name=send_back).click()
    expect(approver.get_by_text(t("Bitte geben Sie an, was zu ändern ist."))).to_be_visible()
    approver.get_by_label(t("Begründung")).fill(BACK_REASON)
    approver.get_by_role("button", name=send_back).click()
    flash(approver, t("Die Entscheidung wurde zur Überarbeitung zurückgegeben."))
    axe_check(approver, "sent_back")
    approve = t("Bewilligen und Bescheid erstellen")
    expect(approver.get_by_role("button", name=approve)).to_have_count(0)
    approver.get_by_text(t("Frühere Entscheidungen")).click()
    expect(approver.locator("details li").first).to_contain_text(BACK_REASON)

    # --- 2. reject with written reasons ---------------------------------------------------------
    rejected = prepared["reject"]
    _open(approver, rejected, t)
    approver.get_by_label(t("Begründung")).fill(REJECT_REASON)
    approver.get_by_role("button", name=t("Ablehnen")).click()
    flash(approver, t("Der Antrag wurde abgelehnt."))
    axe_check(approver, "rejected")
    expect(fact(approver, t("Status"))).to_contain_text(t("Abgelehnt"))

    # --- 3. the applicants (German UI) see the outcome -------------------------------------------
    applicant = new_page()
    login(applicant, applicant_email(lang, "reject"))
    applicant.goto(f"/antraege/{rejected.application_id}")
    heading(applicant, rejected.title)
    expect(fact(applicant, "Status")).to_contain_text("Abgelehnt")
    expect(applicant.get_by_text(REJECT_REASON).first).to_be_visible()

    other = new_page()
    login(other, applicant_email(lang, "back"))
    other.goto(f"/antraege/{back.application_id}")
    heading(other, back.title)
    expect(fact(other, "Status")).to_contain_text("In Prüfung")
    # The internal reason for the reviewer is not shown to the applicant.
    expect(other.get_by_text(BACK_REASON)).to_have_count(0)

    assert page_problems.all() == [], page_problems.all()
    assert live_server.server_errors() == [], live_server.server_errors()
    assert axe_check.violations == [], "\n".join(axe_check.violations)
