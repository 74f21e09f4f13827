"""Grants: applications by municipalities, consultations and (later) review and decisions."""

from flask import Blueprint

bp = Blueprint("grants", __name__)

from app.grants import admin_routes, cli, review_routes, routes  # noqa: E402, F401
