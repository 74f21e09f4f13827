"""Personal API tokens: creation (shown once), lookup by bearer secret, revocation.

A token is ``kp_`` followed by 43 URL-safe characters (256 random bits); the database keeps its
SHA-256 only, so a leaked table does not leak usable tokens. Scopes only narrow what the user's
roles allow.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l

from app.auth.models import ApiToken, Role, User
from app.common.audit import record_event
from app.common.db import as_utc, utcnow
from app.common.errors import DomainError
from app.extensions import db

TOKEN_PREFIX = "kp_"  # noqa: S105 - not a secret, the visible token prefix
SCOPES = ("read:applications", "read:finance", "read:reference", "write:applications")
#: Longest allowed lifetime of a token (days).
MAX_LIFETIME_DAYS = 365


def scopes_for(user: User) -> tuple[str, ...]:
    """The scopes ``user``'s roles can make use of."""
    allowed = ["read:applications", "read:reference"]
    if user.has_role(Role.APPLICANT):
        allowed.append("write:applications")
    if user.is_ministry:  # budget overview for all ministry roles; ledger etc. for finance only
        allowed.append("read:finance")
    return tuple(s for s in SCOPES if s in allowed)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once


def create_token(user: User, name: str, scopes: Sequence[str], days: int) -> NewToken:
    """A new token of ``user`` (flushed, not committed); the secret is returned only here.

    :raises DomainError: no name, unknown scope or a lifetime outside 1…365 days.
    """
    name = name.strip()
    if not name:
        raise DomainError(_l("Bitte einen Namen angeben."), field="name")
    allowed = scopes_for(user)
    if not scopes or any(s not in allowed for s in scopes):
        raise DomainError(_l("Bitte gültige Berechtigungen wählen."), field="scopes")
    if not 1 <= days <= MAX_LIFETIME_DAYS:
        raise DomainError(_l("Die Gültigkeit muss 1 bis 365 Tage betragen."), field="days")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name[:100],
        prefix=secret[:11],
        token_hash=hash_token(secret),
        scopes=" ".join(s for s in SCOPES if s in scopes),
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(token)
    db.session.flush()
    record_event(
        "api_token_created",
        "api_token",
        token.id,
        actor_id=user.id,
        scopes=token.scopes,
        expires_at=token.expires_at.isoformat(),
    )
    return NewToken(token, secret)


def tokens_of(user: User) -> Sequence[ApiToken]:
    return (
        db.session.execute(
            db.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
        .scalars()
        .all()
    )


def revoke_token(user: User, token_id: int) -> None:
    """Revoke one of ``user``'s own tokens (idempotent).

    :raises DomainError: not a token of this user.
    """
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise DomainError(_l("Unbekannter Token."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record_event("api_token_revoked", "api_token", token.id, actor_id=user.id)


def is_usable(token: ApiToken, now: datetime | None = None) -> bool:
    now = now or utcnow()
    expires = as_utc(token.expires_at)
    return token.revoked_at is None and expires is not None and expires > now and token.user.active


def token_for_secret(secret: str) -> ApiToken | None:
    """The usable token with this secret, or None (unknown, expired, revoked, user disabled)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = db.session.execute(
        db.select(ApiToken).where(ApiToken.token_hash == hash_token(secret))
    ).scalar_one_or_none()
    if token is None or not is_usable(token):
        return None
    return token
