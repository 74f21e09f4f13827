"""Login throttling per client address and globally (issue 14, finding 2)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from freezegun import freeze_time

from app.auth import throttle
from app.extensions import db
from tests import factories
from tests.conftest import login
from tests.twin import bound_to_test_transaction, build_twin, dispose

ROOT = Path(__file__).resolve().parents[2]
WRONG = "Falsches-Passwort-123"  # noqa: S105 - test value


def _attempt(client, address: str = "127.0.0.1"):
    return client.post(
        "/auth/login",
        data={"email": "niemand@zittau.test-kp.de", "password": WRONG},
        environ_base={"REMOTE_ADDR": address},
    )


@pytest.fixture
def small_limits(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "LOGIN_RATE_PER_IP", 3)
    monkeypatch.setitem(app.config, "LOGIN_RATE_GLOBAL", 5)
    monkeypatch.setitem(app.config, "LOGIN_RATE_WINDOW_SECONDS", 60)


def test_login_throttled_per_address_with_429_retry_after_and_german_page(client, small_limits):
    with freeze_time("2026-12-04 10:00:10"):
        statuses = [_attempt(client).status_code for _ in range(3)]
        refused = _attempt(client)
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "50"  # until the window ends
    page = refused.get_data(as_text=True)
    assert "Zu viele Anmeldeversuche" in page
    assert "50 Sekunden" in page


def test_login_throttle_page_in_english(client, small_limits):
    with freeze_time("2026-12-04 10:00:10"):
        client.post("/sprache/en")  # inside: a session cookie from the future is refused
        for _ in range(3):
            _attempt(client)
        refused = _attempt(client)
    assert refused.status_code == 429
    assert "Too many login attempts" in refused.get_data(as_text=True)


def test_login_throttle_refuses_even_the_right_password_without_hashing(
    client, app, small_limits, monkeypatch
):
    with app.app_context():
        factories.create_user(email="t@zittau.test-kp.de")
        db.session.commit()
    with freeze_time("2026-12-04 10:00:10"):
        for _ in range(3):
            _attempt(client)
        monkeypatch.setattr(
            "app.auth.services.verify_password", lambda *a: pytest.fail("hashed anyway")
        )
        assert login(client, "t@zittau.test-kp.de", factories.PASSWORD).status_code == 429


def test_login_throttle_is_per_address_and_global(client, small_limits):
    with freeze_time("2026-12-04 10:00:10"):
        for _ in range(3):
            assert _attempt(client, "192.0.2.1").status_code == 200
        assert _attempt(client, "192.0.2.1").status_code == 429
        # Another address has its own allowance, but the global limit (5) applies to all.
        assert _attempt(client, "192.0.2.2").status_code == 200
        assert _attempt(client, "192.0.2.2").status_code == 200
        assert _attempt(client, "192.0.2.3").status_code == 429


def test_login_throttle_slides_over_the_window_boundary(client, small_limits):
    with freeze_time("2026-12-04 10:00:50") as frozen:
        for _ in range(3):
            assert _attempt(client).status_code == 200
        frozen.move_to("2026-12-04 10:01:10")  # 1/6 into the next window: 3 × 5/6 still count
        assert _attempt(client).status_code == 429
        frozen.move_to("2026-12-04 10:01:50")  # 3 × 1/6 + 1 = 1.5: allowed again
        assert _attempt(client).status_code == 200


def test_login_throttle_get_and_healthz_unaffected(client, small_limits):
    with freeze_time("2026-12-04 10:00:10"):
        for _ in range(4):
            _attempt(client)
        assert _attempt(client).status_code == 429
        assert client.get("/auth/login").status_code == 200
        health = client.get("/healthz")
    assert health.status_code == 200
    assert health.get_json()["status"] == "ok"


def test_throttle_counts_with_one_upsert_per_key(app_ctx, app):
    first = throttle.hit("ip:198.51.100.7", window=60, now=1_000_020.0)
    second = throttle.hit("ip:198.51.100.7", window=60, now=1_000_021.0)
    assert (first.estimate, second.estimate) == (1, 2)
    later = throttle.hit("ip:198.51.100.7", window=60, now=1_000_200.0)  # windows later
    assert later.estimate == 1


def test_login_throttle_holds_across_two_worker_processes(committed_app):
    """Two separate processes (own app objects, like two gunicorn workers) on one committed
    database: together they get exactly the per-address allowance."""
    url = committed_app.config["SQLALCHEMY_DATABASE_URI"]
    command = [sys.executable, "-m", "tests.auth.throttle_worker", url, "8", "6", "100"]
    started = time.monotonic()
    workers = [
        subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)  # noqa: S603
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    assert all(w.returncode == 0 for w in workers)
    lines = [line.split() for out in outputs for line in out.splitlines()]
    statuses = sorted(int(status) for status, _retry in lines)
    assert statuses == [200] * 6 + [429] * 10, outputs
    assert all(retry != "-" for status, retry in lines if status == "429")
    assert time.monotonic() - started < 120


# --- behind a reverse proxy (TRUSTED_PROXIES) ----------------------------------------------------


def _forwarded(client, forwarded_for: str):
    return client.post(
        "/auth/login",
        data={"email": "niemand@zittau.test-kp.de", "password": WRONG},
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
        headers={"X-Forwarded-For": forwarded_for},
    )


@pytest.mark.parametrize(("proxies", "throttled_per_client"), [(0, False), (1, True)])
def test_trusted_proxies_decides_whose_address_is_throttled(app, proxies, throttled_per_client):
    twin = build_twin(
        app,
        TRUSTED_PROXIES=proxies,
        LOGIN_RATE_PER_IP=2,
        LOGIN_RATE_GLOBAL=100,
        LOGIN_RATE_WINDOW_SECONDS=86400,
    )
    try:
        with bound_to_test_transaction(twin, app), freeze_time("2026-12-04 10:00:00"):
            client = twin.test_client()
            assert _forwarded(client, "192.0.2.10").status_code == 200
            assert _forwarded(client, "192.0.2.10").status_code == 200
            # Another client behind the same proxy: its own allowance only when the proxy's
            # header is trusted; without trust, a forged header does not dodge the limit.
            status = _forwarded(client, "192.0.2.11").status_code
    finally:
        dispose(twin)
    assert status == (200 if throttled_per_client else 429)


# --- optional Redis storage (RATELIMIT_STORAGE_URL) ------------------------------------------


def test_throttle_counts_in_redis_when_configured_shared_by_two_workers(app, monkeypatch):
    fakeredis = pytest.importorskip("fakeredis")
    server = fakeredis.FakeServer()
    url = "redis://throttle-test:6379/0"
    workers = [
        build_twin(app, RATELIMIT_STORAGE_URL=url, LOGIN_RATE_PER_IP=3, LOGIN_RATE_GLOBAL=100)
        for _ in range(2)
    ]
    monkeypatch.setitem(throttle._REDIS, url, fakeredis.FakeRedis(server=server))  # noqa: SLF001
    try:
        statuses = []
        with freeze_time("2026-12-04 10:00:10"):
            for attempt in range(6):
                twin = workers[attempt % 2]
                with bound_to_test_transaction(twin, app):
                    statuses.append(_attempt(twin.test_client()).status_code)
            keys = fakeredis.FakeRedis(server=server).keys()  # before they expire
        with app.app_context():
            assert db.session.execute(sa.text("SELECT count(*) FROM login_counter")).scalar() == 0
    finally:
        for twin in workers:
            dispose(twin)
    assert statuses == [200, 200, 200, 429, 429, 429]
    assert b"kommpraev:login:ip:127.0.0.1:1796378400" in keys


def test_throttle_falls_back_to_the_database_when_redis_is_down(app_ctx, app, monkeypatch):
    fakeredis = pytest.importorskip("fakeredis")
    server = fakeredis.FakeServer()
    server.connected = False
    url = "redis://down:6379/0"
    monkeypatch.setitem(app.config, "RATELIMIT_STORAGE_URL", url)
    monkeypatch.setitem(throttle._REDIS, url, fakeredis.FakeRedis(server=server))  # noqa: SLF001
    first = throttle.hit("ip:203.0.113.9", window=60, now=1_000_020.0)
    second = throttle.hit("ip:203.0.113.9", window=60, now=1_000_021.0)
    assert (first.estimate, second.estimate) == (1, 2)  # counted in login_counter instead
