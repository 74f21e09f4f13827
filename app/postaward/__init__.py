"""Post-award: project start, proof of use, audit sample, revocation and recovery, the daily
deadline job and the task list ("Aufgaben").

Builds on ``app.grants`` (application, decision, Bescheid) and ``app.finance`` (payouts, claims,
ledger); nothing below imports it.
"""
