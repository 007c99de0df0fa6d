#!/usr/bin/env bash
# Start tocns on its embedded default: SQLite, demo data, console channel when no token is set.
# Installs what it needs into .venv on first run, and creates the database with the demo data.
# Extra arguments go to `tocns run` (e.g. ./start.sh --as tnv to chat as the demo volunteer).
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
  # Build now what the first run would otherwise build while someone waits for an answer:
  # bytecode of the project's modules and matplotlib's font cache (charts).
  echo "Chuẩn bị lần chạy đầu / warming up (bytecode, font cache) …" >&2
  .venv/bin/python -m compileall -q -j 0 bot handlers services db >/dev/null 2>&1 || true
  .venv/bin/python -c "import matplotlib.font_manager" >/dev/null 2>&1 || true
  touch .venv/.installed
  # The database and the demo data too (a fresh one takes a second to fill); each start tops it up.
  .venv/bin/tocns demo seed --skip-if-real
fi
# One clear line between installing and starting (bench/first_answer.py times the first answer from it).
echo "Khởi động tocns / starting tocns …" >&2
exec .venv/bin/tocns run --seed-demo "$@"
