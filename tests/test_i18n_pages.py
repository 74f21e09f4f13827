"""Every main page reads English for every role once the user chose English (issue 11).

Each role logs in, switches to English and walks its pages by following the links from its start
page (GET only; downloads, PDFs and language switches skipped), plus the pages a link cannot
reach without data. On every page the interface text — headings, navigation, buttons, labels,
table headers, the page title — must not contain very common German UI words. Data (names of
municipalities, titles typed by users) is not looked at: it lives in table cells and paragraphs.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from tests import factories
from tests.conftest import login
from tests.finance.factories import approved_grant, confirmed_account

#: Very common German interface words; none may appear in the English interface text.
GERMAN_UI_WORDS = (
    "Antrag",
    "Anträge",
    "Speichern",
    "Zurück",
    "Bitte",
    "Abbrechen",
    "Einreichen",
    "herunterladen",
    "Hochladen",
    "Prüfung",
    "Kasse",
    "Haushalt",
    "Abmelden",
    "Frist",
    "Betrag",
    "Datum",
    "Aufgaben",
    "Uhr",
    "Kommune",
    "und",
    "oder",
    "für",
    "nicht",
)
GERMAN_RE = re.compile(r"\b(" + "|".join(GERMAN_UI_WORDS) + r")\b")
#: Elements whose own text is interface text (not data).
UI_TAGS = {"h1", "h2", "h3", "th", "label", "button", "legend", "nav", "title", "caption", "dt"}
SKIP = re.compile(r"/sprache/|\.pdf|\.xml|\.json|/dokumente/\d|/exporte/|/static/|logout")
MAX_PAGES = 40


class _Page(HTMLParser):
    """Links and the text inside interface elements. A heading may hold data (an application's
    title); the word list holds no names, so such data does not trip the check."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ui_text: list[str] = []
        self._open: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.ui_text.append(str(values["value"]))
        if tag in UI_TAGS:
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        if tag in UI_TAGS and tag in self._open:
            self._open.remove(tag)

    def handle_data(self, data: str) -> None:
        if self._open and not self._skip and data.strip():
            self.ui_text.append(data.strip())


def _walk(client: FlaskClient, extra: list[str]) -> dict[str, list[str]]:
    """German words per page URL, following links from the start page and ``extra``."""
    todo, seen, found = ["/", *extra], set(), {}
    while todo and len(seen) < MAX_PAGES:
        url = todo.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, (url, response.status_code)
        if response.mimetype != "text/html":
            continue
        page = _Page()
        page.feed(response.get_data(as_text=True))
        assert '<html lang="en">' in response.get_data(as_text=True), url
        german = sorted({m.group(1) for text in page.ui_text for m in GERMAN_RE.finditer(text)})
        if german:
            found[url] = [t for t in page.ui_text if GERMAN_RE.search(t)][:5]
        for link in page.links:
            parts = urlsplit(link)
            path = link.split("#")[0]
            if parts.netloc or not link.startswith("/") or SKIP.search(link) or "?" in path:
                continue
            if path not in seen:
                todo.append(path)
    assert len(seen) >= 3, seen
    return found


@pytest.fixture
def english_clients(app: Flask) -> dict[str, tuple[FlaskClient, list[str]]]:
    """One English client per role with the pages links do not reach, on a small data set: an
    approved, final grant with a confirmed bank account, and a draft."""
    with app.app_context():
        applicant = factories.create_user("applicant", email="en-a@zittau.test-kp.de")
        finance = factories.create_user("finance", email="en-f@lpr.test-kp.de")
        factories.create_user("reviewer", email="en-r@lpr.test-kp.de")
        factories.create_user("approver", email="en-b@lpr.test-kp.de")
        factories.create_user("admin", email="en-admin@lpr.test-kp.de")
        grant = approved_grant(applicant)
        confirmed_account(applicant, finance)
        draft = factories.complete_application(applicant)
        db.session.commit()
        grant_id, draft_id = grant.id, draft.id
    pages = {
        "applicant": (
            "en-a@zittau.test-kp.de",
            [
                f"/antraege/{grant_id}",
                f"/antraege/{draft_id}/bearbeiten/general",
                f"/antraege/{draft_id}/bearbeiten/finance",
                f"/antraege/{draft_id}/bearbeiten/submit",
                "/kommune",
            ],
        ),
        "reviewer": ("en-r@lpr.test-kp.de", [f"/pruefung/{grant_id}", "/beratungen", "/aufgaben"]),
        "approver": ("en-b@lpr.test-kp.de", [f"/pruefung/{grant_id}", "/haushalt"]),
        "finance": ("en-f@lpr.test-kp.de", ["/kasse", "/kasse/exporte", "/kasse/abgleich"]),
        "admin": (
            "en-admin@lpr.test-kp.de",
            ["/verwaltung/stammdaten", "/auth/einladen", "/haushalt"],
        ),
    }
    clients = {}
    for role, (email, extra) in pages.items():
        client = app.test_client()
        assert login(client, email, factories.PASSWORD).status_code == 302
        client.post("/sprache/en", data={"next": "/"})
        clients[role] = (client, extra)
    return clients


@pytest.mark.parametrize("role", ["applicant", "reviewer", "approver", "finance", "admin"])
def test_every_main_page_reads_english(
    english_clients: dict[str, tuple[FlaskClient, list[str]]], role: str
) -> None:
    client, extra = english_clients[role]
    found = _walk(client, extra)
    assert not found, f"German interface text for {role}: {found}"
