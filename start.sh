#!/usr/bin/env bash
# Start tocns on its embedded default: SQLite, demo data, console channel when no token is set.
# Installs what it needs into .venv on first run. Extra arguments go to `tocns run`
# (e.g. ./start.sh --as tnv to chat as the demo volunteer).
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/tocns ] || [ pyproject.toml -nt .venv/.installed ]; then
  echo "Cài đặt thư viện / installing dependencies into .venv …" >&2
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e . >/dev/null
  touch .venv/.installed
fi
.venv/bin/tocns demo seed
exec .venv/bin/tocns run "$@"
