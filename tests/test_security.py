"""Application-wide security checks (RELIABILITY §6 items 13, 14, 16, 19): route inventory, CSRF
coverage, response headers, session cookie flags, bounded path integers and the upload limit.

Every check walks ``app.url_map``, so a new route is covered without touching this file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from http.cookies import SimpleCookie
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter, Rule

from app.auth.decorators import PUBLIC_ENDPOINTS, login_only, role_required
from app.auth.models import Role
from app.common.security import MAX_ID
from app.extensions import db
from config import Config
from tests import factories
from tests.conftest import CSRF_RE, login
from tests.twin import bound_to_test_transaction, build_twin, dispose

# INTEGER ids end at 2**31 - 1 (PostgreSQL: "integer out of range" above); SQLite raises
# OverflowError from 2**63 on.
HUGE = 10**22
STRING_VALUE = "general"  # a valid editor step; any other string parameter gets it too


# --- helpers ----------------------------------------------------------------------------------


def _rules(app: Flask, method: str) -> list[Rule]:
    return sorted(
        (r for r in app.url_map.iter_rules() if method in (r.methods or ())),
        key=lambda r: r.rule,
    )


def _url(app: Flask, rule: Rule, int_value: int = 1) -> str:
    values: dict[str, Any] = {}
    for name, converter in rule._converters.items():  # noqa: SLF001 - no public accessor
        values[name] = int_value if isinstance(converter, IntegerConverter) else STRING_VALUE
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def _guard(view: Callable[..., Any]) -> tuple[Any, ...] | None:
    """The roles a view requires (``role_required``/``login_only``), looking through wrappers."""
    while view is not None:
        roles = getattr(view, "_roles", None)
        if roles:
            return tuple(roles)
        view = getattr(view, "__wrapped__", None)  # type: ignore[assignment]
    return None


def _unguarded_endpoints(app: Flask) -> list[str]:
    return sorted(
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint not in PUBLIC_ENDPOINTS and _guard(view) is None
    )


def _is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


def _csrf_token(client: FlaskClient, path: str = "/auth/login") -> str:
    match = CSRF_RE.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


@pytest.fixture
def twin_factory(app: Flask) -> Iterator[Callable[..., Flask]]:
    """Build apps with other settings on the test's database (disposed after the test)."""
    built: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        twin = build_twin(app, **overrides)
        built.append(twin)
        return twin

    yield make
    for twin in built:
        dispose(twin)


@pytest.fixture(scope="module")
def csrf_app(app: Flask) -> Iterator[Flask]:
    twin = build_twin(app, WTF_CSRF_ENABLED=True)
    yield twin
    dispose(twin)


@pytest.fixture
def csrf_twin(app: Flask, csrf_app: Flask) -> Iterator[Flask]:
    with bound_to_test_transaction(csrf_app, app) as twin:
        yield twin


# --- (a) route inventory ---------------------------------------------------------------------


def test_route_inventory_every_endpoint_is_public_or_guarded(app):
    assert _unguarded_endpoints(app) == []


def test_route_inventory_public_list_matches_the_routes(app):
    endpoints = set(app.view_functions)
    assert PUBLIC_ENDPOINTS <= endpoints, "stale entries in PUBLIC_ENDPOINTS"
    for endpoint in PUBLIC_ENDPOINTS - {"static"}:
        view = app.view_functions[endpoint]
        assert getattr(view, "_public", False), f"{endpoint} lacks @public"
        assert _guard(view) is None, f"{endpoint} is public and guarded at once"
    marked = {e for e, v in app.view_functions.items() if getattr(v, "_public", False)}
    assert marked <= PUBLIC_ENDPOINTS, "@public views missing from PUBLIC_ENDPOINTS"


def test_route_inventory_detects_an_unguarded_view():
    """Control: the inventory check reports a view without decorator."""
    bare = Flask(__name__)
    bare.add_url_rule("/naked", "naked", lambda: "x")
    bare.add_url_rule("/guarded", "guarded", role_required(Role.ADMIN)(lambda: "x"))
    bare.add_url_rule("/own", "own", login_only(lambda: "x"))
    assert _unguarded_endpoints(bare) == ["naked"]


def test_route_inventory_anonymous_get_is_sent_to_login(app, client):
    checked = 0
    for rule in _rules(app, "GET"):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = _url(app, rule)
        response = client.get(url)
        api_refusal = url.startswith("/api/") and response.status_code == 401  # token API
        assert _is_login_redirect(response) or response.status_code == 404 or api_refusal, (
            url,
            response.status_code,
        )
        checked += 1
    assert checked >= 10


def test_route_inventory_anonymous_post_is_sent_to_login(app, client):
    for rule in _rules(app, "POST"):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = _url(app, rule)
        response = client.post(url, data={})
        api_refusal = url.startswith("/api/") and response.status_code == 401  # token API
        assert _is_login_redirect(response) or response.status_code == 404 or api_refusal, (
            url,
            response,
        )


@pytest.mark.parametrize("client_fixture", ["applicant_client", "reviewer_client"])
def test_route_inventory_roles_are_enforced(app, request, client_fixture):
    """A logged-in user without one of the view's roles gets 403 (or 404), never the page."""
    user_client: FlaskClient = request.getfixturevalue(client_fixture)
    role = Role.APPLICANT if client_fixture == "applicant_client" else Role.REVIEWER
    forbidden = 0
    for rule in _rules(app, "GET") + _rules(app, "POST"):
        roles = _guard(app.view_functions[rule.endpoint])
        if roles is None or "any" in roles or role in roles:
            continue
        url = _url(app, rule)
        method = "GET" if "GET" in (rule.methods or ()) else "POST"
        response = user_client.open(url, method=method, data={})
        api = url.startswith("/api/")  # token API: a session is no credential (tests/api)
        assert response.status_code in ((401,) if api else (403, 404)), (method, url, response)
        forbidden += 1
    assert forbidden >= 1


# --- (b) CSRF coverage -----------------------------------------------------------------------


def test_csrf_post_without_token_is_refused(app, csrf_twin):
    rules = _rules(csrf_twin, "POST")
    assert {r.endpoint for r in rules} >= {"auth.login", "auth.logout", "main.set_language"}
    with app.app_context():
        factories.create_user(email="csrf@zittau.test-kp.de")
        db.session.commit()
    anonymous = csrf_twin.test_client()
    user = csrf_twin.test_client()
    token = _csrf_token(user)
    response = user.post(
        "/auth/login",
        data={
            "email": "csrf@zittau.test-kp.de",
            "password": factories.PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    for rule in rules:
        url = _url(csrf_twin, rule)
        for who in (anonymous, user):
            response = who.post(url, data={"email": "x@y.de", "password": "x"})
            assert response.status_code == 400, (url, response.status_code)
    assert user.get("/auth/passwort").status_code == 200  # still logged in: logout was refused


def test_csrf_post_with_valid_token_passes_the_check(csrf_twin):
    anonymous = csrf_twin.test_client()
    token = _csrf_token(anonymous)
    for rule in _rules(csrf_twin, "POST"):
        url = _url(csrf_twin, rule)
        response = anonymous.post(url, data={"csrf_token": token})
        assert response.status_code != 400, url
    header = anonymous.post("/auth/login", headers={"X-CSRFToken": token}, data={})
    assert header.status_code == 200


def test_csrf_token_of_another_session_is_refused(csrf_twin):
    foreign_token = _csrf_token(csrf_twin.test_client())
    victim = csrf_twin.test_client()
    victim.get("/auth/login")
    response = victim.post("/auth/login", data={"csrf_token": foreign_token})
    assert response.status_code == 400


def test_csrf_forms_work_after_login(app, csrf_twin):
    with app.app_context():
        factories.create_user(email="csrf2@zittau.test-kp.de")
        db.session.commit()
    user = csrf_twin.test_client()
    user.post(
        "/auth/login",
        data={
            "email": "csrf2@zittau.test-kp.de",
            "password": factories.PASSWORD,
            "csrf_token": _csrf_token(user),
        },
    )
    token = _csrf_token(user, "/auth/passwort")  # new session, new token
    response = user.post(
        "/auth/passwort",
        data={
            "csrf_token": token,
            "current_password": "falsch",
            "new_password": "Neue-Passphrase-Elbsandstein-Wanderung",
            "confirm": "Neue-Passphrase-Elbsandstein-Wanderung",
        },
    )
    assert response.status_code == 422
    assert "Das aktuelle Passwort ist falsch." in response.get_data(as_text=True)


# --- (c) headers -----------------------------------------------------------------------------


def _assert_security_headers(response: Any, url: str) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert directives.get("object-src") == "object-src 'none'", url
    assert directives.get("base-uri") == "base-uri 'none'", url
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'", url
    assert "default-src" in directives, url
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, url
    assert headers.get("X-Content-Type-Options") == "nosniff", url
    assert headers.get("Referrer-Policy") in ("same-origin", "no-referrer", "strict-origin"), url
    hsts = headers.get("Strict-Transport-Security", "")
    match = re.search(r"max-age=(\d+)", hsts)
    assert match and int(match.group(1)) >= 31536000, url
    assert "includeSubDomains" in hsts, url
    if response.mimetype == "text/html":
        assert response.headers["Content-Type"].lower() == "text/html; charset=utf-8", url


def _get_every_route(app: Flask, client: FlaskClient) -> list[Any]:
    responses = []
    for rule in _rules(app, "GET"):
        url = _url(app, rule) if rule.endpoint != "static" else "/static/css/app.css"
        response = client.get(url)
        response.close()
        responses.append((url, response))
    responses.append(("/gibt-es-nicht", client.get("/gibt-es-nicht")))
    return responses


def test_headers_on_every_get_route_anonymous(app, client):
    for url, response in _get_every_route(app, client):
        _assert_security_headers(response, url)


@pytest.mark.parametrize("client_fixture", ["applicant_client", "reviewer_client", "admin_client"])
def test_headers_on_every_get_route_logged_in(app, request, client_fixture):
    user_client: FlaskClient = request.getfixturevalue(client_fixture)
    statuses = set()
    for url, response in _get_every_route(app, user_client):
        _assert_security_headers(response, url)
        assert response.headers.get("Cache-Control") == "no-store", url
        statuses.add(response.status_code)
    assert 200 in statuses


def test_headers_html_pages_carry_charset(client):
    response = client.get("/auth/login")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"


def test_headers_public_page_is_no_store_when_logged_in(applicant_client):
    """Public pages show the user's name in the header once logged in: not for caches either."""
    response = applicant_client.get("/datenquellen")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


INLINE_CODE = re.compile(
    r"<script(?![^>]*\ssrc=)[^>]*>"  # inline script
    r"|<style[\s>]"  # style element
    r"|<[^>]+\sstyle\s*="  # style attribute
    r"|<[^>]+\son[a-z]+\s*="  # event handler attribute
    r"|javascript:",
    re.IGNORECASE,
)


def _assert_no_inline_code(response: Any, url: str) -> None:
    """Pages load scripts and styles from files only, so the strict CSP does not break them."""
    if response.mimetype == "text/html":
        match = INLINE_CODE.search(response.get_data(as_text=True))
        assert match is None, (url, match and match.group(0))


def test_headers_csp_compatible_pages_have_no_inline_code(app, client, applicant_client):
    _assert_no_inline_code(client.get("/auth/login"), "/auth/login")
    for url, response in _get_every_route(app, applicant_client):
        _assert_no_inline_code(response, url)


def test_headers_inline_code_check_detects_inline_script():
    """Control for the check above."""

    class Page:
        mimetype = "text/html"

        def __init__(self, html: str) -> None:
            self.html = html

        def get_data(self, as_text: bool) -> str:
            return self.html

    _assert_no_inline_code(Page('<script src="/static/js/app.js" defer></script>'), "ok")
    for bad in ("<script>alert(1)</script>", '<p style="color:red">', '<a onclick="x()">'):
        with pytest.raises(AssertionError):
            _assert_no_inline_code(Page(bad), bad)


# --- (d) session cookie ----------------------------------------------------------------------


def _cookie_settings() -> dict[str, Any]:
    return {
        key: getattr(Config, key)
        for key in dir(Config)
        if key.startswith(("SESSION_COOKIE_", "REMEMBER_COOKIE_"))
    }


def test_session_cookie_under_config_is_host_prefixed_and_locked_down(app, twin_factory):
    with app.app_context():
        factories.create_user(email="cookie@zittau.test-kp.de")
        db.session.commit()
    twin = twin_factory(**_cookie_settings())
    with bound_to_test_transaction(twin, app):
        browser = twin.test_client()
        response = login(browser, "cookie@zittau.test-kp.de", factories.PASSWORD)
        assert response.status_code == 302
        set_cookies = response.headers.getlist("Set-Cookie")
        sessions = [c for c in set_cookies if c.startswith("__Host-session=")]
        assert len(sessions) == 1, set_cookies
        attributes = [a.strip() for a in sessions[0].split(";")[1:]]
        lowered = [a.lower() for a in attributes]
        assert "secure" in lowered
        assert "httponly" in lowered
        assert "samesite=lax" in lowered
        assert "path=/" in lowered
        assert not any(a.startswith("domain=") for a in lowered)  # required by __Host-
        assert not any(c.startswith("remember_token") for c in set_cookies)
        parsed = SimpleCookie()
        parsed.load(sessions[0])
        assert parsed["__Host-session"]["secure"]


def test_session_cookie_config_values():
    assert Config.SESSION_COOKIE_NAME.startswith("__Host-")
    assert Config.SESSION_COOKIE_SECURE is True
    assert Config.SESSION_COOKIE_HTTPONLY is True
    assert Config.SESSION_COOKIE_SAMESITE == "Lax"
    assert getattr(Config, "SESSION_COOKIE_DOMAIN", None) in (None, False)
    assert getattr(Config, "SESSION_COOKIE_PATH", None) in (None, "/")


# --- (e) bounded path integers ---------------------------------------------------------------


def test_huge_path_integer_gives_404(applicant_client):
    assert applicant_client.get("/antraege/99999999999999999999999").status_code == 404


@pytest.mark.parametrize("value", [2**31 - 1, 2**31, 2**63 - 1, 2**63, HUGE])
@pytest.mark.parametrize("client_fixture", ["applicant_client", "reviewer_client", "admin_client"])
def test_huge_path_integer_never_500_on_any_route(app, request, client_fixture, value):
    user_client: FlaskClient = request.getfixturevalue(client_fixture)
    for rule in _rules(app, "GET") + _rules(app, "POST"):
        if not any(isinstance(c, IntegerConverter) for c in rule._converters.values()):  # noqa: SLF001
            continue
        url = _url(app, rule, value)
        method = "GET" if "GET" in (rule.methods or ()) else "POST"
        response = user_client.open(url, method=method, data={})
        allowed = (401, 403, 404) if url.startswith("/api/") else (403, 404)
        assert response.status_code in allowed, (method, url, response.status_code)


def test_path_integer_bound_applies_before_any_view(app, twin_factory):
    """The bound is central (app/common/security.py), so new routes need no own check."""
    twin = twin_factory()

    @twin.route("/zahl/<int:number>")
    def echo(number: int) -> str:
        return str(number)

    with bound_to_test_transaction(twin, app):
        browser = twin.test_client()
        assert browser.get(f"/zahl/{MAX_ID}").get_data(as_text=True) == str(MAX_ID)
        assert browser.get(f"/zahl/{MAX_ID + 1}").status_code == 404
        assert browser.get(f"/zahl/{HUGE}").status_code == 404


# --- (f) upload limit ------------------------------------------------------------------------


def _multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    """A multipart body in memory (the test client would spool a big one to an unclosed file)."""
    boundary = "kommpraev-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/pdf\r\n\r\n".encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_upload_over_max_content_length_gives_413(app, applicant_client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit == Config.MAX_CONTENT_LENGTH == 10 * 1024 * 1024
    fields = {"kind": "resolution", "dated": "01.09.2026"}
    body, content_type = _multipart(fields, "gross.pdf", b"%PDF-1.4\n" + b"0" * limit)
    response = applicant_client.post("/kommune", data=body, content_type=content_type)
    assert response.status_code == 413
    assert "Die Datei ist zu groß" in response.get_data(as_text=True)
    _assert_security_headers(response, "/kommune")
    small, content_type = _multipart(fields, "klein.pdf", b"%PDF-1.4\n" + b"0" * 1000)
    response = applicant_client.post("/kommune", data=small, content_type=content_type)
    assert response.status_code != 413  # control: the same request below the limit


def test_upload_over_max_content_length_anonymous_gives_413(app, csrf_twin):
    body = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = csrf_twin.test_client().post(
        "/auth/login", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413


# --- error pages -----------------------------------------------------------------------------


def test_error_page_hides_internal_details(app, twin_factory):
    twin = twin_factory(RAISE_UNHANDLED=False)

    @twin.route("/kaputt")
    def broken() -> str:
        raise RuntimeError("geheime Verbindungszeichenkette postgres://secret")

    with bound_to_test_transaction(twin, app):
        response = twin.test_client().get("/kaputt")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Ein Fehler ist aufgetreten" in body
    assert "secret" not in body and "Traceback" not in body
    _assert_security_headers(response, "/kaputt")


def test_error_405_keeps_allow_header(client):
    response = client.get("/auth/logout")
    assert response.status_code == 405
    assert "POST" in response.headers.get("Allow", "")
