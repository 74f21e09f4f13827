"""Second factor: TOTP (RFC 6238, ``pyotp``) and one-time recovery codes (issue 14).

Required for reviewers, approvers, finance and admins (``User.mfa_required``), optional for
applicants. A TOTP code is accepted once (the used time step is stored, so a code seen over a
shoulder cannot be replayed), within one step of clock drift either way. Recovery codes are stored
as argon2 hashes (the project's password hasher) and work once each.

No Flask request objects and no commits here.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime

import pyotp
import segno
from flask import current_app
from sqlalchemy import delete

from app.auth.models import RecoveryCode, Role, User
from app.auth.passwords import hash_password, verify_password
from app.auth.services import count_failure, end_all_sessions, is_locked
from app.common.audit import record_event
from app.common.db import utcnow
from app.common.errors import DomainError, NotPermitted
from app.extensions import db

logger = logging.getLogger(__name__)

ISSUER = "Förderportal KommPräv"
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
_TOTP_RE = re.compile(r"^\d{6}$")
STEP_SECONDS = 30


class SecondFactorRejected(DomainError):
    """Wrong, reused or missing code (German message for the field ``field``)."""


WRONG_CODE = "Der Code ist falsch oder schon benutzt. Bitte geben Sie den aktuellen Code ein."


def _step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def _clean(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").upper()


def begin_enrolment(user: User) -> str:
    """A new, not yet confirmed TOTP secret for ``user`` (kept until confirmed or replaced).

    :raises DomainError: the user has a confirmed second factor already.
    """
    if user.mfa_enabled:
        raise DomainError("Der zweite Faktor ist bereits eingerichtet.")
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    """The ``otpauth://`` URI of the authenticator app entry."""
    return pyotp.TOTP(user.totp_secret or "").provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as inline SVG markup (rendered here, no external service)."""
    return str(segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff"))


def _totp_ok(user: User, code: str, now: datetime) -> bool:
    """Check a TOTP code (±1 step); remember the step so that the code works only once."""
    if not user.totp_secret or not _TOTP_RE.match(code):
        return False
    totp = pyotp.TOTP(user.totp_secret)
    current = _step(now)
    for step in (current - 1, current, current + 1):
        if step <= (user.totp_last_step or -1):
            continue
        if secrets.compare_digest(totp.at(step * STEP_SECONDS), code):
            user.totp_last_step = step
            return True
    return False


def _recovery_ok(user: User, code: str, now: datetime) -> bool:
    """Check a recovery code against the unused ones; mark the matching one used."""
    if len(code) != 10:
        return False
    unused = db.session.execute(
        db.select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    ).scalars()
    for row in unused:
        if verify_password(row.code_hash, code):
            row.used_at = now
            record_event("mfa_recovery_code_used", "user", user.id, actor_id=user.id)
            return True
    return False


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10)) for _ in range(10)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=hash_password(c)) for c in codes)
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def confirm_enrolment(user: User, code: str, *, now: datetime | None = None) -> list[str]:
    """Confirm the pending secret with a code from the app; returns the ten recovery codes (to be
    shown once; only their hashes are stored).

    :raises SecondFactorRejected: wrong code (field ``code``).
    """
    now = now or utcnow()
    if user.mfa_enabled or not user.totp_secret:
        raise DomainError("Bitte starten Sie die Einrichtung neu.")
    if not _totp_ok(user, _clean(code), now):
        raise SecondFactorRejected(WRONG_CODE, field="code")
    user.totp_confirmed_at = now
    logger.info("authn_mfa_enrolled", extra={"user_id": user.id})
    record_event("mfa_enabled", "user", user.id, actor_id=user.id)
    return _new_recovery_codes(user)


def verify(user: User, code: str, *, source: str, now: datetime | None = None) -> None:
    """Check the second factor at login or before a sensitive action (TOTP or recovery code).

    A wrong code counts as a failed login from ``source`` (locks like a wrong password).

    :raises SecondFactorRejected: wrong/reused code or locked source (field ``code``).
    """
    now = now or utcnow()
    if is_locked(user, source, now):
        raise SecondFactorRejected(
            "Nach mehreren Fehlversuchen ist die Anmeldung vorübergehend gesperrt.", field="code"
        )
    cleaned = _clean(code)
    if user.mfa_enabled and (_totp_ok(user, cleaned, now) or _recovery_ok(user, cleaned, now)):
        return
    count_failure(user, now, source=source, reason="wrong_second_factor")
    raise SecondFactorRejected(WRONG_CODE, field="code")


def step_up(user: User, code: str, *, source: str, now: datetime | None = None) -> None:
    """Re-authentication with the second factor before releasing money (bank-account
    confirmation, payout-order release, payment runs): a fresh code is required every time.

    :raises SecondFactorRejected: no second factor set up, or a wrong/reused code (field
        ``totp``; the caller must commit so that the failure counts).
    """
    if not user.mfa_enabled:
        raise SecondFactorRejected(
            "Für diese Aktion ist ein eingerichteter zweiter Faktor nötig.", field="totp"
        )
    now = now or utcnow()
    try:
        verify(user, code, source=source, now=now)
    except SecondFactorRejected as exc:
        if is_locked(user, source, now):  # like a re-authentication: a lock ends every session
            end_all_sessions(user)
        raise SecondFactorRejected(exc.message, field="totp") from exc


def renew_recovery_codes(
    user: User, code: str, *, source: str, now: datetime | None = None
) -> list[str]:
    """Ten new recovery codes (the old ones stop working) after a fresh code of the app.

    :raises SecondFactorRejected: no second factor, or a wrong/reused code (field ``totp``).
    """
    step_up(user, code, source=source, now=now)
    record_event("mfa_recovery_codes_renewed", "user", user.id, actor_id=user.id)
    return _new_recovery_codes(user)


def reset(admin: User, user: User) -> None:
    """An admin removes ``user``'s second factor (lost phone): secret and recovery codes are
    deleted, every session of the user ends; ministry users must enrol again at next login.

    :raises NotPermitted: ``admin`` is no admin.
    """
    if not admin.has_role(Role.ADMIN):
        raise NotPermitted("Nur die Administration kann den zweiten Faktor zurücksetzen.")
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    end_all_sessions(user)
    logger.warning("authn_mfa_reset", extra={"user_id": user.id, "admin_id": admin.id})
    record_event("mfa_reset", "user", user.id, actor_id=admin.id)


def set_demo_secret(user: User, secret: str) -> None:
    """Development only (``flask demo``): a fixed, documented TOTP secret, already confirmed."""
    if not current_app.config.get("DEMO_TOTP_SECRET"):
        raise DomainError("Feste TOTP-Schlüssel gibt es nur in der Entwicklungsumgebung.")
    user.totp_secret = secret
    user.totp_confirmed_at = utcnow()
    user.totp_last_step = None


def remaining_recovery_codes(user: User) -> int:
    return len(
        db.session.execute(
            db.select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )
