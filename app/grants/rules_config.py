"""Programme numbers in one place, each with its source key (RULES.md §2, §5, §13).

Change a figure here, never in the rule code. Source keys resolve in ``docs/rules.md``.
"""

from __future__ import annotations

from datetime import date

from app.grants.models import Qualification, SmallGrantReason

#: R6 — grant at most 90 % of eligible expenditure (RL V.2). In basis points.
MAX_FUNDING_RATE_BP = 9000
#: R6 — own share at least 10 % of eligible expenditure (RL V.5). In basis points.
MIN_OWN_SHARE_BP = 1000
#: R9 — grants should exceed 10,000 EUR; at most this amount needs an RL V.6 reason (VVK 1.1).
SMALL_GRANT_LIMIT_CENTS = 1_000_000
#: R2 — a late application must reach us at least 42 days before project start (RL VI.2).
LATE_MIN_DAYS_BEFORE_START = 42
#: R2 — default application window: 31.08.–15.10. of the year before the funding year (RL VI.2).
DEFAULT_WINDOW_OPENS = (8, 31)
DEFAULT_WINDOW_CLOSES = (10, 15)
#: R8 — TV-L step at which staff costs are capped (RL V.4).
CAP_STEP = 3
#: R8 — highest eligible TV-L group per recorded qualification (RL V.4).
QUALIFICATION_CAP_GROUP: dict[Qualification, int] = {
    Qualification.VOCATIONAL: 7,
    Qualification.UNIVERSITY_APPLIED: 11,
    Qualification.UNIVERSITY: 14,
    Qualification.UNIVERSITY_LEAD: 15,
}
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
#: R8 seed values: TV-L Tabellenentgelt, Stufe 3, EUR per month in cents, per year of validity.
#: 2025: table valid 01.02.2025–31.03.2026; 2026: table valid 01.04.2026–28.02.2027
#: (Bayerisches Landesamt für Finanzen, "Entgelttabelle TV-L ab 01.04.2026", and the TdL
#: Einigungspapier of 14.02.2026). Admins maintain later years on the "TV-L-Obergrenzen" page.
PAY_SCALE_SEED: dict[int, dict[int, int]] = {
    2025: {7: 354569, 11: 461910, 14: 566285, 15: 611224},
    2026: {7: 364569, 11: 474843, 14: 582141, 15: 628338},
}
PAY_SCALE_SOURCES = {
    2025: "TV-L Entgelttabelle gültig ab 01.02.2025 (Anlage B TV-L), Stufe 3",
    2026: "TV-L Entgelttabelle gültig ab 01.04.2026, LfF Bayern / TdL-Einigung 14.02.2026, Stufe 3",
}
#: Upload limits for documents.
ALLOWED_UPLOAD_TYPES = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
}
ZIP_MAX_ENTRIES = 2000
ZIP_MAX_UNCOMPRESSED = 200 * 1024 * 1024


def default_window(funding_year: int) -> tuple[date, date]:
    """Default application window for ``funding_year`` (R2)."""
    prev = funding_year - 1
    return (date(prev, *DEFAULT_WINDOW_OPENS), date(prev, *DEFAULT_WINDOW_CLOSES))


#: R10 — version of the general grant conditions attached to every Bescheid (VVK 5.1).
ANBEST_VERSION = "ANBest-K (Anlage 3a zur VwV zu § 44 SäHO)"
#: T8 — remedy period after notification; then the Bescheid is final (RULES.md §13.3: Klage within
#: one month, no Widerspruch against an oberste Landesbehörde [K] — confirm).
REMEDY_PERIOD_MONTHS = 1
#: § 41 (2) VwVfG: a letter counts as notified on the fourth day after posting (since 2025).
NOTIFICATION_DAYS_AFTER_POSTING = 4
#: Legal remedy text printed on the Bescheid (configurable, RULES.md §13.3).
REMEDY_TEXT = (
    "Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe Klage beim "
    "Verwaltungsgericht Dresden, Hans-Oster-Straße 4, 01099 Dresden, schriftlich oder zur "
    "Niederschrift des Urkundsbeamten der Geschäftsstelle erhoben werden."
)
#: R15 — a 25 % interim instalment if the grant exceeds 150,000 EUR and runs longer than a year.
SPLIT_THRESHOLD_CENTS = 15_000_000
#: R10/R21 — proof of use is due at the latest one year after the end of the grant period.
VN_MONTHS_AFTER_PERIOD = 12
