#!/usr/bin/env bash
# One command for a fresh machine: install, migrate a SQLite database in instance/, load the
# reference data and the demo data, and serve the app on http://127.0.0.1:5000 .
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export KOMMPRAEV_ENV=development
mkdir -p instance
.venv/bin/flask --app wsgi db upgrade
.venv/bin/flask --app wsgi reference import
.venv/bin/flask --app wsgi demo   # says so when the demo exists; "demo --reset" rebuilds it
echo "Förderportal KommPräv: http://127.0.0.1:${PORT:-5000}  (Anmeldungen siehe README)"
exec .venv/bin/flask --app wsgi run --host 127.0.0.1 --port "${PORT:-5000}"
