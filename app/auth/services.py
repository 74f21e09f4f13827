"""Account services: login with lockout, logout and session end, passwords, invitations.

No Flask request objects here and no commits: routes and CLI commands own the transaction.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import delete, update

from app.auth.models import (
    MINISTRY_ROLES,
    Invitation,
    LoginLock,
    Role,
    User,
    UserRole,
    UserSession,
)
from app.auth.passwords import (
    context_words,
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
)
from app.auth.throttle import upsert_insert
from app.common.audit import record_event
from app.common.db import as_utc, utcnow
from app.common.errors import DomainError, NotPermitted
from app.common.labels import N_
from app.common.mail import queue_mail
from app.common.security import MAX_ID
from app.extensions import db
from app.orgs.models import Organisation

logger = logging.getLogger(__name__)

#: A dummy hash so that unknown e-mails cost the same time as known ones.
_DUMMY_HASH: dict[str, str] = {}


class LoginFailed(DomainError):
    """Wrong e-mail or password, or the account is locked or disabled (same message for all)."""


class PasswordRejected(DomainError):
    """The new password does not meet the policy."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def load_user_from_session_id(session_id: str) -> User | None:
    """Flask-Login loader: ``"<id>:<epoch>"``; a stale epoch (after logout) loads nobody."""
    try:
        raw_id, raw_epoch = session_id.split(":", 1)
        user_id, epoch = int(raw_id), int(raw_epoch)
    except ValueError:
        return None
    if not 0 < user_id <= MAX_ID:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_epoch != epoch:
        return None
    return user


#: ``last_seen_at`` of a device is written at most this often (not on every request).
SESSION_TOUCH_SECONDS = 60


def open_session(user: User, *, user_agent: str, ip: str, now: datetime | None = None) -> str:
    """Record a new signed-in device; returns the random key for the session cookie (only its
    hash is stored)."""
    now = now or utcnow()
    key = secrets.token_urlsafe(32)
    idle = current_app.config["SESSION_IDLE_TIMEOUT"]
    db.session.execute(  # forget devices whose sessions have passed the idle limit
        delete(UserSession).where(
            UserSession.user_id == user.id, UserSession.last_seen_at < now - idle
        )
    )
    db.session.add(
        UserSession(
            user_id=user.id,
            key_hash=_token_hash(key),
            created_at=now,
            last_seen_at=now,
            user_agent=(user_agent or "")[:300],
            ip=(ip or "")[:64],
        )
    )
    return key


def load_user_for_session(session_id: str, key: str) -> tuple[User, UserSession] | None:
    """Flask-Login loader with the device check: ``"<id>:<epoch>"`` plus the cookie's session
    key, in one indexed query. A stale epoch (logout, password change) or a device that was
    signed out loads nobody."""
    try:
        raw_id, raw_epoch = session_id.split(":", 1)
        user_id, epoch = int(raw_id), int(raw_epoch)
    except ValueError:
        return None
    if not 0 < user_id <= MAX_ID or not key:
        return None
    row = db.session.execute(
        db.select(User, UserSession)
        .join(UserSession, UserSession.user_id == User.id)
        .where(User.id == user_id, UserSession.key_hash == _token_hash(key))
    ).first()
    if row is None:
        return None
    user, device = row
    if not user.active or user.session_epoch != epoch:
        return None
    return user, device


def touch_session(device: UserSession, *, now: datetime | None = None) -> bool:
    """Note that the device was seen (at most once a minute). Returns True when it wrote."""
    now = now or utcnow()
    last = as_utc(device.last_seen_at)
    if last is not None and (now - last).total_seconds() < SESSION_TOUCH_SECONDS:
        return False
    db.session.execute(
        update(UserSession).where(UserSession.id == device.id).values(last_seen_at=now)
    )
    return True


def end_device_sessions(
    user: User, *, keep_id: int | None = None, only_id: int | None = None
) -> int:
    """Sign devices of ``user`` out: all but ``keep_id``, or just ``only_id``. Returns the count."""
    stmt = delete(UserSession).where(UserSession.user_id == user.id)
    if keep_id is not None:
        stmt = stmt.where(UserSession.id != keep_id)
    if only_id is not None:
        stmt = stmt.where(UserSession.id == only_id)
    count = int(getattr(db.session.execute(stmt), "rowcount", 0) or 0)
    logger.info("session_devices_ended", extra={"user_id": user.id, "count": count})
    record_event("sessions_ended", "user", user.id, actor_id=user.id, count=count)
    return count


def _lock_seconds(failures: int) -> int:
    cfg = current_app.config
    over = failures - cfg["LOGIN_MAX_FAILURES"]
    if over < 0:
        return 0
    return int(min(cfg["LOGIN_LOCK_BASE_SECONDS"] * 2**over, cfg["LOGIN_LOCK_MAX_SECONDS"]))


#: One message for every failed login (unknown e-mail, wrong password, locked, disabled), so that
#: the answer does not reveal whether an account exists (ASVS 6.3.8).
LOGIN_FAILED_MESSAGE = N_(
    "E-Mail-Adresse oder Passwort ist falsch. Nach mehreren Fehlversuchen wird das Konto "
    "vorübergehend gesperrt; versuchen Sie es dann später erneut."
)

#: Source of a re-authentication whose client address the caller does not know.
REAUTH_SOURCE = "reauth"


def _dummy_verify(password: str) -> None:
    """Spend the time of one password check, so that every failure costs about the same."""
    if "h" not in _DUMMY_HASH:
        _DUMMY_HASH["h"] = hash_password("dummy-password-for-timing")
    verify_password(_DUMMY_HASH["h"], password)


def _source_key(source: str) -> str:
    return (source or "unknown")[:64]


def lock_of(user: User, source: str) -> LoginLock | None:
    """The failure counter of ``user`` from ``source`` (client address), if any."""
    return db.session.execute(
        db.select(LoginLock).where(
            LoginLock.user_id == user.id, LoginLock.source == _source_key(source)
        )
    ).scalar_one_or_none()


def is_locked(user: User, source: str, now: datetime) -> bool:
    """True while logins of ``user`` from ``source`` are locked (other sources are not)."""
    lock = lock_of(user, source)
    locked_until = as_utc(lock.locked_until) if lock else None
    return locked_until is not None and locked_until > now


def count_failure(user: User, now: datetime, *, source: str, reason: str) -> bool:
    """Count one failed check of ``user``'s password or second factor from ``source``; lock that
    source out of the account when it is one too many (issue 14, finding 3).

    The counter is raised by one conditional upsert on (account, source), so concurrent workers
    never lose a failure. The lock time doubles only with further failures *from the same
    source*; a guesser elsewhere does not lengthen it. The first lock of a source mails the
    account's owner an unlock link. Returns True when this failure locked the source.
    """
    key = _source_key(source)
    insert = upsert_insert()
    stmt = insert(LoginLock).values(
        user_id=user.id, source=key, failures=1, created_at=now, updated_at=now
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=[LoginLock.user_id, LoginLock.source],
        set_={"failures": LoginLock.failures + 1, "updated_at": now},
    ).returning(LoginLock.id, LoginLock.failures)
    lock_id, failures = db.session.execute(upsert).one()
    logger.info(
        "authn_login_fail",
        extra={"user_id": user.id, "reason": reason, "failures": failures},
    )
    record_event("login_failed", "user", user.id, actor_id=None, reason=reason, source=key)
    seconds = _lock_seconds(failures)
    if not seconds:
        return False
    lock = db.session.get(LoginLock, lock_id, populate_existing=True)
    assert lock is not None  # noqa: S101 - the upsert above returned it
    lock.locked_until = now + timedelta(seconds=seconds)
    db.session.flush()
    logger.warning("authn_login_lock", extra={"user_id": user.id, "seconds": seconds})
    record_event("login_locked", "user", user.id, actor_id=None, seconds=seconds, source=key)
    if failures == current_app.config["LOGIN_MAX_FAILURES"]:
        _mail_unlock_link(user, lock)
    return True


def _unlock_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="login-unlock")


def unlock_token(lock: LoginLock) -> str:
    """A signed token for the unlock link: the lock row and its creation time, so that it works
    once (unlocking deletes the row), only for this lock, and still after the lock doubled."""
    created = as_utc(lock.created_at)
    return _unlock_serializer().dumps(
        {"u": lock.user_id, "l": lock.id, "t": created.isoformat() if created else ""}
    )


def _mail_unlock_link(user: User, lock: LoginLock) -> None:
    hours = current_app.config["LOGIN_UNLOCK_VALID_HOURS"]
    link = (
        f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/auth/entsperren/{unlock_token(lock)}"
    )
    queue_mail(
        user.email,
        "Anmeldung gesperrt – Förderportal KommPräv",
        f"Guten Tag,\n\nnach mehreren falschen Anmeldeversuchen von der Adresse {lock.source} "
        "ist die Anmeldung zu Ihrem Konto von dort vorübergehend gesperrt. Von anderen Adressen "
        "aus können Sie sich weiter anmelden.\n\n"
        f"Waren Sie das selbst, können Sie die Sperre innerhalb von {hours} Stunden über diesen "
        f"Link aufheben:\n\n{link}\n\n"
        "Waren Sie es nicht, ignorieren Sie diesen Link: die Sperre läuft von selbst ab. Ein "
        "sicheres Passwort und der zweite Faktor schützen Ihr Konto.\n",
    )


def unlock(token: str, *, now: datetime | None = None) -> User:
    """Lift every login lock of the account named by an e-mailed unlock ``token``.

    :raises DomainError: forged, expired or already used token.
    """
    invalid = DomainError("Dieser Link zum Entsperren ist ungültig, abgelaufen oder schon benutzt.")
    max_age = current_app.config["LOGIN_UNLOCK_VALID_HOURS"] * 3600
    try:
        data = _unlock_serializer().loads(token, max_age=max_age)
    except BadData as exc:
        raise invalid from exc
    if not isinstance(data, dict):
        raise invalid
    lock = db.session.get(LoginLock, data.get("l")) if isinstance(data.get("l"), int) else None
    if lock is None or lock.user_id != data.get("u"):
        raise invalid
    created = as_utc(lock.created_at)
    if (created.isoformat() if created else "") != data.get("t"):
        raise invalid
    user = db.session.get(User, lock.user_id)
    assert user is not None  # noqa: S101 - foreign key
    db.session.execute(delete(LoginLock).where(LoginLock.user_id == user.id))
    logger.info("authn_login_unlock", extra={"user_id": user.id})
    record_event("login_unlocked", "user", user.id, actor_id=user.id, source=lock.source)
    return user


def authenticate(
    email: str, password: str, *, source: str = "unknown", now: datetime | None = None
) -> User:
    """Check credentials, counting failures per account and source in the database.

    From the ``LOGIN_MAX_FAILURES``-th failure from one source on, that source is locked out of
    the account for a time that doubles with every further failure from it. While locked, even
    the right password is refused from that source; from any other source the owner logs in.

    :raises LoginFailed: for unknown users, wrong passwords, locked or disabled accounts (all with
        the same message).
    """
    now = now or utcnow()
    user = db.session.execute(
        db.select(User).where(User.email == normalise_email(email))
    ).scalar_one_or_none()
    if user is None:
        _dummy_verify(password)
        logger.info("authn_login_fail", extra={"reason": "unknown_user"})
        raise LoginFailed(_l(LOGIN_FAILED_MESSAGE))
    if is_locked(user, source, now):
        verify_password(user.password_hash, password)  # result ignored: same time as a check
        logger.info("authn_login_fail", extra={"user_id": user.id, "reason": "locked"})
        record_event("login_failed", "user", user.id, actor_id=None, reason="locked", source=source)
        raise LoginFailed(_l(LOGIN_FAILED_MESSAGE))
    if not verify_password(user.password_hash, password) or not user.active:
        count_failure(
            user, now, source=source, reason="disabled" if not user.active else "wrong_password"
        )
        raise LoginFailed(_l(LOGIN_FAILED_MESSAGE))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


#: The UI languages a user can choose (German is the default).
LANGUAGES = ("de", "en")


def set_preferred_locale(user: User, lang: str) -> None:
    """Keep ``lang`` as the user's UI language for later sessions (issue 11); unknown codes are
    ignored."""
    if lang in LANGUAGES and user.locale != lang:
        user.locale = lang
        db.session.flush()


def login_succeeded(user: User, *, source: str, now: datetime | None = None) -> None:
    """Record a completed login (password and, where needed, second factor): the failures of
    this source are forgotten; locks of other sources stay."""
    now = now or utcnow()
    db.session.execute(
        delete(LoginLock).where(
            LoginLock.user_id == user.id, LoginLock.source == _source_key(source)
        )
    )
    user.last_login_at = now
    logger.info("authn_login_success", extra={"user_id": user.id})
    record_event("login_succeeded", "user", user.id, actor_id=user.id, source=_source_key(source))


def end_all_sessions(user: User) -> None:
    """Invalidate every session of ``user`` (the epoch is part of each session id) and forget
    its devices."""
    db.session.execute(
        update(User).where(User.id == user.id).values(session_epoch=User.session_epoch + 1)
    )
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    db.session.refresh(user)


def reauthenticate(
    user: User,
    password: str,
    *,
    source: str = REAUTH_SOURCE,
    now: datetime | None = None,
    field: str = "current_password",
    reason: str = "wrong_current_password",
) -> None:
    """Re-check the password of a logged-in user before a sensitive change (ASVS 7.5.1).

    A wrong password counts as a failed login from ``source``, so such a form is no way around
    the lock; when it locks, every session of the user ends, including the current one. The
    caller must commit even when this raises, or the failure is not counted.

    :raises PasswordRejected: wrong password or locked account (on ``field``).
    """
    now = now or utcnow()
    if is_locked(user, source, now):  # the user is logged in: naming the lock reveals nothing
        raise PasswordRejected(
            _l(
                "Das Konto ist nach mehreren Fehlversuchen vorübergehend gesperrt. Bitte "
                "versuchen Sie es später erneut."
            ),
            field=field,
        )
    if not verify_password(user.password_hash, password):
        if count_failure(user, now, source=source, reason=reason):
            end_all_sessions(user)
        raise PasswordRejected(_l("Das aktuelle Passwort ist falsch."), field=field)


def change_password(
    user: User,
    current: str,
    new: str,
    *,
    source: str = REAUTH_SOURCE,
    now: datetime | None = None,
) -> None:
    """Change the password after re-checking the current one; ends all other sessions.

    The caller must commit even when this raises (see ``reauthenticate``).

    :raises PasswordRejected: wrong current password, locked account, or a weak new one.
    """
    reauthenticate(user, current, source=source, now=now)
    set_password(user, new)
    db.session.execute(delete(LoginLock).where(LoginLock.user_id == user.id))
    end_all_sessions(user)
    logger.info("authn_password_change", extra={"user_id": user.id})
    record_event("password_changed", "user", user.id, actor_id=user.id)


def set_password(user: User, new: str) -> None:
    """Validate and store a new password hash.

    :raises PasswordRejected: when the policy refuses it.
    """
    organisation = user.organisation.name if user.organisation else None
    problems = password_problems(
        new, user_inputs=context_words(user.email, user.name, organisation)
    )
    if problems:
        raise PasswordRejected(problems[0], field="new_password")
    user.password_hash = hash_password(new)


def create_user(
    *,
    email: str,
    name: str,
    password: str,
    roles: list[Role],
    organisation: Organisation | None = None,
    is_org_manager: bool = False,
    actor_id: int | None = None,
) -> User:
    """Create an account after checking role/organisation consistency and the password policy.

    :raises DomainError: duplicate e-mail, applicant without organisation, ministry user with one.
    :raises PasswordRejected: weak password.
    """
    email = normalise_email(email)
    if not roles:
        raise DomainError(_l("Mindestens eine Rolle ist erforderlich."), field="role")
    if db.session.execute(db.select(User.id).where(User.email == email)).first():
        raise DomainError(_l("Für diese E-Mail-Adresse besteht bereits ein Konto."), field="email")
    if Role.APPLICANT in roles:
        if organisation is None:
            raise DomainError(_l("Antragstellende gehören zu einer Kommune."), field="organisation")
        if set(roles) & MINISTRY_ROLES:
            raise DomainError(
                _l("Antragstellende können keine Ministeriumsrolle haben."), field="role"
            )
    elif organisation is not None:
        raise DomainError(_l("Ministeriumskonten gehören zu keiner Kommune."), field="organisation")
    user = User(
        email=email,
        name=name.strip(),
        password_hash="",
        organisation=organisation,
        is_org_manager=is_org_manager and organisation is not None,
    )
    set_password(user, password)
    user.role_rows = [UserRole(role=r) for r in sorted(set(roles))]
    db.session.add(user)
    db.session.flush()
    record_event("user_created", "user", user.id, actor_id=actor_id, roles=[r.value for r in roles])
    return user


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def can_invite(actor: User, role: Role, organisation: Organisation | None) -> bool:
    """Admins invite anyone; an organisation's manager invites applicants of that organisation."""
    if actor.has_role(Role.ADMIN):
        return True
    return (
        role is Role.APPLICANT
        and actor.is_org_manager
        and organisation is not None
        and actor.organisation_id == organisation.id
    )


def check_role_combination(roles: Sequence[Role]) -> None:
    """Roles one account may hold together: an applicant belongs to a municipality and holds no
    ministry role; the cash office (finance) pays what others approved, so it is never combined
    with reviewing or approving (separation of granting and paying, § 77 SäHO / VV); reviewer,
    approver and admin combine freely.

    :raises DomainError: no role, or a combination that is not allowed (field ``role``).
    """
    chosen = set(roles)
    if not chosen:
        raise DomainError("Bitte wählen Sie mindestens eine Rolle.", field="role")
    if Role.APPLICANT in chosen and len(chosen) > 1:
        raise DomainError(
            "Antragstellende einer Kommune können keine weitere Rolle haben.", field="role"
        )
    if Role.FINANCE in chosen and chosen & {Role.REVIEWER, Role.APPROVER}:
        raise DomainError(
            "Haushalt/Kasse kann nicht zugleich prüfen oder bewilligen (Trennung von Bewilligung "
            "und Auszahlung).",
            field="role",
        )


def invite(
    actor: User,
    *,
    email: str,
    role: Role | None = None,
    roles: Sequence[Role] = (),
    organisation: Organisation | None,
    is_org_manager: bool = False,
    base_url: str,
) -> IssuedInvitation:
    """Create an expiring invitation (one or more roles) and queue its e-mail.

    :raises NotPermitted: the actor may not invite for this role/organisation.
    :raises DomainError: an account with this e-mail exists already; roles that do not combine.
    """
    all_roles = list(dict.fromkeys(roles or ([role] if role else [])))
    check_role_combination(all_roles)
    role = all_roles[0]
    if not all(can_invite(actor, r, organisation) for r in all_roles):
        raise NotPermitted("Sie dürfen für diese Rolle oder Kommune nicht einladen.")
    email = normalise_email(email)
    if db.session.execute(db.select(User.id).where(User.email == email)).first():
        raise DomainError(_l("Für diese E-Mail-Adresse besteht bereits ein Konto."), field="email")
    if role is Role.APPLICANT and organisation is None:
        raise DomainError(_l("Bitte wählen Sie die Kommune."), field="organisation")
    token = secrets.token_urlsafe(32)
    hours = current_app.config["INVITATION_VALID_HOURS"]
    invitation = Invitation(
        email=email,
        role=role,
        extra_roles=",".join(r.value for r in all_roles[1:]),
        organisation=organisation if role is Role.APPLICANT else None,
        is_org_manager=is_org_manager and role is Role.APPLICANT,
        token_hash=_token_hash(token),
        expires_at=utcnow() + timedelta(hours=hours),
        invited_by_id=actor.id,
    )
    db.session.add(invitation)
    db.session.flush()
    link = f"{base_url.rstrip('/')}/auth/einladung/{token}"
    org_text = (
        f" für {organisation.display_name}" if organisation and role is Role.APPLICANT else ""
    )
    queue_mail(
        email,
        "Einladung zum Förderportal KommPräv",
        f"Guten Tag,\n\n{actor.name} hat Sie{org_text} zum Förderportal KommPräv eingeladen.\n"
        f"Bitte legen Sie Ihr Konto innerhalb von {hours} Stunden über diesen Link an:\n\n"
        f"{link}\n\nWenn Sie diese Einladung nicht erwartet haben, ignorieren Sie diese E-Mail.\n",
    )
    record_event(
        "user_invited",
        "invitation",
        invitation.id,
        actor_id=actor.id,
        role=role.value,
        roles=[r.value for r in all_roles],
    )
    return IssuedInvitation(invitation, token)


def find_invitation(token: str, *, now: datetime | None = None) -> Invitation:
    """The open invitation for ``token``.

    :raises DomainError: unknown, used, revoked or expired token.
    """
    now = now or utcnow()
    invitation = db.session.execute(
        db.select(Invitation).where(Invitation.token_hash == _token_hash(token))
    ).scalar_one_or_none()
    expires_at = as_utc(invitation.expires_at) if invitation else None
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked
        or expires_at is None
        or expires_at < now
    ):
        raise DomainError(_l("Diese Einladung ist ungültig oder abgelaufen."))
    return invitation


def accept_invitation(token: str, *, name: str, password: str) -> User:
    """Create the invited account; the invitation can be used once.

    :raises DomainError: invalid token; :raises PasswordRejected: weak password.
    """
    invitation = find_invitation(token)
    user = create_user(
        email=invitation.email,
        name=name,
        password=password,
        roles=invitation.roles,
        organisation=invitation.organisation,
        is_org_manager=invitation.is_org_manager,
        actor_id=invitation.invited_by_id,
    )
    invitation.accepted_at = utcnow()
    return user
