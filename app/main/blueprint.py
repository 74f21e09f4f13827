"""The ``main`` blueprint; view and command modules attach to it, the factory imports them."""

from flask import Blueprint

bp = Blueprint("main", __name__)
