"""Finance: payout plans, payout orders with four eyes, payment runs (pain.001) and the ledger."""
