"""Applicant organisations: Saxon Gemeinden and Landkreise (reference data) and Eigenbetriebe."""

from flask import Blueprint

bp = Blueprint("orgs", __name__)

from app.orgs import cli  # noqa: E402, F401
