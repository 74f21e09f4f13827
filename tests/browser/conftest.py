"""Fixtures for the end-to-end browser tests: a live server on its own SQLite file and Debian's
Chromium driven by Playwright's sync API.

The live server cannot share the per-test rolled-back transaction of ``tests/conftest.py``: it
serves from another thread and needs committed data. It gets its own app object, its own
database file and upload directory. The autouse ``_db_transaction`` fixture still wraps each
browser test around the *other* test database, which these tests never touch.

Without ``/usr/bin/chromium`` the tests are skipped, except with ``CI=true``, where they fail.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import BaseWSGIServer, make_server

from app import create_app
from app.extensions import db
from app.postaward.services import start
from config import TestingConfig
from tests.factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

#: The applicant who logs in through the form (Zittau, AGS 14626610).
APPLICANT_EMAIL = "kpr@zittau.browser-test.de"


def _unavailable(reason: str) -> None:
    """Skip locally; with CI=true a missing browser is a failure, never a silent skip."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required with CI=true)", pytrace=False)
    pytest.skip(reason)


class _ErrorCollector(logging.Handler):
    """Collects ERROR records (e.g. ``unhandled_exception``) logged while the server runs."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class LiveServer:
    url: str
    app: Flask
    funding_year: int
    window: tuple[date, date]
    errors: _ErrorCollector

    def server_errors(self) -> list[str]:
        return [f"{r.name}: {r.getMessage()}" for r in self.errors.records]


def _seed(funding_year: int) -> tuple[date, date]:
    """Reference data, an applicant with a recorded consultation, and a *past* window for
    ``funding_year`` so that every submission in the scenario is late (R2)."""
    from app.common.programme import default_window
    from app.grants.models import FundingYear
    from app.grants.seed import seed_reference
    from app.orgs.reference import import_reference_data
    from tests import factories

    import_reference_data()
    seed_reference()
    applicant = factories.create_user(
        "applicant", ags="14626610", email=APPLICANT_EMAIL, name="Zoe Zittau", manager=True
    )
    reviewer = factories.create_user("reviewer", email="pruefung@lpr.browser-test.de")
    assert applicant.organisation is not None
    factories.consultation(
        applicant.organisation, reviewer, held_on=date.today() - timedelta(days=30)
    )
    window = default_window(funding_year)
    if window[1] >= date.today():
        # Before or inside the RL default window: pin a window that has already closed, so the
        # scenario (late submission with a justification) does not depend on the run date.
        window = (date.today() - timedelta(days=60), date.today() - timedelta(days=1))
        db.session.add(
            FundingYear(year=funding_year, window_opens=window[0], window_closes=window[1])
        )
    db.session.commit()
    return window


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app on a fresh, migrated SQLite file, served by werkzeug on 127.0.0.1:<free port>.

    One server per session: data that a browser test commits stays for the next one, so each
    test should work with its own organisation/user.
    """
    tmp = tmp_path_factory.mktemp("browser")
    db_url = f"sqlite:///{tmp / 'browser.sqlite'}"

    class BrowserTestConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = db_url
        SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"timeout": 30}}
        UPLOAD_DIR = str(tmp / "uploads")
        WTF_CSRF_ENABLED = True  # the browser posts the real tokens
        RAISE_UNHANDLED = False  # a server error shows as a 500 page and is logged (collected)
        # Every journey signs in from 127.0.0.1: the per-address login throttle (tested in
        # tests/auth/test_throttle.py) would stop the suite after 20 logins a minute.
        LOGIN_RATE_PER_IP = 100_000
        LOGIN_RATE_GLOBAL = 100_000
        # Cookies keep the production settings (__Host- prefix, Secure): Chromium treats
        # http://127.0.0.1 as a secure context and stores Secure cookies from it.

    flask_app = create_app(BrowserTestConfig)
    funding_year = date.today().year + 1
    with flask_app.app_context():
        upgrade()
        window = _seed(funding_year)
        db.session.remove()

    errors = _ErrorCollector()
    root = logging.getLogger()
    root.addHandler(errors)
    werkzeug_logger = logging.getLogger("werkzeug")
    werkzeug_level = werkzeug_logger.level
    werkzeug_logger.setLevel(logging.WARNING)  # no access log per request

    server: BaseWSGIServer = make_server("127.0.0.1", 0, flask_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    _LIVE_APPS.append(flask_app)
    try:
        yield LiveServer(
            url=f"http://127.0.0.1:{server.server_port}",
            app=flask_app,
            funding_year=funding_year,
            window=window,
            errors=errors,
        )
    finally:
        _LIVE_APPS.remove(flask_app)
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        root.removeHandler(errors)
        werkzeug_logger.setLevel(werkzeug_level)
        with flask_app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium (never ``playwright install``: it cannot download here)."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (requirements-dev.txt)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class PageProblems:
    """What the browser reported: console errors (CSP violations show up here too), uncaught
    script errors, and responses with a 5xx status."""

    console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    server: list[str] = field(default_factory=list)
    #: Every document the browser loaded (URL without fragment), in order.
    loaded: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return [*self.console, *self.page_errors, *self.server]


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def new_page(
    browser: Any, live_server: LiveServer, page_problems: PageProblems
) -> Iterator[Callable[[], Any]]:
    """Opens a page in a fresh German browser context (own cookies: one per signed-in user),
    with the live server as base URL and the problem tracking of ``page_problems``."""
    contexts: list[Any] = []
    live_server.errors.records.clear()  # only what the server logs during this test

    def _open() -> Any:
        context = browser.new_context(
            base_url=live_server.url,
            locale="de-DE",
            timezone_id="Europe/Berlin",
            accept_downloads=True,
            viewport={"width": 1280, "height": 900},
        )
        contexts.append(context)
        context.set_default_timeout(10_000)
        browser_page = context.new_page()
        browser_page.on(
            "console",
            lambda msg: (
                page_problems.console.append(f"{msg.type}: {msg.text}")
                if msg.type == "error"
                else None
            ),
        )
        browser_page.on("pageerror", lambda exc: page_problems.page_errors.append(str(exc)))
        browser_page.on("load", lambda p: page_problems.loaded.append(_page_url(p.url)))
        browser_page.on(
            "response",
            lambda resp: (
                page_problems.server.append(f"{resp.status} {resp.url}")
                if resp.status >= 500
                else None
            ),
        )
        return browser_page

    try:
        yield _open
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(new_page: Callable[[], Any]) -> Any:
    """A fresh German browser context per test, with the live server as base URL."""
    return new_page()


#: The live server's app, for ``totp_code`` (set by the ``live_server`` fixture).
_LIVE_APPS: list[Flask] = []


def totp_code(email: str) -> str:
    """The next second-factor code of the user ``email`` on the live server (ministry users
    created by ``tests.factories`` have ``factories.TOTP_SECRET``)."""
    from app.auth.models import User
    from tests.factories import totp_code as next_code

    with _LIVE_APPS[-1].app_context():
        user = db.session.execute(db.select(User).filter_by(email=email)).scalar_one()
        code = next_code(user)
        db.session.remove()
    return code


def login(page: Any, email: str, password: str = PASSWORD) -> None:
    """Sign in through the login form (and the second-factor form for users with one); waits
    until the header shows "Abmelden". The pages (form, second factor, start page) are checked
    with axe and photographed like every other page."""
    from playwright.sync_api import expect

    page.goto("/auth/login")
    _current_axe(page, "login")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden", exact=True).click()
    page.wait_for_load_state()
    if "/auth/zweiter-faktor" in page.url:
        _current_axe(page, "second_factor")
        page.get_by_label("Code aus der Authenticator-App oder Wiederherstellungscode").fill(
            totp_code(email)
        )
        page.get_by_role("button", name="Bestätigen").click()
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()
    _current_axe(page, "start")


# --- ministry side: budget, staff, a submitted application ------------------------------------

#: Review scenario (Pirna, AGS 14628270: an organisation of its own, see ``live_server``).
REVIEW_APPLICANT_EMAIL = "kpr@pirna.browser-test.de"
LEAD_EMAIL = "leitung@lpr.browser-test.de"
REVIEWER_EMAIL = "sachbearbeitung@lpr.browser-test.de"
APPROVER_EMAIL = "bewilligung@lpr.browser-test.de"
#: Ansatz of the approval year (1.3 M €) and each VE for the two following years.
BUDGET_CENTS = 130_000_000
VE_CENTS = 60_000_000


@dataclass
class Budget:
    year: int  #: the approval year: ``review.approve`` books in ``now.year`` of the real clock
    appropriation_cents: int
    authorisations: dict[int, int]  #: target year → VE granted in ``year``


@pytest.fixture(scope="session")
def budget(live_server: LiveServer) -> Budget:
    """The current Haushaltsjahr opened with 1.3 M € and VE for the next two years, so that an
    approval today can book payouts in this year and the two following ones (R12, R13)."""
    from app.budget.services import open_year, set_authorisation

    year = datetime.now(UTC).year  # as ``review.approve`` derives it (``utcnow().year``)
    authorisations = {year + 1: VE_CENTS, year + 2: VE_CENTS}
    with live_server.app.app_context():
        open_year(year, BUDGET_CENTS)
        for target, amount in authorisations.items():
            set_authorisation(year, target, amount)
        db.session.commit()
        db.session.remove()
    return Budget(year=year, appropriation_cents=BUDGET_CENTS, authorisations=authorisations)


@dataclass
class ReviewCase:
    """A submitted application and the people who handle it (names as shown in the UI)."""

    application_id: int
    reference: str
    title: str
    funding_year: int
    grant_cents: int
    eligible_cents: int
    is_late: bool
    applicant: str
    lead: str
    reviewer: str
    approver: str


@pytest.fixture
def review_case(live_server: LiveServer, budget: Budget) -> ReviewCase:
    """Committed: a lead (approver + reviewer), a reviewer, a second approver, and an
    application of Pirna submitted with ``tests.factories.submitted_application``.

    The factory submits at its fixed ``IN_WINDOW`` date; the funding year is the one whose
    default window contains that date, so the factory's submission passes R2 on any run date.
    Whether the application counts as late is read back from the database (the test handles both).
    """
    from app.grants import queries
    from tests import factories

    with live_server.app.app_context():
        lead = factories.create_user(
            email=LEAD_EMAIL, name="Lena Leitner", roles=["approver", "reviewer"]
        )
        reviewer = factories.create_user("reviewer", email=REVIEWER_EMAIL, name="Paul Prüfer")
        approver = factories.create_user("approver", email=APPROVER_EMAIL, name="Birte Bewilliger")
        applicant = factories.create_user(
            "applicant", ags="14628270", email=REVIEW_APPLICANT_EMAIL, name="Pia Pirna"
        )
        assert applicant.organisation is not None
        factories.consultation(applicant.organisation, reviewer, held_on=date(2026, 9, 1))
        application = factories.submitted_application(
            applicant, funding_year=factories.IN_WINDOW.year + 1
        )
        case = ReviewCase(
            application_id=application.id,
            reference=application.reference or "",
            title=application.title,
            funding_year=application.funding_year,
            grant_cents=application.requested_grant_cents,
            eligible_cents=queries.totals_for(application).eligible_cents,
            is_late=application.is_late,
            applicant=applicant.name,
            lead=lead.name,
            reviewer=reviewer.name,
            approver=approver.name,
        )
        db.session.commit()
        db.session.remove()
    return case


# --- finance side: an approved, final grant and the cash office ---------------------------------

#: Finance scenario (Plauen, AGS 14523320: an organisation of its own).
FINANCE_APPLICANT_EMAIL = "kpr@plauen.browser-test.de"
FINANCE_1_EMAIL = "kasse1@lpr.browser-test.de"
FINANCE_2_EMAIL = "kasse2@lpr.browser-test.de"


@dataclass
class FinanceCase:
    """An approved, final (bestandskräftig) grant of Plauen without a bank account, and two
    finance users (names as shown in the UI)."""

    application_id: int
    reference: str
    title: str
    kassenzeichen: str
    grant_cents: int
    organisation: str
    applicant: str
    finance_1: str
    finance_2: str


@pytest.fixture
def finance_case(live_server: LiveServer, budget: Budget) -> FinanceCase:
    """Committed: ``tests.finance.factories.approved_grant`` for a Plauen applicant (approval
    year 2027, final) and two finance users.

    ``approved_grant`` opens the budget years 2027–2029 unless they exist; depending on ``budget``
    makes the session's years exist first, so that neither fixture opens a year twice whatever
    the test order and run date (``open_year`` refuses duplicates).
    """
    from app.finance import queries as finance_queries
    from tests import factories
    from tests.finance.factories import approved_grant

    with live_server.app.app_context():
        finance_1 = factories.create_user("finance", email=FINANCE_1_EMAIL, name="Kai Kassler")
        finance_2 = factories.create_user("finance", email=FINANCE_2_EMAIL, name="Frieda Freigabe")
        applicant = factories.create_user(
            "applicant", ags="14523320", email=FINANCE_APPLICANT_EMAIL, name="Paula Plauen"
        )
        assert applicant.organisation is not None
        application = approved_grant(applicant)
        grant = finance_queries.grant_account(application.id)
        assert grant is not None
        case = FinanceCase(
            application_id=application.id,
            reference=application.reference or "",
            title=application.title,
            kassenzeichen=grant.kassenzeichen,
            grant_cents=grant.granted_cents,
            organisation=applicant.organisation.display_name,
            applicant=applicant.name,
            finance_1=finance_1.name,
            finance_2=finance_2.name,
        )
        db.session.commit()
        db.session.remove()
    return case


def _page_url(url: str) -> str:
    return url.split("#", 1)[0]


class AxeCheck:
    """Accessibility check with axe-core (bundled by axe-playwright-python, offline) and a
    screenshot of every page a journey visits.

    Collects the WCAG 2.1 A/AA violations of each page it is given; the test asserts on them at
    the end, so that one run reports every page. Screenshots go to
    ``test-artifacts/journeys/<test>/NN-<name>.png`` (kept by CI as artefacts). The
    fixture fails a browser test that loaded a page it never checked.
    """

    TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

    def __init__(self, axe: Any, shots: Path | None = None) -> None:
        self._axe = axe
        self._shots = shots
        self.violations: list[str] = []
        self.checked: set[str] = set()

    def __call__(self, page: Any, name: str) -> None:
        page.wait_for_load_state("load")
        self.checked.add(_page_url(page.url))
        if self._shots is not None:
            self._shots.mkdir(parents=True, exist_ok=True)
            number = len(list(self._shots.glob("*.png"))) + 1
            slug = re.sub(r"[^\w-]+", "-", name).strip("-")[:60]
            page.screenshot(path=str(self._shots / f"{number:02d}-{slug}.png"), full_page=True)
        if self._axe is None:
            return
        results = self._axe.run(
            page,
            options={
                "runOnly": {"type": "tag", "values": self.TAGS},
                "resultTypes": ["violations"],
            },
        )
        for violation in results.response["violations"]:
            targets = [", ".join(node["target"]) for node in violation["nodes"]]
            self.violations.append(
                f"{name}: {violation['id']} ({violation['impact']}) "
                f"{violation['help']} -> {targets}"
            )


_CURRENT: list[AxeCheck] = []


def _current_axe(page: Any, name: str) -> None:
    """The running test's ``axe_check`` (helpers such as ``login`` check their pages too)."""
    if _CURRENT:
        _CURRENT[-1](page, name)


def checked(page: Any, name: str) -> None:
    """Check (axe + screenshot) the page now shown, unless this URL was checked already. The
    journeys' ``heading`` helpers call it, so every page whose heading a test asserts is checked."""
    if _CURRENT and _page_url(page.url) not in _CURRENT[-1].checked:
        _CURRENT[-1](page, name)


@pytest.fixture
def axe_check(request: pytest.FixtureRequest, page_problems: PageProblems) -> Iterator[AxeCheck]:
    """Per test: axe and screenshots per page; afterwards, every page the browser loaded must
    have been checked (a new page in a journey without a check fails the test)."""
    shots = ARTIFACTS / "journeys" / re.sub(r"[^\w-]+", "-", request.node.name).strip("-")
    if shots.exists():
        for old in shots.glob("*.png"):
            old.unlink()
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("axe-playwright-python is missing (requirements-dev.txt)", pytrace=False)
        check = AxeCheck(None, shots)  # local machine without it: no accessibility check
    else:
        check = AxeCheck(Axe(), shots)
    _CURRENT.append(check)
    try:
        yield check
    finally:
        _CURRENT.remove(check)
    unchecked = [url for url in dict.fromkeys(page_problems.loaded) if url not in check.checked]
    assert unchecked == [], "pages loaded without an axe check: " + ", ".join(unchecked)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Screenshots and downloads for humans to look at (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# --- grants with their first instalment handed to the bank ---------------------------------------

#: A third and fourth finance user: the reconciliation and proof-of-use scenarios prepare and
#: release their orders in the fixture (four eyes), independent of ``finance_case``.
CASH_1_EMAIL = "kasse3@lpr.browser-test.de"
CASH_2_EMAIL = "kasse4@lpr.browser-test.de"


@dataclass
class SentOrder:
    """The first instalment of an approved grant, ordered, released and in a payment run."""

    application_id: int
    reference: str
    title: str
    kassenzeichen: str
    end_to_end_id: str
    amount_cents: int
    grant_cents: int
    organisation: str
    msg_id: str


def _cash_office() -> tuple[Any, Any]:
    """The two finance users of the fixtures below (created once per live server)."""
    from app.auth.models import User
    from tests import factories

    users = []
    for email, name in ((CASH_1_EMAIL, "Carla Abgleich"), (CASH_2_EMAIL, "Cem Zahllauf")):
        user = db.session.execute(db.select(User).where(User.email == email)).scalar_one_or_none()
        users.append(user or factories.create_user("finance", email=email, name=name))
    return users[0], users[1]


def _grant_with_sent_first_instalment(
    *,
    ags: str,
    email: str,
    name: str,
    iban: str,
    holder: str,
    grant_cents: int,
    finance_1: Any,
    finance_2: Any,
) -> Any:
    """``approved_grant`` (final) for a new applicant of ``ags``, its bank account confirmed, the
    project start notified two weeks ago, the first instalment ordered and released (four eyes).
    Returns the released order; the caller puts it into a payment run."""
    from app.finance import queries as finance_queries
    from app.finance.services import payouts
    from tests import factories
    from tests.finance.factories import approved_grant

    applicant = factories.create_user("applicant", ags=ags, email=email, name=name)
    application = approved_grant(applicant, grant_cents=grant_cents)
    account = payouts.submit_bank_account(
        applicant, password=PASSWORD, holder=holder, iban=iban, bic=""
    )
    payouts.confirm_bank_account(finance_1, account)
    start.notify_start(applicant, application, date.today() - timedelta(days=14))
    first = finance_queries.instalments_of(application.id)[0]
    order = payouts.prepare_order(finance_1, first, idempotency_key=f"browser-{ags}-{'x' * 20}")
    payouts.release_order(finance_2, order, confirm_early=True)
    return order


def _sent_order(order: Any) -> SentOrder:
    from app.finance import queries as finance_queries

    db.session.refresh(order)
    grant = finance_queries.grant_account(order.application_id)
    assert grant is not None
    assert order.payment_run is not None
    application = order.application
    return SentOrder(
        application_id=application.id,
        reference=application.reference or "",
        title=application.title,
        kassenzeichen=grant.kassenzeichen,
        end_to_end_id=order.end_to_end_id,
        amount_cents=order.amount_cents,
        grant_cents=grant.granted_cents,
        organisation=application.organisation.display_name,
        msg_id=order.payment_run.msg_id,
    )


#: Reconciliation scenario (Görlitz 14626110 and Bautzen 14625020: organisations of their own).
RECON_APPLICANT_EMAILS = ("kpr@goerlitz.browser-test.de", "kpr@bautzen.browser-test.de")


@dataclass
class ReconciliationCase:
    """Two grants whose first instalments (20.000 € and 12.000 €) are in one sent payment run,
    and the finance user who reconciles (name as shown in the UI)."""

    orders: list[SentOrder]
    finance: str
    finance_email: str


@pytest.fixture
def reconciliation_case(live_server: LiveServer, budget: Budget) -> ReconciliationCase:
    """Committed: Görlitz (50.000 € grant) and Bautzen (30.000 € grant), each with its first
    instalment (40 %) in a payment run executed in three days, and two finance users.

    Depends on ``budget`` for the same reason as ``finance_case`` (no budget year opened twice).
    """
    from app.finance.services import payouts

    with live_server.app.app_context():
        finance_1, finance_2 = _cash_office()
        released = [
            _grant_with_sent_first_instalment(
                ags="14626110",
                email=RECON_APPLICANT_EMAILS[0],
                name="Greta Görlitz",
                iban="DE02500105170137075030",
                holder="Stadtkasse Görlitz",
                grant_cents=5_000_000,
                finance_1=finance_1,
                finance_2=finance_2,
            ),
            _grant_with_sent_first_instalment(
                ags="14625020",
                email=RECON_APPLICANT_EMAILS[1],
                name="Bruno Bautzen",
                iban="DE88100900001234567892",
                holder="Stadtkasse Bautzen",
                grant_cents=3_000_000,
                finance_1=finance_1,
                finance_2=finance_2,
            ),
        ]
        payouts.create_payment_run(finance_1, execution_date=date.today() + timedelta(days=3))
        case = ReconciliationCase(
            orders=[_sent_order(order) for order in released],
            finance=finance_1.name,
            finance_email=CASH_1_EMAIL,
        )
        db.session.commit()
        db.session.remove()
    return case


#: Proof-of-use scenario (Freiberg, AGS 14522180: an organisation of its own).
PROOF_APPLICANT_EMAIL = "kpr@freiberg.browser-test.de"
PROOF_REVIEWER_EMAIL = "vn-pruefung@lpr.browser-test.de"


@dataclass
class PlanLineFacts:
    description: str
    amount_cents: int


@dataclass
class ProofCase:
    """A running grant of Freiberg (40.000 €, first instalment handed to the bank), its plan,
    the reviewer who checks the proof of use and the finance user (names as shown in the UI)."""

    first: SentOrder
    lines: list[PlanLineFacts]
    own_share_cents: int
    period_end: date  #: end of the grant period (Bescheid), for the R21 deadline
    applicant: str
    reviewer: str
    reviewer_email: str
    finance: str
    finance_email: str


@pytest.fixture
def proof_case(live_server: LiveServer, budget: Budget) -> ProofCase:
    """Committed: ``approved_grant`` (40.000 €, final) for a Freiberg applicant, started, its
    first instalment (40 %) in a payment run; a reviewer of its own."""
    from app.finance.services import payouts
    from app.grants.models import Application
    from app.postaward.services.proof import approved_decision
    from tests import factories

    with live_server.app.app_context():
        finance_1, finance_2 = _cash_office()
        reviewer = factories.create_user(
            "reviewer", email=PROOF_REVIEWER_EMAIL, name="Vera Nachweis"
        )
        order = _grant_with_sent_first_instalment(
            ags="14522180",
            email=PROOF_APPLICANT_EMAIL,
            name="Fritz Freiberg",
            iban="DE12500105170648489890",
            holder="Stadtkasse Freiberg",
            grant_cents=4_000_000,
            finance_1=finance_1,
            finance_2=finance_2,
        )
        payouts.create_payment_run(finance_1, execution_date=date.today() + timedelta(days=3))
        first = _sent_order(order)
        application = db.session.get(Application, first.application_id)
        assert application is not None
        # The approval period runs since the submission (01.10.2026), so that the purpose can be
        # reported fulfilled a few days ago on any run date (T11: not before the period starts).
        decision = approved_decision(application)
        decision.period_start = application.project_start = date(2026, 10, 1)
        case = ProofCase(
            first=first,
            lines=[
                PlanLineFacts(line.description, line.amount_cents)
                for line in sorted(application.lines, key=lambda ln: ln.position)
            ],
            own_share_cents=application.own_share_cash_cents,
            period_end=approved_decision(application).period_end,
            applicant="Fritz Freiberg",
            reviewer=reviewer.name,
            reviewer_email=PROOF_REVIEWER_EMAIL,
            finance=finance_1.name,
            finance_email=CASH_1_EMAIL,
        )
        db.session.commit()
        db.session.remove()
    return case
