"""Users, their roles (as data) and invitations."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.common.db import TimestampMixin, enum_type, utcnow
from app.extensions import Model
from app.orgs.models import Organisation


class Role(enum.StrEnum):
    """What a user may do. Applicants belong to one organisation; the others are ministry staff."""

    APPLICANT = "applicant"
    REVIEWER = "reviewer"
    APPROVER = "approver"
    FINANCE = "finance"
    ADMIN = "admin"


MINISTRY_ROLES = frozenset({Role.REVIEWER, Role.APPROVER, Role.FINANCE, Role.ADMIN})


class User(TimestampMixin, Model):
    """A person with a login. ``session_epoch`` is part of the session id: bumping it ends every
    session of the user (logout, password change, disable)."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    is_org_manager: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    session_epoch: Mapped[int] = mapped_column(default=0)
    #: Second factor (issue 14): base32 TOTP secret, set when enrolment starts; in use once
    #: ``totp_confirmed_at`` is set. ``totp_last_step`` is the last accepted time step (no replay).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]
    last_login_at: Mapped[datetime | None]
    locale: Mapped[str | None] = mapped_column(String(5))

    organisation: Mapped[Organisation | None] = relationship()
    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    # Flask-Login protocol -------------------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """Session id with the epoch, so old cookies stop working after logout."""
        return f"{self.id}:{self.session_epoch}"

    # Roles ----------------------------------------------------------------------------------
    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(r.role for r in self.role_rows)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_ministry(self) -> bool:
        return bool(self.roles & MINISTRY_ROLES)

    # Second factor ----------------------------------------------------------------------------
    @property
    def mfa_enabled(self) -> bool:
        return self.totp_confirmed_at is not None and bool(self.totp_secret)

    @property
    def mfa_required(self) -> bool:
        """Reviewers, approvers, finance and admins must use a second factor."""
        return self.is_ministry


class UserRole(Model):
    """One role of one user."""

    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role", name="uq_user_role_user_id_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(enum_type(Role, 20))

    user: Mapped[User] = relationship(back_populates="role_rows")


class Invitation(TimestampMixin, Model):
    """An e-mailed, expiring invitation to create an account. Only the token's hash is stored."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    role: Mapped[Role] = mapped_column(enum_type(Role, 20))
    # Further roles of the same invitation, comma-separated (e.g. "reviewer" beside "approver").
    extra_roles: Mapped[str] = mapped_column(String(100), default="")
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    is_org_manager: Mapped[bool] = mapped_column(default=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    accepted_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(default=False)

    organisation: Mapped[Organisation | None] = relationship()

    @property
    def roles(self) -> list[Role]:
        """Every role the invited account gets (the main role first)."""
        extra = [Role(r) for r in self.extra_roles.split(",") if r]
        return [self.role, *extra]


class LoginCounter(Model):
    """A sliding-window counter of login attempts (finding 2 of issue 14): one row per key
    (``ip:<address>`` or ``global``), shared by every worker through the database.

    ``hits`` counts the current fixed window (starting at ``window_start``, epoch seconds),
    ``previous_hits`` the window before; the estimate weights the previous window by the part of
    it that still overlaps the sliding window.
    """

    __tablename__ = "login_counter"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_start: Mapped[int]
    hits: Mapped[int]
    previous_hits: Mapped[int] = mapped_column(default=0)


class LoginLock(Model):
    """Failed logins of one account from one source (client address), and the lock they caused.

    Locks are per account *and* source (finding 3 of issue 14): a guesser from one address locks
    only that address out of the account; the account's owner logs in from anywhere else.
    """

    __tablename__ = "login_lock"
    __table_args__ = (UniqueConstraint("user_id", "source", name="uq_login_lock_user_id_source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    #: First failure from this source (part of the unlock token: a new row is a new lock).
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RecoveryCode(Model):
    """One of a user's ten one-time recovery codes for the second factor (argon2 hash only)."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None]


class UserSession(Model):
    """One signed-in device ("angemeldete Geräte", issue 14): the session cookie carries a random
    key whose hash is stored here; the user load checks it with the same query (one indexed
    lookup per request), so signing a device out ends that session at once."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
