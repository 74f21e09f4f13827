"""English catalog: every German msgid translated, placeholders kept, language switch works.

The msgids are the German UI texts; ``app/translations/en`` translates them to English. The
completeness test re-extracts the messages from the source with the mapping of ``babel.cfg``,
so a new German string without an English translation fails here (see babel.cfg to update).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "app" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
# %-conversions (named or not, with flags/width), "%%", and a lone "%".
PLACEHOLDER_RE = re.compile(r"%(?:\(\w+\))?[#0 +-]*\d*(?:\.\d+)?[a-zA-Z%]|%")


def _read_catalog() -> Catalog:
    with PO.open("rb") as f:
        return read_po(f, locale="en")


def compile_catalog() -> None:
    """Compile the .po when the .mo is missing or older (the .mo is git-ignored).

    Runs at import, i.e. at collection and before any request: Flask-Babel caches the loaded
    translations per process. Written atomically because xdist workers collect in parallel.
    """
    if MO.exists() and MO.stat().st_mtime >= PO.stat().st_mtime:
        return
    catalog = _read_catalog()
    fd, tmp = tempfile.mkstemp(dir=MO.parent, suffix=".mo.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write_mo(f, catalog)
        os.chmod(tmp, 0o644)
        os.replace(tmp, MO)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


compile_catalog()


def _source_msgids() -> dict[str, list[str]]:
    """msgid -> ["file:line", ...] extracted like ``pybabel extract -F babel.cfg``."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)

    def directory_filter(path: str) -> bool:
        # Only hidden folders are skipped: Babel's default would also skip "_macros".
        return not os.path.basename(path).startswith(".")

    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS, directory_filter=directory_filter
    ):
        msgids = message if isinstance(message, tuple) else (message,)
        for msgid in msgids:
            if msgid:
                found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def test_every_msgid_has_an_english_translation() -> None:
    catalog = _read_catalog()
    translated = set()
    for m in catalog:
        if not m.id or m.fuzzy:
            continue
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if all(s.strip() for s in strings):
            for msgid in m.id if isinstance(m.id, tuple) else (m.id,):
                translated.add(msgid)
    source = _source_msgids()
    assert len(source) > 300, "extraction found suspiciously few messages"
    missing = sorted(set(source) - translated)
    assert not missing, (
        f"{len(missing)} German msgid(s) without English translation in {PO.relative_to(ROOT)} "
        "(update the catalog as described in babel.cfg):\n"
        + "\n".join(f"  {msgid!r}  ({', '.join(source[msgid][:2])})" for msgid in missing)
    )


def test_catalog_has_no_fuzzy_entries() -> None:
    catalog = _read_catalog()
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy entries are not compiled: {fuzzy}"


def test_placeholders_are_kept() -> None:
    wrong = []
    for m in _read_catalog():
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        expected = sorted(PLACEHOLDER_RE.findall(ids[0]))
        for s in strings:
            if s and sorted(PLACEHOLDER_RE.findall(s)) != expected:
                wrong.append(f"{ids[0]!r} -> {s!r}")
    assert not wrong, "placeholders differ between msgid and msgstr:\n" + "\n".join(wrong)


def test_language_switch_to_english_and_back(client: FlaskClient) -> None:
    response = client.post("/sprache/en", data={"next": "/auth/login"})
    assert response.status_code == 302
    html = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Log in" in html
    assert "Anmelden" not in html
    assert "Email address" in html

    client.post("/sprache/de", data={"next": "/auth/login"})
    html = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="de">' in html
    assert "Anmelden" in html
    assert "Log in" not in html


def test_language_choice_is_kept_per_user_across_logins(app: Flask, client: FlaskClient) -> None:
    """Issue 11: switch to English, log out, log in again → the UI is English."""
    from app.auth.models import User
    from app.extensions import db
    from tests.conftest import login
    from tests.factories import PASSWORD, create_user

    with app.app_context():
        create_user(role="applicant", email="lang@zittau.test-kp.de")
        db.session.commit()
    assert login(client, "lang@zittau.test-kp.de", PASSWORD).status_code == 302
    client.post("/sprache/en", data={"next": "/antraege"})
    with app.app_context():
        user = db.session.execute(
            db.select(User).where(User.email == "lang@zittau.test-kp.de")
        ).scalar_one()
        assert user.locale == "en"
    client.post("/auth/logout")
    # Another person's session on the same browser chose German before this login page.
    client.post("/sprache/de", data={"next": "/auth/login"})
    assert login(client, "lang@zittau.test-kp.de", PASSWORD).status_code == 302
    html = client.get("/antraege").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Log out" in html

    client.post("/sprache/de", data={"next": "/antraege"})
    client.post("/auth/logout")
    login(client, "lang@zittau.test-kp.de", PASSWORD)
    assert '<html lang="de">' in client.get("/antraege").get_data(as_text=True)


def test_clock_times_follow_the_ui_language(app: Flask) -> None:
    from datetime import UTC, datetime

    from flask_babel import force_locale

    from app.common.formatting import datetime_de

    moment = datetime(2026, 12, 3, 19, 38, tzinfo=UTC)
    with app.test_request_context():
        with force_locale("de"):
            assert datetime_de(moment) == "03.12.2026, 20:38 Uhr"
        with force_locale("en"):
            assert datetime_de(moment) == "03.12.2026, 20:38"


def test_stored_reconciliation_hints_are_shown_in_the_ui_language(app: Flask) -> None:
    """Hints stay German in the database and read English in the English UI (issue 11)."""
    from flask_babel import force_locale

    from app.common.labels import stored
    from app.finance.models import OrderStatus
    from app.finance.services import reconcile

    amount = reconcile.NOTE_E2E_AMOUNT % {
        "e2e": "KP-2027-0001-R1",
        "amount": "10,00 €",
        "expected": "20,00 €",
    }
    claim = reconcile.NOTE_CLAIM_PAID % {"kz": "KP-2027-0001-RF1"}
    status = reconcile.NOTE_E2E_STATUS % {
        "e2e": "KP-2027-0001-R1",
        "status": reconcile.ORDER_STATUS_DE[OrderStatus.IN_RUN],
    }
    with app.test_request_context():
        with force_locale("en"):
            assert stored(amount) == (
                "End-to-end ID KP-2027-0001-R1 found, but amount 10,00 € instead of 20,00 €."
            )
            assert stored(claim) == "Recovery claim KP-2027-0001-RF1"
            assert stored(status) == (
                "End-to-end ID KP-2027-0001-R1 belongs to an order with status "
                "“handed over to the bank”."
            )
            assert stored("Von Hand erläutert.") == "Von Hand erläutert."  # typed by a user
            assert stored(None) == ""
        with force_locale("de"):
            assert stored(amount) == amount


def test_document_types_are_translated_by_code(app: Flask) -> None:
    from flask_babel import force_locale

    from app.common.labels import label

    with app.test_request_context():
        with force_locale("en"):
            assert label("input_tax", "document_type", "Erklärung zum Vorsteuerabzug") == (
                "Input-tax declaration"
            )
            assert label("custom", "document_type", "Eigener Typ") == "Eigener Typ"
        with force_locale("de"):
            assert label("input_tax", "document_type", "Vorsteuer (geändert)") == (
                "Vorsteuer (geändert)"
            )


def test_service_messages_read_in_the_language_where_they_are_shown(app: Flask) -> None:
    """A DomainError raised in a service (no request object there) reads English in the English
    UI and German elsewhere, e.g. in tests and the CLI (issue 11)."""
    from flask_babel import force_locale
    from flask_babel import lazy_gettext as _l

    from app.common.errors import DomainError, RuleViolation
    from app.grants.models import Application
    from app.grants.services.rules import check_general

    error = DomainError(_l("Keine Berechtigung."))
    problems = check_general(Application(title="", purpose="", office_unit="x"))
    with app.app_context():
        assert error.message == "Keine Berechtigung." and str(error) == "Keine Berechtigung."
    with app.test_request_context():
        with force_locale("en"):
            assert error.message == "Not permitted."
            assert [str(p.message) for p in problems] == [
                "Please enter a project title.",
                "Please describe the purpose of the grant.",
                "Please enter the project period.",
            ]
            joined = RuleViolation([DomainError(p.message) for p in problems])
            assert joined.message.startswith("Please enter a project title.; Please describe")
        with force_locale("de"):
            assert problems[0].message == "Bitte geben Sie einen Projekttitel an."


def test_german_slips_in_the_german_ui(app: Flask, client: FlaskClient) -> None:
    """Issue 11: no "Bitte bitten Sie", no English source reference ("practice (ZIT)") of a
    document type in the German UI."""
    from app.extensions import db
    from app.grants.models import DocumentType

    html = client.get("/auth/einladung/" + "x" * 43).get_data(as_text=True)
    assert "Bitte fragen Sie die einladende Stelle nach einer neuen Einladung." in html
    assert "Bitte bitten" not in html
    with app.app_context():
        rules = set(db.session.execute(db.select(DocumentType.rule)).scalars())
    assert {"Verwaltungspraxis (ZIT)", "Verwaltungspraxis (KV)"} <= rules
    assert not [r for r in rules if "practice" in r]
