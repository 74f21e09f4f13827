"""The ``budget`` blueprint; view and command modules attach to it, the factory imports them."""

from flask import Blueprint

bp = Blueprint("budget", __name__)
