"""Programme monitoring in the browser (issue 15): the public page without login and the
dashboard for the ministry, both checked with axe; the map is keyboard accessible."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import AxeCheck, checked, login

pytestmark = pytest.mark.browser

REVIEWER = "pruefung@lpr.browser-test.de"  # created by the live server's seed


def test_public_page_and_dashboard(page: Any, axe_check: AxeCheck, live_server: Any) -> None:
    from playwright.sync_api import expect

    response = page.goto("/programm-in-zahlen")
    assert response is not None and "public" in response.headers["cache-control"]
    expect(page.get_by_role("heading", name="Förderprogramm in Zahlen", level=1)).to_be_visible()
    expect(page.get_by_text("© GeoBasis-DE / BKG (2024)")).to_be_visible()
    checked(page, "public")

    login(page, REVIEWER)
    page.get_by_role("link", name="Programm", exact=True).click()
    expect(
        page.get_by_role("heading", name="Förderprogramm: Stand und Entwicklung")
    ).to_be_visible()
    checked(page, "dashboard")
    zittau = page.locator('path.region[aria-label^="Zittau"]')
    zittau.focus()
    assert zittau.evaluate("el => document.activeElement === el")
    assert "beraten" in (zittau.get_attribute("aria-label") or "")

    page.get_by_label("Förderjahr").fill("abc")
    page.get_by_role("button", name="Filtern").click()
    expect(page.get_by_text("Bitte geben Sie ein Förderjahr wie 2027 ein.").first).to_be_visible()
    checked(page, "dashboard_filter_error")
    assert axe_check.violations == [], "\n".join(axe_check.violations)
