"""Signed-in devices ("Angemeldete Geräte", issue 14): recorded server-side, listed on "Mein
Konto", signed out one by one or all others; the session cookie's key is checked per request
with the user load (one query)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from freezegun import freeze_time

from app.auth import services
from app.auth.models import User, UserSession
from app.common.audit import AuditEvent
from app.extensions import db
from tests import factories
from tests.conftest import login

EMAIL = "geraete@zittau.test-kp.de"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
PHONE = "Mozilla/5.0 (Linux; Android 15) Mobile Safari/537.36"


@pytest.fixture
def devices(app: Flask):
    with app.app_context():
        factories.create_user(email=EMAIL)
        db.session.commit()
    clients = []
    for agent, address in ((FIREFOX, "192.0.2.10"), (PHONE, "198.51.100.77")):
        client = app.test_client()
        client.environ_base.update({"HTTP_USER_AGENT": agent, "REMOTE_ADDR": address})
        assert login(client, EMAIL, factories.PASSWORD).status_code == 302
        clients.append(client)
    return clients


def _logged_in(client) -> bool:
    return client.get("/auth/konto").status_code == 200


def _device_ids(app: Flask) -> list[int]:
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(email=EMAIL)).scalar_one()
        return list(
            db.session.execute(
                db.select(UserSession.id).where(UserSession.user_id == user.id)
            ).scalars()
        )


def test_account_page_lists_the_signed_in_devices(devices):
    desktop, _phone = devices
    html = desktop.get("/auth/konto").get_data(as_text=True)
    assert "Angemeldete Geräte" in html
    assert FIREFOX in html and PHONE in html
    assert "192.0.2.10" in html and "198.51.100.77" in html
    assert html.count("Dieses Gerät") == 1
    assert html.count("Gerät abmelden") == 1


def test_sign_out_all_other_devices(app, devices):
    desktop, phone = devices
    response = desktop.post("/auth/konto/geraete/abmelden", follow_redirects=True)
    assert "1 anderes Gerät wurde abgemeldet." in response.get_data(as_text=True)
    assert _logged_in(desktop)
    assert not _logged_in(phone)
    assert len(_device_ids(app)) == 1
    with app.app_context():
        assert db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == "sessions_ended")
        ).scalar_one()


def test_sign_out_one_device_but_not_someone_elses(app, devices, applicant_client):
    desktop, phone = devices
    html = desktop.get("/auth/konto").get_data(as_text=True)
    (other_id,) = re.findall(r"/auth/konto/geraete/(\d+)/abmelden", html)
    assert applicant_client.post(f"/auth/konto/geraete/{other_id}/abmelden").status_code == 404
    assert _logged_in(phone)
    assert desktop.post(f"/auth/konto/geraete/{other_id}/abmelden").status_code == 302
    assert not _logged_in(phone)
    assert _logged_in(desktop)


def test_session_cookie_without_a_known_device_key_is_anonymous(app, devices):
    desktop, _phone = devices
    with desktop.session_transaction() as sess:
        sess["sid"] = "forged-" + sess["sid"][7:]
    assert not _logged_in(desktop)


def test_logout_and_password_change_forget_the_devices(app, devices):
    desktop, _phone = devices
    desktop.post("/auth/logout")
    assert _device_ids(app) == []


def test_user_and_device_load_in_one_query_and_last_seen_at_most_once_a_minute(app, devices):
    desktop, _phone = devices
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # noqa: ANN001
        if "user_session" in statement or "user_account" in statement:
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    t0 = datetime.now(UTC)
    with freeze_time(t0) as frozen:
        desktop.get("/auth/konto")  # may write last_seen once
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            statements.clear()
            desktop.get("/auth/passwort")
            loads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
            writes = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
            assert len(loads) == 1 and "JOIN user_session" in loads[0]
            assert writes == []
            frozen.tick(timedelta(seconds=services.SESSION_TOUCH_SECONDS + 1))
            statements.clear()
            desktop.get("/auth/passwort")
            assert [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
