"""Budget services: open years, VE, Ausgabereste and the R13 flag; commit and release funds (R12).

Rules (RULES.md §6, R12, R13; RELIABILITY §4; HOUSE-STYLE conventions 7 and 8):

* Every change of a committed figure is **one guarded UPDATE** whose WHERE clause contains the cap
  (``committed + a <= cap``, ``committed - a >= 0``); ``rowcount != 1`` means refused. The CHECK
  constraints of the tables are the backstop. The same SQL holds the cap on SQLite (where the
  app's ``BEGIN IMMEDIATE`` listener serialises writers anyway) and on PostgreSQL (where the
  UPDATE takes the row lock and re-evaluates the WHERE clause on the newest row version).
* Rows are locked in one global order, so concurrent approvals, releases and ``open_year``
  cannot deadlock: the application row first (releases; the approval service's status
  transition), then per payout year ascending the VE rows aimed at that year (by granting year)
  before that year's ``budget_year`` row. ``open_year`` locks the VE rows aimed at the new year
  before it sums their commitments, so an approval under a VE cannot slip past the new row.
* Services flush but never commit (convention 7); ``commit_funds`` and ``release_funds`` run their
  writes in a SAVEPOINT, so a refused call leaves the caller's transaction as it was.

Modules: ``years`` (open/close a year, VE, Ausgabereste, R13 flag), ``commitments`` (commit and
release funds), ``queries`` (available funds, overview figures), ``selfcheck``; ``common`` holds
the shared checks. This package re-exports the public API (``from app.budget import services``).
"""

from app.budget.services.commitments import commit_funds, committed_plan, release_funds
from app.budget.services.common import BudgetYearBlocked, Plan
from app.budget.services.queries import (
    AuthorisationLine,
    RegionTotal,
    YearOverview,
    available,
    budget_overview,
    year_overview,
)
from app.budget.services.selfcheck import Mismatch, self_check
from app.budget.services.years import (
    close_year,
    open_year,
    set_authorisation,
    set_carryover,
    set_provisional,
)

__all__ = [
    "AuthorisationLine",
    "BudgetYearBlocked",
    "Mismatch",
    "Plan",
    "RegionTotal",
    "YearOverview",
    "available",
    "budget_overview",
    "close_year",
    "commit_funds",
    "committed_plan",
    "open_year",
    "release_funds",
    "self_check",
    "set_authorisation",
    "set_carryover",
    "set_provisional",
    "year_overview",
]
