#!/usr/bin/env bash
# Dependency audit (release step, docs/security.md): every pinned package of requirements.txt and
# requirements-dev.txt is looked up in a vulnerability database with pip-audit.
#
#   scripts/audit-deps.sh                 # PyPI's vulnerability data (needs network access)
#   AUDIT_SERVICE=osv scripts/audit-deps.sh   # the OSV database (api.osv.dev)
#
# --strict: a package the service does not know is a failure, not a silent "no known
# vulnerabilities" (a registry mirror without vulnerability data answers exactly like that).
# Exit 0: no known vulnerability; 1: vulnerabilities found or the audit could not be completed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
SERVICE=${AUDIT_SERVICE:-pypi}
if [ ! -x .venv-audit/bin/pip-audit ]; then
  "$PY" -m venv .venv-audit
  .venv-audit/bin/python -m pip install -q -r requirements-audit.txt
fi
status=0
.venv-audit/bin/pip-audit --strict --no-deps --disable-pip --progress-spinner off \
  --vulnerability-service "$SERVICE" -r requirements.txt -r requirements-dev.txt || status=$?
if [ "$status" -ne 0 ]; then
  echo "Dependency audit FAILED or INCOMPLETE (service: $SERVICE)." >&2
  echo "Without network access to the vulnerability service (PyPI JSON API or api.osv.dev) it" >&2
  echo "cannot run: do it on the release machine before each release (docs/security.md)." >&2
fi
exit "$status"
