#!/usr/bin/env bash
# Start tocns on its embedded default: SQLite, demo data, console channel when no token is set.
# Installs what it needs into .venv on first run. Extra arguments go to `tocns run`
# (e.g. ./start.sh --as tnv to chat as the demo volunteer).
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/tocns ] || [ pyproject.toml -nt .venv/.installed ] || [ requirements.lock -nt .venv/.installed ]; then
  echo "Cài đặt thư viện / installing dependencies into .venv …" >&2
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  # The pinned versions first (requirements.lock, made by deploy/lock.sh), then the project itself.
  if ! { .venv/bin/python -m pip install -q -r requirements.lock &&
         .venv/bin/python -m pip install -q --no-deps -e .; } >.venv/install.log 2>&1; then
    tail -n 30 .venv/install.log >&2
    echo "Cài đặt thất bại / install failed: see .venv/install.log" >&2
    exit 1
  fi
  touch .venv/.installed
fi
.venv/bin/tocns demo seed
exec .venv/bin/tocns run "$@"
