#!/usr/bin/env bash
# One command for a fresh machine: install, migrate a SQLite database in instance/, load the
# reference data and the demo data, and serve the app on http://127.0.0.1:5000 .
set -euo pipefail
cd "$(dirname "$0")/.."
# Fonts for the PDFs (Bescheid, submitted application): without them WeasyPrint falls back to
# whatever fontconfig finds and HarfBuzz/fontconfig print warnings at the first PDF (issue 11).
if ! fc-list 2>/dev/null | grep -qi dejavu; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core >/dev/null
  else
    echo "Hinweis: fonts-dejavu-core fehlt (apt-get install fonts-dejavu-core); PDFs nutzen Ersatzschriften." >&2
  fi
fi
scripts/setup.sh
export KOMMPRAEV_ENV=development
mkdir -p instance
.venv/bin/flask --app wsgi db upgrade
.venv/bin/flask --app wsgi reference import
.venv/bin/flask --app wsgi demo   # says so when the demo exists; "demo --reset" rebuilds it
echo "Förderportal KommPräv: http://127.0.0.1:${PORT:-5000}  (Anmeldungen siehe README)"
exec .venv/bin/flask --app wsgi run --host 127.0.0.1 --port "${PORT:-5000}"
