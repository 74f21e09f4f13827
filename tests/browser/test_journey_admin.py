"""Journey of the administrator in Chromium: invites a new colleague of the Geschäftsstelle with
two roles (approval and review), is told truthfully that the mail only waits in the outbox, and
cannot give an applicant a second role; the colleague opens the link from the mail, creates the
account, must set up the second factor (key from the page, code from an authenticator) and then
works with both roles; the administrator maintains reference data (a TV-L cap) on "Stammdaten"."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

import pytest

try:
    import pyotp
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - pinned in the requirements
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("playwright or pyotp is not installed", allow_module_level=True)

from app.extensions import db
from tests.browser.conftest import AxeCheck, LiveServer, PageProblems, checked, login

pytestmark = pytest.mark.browser

ADMIN = "admin@lpr.browser-test.de"
NEW_COLLEAGUE = "neu.kollegin@lpr.browser-test.de"
NEW_PASSWORD = "Silberdistel-Muldental-Abendrot-77"
APPROVAL = "Bewilligung (Geschäftsstelle LPR)"
REVIEW = "Sachbearbeitung Förderung (Geschäftsstelle LPR)"


def heading(page: Any, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)
    checked(page, text)


def flash(page: Any, text: str | re.Pattern[str]) -> None:
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


def nav(page: Any, name: str) -> None:
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role(
        "link", name=name, exact=True
    ).click()


@pytest.fixture
def admin(live_server: LiveServer) -> str:
    from tests import factories

    with live_server.app.app_context():
        factories.create_user("admin", email=ADMIN, name="Ada Administration")
        db.session.commit()
        db.session.remove()
    return ADMIN


def _invitation_link(live_server: LiveServer, email: str) -> str:
    from app.common.mail import OutboxMessage

    with live_server.app.app_context():
        body = (
            db.session.execute(
                db.select(OutboxMessage.body)
                .where(OutboxMessage.recipient == email)
                .order_by(OutboxMessage.id.desc())
            )
            .scalars()
            .first()
        )
        db.session.remove()
    assert body is not None
    match = re.search(r"https?://\S+(/auth/einladung/\S+)", body)
    assert match is not None, body
    return match.group(1)


def test_admin_invites_with_two_roles_and_maintains_reference_data(
    new_page: Callable[[], Any],
    live_server: LiveServer,
    admin: str,
    page_problems: PageProblems,
    axe_check: AxeCheck,
) -> None:
    page = new_page()
    login(page, admin)

    # --- 1. invite a colleague with two roles ----------------------------------------------------
    nav(page, "Benutzer einladen")
    heading(page, "Person einladen")
    page.get_by_label("E-Mail-Adresse").fill(NEW_COLLEAGUE)
    page.get_by_label("Antragsteller/in (Kommune)").check()
    page.get_by_label(REVIEW).check()
    page.get_by_role("button", name="Einladung senden").click()
    # an applicant has no second role: refused at the roles, the typed address kept
    expect(page.locator("#role-error")).to_be_visible()
    expect(page.get_by_label("E-Mail-Adresse")).to_have_value(NEW_COLLEAGUE)
    axe_check(page, "invite_refused")
    page_problems.console[:] = [c for c in page_problems.console if "status of 422" not in c]
    page.get_by_label("Antragsteller/in (Kommune)").uncheck()
    page.get_by_label(APPROVAL).check()
    page.get_by_role("button", name="Einladung senden").click()
    flash(page, re.compile(rf"Die Einladung an {re.escape(NEW_COLLEAGUE)} ist"))
    axe_check(page, "invited")

    # --- 2. the colleague accepts, sets up the second factor and has both roles ------------------
    colleague = new_page()
    colleague.goto(_invitation_link(live_server, NEW_COLLEAGUE))
    heading(colleague, "Konto anlegen")
    colleague.get_by_label("Ihr Name").fill("Nora Neu")
    colleague.get_by_label("Passwort", exact=True).fill(NEW_PASSWORD)
    colleague.get_by_label("Passwort wiederholen").fill(NEW_PASSWORD)
    colleague.get_by_role("button", name=re.compile("Konto anlegen")).click()
    heading(colleague, "Zweiten Faktor einrichten")
    secret = colleague.locator("code.totp-secret").inner_text().replace(" ", "")
    colleague.get_by_label("Code aus der Authenticator-App").fill(pyotp.TOTP(secret).now())
    colleague.get_by_role("button", name="Einrichten").click()
    heading(colleague, "Wiederherstellungscodes")
    main_nav = colleague.get_by_role("navigation", name="Hauptnavigation")
    expect(main_nav.get_by_role("link", name="Prüfung", exact=True)).to_be_visible()
    nav(colleague, "Prüfung")
    heading(colleague, "Anträge in der Prüfung")
    with live_server.app.app_context():  # both roles of the invitation on the new account
        from app.auth.models import User

        user = db.session.execute(db.select(User).where(User.email == NEW_COLLEAGUE)).scalar_one()
        assert {r.value for r in user.roles} == {"approver", "reviewer"}
        db.session.remove()

    # --- 3. reference data: a TV-L cap for next year ---------------------------------------------
    nav(page, "Stammdaten")
    heading(page, "Stammdaten des Förderprogramms")
    form = page.locator("form").filter(has=page.get_by_role("button", name="Obergrenze speichern"))
    form.get_by_label("Jahr").fill("2031")
    form.get_by_label("Entgeltgruppe").select_option(label="EG 11")
    form.get_by_label(re.compile("Monatlicher Höchstbetrag")).fill("5.432,10")
    form.get_by_label("Quelle").fill("TV-L Entgelttabelle 2031 (Journey-Test)")
    form.get_by_role("button", name="Obergrenze speichern").click()
    flash(page, "Die TV-L-Obergrenze wurde gespeichert.")
    row = page.locator("table tbody tr", has_text="TV-L Entgelttabelle 2031")
    expect(row).to_contain_text("EG 11")
    expect(row).to_contain_text(re.compile(r"5\.432,10\s€"))
    axe_check(page, "reference_saved")

    assert page_problems.all() == [], page_problems.all()
    assert live_server.server_errors() == [], live_server.server_errors()
    assert axe_check.violations == [], "\n".join(axe_check.violations)
