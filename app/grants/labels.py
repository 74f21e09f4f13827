"""Labels of the grants enums as users read them (German; translated in templates)."""

from __future__ import annotations

from app.grants.models import Qualification, SmallGrantReason

#: R9 — the RL V.6 exception categories (labels shown to users).
SMALL_GRANT_REASONS: dict[SmallGrantReason, str] = {
    SmallGrantReason.REGIONAL_NEED: (
        "Projekt, das kurzfristig auf konkrete regionale Bedarfe reagiert (RL V.6)"
    ),
    SmallGrantReason.LOCAL_EVENT: (
        "Projekt, das sich auf anlassbezogene lokale Ereignisse oder empirische Befunde bezieht "
        "(RL V.6)"
    ),
    SmallGrantReason.CURRENT_SITUATION: (
        "Projekt, das auf aktuelle Lagen reagiert und in die Gesamtpräventionsstrategie "
        "integriert wird (RL V.6)"
    ),
}
#: R8 — labels of the qualifications as worded in RL V.4.
QUALIFICATION_LABELS: dict[Qualification, str] = {
    Qualification.VOCATIONAL: "Abgeschlossene Berufsausbildung (bis EG 7, Stufe 3)",
    Qualification.UNIVERSITY_APPLIED: "Abgeschlossene Fachhochschulausbildung (bis EG 11, Stufe 3)",
    Qualification.UNIVERSITY: (
        "Abgeschlossene wissenschaftliche Hochschulausbildung (bis EG 14, Stufe 3)"
    ),
    Qualification.UNIVERSITY_LEAD: (
        "Wissenschaftliche Hochschulausbildung und Führungsfunktion (bis EG 15, Stufe 3)"
    ),
}
