"""Programme numbers in one place, each with its rule and source (RULES.md §2, §5, §7, §10, §13).

Change a figure here, never in the rule code. Rule numbers (Rn) resolve in ``docs/rules.md``;
*design* marks a number the rules leave open. Labels for users live in the label registry
(``app.common.labels``), not here. This module imports nothing from the feature packages, so every
layer may read it.
"""

from __future__ import annotations

from datetime import date
from typing import Final, Literal

DayCount = Literal["act/act", "act/365", "30/360"]

# --- application (R1–R9) ------------------------------------------------------------------------

#: R6 — grant at most 90 % of eligible expenditure (RL V.2). In basis points.
MAX_FUNDING_RATE_BP = 9000
#: R6 — own share at least 10 % of eligible expenditure (RL V.5). In basis points.
MIN_OWN_SHARE_BP = 1000
#: R9 — grants should exceed 10,000 EUR; at most this amount needs an RL V.6 reason (VVK 1.1).
SMALL_GRANT_LIMIT_CENTS = 1_000_000
#: R1 — a consultation counts if held at most this many months before the submission (*design*,
#: issue 12: RL VI.1 only says "vor Antragstellung"; a consultation years ago says nothing about the
#: current project). Configurable per funding year (``FundingYear.consultation_valid_months``).
CONSULTATION_VALID_MONTHS = 24
#: R2 — a late application must reach us at least 42 days before project start (RL VI.2).
LATE_MIN_DAYS_BEFORE_START = 42
#: R2 — default application window: 31.08.–15.10. of the year before the funding year (RL VI.2).
DEFAULT_WINDOW_OPENS = (8, 31)
DEFAULT_WINDOW_CLOSES = (10, 15)
#: R8 — TV-L step at which staff costs are capped (RL V.4).
CAP_STEP = 3
#: R8 — highest eligible TV-L group per recorded qualification (RL V.4), keyed by the value of
#: ``grants.models.Qualification`` (a StrEnum, so its members look these keys up directly).
QUALIFICATION_CAP_GROUP: dict[str, int] = {
    "vocational": 7,
    "university_applied": 11,
    "university": 14,
    "university_lead": 15,
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
#: Upload limits for documents (*design*).
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


# --- decision and Bescheid (R10–R13, T8) ---------------------------------------------------------

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

# --- payouts (R14–R17, R31/R32) ------------------------------------------------------------------

#: R15 — a 25 % interim instalment if the grant exceeds 150,000 EUR and runs longer than a year
#: (VVK 7.2: "mehr als ein Jahr"); the year is a calendar period with both ends of the
#: Bewilligungszeitraum included (RULES.md §13.10), not 365 days.
SPLIT_THRESHOLD_CENTS = 15_000_000
SPLIT_MIN_MONTHS = 12
#: R16 — grants below 20,000 EUR for single projects use the Erstattungsverfahren (RL VI.6).
REIMBURSEMENT_LIMIT_CENTS = 2_000_000
#: R17 — partial/advance payments of at least 10,000 EUR (VVK 7.5). RULES.md §13.8: until
#: clarified, plan instalments below it are allowed with a warning ("warn"); "block" refuses them.
MIN_INSTALMENT_CENTS = 1_000_000
SMALL_INSTALMENT_POLICY = "warn"
#: R32 — default SEPA schema (DK: pain.001.001.03 ends November 2025).
PAIN_SCHEMA = "pain.001.001.09"

# --- proof of use (R18–R25, R29) -----------------------------------------------------------------

#: R10/R21 — proof of use is due at the latest one year after the end of the grant period.
VN_MONTHS_AFTER_PERIOD = 12
#: R18 — completeness check within 30 days (restarts with every re-submission).
CHECK_DAYS = 30
#: R19 — the final instalment at the latest six months after the complete VN.
FINAL_PAYMENT_MONTHS = 6
#: R22 — recalculation only when eligible expenditure or funds change by more than 500 EUR.
RECALC_THRESHOLD_CENTS = 50_000
#: R23 — a reduction of more than 7.5 % or 10,000 EUR must have been reported (ANBK 5.1).
CHANGE_NOTICE_BP = 750
CHANGE_NOTICE_CENTS = 1_000_000
#: R30 — an NGO receiving passed-on funds proves their use within six months after the purpose
#: is fulfilled, at the latest six months after the grant period (ANBK 6.6; VwV Anl. 2 Nr. 6.1).
NGO_PROOF_MONTHS = 6
#: R25 — at least half of the proofs received per year are drawn for in-depth audit.
AUDIT_SHARE_BP = 5000
#: R29 — eight weeks to cure missing publicity (§ 44a SäHO).
PUBLICITY_CURE_DAYS = 56

# --- deadline job timers (RULES.md §5) -----------------------------------------------------------

#: R21 — remind the recipient this many days before the VN deadline (*design*).
VN_REMINDER_DAYS = 28
#: R21/T24 — Nachfrist after the overdue reminder before the revocation check (*design*).
VN_GRACE_DAYS = 28
#: R18 — tell the ministry this many days before the completeness check is due (*design*).
CHECK_WARNING_DAYS = 7
#: R19 — alert one month before the latest date of the final instalment (i.e. at 5 months).
FINAL_PAYMENT_ALERT_MONTHS = 1
#: R24 — revocation check when no start was notified this many days after receipt (ANBK 1.4).
START_DEADLINE_DAYS = 365

# --- revocation and recovery (R26–R28) -----------------------------------------------------------

#: R26 — the decision must be taken within a year of knowing the facts; warn at 10 months.
REVOCATION_DECISION_MONTHS = 12
REVOCATION_WARNING_MONTHS = 10
#: R27 — day count for § 49a interest: the Saxon interest rules (Zins-A Nr. 2.1, annex to the VwV
#: zu § 34 SäHO) count 360 days a year and 30 days a month unless determined otherwise; interest
#: runs up to and including the payment day (Zins-A Nr. 2.3). RULES.md §13.4: confirm.
INTEREST_DAY_COUNT: DayCount = "30/360"
#: Plausibility bounds for a Basiszinssatz in basis points (it was −0,88 % at its lowest).
BASE_RATE_MIN_BP = -2_000
BASE_RATE_MAX_BP = 2_000

#: Dunning of open recovery claims (F15, *design* — confirm with the Landeskasse): first reminder
#: (Mahnung) this many days after the claim's due date, the second reminder this many days after
#: the first, the handover note to enforcement (Abgabe an die Vollstreckung) this many days after
#: the second. Each reminder gives the debtor that period to pay. The KLB small-amount limits
#: (``DUNNING_MIN_CENTS_PUBLIC_BODY``, ``ENFORCEMENT_MIN_CENTS``) apply to every step.
DUNNING_REMINDER_DAYS = 14
DUNNING_SECOND_REMINDER_DAYS = 14
DUNNING_HANDOVER_DAYS = 14

# --- interest and small amounts (§ 49a VwVfG, VVK 8.7/8.8, Kleinbetragsregelung KLB) ---------

#: Supported day-count conventions; the default is an open point [K – confirm with finance]
#: (RULES §13.4). Note: Zins-A 2.1 (Anlage zur VwV zu § 34 SäHO) counts 30/360 „soweit nichts
#: anderes bestimmt ist“ — finance should decide whether that applies to § 49a interest.
DAY_COUNTS: Final[tuple[DayCount, ...]] = ("act/act", "act/365", "30/360")
DEFAULT_DAY_COUNT: Final[DayCount] = "act/act"

#: § 49a (3) VwVfG: 5 percentage points above the Basiszinssatz.
SURCHARGE_BP: Final = 500

#: VVK 8.8: interest is charged only if the total interest claim is *more than* 250 €.
INTEREST_MIN_CHARGE_CENTS: Final = 25_000

#: KLB 5: no interest if the principal is below 50 € and not more than six months overdue.
SMALL_PRINCIPAL_BELOW_CENTS: Final = 5_000
SMALL_PRINCIPAL_MAX_OVERDUE_MONTHS: Final = 6
#: Only for callers that know the overdue time in days: six months taken as 183 days [K]; prefer
#: the calendar form (``due_on``/``paid_on``) of ``apply_thresholds``.
SMALL_PRINCIPAL_MAX_OVERDUE_DAYS: Final = 183

#: KLB 1.2/2.2: payouts below 5 € only when the recipient asks for them.
PAYOUT_ON_REQUEST_BELOW_CENTS: Final = 500
#: KLB 2.1 S. 1: no dunning for arrears below 10 € …
DUNNING_MIN_CENTS: Final = 1_000
#: … but 25 € when the debtor is a legal person under public law (KLB 2.1 S. 4 with 1.1 S. 2) —
#: every recipient of this programme (Gemeinde, Landkreis) is one.
DUNNING_MIN_CENTS_PUBLIC_BODY: Final = 2_500
#: KLB 3.1: no enforcement (or Mahnbescheid) for arrears below 25 €.
ENFORCEMENT_MIN_CENTS: Final = 2_500

#: VVK 8.7 bands, RULES §13.11: a grant exactly on a band's upper bound belongs to that band
#: ("bis zu 5 000 Euro", "von mehr als 5 000 Euro bis 20 000 Euro" in the VVK table).
RECOVERY_BAND_UPPER_BOUND_INCLUSIVE: Final = True
#: (upper bound of the grant in cents, inclusive; percentage in bp; cap in cents or None).
RECOVERY_BANDS: Final[tuple[tuple[int, int, int | None], ...]] = (
    (500_000, 1_000, None),  # ≤ 5,000 €: 10 %
    (2_000_000, 500, 50_000),  # ≤ 20,000 €: 5 %, at most 500 €
    (5_000_000, 300, 100_000),  # ≤ 50,000 €: 3 %, at most 1,000 €
    (12_500_000, 200, 150_000),  # ≤ 125,000 €: 2 %, at most 1,500 €
)
#: R28 — VVK 8.7 waives small recoveries only in the cases of VVK 8.2.1 (condition subsequent:
#: lower expenditure or more funding, i.e. the R22 recalculation), 8.2.3 (no start within a year,
#: R24) and 8.2.4; never for misuse, wrong data or an unspecified reason. Values of
#: ``postaward.models.RevocationReason``. VVK 8.2.4 is not mapped to a reason yet
#: [K – confirm with the Geschäftsstelle]; overdue VN and publicity are ANBK 8.3.1 / § 44a cases.
RECOVERY_WAIVER_REASONS: Final = frozenset({"recalculation", "no_start"})
#: Above the last band (> 125,000 €): a fixed 2,500 €.
RECOVERY_LIMIT_ABOVE_BANDS_CENTS: Final = 250_000

# --- programme monitoring (issue 15) -----------------------------------------------------------

#: Milestones recorded when the n-th municipality is consulted or founds its KPR (*design*: the
#: LPR reports them to the press, e.g. "ASSKomm berät 100. Kommune", SMI press release 20.01.2021).
MILESTONE_THRESHOLDS: Final[dict[str, tuple[int, ...]]] = {
    "consulted": (50, 100, 150, 200, 250, 300, 350, 400),
    "kpr": (25, 50, 75, 100),
}
