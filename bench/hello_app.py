"""Bare Flask "hello" app: the baseline of ``bench/pages.py`` (served with the same gunicorn
settings as the portal)."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello() -> str:
    return "hello"
