"""Forms of the post-award blueprint: project start, proof of use, audit sample, revocation."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.common.errors import DomainError
from app.common.fields import GermanDateField, MoneyField, money_message, options
from app.common.money import MoneyError, format_eur, parse_eur
from app.common.tx import refuse_at
from app.grants.models import Application
from app.postaward.models import ProofKind
from app.postaward.services.proof import ProofInput


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

    def service_input(self) -> dict[str, Any]:
        """Keyword arguments of ``withdrawal.withdraw_grant``."""
        return {"reason": self.reason.data or "", "confirmed": bool(self.confirm.data)}


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
    own_zero_confirmed = BooleanField(
        _l("Ja, es wurde kein Eigenanteil in Geld eingesetzt (0,00 €).")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line_errors: dict[int, str] = {}  # plan line id → message at that line's input
        self.raw: dict[int, str] = {}  # plan line id → the typed text (kept on errors)
        self.figures = SimpleNamespace(errors=[])  # messages about the figures as a whole

    def to_input(self, application: Application) -> ProofInput | None:
        """Validate the form and the per-line figures (``actual-<id>``); the service input, or
        None with the messages at their fields. Warns when the actual own share is 0 € although
        an own share in money was planned (a blank field is the usual slip)."""
        valid = self.validate_on_submit()
        actuals: dict[int, int] = {}
        for line in application.lines:
            text = request.form.get(f"actual-{line.id}", "").strip()
            self.raw[line.id] = text
            try:
                actuals[line.id] = parse_eur(text) if text else 0
            except MoneyError as exc:
                self.line_errors[line.id] = money_message(exc)
                continue
            if actuals[line.id] < 0:
                self.line_errors[line.id] = _("Der Betrag darf nicht negativ sein.")
        planned_own = application.own_share_cash_cents
        if (
            valid
            and not self.actual_own.data
            and planned_own > 0
            and not self.own_zero_confirmed.data
        ):
            self.actual_own.errors = [
                _(
                    "Sie geben keinen Eigenanteil an, geplant waren %(planned)s. Bitte tragen Sie "
                    "den tatsächlichen Eigenanteil ein oder bestätigen Sie unten, dass keiner "
                    "eingesetzt wurde.",
                    planned=format_eur(planned_own),
                )
            ]
            valid = False
        if not valid or self.line_errors:
            return None
        return ProofInput(
            kind=ProofKind(self.kind.data),
            report=self.report.data or "",
            publicity_confirmed=bool(self.publicity_confirmed.data),
            publicity_note=self.publicity_note.data or "",
            actuals=actuals,
            actual_own_cents=self.actual_own.data or 0,
            actual_third_party_cents=self.actual_third_party.data or 0,
            ngo_share_cents=self.ngo_share.data or 0,
            ngo_proof_received_on=self.ngo_proof_received_on.data,
        )

    def refuse(self, exc: DomainError) -> None:
        """Show a service refusal at its field; one about the line figures (or the state of the
        grant) above the table — never at the Sachbericht."""
        if exc.field and exc.field in self and exc.field != "csrf_token":
            refuse_at(self[exc.field], exc)
        else:
            refuse_at(self.figures, exc)

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.line_errors or self.figures.errors)


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Begründung / Hinweis"), validators=[Optional(), Length(max=5000)])


class IncompleteForm(FlaskForm):
    """Requesting the missing parts of a proof needs a reason: the applicant reads it."""

    note = TextAreaField(
        _l("Was fehlt? (wird der Zuwendungsempfängerin mitgeteilt)"),
        validators=[
            InputRequired(_l("Bitte geben Sie an, was fehlt.")),
            Length(max=5000),
        ],
    )


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
