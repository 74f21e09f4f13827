"""Finance numbers with their source (RULES.md §2, §7, §10, §13)."""

from __future__ import annotations

from typing import Literal

from app.grants.rules_config import SPLIT_THRESHOLD_CENTS

__all__ = ["SPLIT_THRESHOLD_CENTS"]

#: R16 — grants below 20,000 EUR for single projects use the Erstattungsverfahren (RL VI.6).
REIMBURSEMENT_LIMIT_CENTS = 2_000_000
#: R17 — partial/advance payments of at least 10,000 EUR (VVK 7.5). RULES.md §13.8: until
#: clarified, plan instalments below it are allowed with a warning ("warn"); "block" refuses them.
MIN_INSTALMENT_CENTS = 1_000_000
SMALL_INSTALMENT_POLICY = "warn"
#: R15 — the split plan applies above 150,000 EUR and a period longer than a year (VVK 7.2).

SPLIT_MIN_DAYS = 365
#: R32 — default SEPA schema (DK: pain.001.001.03 ends November 2025).
PAIN_SCHEMA = "pain.001.001.09"

#: R27 — day count for § 49a interest: the Saxon interest rules (Zins-A Nr. 2.1, annex to the VwV
#: zu § 34 SäHO) count 360 days a year and 30 days a month unless determined otherwise; interest
#: runs up to and including the payment day (Zins-A Nr. 2.3). RULES.md §13.4: confirm.
INTEREST_DAY_COUNT: Literal["30/360"] = "30/360"
