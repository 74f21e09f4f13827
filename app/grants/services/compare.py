"""Readable comparison of two submitted versions: German labels for fields and plan lines, money as
"14.000,00 €", rates as "80,00 %", dates as "15.10.2026", enums by label — never raw keys, cents or
basis points.

The input is the frozen snapshot JSON (``app.grants.schemas.ApplicationSnapshotSchema``). Plan
lines and documents are matched by their id (lines keep their id when the plan is saved again).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.common.formatting import date_de, percent_bp, permille
from app.common.money import format_eur
from app.grants.labels import QUALIFICATION_LABELS, SMALL_GRANT_REASONS
from app.grants.models import Qualification, SmallGrantReason, Submission

EMPTY = "—"


@dataclass(frozen=True)
class Change:
    """One changed item: section and label as the reviewer reads them, old and new as text."""

    section: str
    label: str
    old: str
    new: str


def _text(value: Any) -> str:
    return EMPTY if value is None or value == "" else str(value)


def _money(value: Any) -> str:
    return EMPTY if value is None else format_eur(int(value))


def _rate(value: Any) -> str:
    """Basis points → German percentage: ``8000`` → ``80,00 %``."""
    return EMPTY if value is None else percent_bp(int(value))


def _date(value: Any) -> str:
    return EMPTY if not value else date_de(date.fromisoformat(str(value)))


def _bool(value: Any) -> str:
    if value is None:
        return EMPTY
    return _("ja") if value else _("nein")


def _fte(value: Any) -> str:
    return EMPTY if value is None else f"{permille(int(value))} {_('VZÄ')}"


def _kind(value: Any) -> str:
    labels = {
        "gemeinde": _("Gemeinde"),
        "landkreis": _("Landkreis"),
        "eigenbetrieb": _("Eigenbetrieb"),
    }
    return EMPTY if value is None else labels.get(str(value), str(value))


def _reason(value: Any) -> str:
    if not value:
        return EMPTY
    return str(SMALL_GRANT_REASONS[SmallGrantReason(value)])  # lazy: the request language


def _qualification(value: Any) -> str:
    if not value:
        return EMPTY
    return str(QUALIFICATION_LABELS[Qualification(value)])  # lazy: the request language


def _category(value: Any) -> str:
    return _("Personalkosten") if value == "staff" else _("Sachkosten")


Formatter = Callable[[Any], str]

GENERAL = _l("Allgemeines")
KPR = _l("KPR und Koordinierungsstelle")
PLAN = _l("Finanzierungsplan")
TOTALS = _l("Summen")
DOCUMENTS = _l("Dokumente")
APPLICANT = _l("Antragsteller")

#: Top-level and nested snapshot fields: key → (section, label, formatter).
FIELDS: dict[str, tuple[Any, Any, Formatter]] = {
    "funding_year": (GENERAL, _l("Förderjahr"), _text),
    "title": (GENERAL, _l("Projekttitel"), _text),
    "purpose": (GENERAL, _l("Zuwendungszweck"), _text),
    "project_start": (GENERAL, _l("Projektbeginn"), _date),
    "project_end": (GENERAL, _l("Projektende"), _date),
    "is_late": (GENERAL, _l("Verspätet eingereicht"), _bool),
    "late_justification": (GENERAL, _l("Begründung der Verspätung"), _text),
    "kpr_name": (KPR, _l("Name des KPR"), _text),
    "kpr_established_on": (KPR, _l("KPR gegründet am"), _date),
    "office_unit": (KPR, _l("Koordinierungsstelle"), _text),
    "office_contact_name": (KPR, _l("Ansprechperson"), _text),
    "office_contact_email": (KPR, _l("E-Mail"), _text),
    "office_contact_phone": (KPR, _l("Telefon"), _text),
    "office_tasks": (KPR, _l("Aufgaben der Koordinierungsstelle"), _text),
    "own_share_cash_cents": (PLAN, _l("Eigenanteil (Geldmittel)"), _money),
    "third_party_cents": (PLAN, _l("Drittmittel"), _money),
    "third_party_source": (PLAN, _l("Herkunft der Drittmittel"), _text),
    "requested_grant_cents": (PLAN, _l("Beantragte Zuwendung"), _money),
    "small_grant_reason": (PLAN, _l("Ausnahmegrund (RL V.6)"), _reason),
    "small_grant_note": (PLAN, _l("Erläuterung zum Ausnahmegrund"), _text),
    "applicant.name": (APPLICANT, _l("Name"), _text),
    "applicant.ags": (APPLICANT, _l("Amtlicher Gemeindeschlüssel"), _text),
    "applicant.kind": (APPLICANT, _l("Art der Kommune"), _kind),
    "applicant.kreis": (APPLICANT, _l("Landkreis"), _text),
    "applicant.polizeidirektion": (APPLICANT, _l("Polizeidirektion"), _text),
    "totals.total_expenditure_cents": (TOTALS, _l("Ausgaben gesamt"), _money),
    "totals.eligible_cents": (TOTALS, _l("Zuwendungsfähige Ausgaben"), _money),
    "totals.staff_cents": (TOTALS, _l("Personalausgaben"), _money),
    "totals.running_cents": (TOTALS, _l("Sachausgaben"), _money),
    "totals.investive_cents": (TOTALS, _l("Investive Ausgaben"), _money),
    "totals.in_kind_cents": (TOTALS, _l("Eigenleistungen"), _money),
    "totals.own_share_cents": (TOTALS, _l("Eigenanteil gesamt"), _money),
    "totals.financing_total_cents": (TOTALS, _l("Finanzierung gesamt"), _money),
    "totals.difference_cents": (TOTALS, _l("Differenz Ausgaben – Finanzierung"), _money),
    "totals.grant_rate_bp": (TOTALS, _l("Fördersatz"), _rate),
    "totals.own_share_rate_bp": (TOTALS, _l("Eigenanteil in Prozent"), _rate),
}
#: Not compared: bookkeeping of the snapshot itself, ids, and totals shown as top-level fields.
IGNORED = frozenset(
    {
        "schema",
        "id",
        "reference",
        "version",
        "submitted_at",
        "submitted_by",
        "lines",
        "documents",
        "totals.own_cash_cents",
        "totals.third_party_cents",
        "totals.requested_grant_cents",
    }
)
#: Fields of a plan line: key → (label suffix or None for the amount itself, formatter).
LINE_FIELDS: dict[str, tuple[Any, Formatter]] = {
    "amount_cents": (None, _money),
    "description": (_l("Bezeichnung"), _text),
    "category": (_l("Art"), _category),
    "pay_group": (_l("Entgeltgruppe"), _text),
    "pay_step": (_l("Stufe"), _text),
    "qualification": (_l("Qualifikation"), _qualification),
    "fte_permille": (_l("Stellenanteil"), _fte),
    "months": (_l("Monate"), _text),
    "investive": (_l("investiv"), _bool),
    "in_kind": (_l("Eigenleistung"), _bool),
}


def _flat(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(value, f"{path}."))
        else:
            out[path] = value
    return out


def _line_name(line: Mapping[str, Any]) -> str:
    description = line.get("description") or _("Position %(n)s", n=int(line.get("position", 0)) + 1)
    return f"{_category(line.get('category'))} {description}"


def _line_summary(line: Mapping[str, Any]) -> str:
    parts = [_money(line.get("amount_cents"))]
    if line.get("fte_permille") is not None:
        parts.append(_fte(line["fte_permille"]))
    if line.get("months") is not None:
        parts.append(_("%(n)s Monate", n=line["months"]))
    return ", ".join(parts)


def _by_id(rows: Any) -> dict[Any, Mapping[str, Any]]:
    return {row.get("id", index): row for index, row in enumerate(rows or [])}


def _line_changes(old: Any, new: Any) -> list[Change]:
    section = str(PLAN)
    a, b = _by_id(old), _by_id(new)
    changes: list[Change] = []
    for key in [*a, *(k for k in b if k not in a)]:
        before, after = a.get(key), b.get(key)
        if before is None and after is not None:
            label = _("%(line)s (neue Position)", line=_line_name(after))
            changes.append(Change(section, label, EMPTY, _line_summary(after)))
        elif after is None and before is not None:
            label = _("%(line)s (entfernt)", line=_line_name(before))
            changes.append(Change(section, label, _line_summary(before), EMPTY))
        elif before is not None and after is not None:
            name = _line_name(after)
            for field_key, (suffix, fmt) in LINE_FIELDS.items():
                if before.get(field_key) != after.get(field_key):
                    label = name if suffix is None else f"{name} – {suffix}"
                    changes.append(
                        Change(
                            section, label, fmt(before.get(field_key)), fmt(after.get(field_key))
                        )
                    )
    return changes


def _document_changes(old: Any, new: Any, doc_labels: Mapping[str, str]) -> list[Change]:
    section = str(DOCUMENTS)
    a, b = _by_id(old), _by_id(new)
    changes: list[Change] = []
    for key in [*a, *(k for k in b if k not in a)]:
        before, after = a.get(key), b.get(key)
        if before is not None and after is not None and before == after:
            continue
        row = after or before or {}
        label = doc_labels.get(str(row.get("type_code")), _("Dokument"))
        changes.append(
            Change(
                section,
                label,
                _text(before.get("original_name")) if before else EMPTY,
                _text(after.get("original_name")) if after else EMPTY,
            )
        )
    return changes


def readable_diff(
    old: Mapping[str, Any], new: Mapping[str, Any], doc_labels: Mapping[str, str]
) -> list[Change]:
    """Changes from snapshot ``old`` to ``new`` in the order of the application form.

    ``doc_labels`` maps document type codes to their labels.
    """
    a, b = _flat(old), _flat(new)
    changes: list[Change] = []
    for key, (section, label, fmt) in FIELDS.items():
        if a.get(key) != b.get(key):
            changes.append(Change(str(section), str(label), fmt(a.get(key)), fmt(b.get(key))))
    for key in sorted((set(a) | set(b)) - set(FIELDS) - IGNORED):
        if key.split(".")[0] not in IGNORED and a.get(key) != b.get(key):
            # A field added to the snapshot later: still shown, labelled as such.
            label = _("Weitere Angabe (%(key)s)", key=key)
            changes.append(Change(str(GENERAL), label, _text(a.get(key)), _text(b.get(key))))
    plan = _line_changes(old.get("lines"), new.get("lines"))
    documents = _document_changes(old.get("documents"), new.get("documents"), doc_labels)
    order = [str(GENERAL), str(APPLICANT), str(KPR), str(PLAN), str(TOTALS), str(DOCUMENTS)]
    merged = changes + plan + documents
    return sorted(merged, key=lambda c: order.index(c.section) if c.section in order else 99)


def diff_versions(old: Submission, new: Submission, doc_labels: Mapping[str, str]) -> list[Change]:
    """:func:`readable_diff` of two frozen submissions."""
    return readable_diff(json.loads(old.data_json), json.loads(new.data_json), doc_labels)
