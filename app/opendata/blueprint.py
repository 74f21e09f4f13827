"""The ``opendata`` blueprint (public pages without login); the factory imports its views."""

from flask import Blueprint

bp = Blueprint("opendata", __name__)
