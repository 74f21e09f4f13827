"""Forms of the auth blueprint."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length
from wtforms.widgets import CheckboxInput, ListWidget


class LoginForm(FlaskForm):
    email = EmailField(_l("E-Mail-Adresse"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Passwort"), validators=[DataRequired(), Length(max=1024)])


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
