"""Login throttling per client address and globally, shared by all workers (issue 14, finding 2).

Each attempt at a login-like form (password, second factor, unlock) counts once for its client
address (``ip:<address>``) and once for the whole service (``global``). The counters are rows of
``login_counter``, raised by one conditional upsert (``INSERT … ON CONFLICT DO UPDATE …
RETURNING``, on SQLite and PostgreSQL alike), so they hold across gunicorn workers without an
extra server. When ``RATELIMIT_STORAGE_URL`` names a Redis server (``redis://…``), the counters
live there instead (``INCR`` + ``EXPIRE`` in one ``MULTI``); if Redis does not answer, the
database counter takes over for that attempt. The estimate is a sliding window: the current
fixed window's hits plus the previous window's hits weighted by how much of it still lies in
the sliding window.

Over a limit, the attempt is refused *before* any password is hashed, so a flood costs one
indexed upsert per request instead of an argon2 computation, and ``/healthz`` stays fast.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from flask import current_app
from sqlalchemy import case
from sqlalchemy.dialects import postgresql, sqlite

from app.auth.models import LoginCounter
from app.common.errors import DomainError
from app.extensions import db

logger = logging.getLogger(__name__)

GLOBAL_KEY = "global"
#: Redis clients per URL (one connection pool per process).
_REDIS: dict[str, redis.Redis] = {}


class Throttled(DomainError):
    """Too many attempts; ``retry_after`` seconds until the next one may succeed."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("Zu viele Anmeldeversuche. Bitte warten Sie und versuchen Sie es erneut.")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Count:
    """A counter after one hit: the sliding-window estimate and the seconds left in the window."""

    estimate: float
    seconds_left: int


def upsert_insert() -> Callable[[Any], postgresql.Insert | sqlite.Insert]:
    """The ``insert`` with ``on_conflict_do_update`` of the bound database (PostgreSQL/SQLite)."""
    dialect = db.session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _upsert(key: str, start: int, window: int) -> tuple[int, int]:
    """Count one hit for ``key`` in the window starting at ``start``; (hits, previous_hits)."""
    insert = upsert_insert()
    same = LoginCounter.window_start == start
    adjacent = LoginCounter.window_start == start - window
    stmt = insert(LoginCounter).values(key=key, window_start=start, hits=1, previous_hits=0)
    upsert = stmt.on_conflict_do_update(
        index_elements=[LoginCounter.key],
        set_={
            "hits": case((same, LoginCounter.hits + 1), else_=1),
            "previous_hits": case(
                (same, LoginCounter.previous_hits), (adjacent, LoginCounter.hits), else_=0
            ),
            "window_start": start,
        },
    ).returning(LoginCounter.hits, LoginCounter.previous_hits)
    hits, previous = db.session.execute(upsert).one()
    return int(hits), int(previous)


def redis_client(url: str) -> redis.Redis:
    if url not in _REDIS:
        _REDIS[url] = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return _REDIS[url]


def _redis_hits(url: str, key: str, start: int, window: int) -> tuple[int, int]:
    """Count one hit in Redis; (hits, previous_hits) like ``_upsert``."""
    current, previous = f"kommpraev:login:{key}:{start}", f"kommpraev:login:{key}:{start - window}"
    pipe = redis_client(url).pipeline(transaction=True)
    pipe.incr(current)
    pipe.expire(current, 2 * window)
    pipe.get(previous)
    hits, _expire, before = pipe.execute()
    return int(hits), int(before or 0)


def hit(key: str, *, window: int, now: float) -> Count:
    """Count one attempt for ``key`` (Redis, or a flush without commit in the database) and
    return the sliding estimate."""
    start = int(now) // window * window
    url = current_app.config.get("RATELIMIT_STORAGE_URL") or ""
    try:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise LookupError  # no Redis configured: the database counts
        hits, previous = _redis_hits(url, key, start, window)
    except (LookupError, redis.RedisError) as exc:
        if isinstance(exc, redis.RedisError):
            logger.warning("ratelimit_redis_unavailable", extra={"error": type(exc).__name__})
        hits, previous = _upsert(key, start, window)
    elapsed = now - start
    estimate = hits + previous * max(0.0, (window - elapsed) / window)
    return Count(estimate=estimate, seconds_left=max(1, math.ceil(start + window - now)))


def check_attempt(source: str, *, now: float) -> None:
    """Count one login attempt from ``source`` and refuse it when a limit is exceeded.

    Limits (config): ``LOGIN_RATE_PER_IP`` attempts per address and ``LOGIN_RATE_GLOBAL`` in all
    per ``LOGIN_RATE_WINDOW_SECONDS``. The caller commits after a pass (before hashing), so the
    count is visible to every worker at once.

    :raises Throttled: with the seconds until the window ends.
    """
    cfg = current_app.config
    window = int(cfg["LOGIN_RATE_WINDOW_SECONDS"])
    limits = (
        (f"ip:{source}"[:80], cfg["LOGIN_RATE_PER_IP"]),
        (GLOBAL_KEY, cfg["LOGIN_RATE_GLOBAL"]),
    )
    for key, limit in limits:
        count = hit(key, window=window, now=now)
        if count.estimate > limit:
            raise Throttled(count.seconds_left)
