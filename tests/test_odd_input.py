"""Issue 14, finding 4: odd input never ends in a 500 — a property test over every form.

For each role the test crawls the app's pages (every GET rule of ``app.url_map``, integer path
values filled with the ids of a small world: a draft, a running grant with a payout order …),
collects every ``<form>`` on them (action, method, field names; ``formaction`` buttons too) and
then lets Hypothesis fill random forms and GET filters with odd values: random unicode including
NUL and other control characters, lone surrogates (sent as raw UTF-8 bytes), RTL overrides and
zero-width characters, 27+ digit amounts and very long strings. The app re-raises unhandled
exceptions in tests (``RAISE_UNHANDLED``), so any exception fails the example; any 500 as well.
"""

from __future__ import annotations

import itertools
import re
from datetime import date
from html import unescape
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import IntegerConverter

from app.extensions import db
from app.finance import queries as finance_queries
from app.finance.services import payouts
from app.grants.routes import STEPS
from app.postaward.services import start
from tests import factories
from tests.conftest import login
from tests.finance.factories import approved_grant, confirmed_account

pytestmark = pytest.mark.slow

EXAMPLES_PER_ROLE = 100
#: Endpoints that end the session (fuzzing them would only test the login page afterwards).
SKIP_ENDPOINTS = {"auth.logout"}

#: Values every field of every form gets once before the random examples.
SWEEP = [
    "\x00",
    "a\x01b\x7f",
    "\ud800",
    "Bericht\u202efdp.exe",
    "1" * 27,
    "9" * 40 + ",99",
    "A" * 20_000,
]

ODD = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec=None, categories=["Cs", "Cc", "Cf", "Zl", "Zp"]), max_size=20),
    st.sampled_from(
        [
            "\x00",
            "a\x00b",
            "\x00" * 50,
            "\ud800",
            "x\udfffy",
            "Bericht\u202efdp.exe",
            "\u200b\u2066\u2069\ufeff",
            "1" * 27,
            "9" * 40 + ",99",
            "-" + "9" * 30,
            "1.000.000.000.000.000.000.000.000,00",
            "31.02.2027",
            "99999999999999999999999",
            "0",
            "-1",
            "",
            " ",
            "ß" * 300,
            "A" * 20_000,
            "\U0001f4a9" * 100,
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "%00",
        ]
    ),
)


# --- the world and the crawl ------------------------------------------------------------------


def _world(app: Flask) -> dict[str, Any]:
    """Users of every role and the objects their pages show; returns ids and e-mails."""
    with app.app_context():
        applicant = factories.create_user("applicant", ags="14626610", email="odd-a@zittau.de")
        finance = factories.create_user("finance", email="odd-f@lpr.test-kp.de")
        finance2 = factories.create_user("finance", email="odd-f2@lpr.test-kp.de")
        grant = approved_grant(applicant)
        confirmed_account(applicant, finance)
        start.notify_start(applicant, grant, date(2026, 11, 2))
        db.session.expire_all()
        order = payouts.prepare_order(
            finance, finance_queries.instalments_of(grant.id)[0], idempotency_key="o" * 32
        )
        payouts.release_order(finance2, order, confirm_early=True)
        draft = factories.complete_application(applicant)
        emails = {
            "applicant": applicant.email,
            "finance": finance.email,
            "reviewer": factories.create_user("reviewer", email="odd-r@lpr.test-kp.de").email,
            "approver": factories.create_user("approver", email="odd-ap@lpr.test-kp.de").email,
            "admin": factories.create_user("admin", email="odd-ad@lpr.test-kp.de").email,
        }
        ids = sorted({grant.id, draft.id, order.id, order.instalment_id, 1})
        grant_id = grant.id
        db.session.commit()
    return {"emails": emails, "ids": ids, "grant": grant_id}


FORM_RE = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
ATTR_RE = re.compile(r'([\w-]+)="([^"]*)"')
FIELD_RE = re.compile(r"<(?:input|select|textarea)\b([^>]*)>", re.I)
BUTTON_RE = re.compile(r"<button\b([^>]*)>", re.I)


def _attrs(text: str) -> dict[str, str]:
    return {k.lower(): unescape(v) for k, v in ATTR_RE.findall(text)}


def _forms(page_url: str, html: str) -> set[tuple[str, str, tuple[str, ...]]]:
    """(method, action path, field names) of every form on a page."""
    found = set()
    for head, body in FORM_RE.findall(html):
        form = _attrs(head)
        method = form.get("method", "get").upper()
        names = []
        for field in FIELD_RE.findall(body):
            attrs = _attrs(field)
            if attrs.get("name") and attrs.get("type") != "file" and attrs["name"] != "csrf_token":
                names.append(attrs["name"])
        actions = {form.get("action") or page_url}
        buttons = map(_attrs, BUTTON_RE.findall(body))
        actions |= {b["formaction"] for b in buttons if "formaction" in b}
        for action in actions:
            path = urlsplit(action).path or urlsplit(page_url).path
            found.add((method, path, tuple(sorted(set(names)))))
    return found


def _page_urls(app: Flask, ids: list[int]) -> list[str]:
    """Every GET page: integer path values from ``ids``, the editor's ``step`` from its steps;
    other string parameters (invitation tokens) are reached through their forms only."""
    adapter = app.url_map.bind("localhost")
    urls = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or ()) or rule.endpoint in SKIP_ENDPOINTS | {"static"}:
            continue
        converters = rule._converters  # noqa: SLF001 - no public accessor
        choices: list[list[Any]] = []
        for name, converter in converters.items():
            if isinstance(converter, IntegerConverter):
                choices.append([(name, i) for i in ids])
            elif name == "step":
                choices.append([(name, step) for step in STEPS])
            else:
                break
        else:
            for combination in itertools.product(*choices):
                urls.append(adapter.build(rule.endpoint, dict(combination)))
    return urls


def _crawl(app: Flask, client: FlaskClient, ids: list[int]) -> list[tuple[str, str, tuple]]:
    targets: set[tuple[str, str, tuple[str, ...]]] = set()
    for url in _page_urls(app, ids):
        response = client.get(url)
        body = response.get_data(as_text=True)  # runs streamed downloads to their end
        response.close()
        assert response.status_code != 500, url
        if response.status_code == 200 and response.mimetype == "text/html":
            targets |= _forms(url, body)
    adapter = app.url_map.bind("localhost")
    usable = []
    for method, path, names in sorted(targets):
        try:
            endpoint, _ = adapter.match(path, method=method)
        except Exception:  # noqa: BLE001, S112 - not one of ours (e.g. an external link)
            continue
        if endpoint not in SKIP_ENDPOINTS:
            usable.append((method, path, names))
    return usable


def _encode(pairs: list[tuple[str, str]]) -> bytes:
    """URL-encode with lone surrogates kept as raw bytes (what a broken client may send)."""
    return "&".join(
        f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in pairs
    ).encode("ascii")


# --- the property -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["applicant", "reviewer", "approver", "finance", "admin"])
def test_odd_input_in_any_form_or_filter_never_gives_500(app, role):
    world = _world(app)
    client = app.test_client()
    assert login(client, world["emails"][role], factories.PASSWORD).status_code == 302
    targets = _crawl(app, client, world["ids"])
    assert targets, "no forms found"
    sweep = len(SWEEP) * len(targets)
    print(f"\n{role}: {len(targets)} forms, {sweep} sweep + {EXAMPLES_PER_ROLE} random")  # noqa: T201

    def send(method: str, path: str, pairs: list[tuple[str, str]]) -> None:
        body = _encode(pairs)
        if method == "GET":
            response = client.get(path, query_string=body.decode("ascii"))
        else:
            response = client.post(
                path, data=body, content_type="application/x-www-form-urlencoded"
            )
        response.get_data()  # runs streamed downloads to their end
        response.close()
        assert response.status_code < 500, (method, path, response.status_code)
        if response.status_code == 302 and "/auth/login" in (response.location or ""):
            login(client, world["emails"][role], factories.PASSWORD)

    # a fixed sweep first: every field of every form with the same odd value
    for value in SWEEP:
        for method, path, names in targets:
            send(method, path, [(name, value) for name in names])

    @settings(
        max_examples=EXAMPLES_PER_ROLE,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        method, path, names = data.draw(st.sampled_from(targets), label="form")
        pairs = [(name, data.draw(ODD, label=name)) for name in names]
        send(method, path, pairs)

    fuzz()


def test_nul_in_query_and_form_is_removed_before_any_view(app, reviewer_client):
    """The central cleaning (app/common/cleaning.py): NUL and other C0 controls are gone."""
    response = reviewer_client.get("/pruefung?kreis=14%0026&status=%00")
    assert response.status_code == 200
    assert reviewer_client.get("/antraege/1%00").status_code == 404


def test_27_digit_amount_in_queue_filter_says_betrag_zu_gross(reviewer_client):
    response = reviewer_client.get("/pruefung", query_string={"min": "1" * 27, "max": "12,50"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    # at the field and in the summary of filters that could not be applied; "max" is fine
    assert body.count("Betrag zu groß") == 2 and 'id="f-min-error"' in body
    assert 'id="f-max-error"' not in body


def test_whitespace_only_required_date_is_refused_not_a_500(app):
    """Found by the property test: "   " passed ``InputRequired`` and reached the service as
    ``None``; the central cleaning makes a whitespace-only value empty."""
    world = _world(app)
    client = app.test_client()
    login(client, world["emails"]["applicant"], factories.PASSWORD)
    url = f"/antraege/{world['grant']}/zweckerfuellung"
    response = client.post(url, data={"fulfilled_on": "   "}, follow_redirects=True)
    assert response.status_code == 200
    assert "Bitte geben Sie das Datum an." in response.get_data(as_text=True)
