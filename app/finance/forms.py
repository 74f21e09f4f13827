"""Forms of the finance blueprint."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from app.common.fields import GermanDateField, MoneyField, options
from app.common.money import format_eur
from app.common.security import parse_id


class OrderForm(FlaskForm):
    """Prepare an order; the hidden uuid makes double clicks and retries idempotent."""

    idempotency_key = HiddenField(validators=[InputRequired(), Length(min=16, max=64)])


class ActionForm(FlaskForm):
    reason = TextAreaField(_l("Grund"), validators=[Optional(), Length(max=2000)])
    confirm_early = BooleanField(_l("Vorzeitige Auszahlung vor dem Haushaltsjahr bestätigen"))


def _second_factor_field() -> StringField:
    return StringField(
        _l("Code aus der Authenticator-App"), validators=[Optional(), Length(max=32)]
    )


class SecondFactorActionForm(FlaskForm):
    """Releasing money needs a fresh second-factor code (issue 14): order release, bank-account
    confirmation; releasing before the instalment's budget year needs a confirmation (R12)."""

    totp = _second_factor_field()
    confirm_early = BooleanField(_l("Vorzeitige Auszahlung vor dem Haushaltsjahr bestätigen"))


class PaymentRunForm(FlaskForm):
    execution_date = GermanDateField(
        _l("Ausführungsdatum"),
        validators=[InputRequired(_l("Bitte geben Sie das Ausführungsdatum an."))],
    )
    totp = _second_factor_field()

    def chosen_date(self) -> date:
        return cast(date, self.execution_date.data)


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
        validators=[
            InputRequired(_l("Bitte bestätigen Sie mit Ihrem Passwort.")),
            Length(max=1024),
        ],
    )
    totp = StringField(
        _l("Code aus der Authenticator-App (wenn eingerichtet)"),
        validators=[Optional(), Length(max=32)],
    )

    def service_input(self) -> dict[str, str]:
        """Keyword arguments of ``payouts.submit_bank_account``."""
        return {
            "password": self.password.data or "",
            "second_factor": self.totp.data or "",
            "holder": self.holder.data or "",
            "iban": self.iban.data or "",
            "bic": self.bic.data or "",
        }


class StatementUploadForm(FlaskForm):
    file = FileField(
        _l("Kontoauszug (camt.053, XML)"),
        validators=[FileRequired(_l("Bitte wählen Sie eine Datei."))],
    )


class AssignLineForm(FlaskForm):
    order = SelectField(_l("Auszahlungsauftrag"), choices=[], validate_choice=False)

    def with_orders(self, orders: Any) -> AssignLineForm:
        """Offer ``orders`` (payout orders of the line's exact amount) as the choices."""
        self.order.choices = options(
            (
                str(o.id),
                f"{o.end_to_end_id} – {o.application.reference} – {format_eur(o.amount_cents)}",
            )
            for o in orders
        )
        return self

    def chosen_id(self) -> int | None:
        return parse_id(self.order.data or "")


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

    def service_input(self) -> dict[str, Any]:
        """Keyword arguments of ``revocation.record_claim_payment``."""
        return {"paid_on": cast(date, self.paid_on.data), "paid_cents": cast(int, self.amount.data)}
