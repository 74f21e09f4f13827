"""Forms of the post-award blueprint: project start, proof of use, audit sample, revocation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.common.fields import GermanDateField, MoneyField, options


class StartForm(FlaskForm):
    started_on = GermanDateField(
        _l("Projektbeginn am"), validators=[InputRequired(_l("Bitte geben Sie das Datum an."))]
    )


class WithdrawGrantForm(FlaskForm):
    """T22: the recipient renounces the grant (Verzicht); the consequences must be confirmed."""

    reason = TextAreaField(_l("Grund (optional)"), validators=[Optional(), Length(max=2000)])
    confirm = BooleanField(
        _l(
            "Wir verzichten auf die Zuwendung. Offene Raten werden nicht mehr ausgezahlt; bereits "
            "ausgezahlte Beträge erstatten wir mit Zinsen nach § 49a VwVfG."
        )
    )


class FulfilledForm(FlaskForm):
    fulfilled_on = GermanDateField(
        _l("Zweck erfüllt am"), validators=[InputRequired(_l("Bitte geben Sie das Datum an."))]
    )


class ProofForm(FlaskForm):
    """Static part of the proof-of-use form; the per-line figures are named ``actual-<id>``."""

    kind = SelectField(
        _l("Art des Nachweises"),
        choices=options(
            [
                ("final", _l("Verwendungsnachweis")),
                ("provisional", _l("Vorläufiger Verwendungsnachweis")),
                ("partial", _l("Teilverwendungsnachweis (Erstattungsverfahren)")),
            ]
        ),
    )
    report = TextAreaField(
        _l("Sachbericht"),
        validators=[InputRequired(_l("Bitte fügen Sie den Sachbericht ein.")), Length(max=20000)],
    )
    actual_own = MoneyField(_l("Eigenanteil (Geldmittel, tatsächlich)"), validators=[Optional()])
    actual_third_party = MoneyField(_l("Drittmittel (tatsächlich)"), validators=[Optional()])
    ngo_share = MoneyField(
        _l("An Dritte weitergeleitet (nur wenn der Bescheid es erlaubt)"), validators=[Optional()]
    )
    ngo_proof_received_on = GermanDateField(
        _l("Verwendungsnachweis des Dritten (mit Belegliste) eingegangen am"),
        validators=[Optional()],
    )
    publicity_confirmed = BooleanField(
        _l(
            "Wir haben die Öffentlichkeit über die Förderung durch den Freistaat Sachsen "
            "informiert (§ 44a SäHO)."
        )
    )
    publicity_note = TextAreaField(
        _l("Wie wurde informiert?"), validators=[Optional(), Length(max=2000)]
    )


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Begründung / Hinweis"), validators=[Optional(), Length(max=5000)])


class CheckForm(FlaskForm):
    final_eligible = MoneyField(
        _l("Abschließend anerkannte zuwendungsfähige Ausgaben (optional)"), validators=[Optional()]
    )


class AuditSampleForm(FlaskForm):
    year = IntegerField(
        _l("Jahr des Eingangs"),
        validators=[
            InputRequired(_l("Bitte geben Sie das Jahr an.")),
            NumberRange(min=2000, max=2100),
        ],
    )


class RevocationCheckForm(FlaskForm):
    reason = SelectField(
        _l("Anlass"),
        choices=options(
            [
                ("misuse", _l("Zweckwidrige Verwendung")),
                ("wrong_data", _l("Unrichtige Angaben")),
                ("publicity", _l("Fehlende Öffentlichkeitsarbeit (§ 44a SäHO)")),
                ("vn_overdue", _l("Verwendungsnachweis überfällig")),
                ("no_start", _l("Kein Projektbeginn innerhalb eines Jahres")),
                ("other", _l("Sonstiges")),
            ]
        ),
    )
    facts_known_on = GermanDateField(
        _l("Tatsachen vollständig bekannt seit"),
        validators=[InputRequired(_l("Bitte geben Sie das Datum an."))],
    )
    note = TextAreaField(_l("Sachverhalt"), validators=[Optional(), Length(max=5000)])


class RevokeForm(FlaskForm):
    new_grant = MoneyField(
        _l("Neuer Zuwendungsbetrag (0 bei vollständigem Widerruf)"),
        validators=[InputRequired(_l("Bitte geben Sie den Betrag an."))],
    )
    effective_from = GermanDateField(
        _l("Unwirksam ab"), validators=[InputRequired(_l("Bitte geben Sie das Datum an."))]
    )
    reasons = TextAreaField(
        _l("Begründung"),
        validators=[InputRequired(_l("Ein Widerruf muss begründet werden.")), Length(max=10000)],
    )
