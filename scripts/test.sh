#!/usr/bin/env bash
# One command for a fresh machine: install everything the tests need, then lint, type-check and
# run the suite on SQLite and on PostgreSQL (127.0.0.1:5432, user postgres, database test).
# With CI=true a missing PostgreSQL or Chromium is a failure, not a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_URL=${TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}

# System packages: Debian's Chromium for the browser tests, fonts for the PDFs.
if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi dejavu; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  fi
fi
if [ ! -x /usr/bin/chromium ] && [ "${CI:-}" = "true" ]; then
  echo "FAIL: /usr/bin/chromium is missing (apt-get install -y chromium)" >&2
  exit 1
fi

scripts/setup.sh dev
PYBIN=.venv/bin

echo "== ruff"
$PYBIN/ruff check app tests config.py wsgi.py
$PYBIN/ruff format --check app tests config.py wsgi.py
echo "== import direction (import-linter)"
$PYBIN/lint-imports --no-cache
echo "== mypy"
$PYBIN/mypy
echo "== bandit (medium or high severity fails)"
$PYBIN/bandit -c pyproject.toml -q -r app config.py wsgi.py gunicorn.conf.py --severity-level medium

# PostgreSQL: start the local cluster if it is installed but down.
pg_up() { $PYBIN/python - "$PG_URL" <<'PY'
import sys, psycopg
url = sys.argv[1].replace("postgresql+psycopg://", "postgresql://")
try:
    psycopg.connect(url, connect_timeout=3).close()
except Exception as exc:  # noqa: BLE001
    print(f"PostgreSQL not reachable: {exc}", file=sys.stderr)
    sys.exit(1)
PY
}
if ! pg_up && command -v pg_ctlcluster >/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  sleep 2
fi

WORKERS=${PYTEST_WORKERS:-2}
echo "== pytest (SQLite)"
$PYBIN/python -m pytest -n "$WORKERS" "$@"
if pg_up; then
  echo "== pytest (PostgreSQL)"
  TEST_DATABASE_URL="$PG_URL" $PYBIN/python -m pytest -n "$WORKERS" -m "not browser" "$@"
elif [ "${CI:-}" = "true" ]; then
  echo "FAIL: PostgreSQL at $PG_URL is required in CI" >&2
  exit 1
else
  echo "WARNING: PostgreSQL not reachable; the PostgreSQL run was skipped (it is required in CI)."
fi
