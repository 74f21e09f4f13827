"""A stand-alone "worker process" for the throttling test: its own application object on a
committed database, posting login attempts and printing the status codes (one per line).

Run as ``python -m tests.auth.throttle_worker <database-url> <attempts> <per-ip> <global>``.
"""

from __future__ import annotations

import sys

from app import create_app
from config import TestingConfig


def main(url: str, attempts: int, per_ip: int, global_limit: int) -> None:
    settings = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 60}}
        if url.startswith("sqlite")
        else {},
        "LOGIN_RATE_PER_IP": per_ip,
        "LOGIN_RATE_GLOBAL": global_limit,
        "LOGIN_RATE_WINDOW_SECONDS": 86400,  # one window for the whole test
    }
    app = create_app(type("WorkerConfig", (TestingConfig,), settings))
    client = app.test_client()
    for _ in range(attempts):
        response = client.post(
            "/auth/login",
            data={"email": "niemand@example.org", "password": "falsch-falsch-falsch"},
        )
        print(response.status_code, response.headers.get("Retry-After", "-"), flush=True)  # noqa: T201 - the output is the result


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
