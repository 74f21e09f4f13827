"""Application configuration.

Values come from the environment. ``Config`` carries the hardened defaults; the subclasses only
relax what a developer or the test-suite needs. ``ProductionConfig`` refuses to start without a
secret key and a database URL.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("KOMMPRAEV_INSTANCE_DIR", BASE_DIR / "instance"))


#: The demo users' TOTP secret (development/test only; see README "Demo logins").
DEMO_TOTP_SECRET_DEV = "KOMMPRAEVDEMOKOMMPRAEVDEMO234567"  # noqa: S105 - documented demo value


def _engine_options(url: str | None) -> dict[str, object]:
    """Engine options per backend: a busy timeout for SQLite; for PostgreSQL connections are
    recycled after 30 minutes instead of a pre-ping round trip on every checkout (issue 13). A
    connection the server dropped meanwhile fails one request, and the pool then replaces it."""
    if url and url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {"pool_recycle": 1800}


class Config:
    """Hardened defaults shared by every environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS = _engine_options(os.environ.get("DATABASE_URL"))

    # Cookies (ASVS 3.3): __Host- prefix, Secure, HttpOnly, SameSite=Lax; no remember-me cookie.
    SESSION_COOKIE_NAME = "__Host-session"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=10)  # absolute session limit
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)  # idle session limit
    #: The idle clock (``last_seen``) moves at most once per interval, so the session cookie is
    #: re-signed and re-sent at most once a minute, not on every response (issue 13). The session
    #: may therefore end up to this much before the full idle time, never after.
    SESSION_TOUCH_INTERVAL = timedelta(minutes=1)

    # The one limit users are told (field hints, refusal, 413 page): 8 MB per document. A request
    # may carry 2 MB more (form fields, multipart framing); above that werkzeug answers 413.
    UPLOAD_MAX_BYTES = 8 * 1024 * 1024
    MAX_CONTENT_LENGTH = UPLOAD_MAX_BYTES + 2 * 1024 * 1024
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    BABEL_DEFAULT_LOCALE = "de"
    BABEL_DEFAULT_TIMEZONE = "Europe/Berlin"
    LANGUAGES = ("de", "en")

    # argon2id parameters (ASVS 5.0 App. C; argon2-cffi defaults).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4

    # Locks per account and client address (issue 14, finding 3).
    LOGIN_MAX_FAILURES = 5  # failures from one address before it is locked out of the account
    LOGIN_LOCK_BASE_SECONDS = 60  # first lock; doubles with every further failure from there
    LOGIN_LOCK_MAX_SECONDS = 24 * 3600
    LOGIN_UNLOCK_VALID_HOURS = 24  # the e-mailed unlock link
    INVITATION_VALID_HOURS = 72
    # Login throttling (issue 14, finding 2): attempts at login, second factor and unlock per
    # client address and in all, per sliding window; more are answered with 429 + Retry-After.
    LOGIN_RATE_PER_IP = int(os.environ.get("LOGIN_RATE_PER_IP", "20"))
    LOGIN_RATE_GLOBAL = int(os.environ.get("LOGIN_RATE_GLOBAL", "200"))
    LOGIN_RATE_WINDOW_SECONDS = int(os.environ.get("LOGIN_RATE_WINDOW_SECONDS", "60"))
    #: Optional shared storage of the counters (``redis://host:6379/0``); unset = the database.
    RATELIMIT_STORAGE_URL = os.environ.get("RATELIMIT_STORAGE_URL")

    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "1") == "1"
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "foerderung@lpr.sachsen.de")
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    # Press office / LPR addresses that receive programme milestones (issue 15), comma-separated.
    MILESTONE_RECIPIENTS = [
        a.strip() for a in os.environ.get("MILESTONE_RECIPIENTS", "").split(",") if a.strip()
    ]

    HSTS_MAX_AGE = 31536000
    #: Number of reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are
    #: trusted (werkzeug ProxyFix); 0 = none (the headers are ignored).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

    # Debtor of SEPA payment runs: the state cash office's account (R32; from the environment).
    DEBTOR_NAME = os.environ.get("DEBTOR_NAME", "Freistaat Sachsen Landeskasse")
    #: Development/test default: the account of the sample bank statements (never a recipient's
    #: IBAN); set DEBTOR_IBAN in production.
    DEBTOR_IBAN = os.environ.get("DEBTOR_IBAN", "DE02120300000000202051")
    DEBTOR_BIC = os.environ.get("DEBTOR_BIC", "")
    LOG_JSON = True
    #: Fixed TOTP secret of the demo users (``flask demo``); development and tests only, never
    #: in production (documented in the README).
    DEMO_TOTP_SECRET: str | None = None
    #: ``flask demo --reset`` may drop the database (development and tests only).
    DEMO_RESET_ALLOWED = False


class DevelopmentConfig(Config):
    """Local development on SQLite in ``instance/``; cookies without Secure for plain HTTP."""

    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'kommpraev.sqlite'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = _engine_options(SQLALCHEMY_DATABASE_URI)
    SESSION_COOKIE_NAME = "session"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    LOG_JSON = False
    DEMO_RESET_ALLOWED = True
    DEMO_TOTP_SECRET = DEMO_TOTP_SECRET_DEV


class TestingConfig(Config):
    """Used by the test-suite; the database URL is set by ``tests/conftest.py``."""

    TESTING = True
    DEMO_RESET_ALLOWED = True
    DEMO_TOTP_SECRET = DEMO_TOTP_SECRET_DEV
    SECRET_KEY = "test-secret-key"  # noqa: S105 - test-only constant
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    SQLALCHEMY_ENGINE_OPTIONS = _engine_options(SQLALCHEMY_DATABASE_URI)
    WTF_CSRF_ENABLED = False  # the CSRF coverage test switches it back on
    RAISE_UNHANDLED = True  # unexpected exceptions fail the test with their traceback
    # Cheap hashing in tests; tests/auth checks that Config keeps the strong defaults.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8
    ARGON2_PARALLELISM = 1
    LOG_JSON = False


class ProductionConfig(Config):
    """Production: everything from the environment; refuses to start without secrets."""

    @classmethod
    def validate(cls) -> None:
        """Raise ``RuntimeError`` when a required setting is missing."""
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not os.environ.get(name)]
        if missing:
            raise RuntimeError(f"Missing required environment variables: {', '.join(missing)}")


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    """Pick the configuration class named by ``KOMMPRAEV_ENV``.

    The default is ``development`` so that the CLI works in a checkout; ``gunicorn.conf.py`` sets
    ``production`` unless told otherwise, and production refuses to start without secrets.
    """
    name = os.environ.get("KOMMPRAEV_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError as exc:
        raise RuntimeError(f"Unknown KOMMPRAEV_ENV {name!r}") from exc
