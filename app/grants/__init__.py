"""Grants: applications by municipalities, consultations and (later) review and decisions."""

from flask import Blueprint

bp = Blueprint("grants", __name__)

import app.grants.task_routes  # noqa: E402, F401
from app.grants import admin_routes, cli, proof_routes, review_routes, routes  # noqa: E402, F401
