"""Finance: payout plans, payout orders with four eyes, payment runs (pain.001) and the ledger."""

from flask import Blueprint

bp = Blueprint("finance", __name__)

from app.finance import cli, export_routes, reconcile_routes, routes  # noqa: E402, F401
