"""Forms of the auth blueprint."""

from __future__ import annotations

from typing import Any, TypedDict

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, NumberRange
from wtforms.widgets import CheckboxInput, ListWidget

from app.auth.models import Role
from app.common.security import MAX_ID
from app.orgs import queries as org_queries
from app.orgs.models import Organisation


class Credentials(TypedDict):
    email: str
    password: str


class PasswordChange(TypedDict):
    current: str
    new: str


class LoginForm(FlaskForm):
    email = EmailField(_l("E-Mail-Adresse"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Passwort"), validators=[DataRequired(), Length(max=1024)])

    def service_input(self) -> Credentials:
        """The arguments of ``services.authenticate``."""
        return {"email": self.email.data or "", "password": self.password.data or ""}


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Aktuelles Passwort"), validators=[DataRequired(), Length(max=1024)]
    )
    new_password = PasswordField(_l("Neues Passwort"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(
        _l("Neues Passwort wiederholen"),
        validators=[
            DataRequired(),
            Length(max=1024),
            EqualTo("new_password", message=_l("Die Passwörter stimmen nicht überein.")),
        ],
    )

    def service_input(self) -> PasswordChange:
        """The arguments of ``services.change_password``."""
        return {"current": self.current_password.data or "", "new": self.new_password.data or ""}


class AcceptInvitationForm(FlaskForm):
    name = StringField(_l("Ihr Name"), validators=[DataRequired(), Length(max=200)])
    new_password = PasswordField(_l("Passwort"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(
        _l("Passwort wiederholen"),
        validators=[
            DataRequired(),
            Length(max=1024),
            EqualTo("new_password", message=_l("Die Passwörter stimmen nicht überein.")),
        ],
    )

    def service_input(self) -> dict[str, str]:
        """The arguments of ``services.accept_invitation``."""
        return {"name": self.name.data or "", "password": self.new_password.data or ""}


class InviteForm(FlaskForm):
    email = EmailField(_l("E-Mail-Adresse"), validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectMultipleField(
        _l("Rollen"),
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),  # none chosen: refused by check_role_combination
    )
    organisation = SelectField(_l("Kommune"), choices=[], validate_choice=False)
    is_org_manager = BooleanField(_l("Darf Kolleginnen und Kollegen der Kommune verwalten"))

    def service_input(self) -> dict[str, Any]:
        """The arguments of ``services.invite`` (but the actor and the base URL)."""
        return {
            "email": self.email.data or "",
            "roles": [Role(r) for r in self.role.data or []],
            "organisation": _organisation(self.organisation.data),
            "is_org_manager": bool(self.is_org_manager.data),
        }


class ApiTokenForm(FlaskForm):
    name = StringField(_l("Bezeichnung"), validators=[DataRequired(), Length(max=100)])
    scopes = SelectMultipleField(
        _l("Berechtigungen"),
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    days = IntegerField(
        _l("Gültig für (Tage)"),
        default=90,
        validators=[DataRequired(), NumberRange(min=1, max=365)],
    )
    totp = StringField(_l("Code aus der Authenticator-App"), validators=[Length(max=10)])

    def service_input(self) -> dict[str, Any]:
        """The arguments of ``tokens.create_token``."""
        return {
            "name": self.name.data or "",
            "scopes": self.scopes.data or [],
            "days": self.days.data or 0,
        }


class RevokeTokenForm(FlaskForm):
    """CSRF only."""


class UnlockForm(FlaskForm):
    """Only the CSRF token: the unlock link's token is in the URL."""


class SecondFactorForm(FlaskForm):
    """The 6-digit code of the authenticator app, or a recovery code."""

    code = StringField(
        _l("Code aus der Authenticator-App oder Wiederherstellungscode"),
        validators=[DataRequired(_l("Bitte geben Sie den Code ein.")), Length(max=32)],
    )


class EnrolForm(FlaskForm):
    code = StringField(
        _l("Code aus der Authenticator-App"),
        validators=[DataRequired(_l("Bitte geben Sie den Code ein.")), Length(max=32)],
    )


class ResetSecondFactorForm(FlaskForm):
    """Only the CSRF token: the user is in the URL."""


class RenewRecoveryCodesForm(FlaskForm):
    totp = StringField(
        _l("Code aus der Authenticator-App"),
        validators=[DataRequired(_l("Bitte geben Sie den Code ein.")), Length(max=32)],
    )


def _organisation(raw: str | None) -> Organisation | None:
    """The organisation picked in the form; anything but a plausible id means none.

    ``org_queries.get_organisation`` accepts Unicode digits ("²" → ValueError) and 12-digit ids
    (PostgreSQL: "integer out of range"), so the value is checked here first.
    """
    raw = raw or ""
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= MAX_ID:
        return None
    return org_queries.get_organisation(raw)
