"""Users, their roles (as data) and invitations."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.common.db import TimestampMixin, enum_type
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
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
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


class ApiToken(TimestampMixin, Model):
    """A personal API token. Only the SHA-256 of the secret is stored; ``prefix`` (the first
    characters of the token) identifies it in lists. Scopes narrow, never widen, the user's
    roles."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    @property
    def scope_list(self) -> list[str]:
        return [s for s in self.scopes.split() if s]
