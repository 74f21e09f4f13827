"""Admin forms of the budget page (HTML input only; the rules live in ``services``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional

from app.budget.models import MAX_YEAR, MIN_YEAR
from app.common.fields import MoneyField, options


def _year_field(label: object) -> IntegerField:
    return IntegerField(
        label,
        validators=[
            InputRequired(message=_l("Bitte geben Sie das Jahr an.")),
            NumberRange(
                MIN_YEAR,
                MAX_YEAR,
                message=_l("Bitte ein Jahr zwischen %(min)s und %(max)s angeben."),
            ),
        ],
    )


def _amount_field(label: object, required: bool = True) -> MoneyField:
    first = InputRequired(message=_l("Bitte geben Sie den Betrag an.")) if required else Optional()
    return MoneyField(label, validators=[first])


class OpenYearForm(FlaskForm):
    """Open a Haushaltsjahr (Ansatz, Ausgabereste, vorläufige Haushaltsführung)."""

    year = _year_field(_l("Haushaltsjahr"))
    appropriation = _amount_field(_l("Ansatz (Euro)"))
    carryover = _amount_field(_l("Ausgabereste (Euro)"), required=False)
    provisional = BooleanField(_l("Vorläufige Haushaltsführung (Bewilligungen gesperrt)"))


class AuthorisationForm(FlaskForm):
    """Set a Verpflichtungsermächtigung of one budget year for a later year."""

    budget_year = _year_field(_l("Haushaltsjahr (Haushaltsgesetz)"))
    target_year = _year_field(_l("Für das Jahr"))
    amount = _amount_field(_l("Betrag der Verpflichtungsermächtigung (Euro)"))


class CarryoverForm(FlaskForm):
    """Set the approved Ausgabereste of a year."""

    year = _year_field(_l("Haushaltsjahr"))
    carryover = _amount_field(_l("Ausgabereste (Euro)"))


class ProvisionalForm(FlaskForm):
    """Switch vorläufige Haushaltsführung of a year on or off (R13)."""

    year = _year_field(_l("Haushaltsjahr"))
    provisional = SelectField(
        _l("Vorläufige Haushaltsführung"),
        choices=options(
            [("1", _l("an – Bewilligungen gesperrt")), ("0", _l("aus – Haushaltsgesetz in Kraft"))]
        ),
        validators=[InputRequired(message=_l("Bitte wählen Sie an oder aus."))],
    )
