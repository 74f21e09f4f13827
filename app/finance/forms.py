"""Forms of the finance blueprint."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.common.fields import GermanDateField, MoneyField


class OrderForm(FlaskForm):
    """Prepare an order; the hidden uuid makes double clicks and retries idempotent."""

    idempotency_key = HiddenField(validators=[InputRequired(), Length(min=16, max=64)])


class ActionForm(FlaskForm):
    reason = TextAreaField(_l("Grund"), validators=[Optional(), Length(max=2000)])


class PaymentRunForm(FlaskForm):
    execution_date = GermanDateField(
        _l("Ausführungsdatum"),
        validators=[InputRequired(_l("Bitte geben Sie das Ausführungsdatum an."))],
    )


class BankAccountForm(FlaskForm):
    holder = StringField(
        _l("Kontoinhaber/in"),
        validators=[
            InputRequired(_l("Bitte geben Sie die Kontoinhaberin bzw. den Kontoinhaber an.")),
            Length(max=70),
        ],
    )
    iban = StringField(
        _l("IBAN"), validators=[InputRequired(_l("Bitte geben Sie die IBAN an.")), Length(max=42)]
    )
    bic = StringField(_l("BIC (optional)"), validators=[Optional(), Length(max=11)])
    password = PasswordField(
        _l("Ihr Passwort (zur Bestätigung)"),
        validators=[InputRequired(_l("Bitte bestätigen Sie mit Ihrem Passwort."))],
    )


class StatementUploadForm(FlaskForm):
    file = FileField(
        _l("Kontoauszug (camt.053, XML)"),
        validators=[FileRequired(_l("Bitte wählen Sie eine Datei."))],
    )


class AssignLineForm(FlaskForm):
    order = SelectField(_l("Auszahlungsauftrag"), choices=[], validate_choice=False)


class ExplainLineForm(FlaskForm):
    text = TextAreaField(
        _l("Erläuterung"),
        validators=[InputRequired(_l("Bitte geben Sie eine Erläuterung ein.")), Length(max=2000)],
    )


class ClaimPaymentForm(FlaskForm):
    paid_on = GermanDateField(
        _l("Eingang am"), validators=[InputRequired(_l("Bitte geben Sie das Datum an."))]
    )
    amount = MoneyField(
        _l("Betrag"), validators=[InputRequired(_l("Bitte geben Sie den Betrag an."))]
    )
