"""The ``monitoring`` blueprint; the factory imports the routes."""

from flask import Blueprint

bp = Blueprint("monitoring", __name__)
