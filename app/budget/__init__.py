"""Budget years, commitment authorisations (VE) and the commitment ledger (R12, R13).

The race-safe core that the approval service calls: ``services.commit_funds`` charges the budget
of each payout year with one guarded UPDATE per row, so concurrent approvals can never take a year
over its cap (RELIABILITY §4, HOUSE-STYLE convention 8).
"""
