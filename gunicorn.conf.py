"""gunicorn settings; override with GUNICORN_* environment variables or command-line flags."""

import os

# Served by gunicorn means production unless the operator says otherwise.
os.environ.setdefault("KOMMPRAEV_ENV", "production")

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
timeout = 60
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
