#!/usr/bin/env bash
# Shared setup: a virtualenv in .venv with the pinned dependencies, and compiled translations.
# Usage: scripts/setup.sh [dev]   ("dev" adds test, lint and type-check tools)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ "${1:-}" = "dev" ]; then
  .venv/bin/python -m pip install -q -r requirements-dev.txt
else
  .venv/bin/python -m pip install -q -r requirements.txt
fi
if [ -d app/translations ]; then
  .venv/bin/pybabel -q compile -d app/translations
fi
