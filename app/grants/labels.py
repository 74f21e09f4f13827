"""Labels of the grants enums and reference codes as users read them.

Lazy strings (msgid = German wording): the UI shows them in the request's language, legal PDFs
render under ``force_locale("de")``.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.common.labels import register
from app.grants.models import Qualification, SmallGrantReason, Status

#: R9 — the RL V.6 exception categories (labels shown to users).
SMALL_GRANT_REASONS: dict[SmallGrantReason, object] = {
    SmallGrantReason.REGIONAL_NEED: _l(
        "Projekt, das kurzfristig auf konkrete regionale Bedarfe reagiert (RL V.6)"
    ),
    SmallGrantReason.LOCAL_EVENT: _l(
        "Projekt, das sich auf anlassbezogene lokale Ereignisse oder empirische Befunde bezieht "
        "(RL V.6)"
    ),
    SmallGrantReason.CURRENT_SITUATION: _l(
        "Projekt, das auf aktuelle Lagen reagiert und in die Gesamtpräventionsstrategie "
        "integriert wird (RL V.6)"
    ),
}
#: R8 — labels of the qualifications as worded in RL V.4.
QUALIFICATION_LABELS: dict[Qualification, object] = {
    Qualification.VOCATIONAL: _l("Abgeschlossene Berufsausbildung (bis EG 7, Stufe 3)"),
    Qualification.UNIVERSITY_APPLIED: _l(
        "Abgeschlossene Fachhochschulausbildung (bis EG 11, Stufe 3)"
    ),
    Qualification.UNIVERSITY: _l(
        "Abgeschlossene wissenschaftliche Hochschulausbildung (bis EG 14, Stufe 3)"
    ),
    Qualification.UNIVERSITY_LEAD: _l(
        "Wissenschaftliche Hochschulausbildung und Führungsfunktion (bis EG 15, Stufe 3)"
    ),
}

#: R4 — document types by code (reference data; the database keeps the German name).
DOCUMENT_TYPE_LABELS: dict[str, object] = {
    "project_description": _l("Projektbeschreibung (nach Beccaria-Standards)"),
    "financing_plan": _l("Ausgaben- und Finanzierungsplan (unterschrieben)"),
    "qualification_proof": _l("Qualifikationsnachweis"),
    "not_started": _l("Erklärung, dass mit dem Projekt noch nicht begonnen wurde"),
    "municipal_statement": _l("Gemeindewirtschaftliche Stellungnahme"),
    "input_tax": _l("Erklärung zum Vorsteuerabzug"),
    "kpr_resolution": _l("Beschluss zur Gründung des KPR"),
    "cooperation": _l("Kooperationsvereinbarung mit Polizeidirektion und LPR"),
    "other": _l("Sonstiges Dokument"),
}
#: How an application's status reads (the status badge of every list and detail page).
STATUS_LABELS: dict[Status, object] = {
    Status.DRAFT: _l("Entwurf (Beratung ausstehend)"),
    Status.CONSULTED: _l("Entwurf"),
    Status.SUBMITTED: _l("Eingereicht"),
    Status.INCOMPLETE: _l("Nachforderung"),
    Status.IN_REVIEW: _l("In Prüfung"),
    Status.REJECTED: _l("Abgelehnt"),
    Status.APPROVED: _l("Bewilligt"),
    Status.FINAL: _l("Bestandskräftig"),
    Status.RUNNING: _l("Laufend"),
    Status.VN_DUE: _l("Verwendungsnachweis fällig"),
    Status.VN_RECEIVED: _l("Verwendungsnachweis eingegangen"),
    Status.VN_INCOMPLETE: _l("Verwendungsnachweis unvollständig"),
    Status.VN_COMPLETE: _l("Verwendungsnachweis vollständig"),
    Status.VN_AUDIT: _l("Vertiefte Prüfung"),
    Status.VN_CHECKED: _l("Verwendungsnachweis geprüft"),
    Status.RECOVERY: _l("Rückforderung"),
    Status.REVOCATION_CHECK: _l("Widerrufsprüfung"),
    Status.CLOSED: _l("Abgeschlossen"),
    Status.WITHDRAWN: _l("Zurückgezogen"),
}

register("document_type", DOCUMENT_TYPE_LABELS)
register("application_status", {k.value: v for k, v in STATUS_LABELS.items()})
register("small_grant_reason", {k.value: v for k, v in SMALL_GRANT_REASONS.items()})
register("qualification", {k.value: v for k, v in QUALIFICATION_LABELS.items()})
