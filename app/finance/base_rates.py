"""Basiszinssatz (§ 247 BGB) as reference data: the published half-year values since 2019 and an
idempotent seed (R27; RULES §9, §13.4).

Sources:

* Deutsche Bundesbank, time series BBIN1 / ``M.DE.BBK.BBKBAS2.EUR.ME`` „Basiszinssatz gemäß § 247
  BGB“ (https://api.statistiken.bundesbank.de/rest/data/BBIN1/M.DE.BBK.BBKBAS2.EUR.ME) and its
  press releases „Bekanntgabe des Basiszinssatzes zum …“;
* the Bundesbank's announcements in the Bundesanzeiger (§ 247 (2) BGB);
* § 247 BGB: the rate changes on 1 January and 1 July by the change of the ECB main refinancing
  rate.

The table lives in ``base_rate``; an admin adds each new half-year on the page „Stammdaten“
(``app.grants.services.reference.set_base_rate``). The seed only inserts missing half-years and
never overwrites a row an admin has entered or corrected. The value from 01.07.2026 is only weakly
sourced and carries „(zu bestätigen)“ in its source.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from app.extensions import db
from app.finance.interest import Rate
from app.finance.models import BaseRate

_BBK = "Deutsche Bundesbank, Basiszinssatz § 247 BGB (BBIN1/M.DE.BBK.BBKBAS2.EUR.ME)"


def _negative_years() -> tuple[tuple[date, int, str], ...]:
    # −0,88 % unchanged since 01.07.2016, every half-year 2019-01-01 … 2022-07-01.
    return tuple(
        (date(year, month, 1), -88, _BBK) for year in range(2019, 2023) for month in (1, 7)
    )


#: valid_from, rate in basis points, source.
BASE_RATE_SEED: Final[tuple[tuple[date, int, str], ...]] = (
    *_negative_years(),
    (date(2023, 1, 1), 162, _BBK),
    (date(2023, 7, 1), 312, _BBK),
    (date(2024, 1, 1), 362, _BBK),
    (date(2024, 7, 1), 337, _BBK),
    (date(2025, 1, 1), 227, _BBK),
    (date(2025, 7, 1), 127, _BBK),
    (date(2026, 1, 1), 127, _BBK),
    (date(2026, 7, 1), 152, f"{_BBK}, Pressemitteilung (zu bestätigen)"),
)


def seed_base_rates() -> int:
    """Insert the half-years of ``BASE_RATE_SEED`` that are missing; returns how many were added.

    Existing rows — seeded earlier or entered/corrected by an admin — are left unchanged.
    """
    existing = set(db.session.execute(db.select(BaseRate.valid_from)).scalars())
    added = 0
    for valid_from, rate_bp, source in BASE_RATE_SEED:
        if valid_from not in existing:
            db.session.add(BaseRate(valid_from=valid_from, rate_bp=rate_bp, source=source))
            added += 1
    db.session.flush()
    return added


def load_rates() -> list[Rate]:
    """All Basiszinssätze of the table as ``Rate`` values for ``compute_interest``."""
    rows = db.session.execute(db.select(BaseRate).order_by(BaseRate.valid_from)).scalars()
    return [Rate(valid_from=row.valid_from, rate_bp=row.rate_bp) for row in rows]
