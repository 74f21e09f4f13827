"""Finance numbers with their source (RULES.md §2, §7, §10, §13)."""

from __future__ import annotations

#: R16 — grants below 20,000 EUR for single projects use the Erstattungsverfahren (RL VI.6).
REIMBURSEMENT_LIMIT_CENTS = 2_000_000
#: R17 — partial/advance payments of at least 10,000 EUR (VVK 7.5). RULES.md §13.8: until
#: clarified, plan instalments below it are allowed with a warning ("warn"); "block" refuses them.
MIN_INSTALMENT_CENTS = 1_000_000
SMALL_INSTALMENT_POLICY = "warn"
#: R15 — the split plan applies above 150,000 EUR and a period longer than a year (VVK 7.2).
SPLIT_THRESHOLD_CENTS = 15_000_000
SPLIT_MIN_DAYS = 365
#: R32 — default SEPA schema (DK: pain.001.001.03 ends November 2025).
PAIN_SCHEMA = "pain.001.001.09"
