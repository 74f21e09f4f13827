"""Forms of the grants blueprint (HTML input only; rules live in the services)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, cast

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional, ValidationError

from app.common.fields import (
    TOO_LARGE,
    FteField,
    GermanDateField,
    MoneyField,
    PercentField,
    YearAmountsField,
    optional_str,
    options,
)
from app.common.money import AmountTooLarge, MoneyError, parse_eur
from app.common.security import parse_id
from app.finance.interest import is_half_year_start
from app.grants.labels import QUALIFICATION_LABELS, SMALL_GRANT_REASONS
from app.grants.models import (
    FinancingType,
    KprRecordKind,
    LineCategory,
    ManualCheck,
    Qualification,
    SmallGrantReason,
)
from app.grants.queries import QUEUE_PAGE_SIZES, QUEUE_SORTS, QUEUE_STATUSES, QueueFilter
from app.grants.services.review import MANUAL_CHECKS, DecisionInput, ManualEntry
from app.orgs import queries as org_queries
from app.orgs.models import Organisation


class NewApplicationForm(FlaskForm):
    funding_year = SelectField(_l("Förderjahr"), coerce=int, choices=[])


class GeneralForm(FlaskForm):
    title = StringField(_l("Projekttitel"), validators=[Optional(), Length(max=200)])
    purpose = TextAreaField(_l("Zuwendungszweck"), validators=[Optional(), Length(max=5000)])
    project_start = GermanDateField(_l("Projektbeginn"), validators=[Optional()])
    project_end = GermanDateField(_l("Projektende"), validators=[Optional()])

    def validate(self, extra_validators: object = None) -> bool:
        ok = super().validate(extra_validators)
        start, end = self.project_start.data, self.project_end.data
        if start and end and end < start:
            self.project_end.errors = [
                *self.project_end.errors,
                str(_l("Das Projektende liegt vor dem Projektbeginn.")),
            ]
            return False
        return ok


class KprForm(FlaskForm):
    kpr_name = StringField(
        _l("Name des Kommunalen Präventionsrates"), validators=[Optional(), Length(max=200)]
    )
    kpr_established_on = GermanDateField(_l("Gegründet am"), validators=[Optional()])
    office_unit = StringField(
        _l("Koordinierungsstelle (Ansiedlung in der Verwaltung)"),
        validators=[Optional(), Length(max=200)],
    )
    office_contact_name = StringField(
        _l("Ansprechperson"), validators=[Optional(), Length(max=200)]
    )
    office_contact_email = EmailField(
        _l("E-Mail der Koordinierungsstelle"), validators=[Optional(), Email(), Length(max=254)]
    )
    office_contact_phone = StringField(_l("Telefon"), validators=[Optional(), Length(max=50)])
    office_tasks = TextAreaField(
        _l("Aufgaben der Koordinierungsstelle"), validators=[Optional(), Length(max=5000)]
    )


class LineForm(Form):
    """One row of the plan (sub-form without its own CSRF token)."""

    id = HiddenField()
    category = SelectField(
        _l("Art"),
        choices=options(
            [
                (LineCategory.STAFF.value, _l("Personal")),
                (LineCategory.RUNNING.value, _l("Sachausgabe")),
            ]
        ),
    )
    description = StringField(
        _l("Bezeichnung / Funktion"), validators=[Optional(), Length(max=300)]
    )
    pay_group = SelectField(
        _l("Entgeltgruppe (TV-L)"),
        coerce=lambda v: int(v) if v else None,
        choices=options([("", "—")] + [(str(g), f"EG {g}") for g in range(1, 16)]),
        validate_choice=True,
    )
    pay_step = SelectField(
        _l("Stufe"),
        coerce=lambda v: int(v) if v else None,
        choices=options([("", "—")] + [(str(s), str(s)) for s in range(1, 7)]),
    )
    qualification = SelectField(
        _l("Qualifikation"),
        choices=options([("", "—"), *QUALIFICATION_LABELS.items()]),
        coerce=optional_str,
        default="",
    )
    fte = FteField(_l("Stellenanteil"), validators=[Optional()])
    months = IntegerField(_l("Monate"), validators=[Optional(), NumberRange(min=1, max=60)])
    amount = MoneyField(_l("Betrag (€)"), validators=[Optional()])
    investive = BooleanField(_l("investiv"))
    in_kind = BooleanField(_l("Eigenleistung"))
    remove = BooleanField(_l("entfernen"))


class PlanForm(FlaskForm):
    lines = FieldList(FormField(LineForm), min_entries=0, max_entries=100)
    own_share_cash = MoneyField(_l("Eigenanteil (Geldmittel)"), validators=[Optional()])
    third_party = MoneyField(_l("Drittmittel"), validators=[Optional()])
    third_party_source = StringField(
        _l("Herkunft der Drittmittel"), validators=[Optional(), Length(max=300)]
    )
    requested_grant = MoneyField(_l("Beantragte Zuwendung"), validators=[Optional()])
    small_grant_reason = SelectField(
        _l("Ausnahmegrund für Zuwendungen bis 10.000 € (RL V.6)"),
        choices=options([("", "—"), *SMALL_GRANT_REASONS.items()]),
        coerce=optional_str,
        default="",
    )
    small_grant_note = TextAreaField(
        _l("Erläuterung des Ausnahmegrundes"), validators=[Optional(), Length(max=2000)]
    )

    def validate(self, extra_validators: Any = None) -> bool:
        """A saved line the user emptied (no description, no amount) is kept with a message
        instead of disappearing silently; "entfernen" removes it on purpose."""
        ok = super().validate(extra_validators)
        for entry in self.lines:
            sub = entry.form
            saved = bool(parse_id(sub.id.data or ""))
            if saved and not sub.remove.data and not (sub.description.data or sub.amount.data):
                sub.description.errors = [
                    *sub.description.errors,
                    str(
                        _l(
                            "Diese Zeile ist leer. Bitte geben Sie Bezeichnung und Betrag an oder "
                            "kreuzen Sie „entfernen“ an."
                        )
                    ),
                ]
                ok = False
        # FieldList keeps the entries' errors of its own validation: refresh them.
        entry_errors = [entry.errors for entry in self.lines.entries]
        self.lines.errors = entry_errors if any(entry_errors) else []
        return ok

    @staticmethod
    def qualification_of(value: str | None) -> Qualification | None:
        return Qualification(value) if value else None

    @staticmethod
    def reason_of(value: str | None) -> SmallGrantReason | None:
        return SmallGrantReason(value) if value else None


class DocumentForm(FlaskForm):
    type_code = SelectField(_l("Dokumentart"), choices=[])
    plan_line_id = SelectField(
        _l("Personalposition (für Qualifikationsnachweise)"), choices=[], validate_choice=False
    )
    file = FileField(_l("Datei"), validators=[FileRequired(_l("Bitte wählen Sie eine Datei."))])


class SubmitForm(FlaskForm):
    late_justification = TextAreaField(
        _l("Begründung der verspäteten Einreichung"), validators=[Optional(), Length(max=5000)]
    )
    confirm = BooleanField(
        _l(
            "Ich versichere, dass die Angaben richtig und vollständig sind und mit dem Projekt "
            "noch nicht begonnen wurde."
        ),
        validators=[InputRequired(_l("Bitte bestätigen Sie die Angaben."))],
    )


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Grund (optional)"), validators=[Optional(), Length(max=2000)])


class _OrganisationChoice:
    """The "Kommune" select of a form: its options, and the chosen organisation after validation
    (``None`` with the message at the field when the id names none)."""

    organisation: SelectField

    def offer(self, organisations: Iterable[Organisation]) -> None:
        self.organisation.choices = options(
            [("", "—")] + [(str(o.id), o.display_name) for o in organisations]
        )

    def chosen_organisation(self) -> Organisation | None:
        org = org_queries.get_organisation(self.organisation.data)
        if org is None:
            self.organisation.errors.append(_("Bitte wählen Sie die Kommune."))
        return org


class ConsultationForm(_OrganisationChoice, FlaskForm):
    organisation = SelectField(
        _l("Kommune"),
        choices=[],
        validate_choice=False,
        validators=[InputRequired(_l("Bitte wählen Sie die Kommune."))],
    )
    held_on = GermanDateField(
        _l("Datum des Gesprächs"), validators=[InputRequired(_l("Bitte geben Sie das Datum an."))]
    )
    adviser = StringField(
        _l("Beraterin / Berater"),
        validators=[InputRequired(_l("Bitte geben Sie die beratende Person an.")), Length(max=200)],
    )
    notes = TextAreaField(_l("Notizen"), validators=[Optional(), Length(max=5000)])

    def offer_found(self, organisations: Iterable[Organisation]) -> None:
        """The search results as options (no blank option when exactly one matched)."""
        found = list(organisations)
        self.organisation.choices = options(
            ([] if len(found) == 1 else [("", "—")])
            + [(str(o.id), f"{o.display_name} ({o.ags or o.kreis_key})") for o in found]
        )

    def service_input(self) -> dict[str, Any]:
        """Keyword arguments of ``applications.record_consultation``."""
        return {
            "held_on": self.held_on.data,
            "adviser": self.adviser.data or "",
            "notes": self.notes.data or "",
        }


class ConsultationEditForm(FlaskForm):
    """Correcting a recorded consultation (the organisation stays)."""

    held_on = GermanDateField(
        _l("Datum des Gesprächs"), validators=[InputRequired(_l("Bitte geben Sie das Datum an."))]
    )
    adviser = StringField(
        _l("Beraterin / Berater"),
        validators=[InputRequired(_l("Bitte geben Sie die beratende Person an.")), Length(max=200)],
    )
    notes = TextAreaField(_l("Notizen"), validators=[Optional(), Length(max=5000)])

    def service_input(self) -> dict[str, Any]:
        return {
            "held_on": self.held_on.data,
            "adviser": self.adviser.data or "",
            "notes": self.notes.data or "",
        }


class AddressForm(FlaskForm):
    address = TextAreaField(
        _l("Postanschrift"),
        validators=[InputRequired(_l("Bitte geben Sie die Postanschrift ein.")), Length(max=300)],
    )


class KprRecordForm(FlaskForm):
    kind = SelectField(
        _l("Art"),
        choices=options(
            [
                (KprRecordKind.RESOLUTION.value, _l("Beschluss zur Gründung des KPR")),
                (
                    KprRecordKind.COOPERATION.value,
                    _l("Kooperationsvereinbarung mit der Polizeidirektion"),
                ),
            ]
        ),
    )
    dated = GermanDateField(
        _l("Datum"), validators=[InputRequired(_l("Bitte geben Sie das Datum an."))]
    )
    partner = StringField(_l("Partner / Gremium"), validators=[Optional(), Length(max=200)])
    notes = TextAreaField(_l("Notizen"), validators=[Optional(), Length(max=2000)])
    file = FileField(_l("Dokument (optional)"))

    def service_input(self) -> dict[str, Any]:
        """Keyword arguments of ``applications.record_kpr``."""
        upload = self.file.data
        return {
            "kind": KprRecordKind(self.kind.data),
            "dated": cast(date, self.dated.data),
            "partner": self.partner.data or "",
            "notes": self.notes.data or "",
            "data": upload.read() if upload else None,
            "filename": upload.filename if upload else "",
        }


# --- ministry review forms -----------------------------------------------------------------------

SECTION_CHOICES = [
    ("general", _l("Allgemeines")),
    ("kpr", _l("KPR und Koordinierungsstelle")),
    ("finance", _l("Ausgaben- und Finanzierungsplan")),
    ("documents", _l("Dokumente")),
]


class AssignForm(FlaskForm):
    reviewer = SelectField(_l("Sachbearbeitung"), choices=[], validate_choice=False)


class ChangeRequestForm(FlaskForm):
    sections = SelectMultipleField(
        _l("Betroffene Abschnitte"), choices=options(SECTION_CHOICES), validators=[Optional()]
    )
    message = TextAreaField(
        _l("Was soll geändert oder nachgereicht werden?"),
        validators=[
            InputRequired(_l("Bitte beschreiben Sie die Nachforderung.")),
            Length(max=5000),
        ],
    )
    due_on = GermanDateField(_l("Frist (optional)"), validators=[Optional()])

    def inputs(self) -> dict[str, Any]:
        """Keyword arguments of ``review.request_changes``."""
        return {
            "message": self.message.data or "",
            "sections": self.sections.data or [],
            "due_on": self.due_on.data,
        }


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("Kommentar"),
        validators=[InputRequired(_l("Bitte geben Sie einen Kommentar ein.")), Length(max=5000)],
    )
    internal = BooleanField(
        _l("Nur intern (für die Antragstellenden nicht sichtbar)"), default=True
    )

    def service_input(self) -> dict[str, Any]:
        """Keyword arguments of ``review.add_comment``."""
        return {"body": self.body.data or "", "internal": bool(self.internal.data)}


class DecisionForm(FlaskForm):
    financing_type = SelectField(
        _l("Finanzierungsart"),
        choices=options(
            [
                ("share", _l("Anteilfinanzierung")),
                ("fixed", _l("Festbetragsfinanzierung (Ausnahme)")),
                ("deficit", _l("Fehlbedarfsfinanzierung (nur mit Begründung)")),
            ]
        ),
    )
    override_note = TextAreaField(
        _l("Begründung der Ausnahme"), validators=[Optional(), Length(max=2000)]
    )
    rate = PercentField(
        _l("Fördersatz (%)"), validators=[InputRequired(_l("Bitte geben Sie den Fördersatz an."))]
    )
    eligible_base = MoneyField(
        _l("Zuwendungsfähige Ausgaben"),
        validators=[InputRequired(_l("Bitte geben Sie die zuwendungsfähigen Ausgaben an."))],
    )
    max_amount = MoneyField(
        _l("Höchstbetrag"), validators=[InputRequired(_l("Bitte geben Sie den Höchstbetrag an."))]
    )
    grant = MoneyField(
        _l("Zuwendung"), validators=[InputRequired(_l("Bitte geben Sie die Zuwendung an."))]
    )
    purpose = TextAreaField(
        _l("Zuwendungszweck"),
        validators=[InputRequired(_l("Bitte geben Sie den Zuwendungszweck an.")), Length(max=5000)],
    )
    period_start = GermanDateField(
        _l("Bewilligungszeitraum von"),
        validators=[InputRequired(_l("Bitte geben Sie den Beginn an."))],
    )
    period_end = GermanDateField(
        _l("Bewilligungszeitraum bis"),
        validators=[InputRequired(_l("Bitte geben Sie das Ende an."))],
    )
    vn_deadline = GermanDateField(
        _l("Verwendungsnachweis bis"),
        validators=[InputRequired(_l("Bitte geben Sie die Frist an."))],
    )
    years = YearAmountsField(
        _l("Beträge je Haushaltsjahr"),
        validators=[InputRequired(_l("Bitte geben Sie die Beträge je Haushaltsjahr an."))],
    )
    late_accepted = BooleanField(_l("Begründung der verspäteten Antragstellung wird anerkannt"))
    pass_through_allowed = BooleanField(
        _l("Weiterleitung der Zuwendung an einen Dritten (Verein) ist erlaubt (RL III)")
    )
    pass_through_recipient = StringField(
        _l("Empfänger der Weiterleitung"), validators=[Optional(), Length(max=200)]
    )

    @classmethod
    def from_input(cls, data: DecisionInput) -> DecisionForm:
        """The form filled with ``data`` (the open decision or the proposal)."""
        return cls(
            financing_type=data.financing_type.value,
            override_note=data.override_note,
            rate=data.rate_bp,
            eligible_base=data.eligible_base_cents,
            max_amount=data.max_amount_cents,
            grant=data.grant_cents,
            purpose=data.purpose,
            period_start=data.period_start,
            period_end=data.period_end,
            vn_deadline=data.vn_deadline,
            years=dict(data.years),
            late_accepted=data.late_accepted,
            pass_through_allowed=data.pass_through_allowed,
            pass_through_recipient=data.pass_through_recipient,
        )

    def to_input(self) -> DecisionInput:
        """The validated form as the input of ``review.prepare_decision``."""
        return DecisionInput(
            financing_type=FinancingType(self.financing_type.data),
            override_note=self.override_note.data or "",
            rate_bp=cast(int, self.rate.data),
            eligible_base_cents=cast(int, self.eligible_base.data),
            max_amount_cents=cast(int, self.max_amount.data),
            grant_cents=cast(int, self.grant.data),
            purpose=self.purpose.data or "",
            period_start=cast(date, self.period_start.data),
            period_end=cast(date, self.period_end.data),
            vn_deadline=cast(date, self.vn_deadline.data),
            years=cast(dict[int, int], self.years.data),
            late_accepted=bool(self.late_accepted.data),
            pass_through_allowed=bool(self.pass_through_allowed.data),
            pass_through_recipient=self.pass_through_recipient.data or "",
        )


class DecideForm(FlaskForm):
    reasons = TextAreaField(_l("Begründung"), validators=[Optional(), Length(max=5000)])


class DateForm(FlaskForm):
    on = GermanDateField(
        _l("Datum"), validators=[InputRequired(_l("Bitte geben Sie das Datum an."))]
    )


class AffiliationForm(_OrganisationChoice, FlaskForm):
    organisation = SelectField(
        _l("Kommune"),
        choices=[],
        validate_choice=False,
        validators=[InputRequired(_l("Bitte wählen Sie die Kommune."))],
    )
    note = StringField(_l("Art der Verbindung"), validators=[Optional(), Length(max=300)])


# --- admin reference data ---------------------------------------------------------------------


class PayScaleForm(FlaskForm):
    year = IntegerField(
        _l("Jahr"),
        validators=[
            InputRequired(_l("Bitte geben Sie das Jahr an.")),
            NumberRange(min=2000, max=2100),
        ],
    )
    pay_group = SelectField(
        _l("Entgeltgruppe"),
        choices=options([("7", "EG 7"), ("11", "EG 11"), ("14", "EG 14"), ("15", "EG 15")]),
    )
    monthly = MoneyField(
        _l("Monatlicher Höchstbetrag je Vollzeitstelle (Stufe 3)"),
        validators=[InputRequired(_l("Bitte geben Sie den Betrag an."))],
    )
    source = StringField(
        _l("Quelle"),
        validators=[InputRequired(_l("Bitte geben Sie die Quelle an.")), Length(max=300)],
    )

    def service_input(self) -> dict[str, Any]:
        """Keyword arguments of ``reference.set_pay_scale``."""
        return {
            "year": cast(int, self.year.data),
            "pay_group": int(self.pay_group.data or 0),
            "monthly_cents": cast(int, self.monthly.data),
            "source": self.source.data or "",
        }


class WindowForm(FlaskForm):
    year = IntegerField(
        _l("Förderjahr"),
        validators=[
            InputRequired(_l("Bitte geben Sie das Förderjahr an.")),
            NumberRange(min=2000, max=2100),
        ],
    )
    opens = GermanDateField(
        _l("Antragsfrist von"),
        validators=[InputRequired(_l("Bitte geben Sie den Fristbeginn an."))],
    )
    closes = GermanDateField(
        _l("Antragsfrist bis"), validators=[InputRequired(_l("Bitte geben Sie das Fristende an."))]
    )
    consultation_months = IntegerField(
        _l("Beratungsgespräch gilt (Monate vor Einreichung)"),
        validators=[Optional(), NumberRange(min=1, max=120)],
    )

    def service_input(self) -> dict[str, Any]:
        """Keyword arguments of ``reference.set_window``."""
        return {
            "year": cast(int, self.year.data),
            "opens": cast(date, self.opens.data),
            "closes": cast(date, self.closes.data),
            "consultation_months": self.consultation_months.data,
        }


class DocumentRequiredForm(FlaskForm):
    required = BooleanField(_l("erforderlich"))


_SIGNED_PERCENT = re.compile(r"^([+-]?)(\d{1,2})(?:[,.](\d{1,2}))?$")


class SignedPercentField(StringField):
    """A percentage that may be negative, typed as "-0,88" or "1,27"; ``data`` is basis points
    (-88, 127). ``PercentField`` (app.common.fields) accepts no sign."""

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        if isinstance(self.data, int):
            sign = "-" if self.data < 0 else ""
            return f"{sign}{abs(self.data) // 100},{abs(self.data) % 100:02d}"
        return ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = str(valuelist[0]) if valuelist else ""
        text = text.replace("%", "").replace("\u2212", "-").replace(" ", "").strip()
        if not text:
            self.data = None
            return
        match = _SIGNED_PERCENT.match(text)
        if not match:
            self.data = None
            raise ValueError(_l("Bitte geben Sie einen Zinssatz wie -0,88 oder 1,27 ein."))
        sign, whole, frac = match.groups()
        value = int(whole) * 100 + int(((frac or "") + "00")[:2])
        self.data = -value if sign == "-" else value


class BaseRateForm(FlaskForm):
    """Add or correct a Basiszinssatz (§ 247 BGB) on the admin page „Stammdaten“ (R27)."""

    valid_from = GermanDateField(
        _l("Gültig ab"),
        validators=[InputRequired(_l("Bitte geben Sie an, ab wann der Zinssatz gilt."))],
    )
    rate = SignedPercentField(
        _l("Basiszinssatz in Prozent"),
        validators=[InputRequired(_l("Bitte geben Sie den Zinssatz an."))],
    )
    source = StringField(
        _l("Quelle"),
        validators=[InputRequired(_l("Bitte geben Sie die Quelle an.")), Length(max=300)],
    )

    def validate_valid_from(self, field: GermanDateField) -> None:
        """Checked here too (the service is authoritative) so all errors show at once."""
        if field.data is not None and not is_half_year_start(field.data):
            raise ValidationError(
                _l("Der Basiszinssatz ändert sich nur zum 01.01. und 01.07. eines Jahres.")
            )

    def service_input(self) -> dict[str, Any]:
        """Keyword arguments of ``reference.set_base_rate``."""
        return {
            "valid_from": cast(date, self.valid_from.data),
            "rate_bp": cast(int, self.rate.data),
            "source": self.source.data or "",
        }


class ManualCheckEntryForm(Form):
    """One manual checklist item (sub-form without its own CSRF token)."""

    item = HiddenField()
    done = BooleanField(_l("erledigt"))
    note = TextAreaField(
        _l("Notiz"),
        validators=[Length(max=2000, message=_l("Höchstens %(max)d Zeichen."))],
    )


class ManualChecksForm(FlaskForm):
    """The manual checklist items of the review, saved together."""

    items = FieldList(
        FormField(ManualCheckEntryForm),
        label=_l("Manuelle Prüfpunkte"),
        min_entries=0,
        max_entries=50,
    )

    def entries(self) -> list[ManualEntry]:
        return [
            ManualEntry(
                item=entry.form.item.data or "",
                done=bool(entry.form.done.data),
                note=entry.form.note.data or "",
            )
            for entry in self.items
        ]


def manual_checks_form(saved: Mapping[str, ManualCheck]) -> ManualChecksForm:
    """The form prefilled with the saved state of every configured item (in their order)."""
    data = [
        {
            "item": code,
            "done": saved[code].done if code in saved else False,
            "note": saved[code].note if code in saved else "",
        }
        for code, _label in MANUAL_CHECKS
    ]
    return ManualChecksForm(data={"items": data})


def queue_filter(
    args: Mapping[str, str],
    *,
    user_id: int,
    kreis_keys: Iterable[str],
    polizeidirektionen: Iterable[str],
) -> tuple[QueueFilter, dict[str, str]]:
    """The queue filter from the query string, and a message per invalid parameter (that
    parameter is then not applied — never silently)."""
    errors: dict[str, str] = {}

    def text(name: str) -> str:
        return (args.get(name) or "").strip()

    def year() -> int | None:
        raw = text("jahr")
        if raw and (not raw.isdigit() or not 2000 <= int(raw) <= 2100):
            errors["jahr"] = _("Bitte geben Sie ein Förderjahr wie 2027 ein.")
            return None
        return int(raw) if raw else None

    def cents(name: str) -> int | None:
        raw = text(name)
        if not raw:
            return None
        try:
            return parse_eur(raw)
        except AmountTooLarge:
            errors[name] = str(TOO_LARGE)
        except MoneyError:
            errors[name] = _("Bitte geben Sie einen Betrag wie 10.000,00 ein.")
        return None

    def choice(name: str, allowed: Iterable[str], message: str) -> str | None:
        raw = text(name)
        if raw and raw not in set(allowed):
            errors[name] = message
            return None
        return raw or None

    status = choice("status", QUEUE_STATUSES, _("Unbekannter Status – bitte wählen Sie aus."))
    kreis = choice("kreis", kreis_keys, _("Unbekannter Landkreis – bitte wählen Sie aus."))
    pd = choice("pd", polizeidirektionen, _("Unbekannte Polizeidirektion – bitte wählen Sie aus."))
    assigned = choice(
        "zugewiesen", ("ich", "niemand"), _("Bitte wählen Sie „mir“ oder „niemandem“.")
    )
    sort = choice("sortierung", QUEUE_SORTS, _("Unbekannte Sortierung – sortiert nach Eingang."))
    min_cents, max_cents = cents("min"), cents("max")
    if min_cents is not None and max_cents is not None and min_cents > max_cents:
        errors["max"] = _("Der Betrag „bis“ ist kleiner als der Betrag „von“.")
        max_cents = None
    page_raw = text("seite") or "1"
    if not page_raw.isdigit() or not 1 <= int(page_raw) <= 10_000:
        errors["seite"] = _("Ungültige Seitenzahl – Seite 1 wird angezeigt.")
        page_raw = "1"
    size_raw = text("anzahl")
    per_page = QUEUE_PAGE_SIZES[0]
    if size_raw:
        if size_raw.isdigit() and int(size_raw) in QUEUE_PAGE_SIZES:
            per_page = int(size_raw)
        else:
            errors["anzahl"] = _("Bitte wählen Sie 25, 50 oder 100 Anträge je Seite.")
    f = QueueFilter(
        status=status,
        funding_year=year(),
        kreis_key=kreis,
        polizeidirektion=pd,
        min_cents=min_cents,
        max_cents=max_cents,
        assigned_to={"ich": user_id, "niemand": 0}.get(assigned or ""),
        sort=sort or "submitted",
        page=int(page_raw),
        per_page=per_page,
    )
    return f, errors
