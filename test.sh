#!/usr/bin/env bash
# Run the whole test suite: installs the test dependencies into .venv, then pytest.
# Database tests run on SQLite, and on PostgreSQL too when TOCNS_TEST_DATABASE_URL is set
# (e.g. postgresql://postgres@127.0.0.1:5432/test). End-to-end tests run when Node is available
# and are skipped with a visible reason when it is not. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-python3}"
# The web dashboard's browser tests drive Debian's chromium through Playwright (no browser download);
# without it they are skipped with a visible reason.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Cài chromium cho kiểm thử trình duyệt / installing chromium for the browser tests …" >&2
  if ! (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji) \
      >/tmp/tocns-apt-chromium.log 2>&1; then
    echo "chromium: install failed, browser tests will be skipped (see /tmp/tocns-apt-chromium.log)" >&2
  fi
fi
if [ ! -x .venv/bin/pytest ] || [ pyproject.toml -nt .venv/.installed-dev ] || [ requirements-dev.lock -nt .venv/.installed-dev ]; then
  echo "Cài đặt thư viện kiểm thử / installing test dependencies into .venv …" >&2
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  # The pinned versions first (requirements-dev.lock, made by deploy/lock.sh), then the project itself.
  if ! { .venv/bin/python -m pip install -q -r requirements-dev.lock &&
         .venv/bin/python -m pip install -q --no-deps -e .; } >.venv/install.log 2>&1; then
    tail -n 30 .venv/install.log >&2
    echo "Cài đặt thất bại / install failed: see .venv/install.log" >&2
    exit 1
  fi
  touch .venv/.installed-dev .venv/.installed
fi
# Debian tools some tests drive (whole-process clock tests, the compose file check). Installed when
# this runs as root on Debian/Ubuntu; elsewhere those tests are skipped with the reason shown.
DEBS=""
command -v faketime >/dev/null || DEBS="$DEBS faketime"
command -v docker-compose >/dev/null || DEBS="$DEBS docker-compose"
if [ -n "$DEBS" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Cài đặt công cụ kiểm thử / installing test tools:$DEBS …" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $DEBS; } >/dev/null 2>&1 ||
    echo "(không cài được / could not install:$DEBS — the tests that need them are skipped)" >&2
fi
# In parallel (pytest-xdist; each worker has its own PostgreSQL database and temporary files): one
# worker per core and one more, since many tests wait on a bot process or a clock rather than the CPU.
# TOCNS_TEST_WORKERS=0 runs everything in this one process (easier to debug).
WORKERS="${TOCNS_TEST_WORKERS:-$(( $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1) + 1 ))}"
exec .venv/bin/python -m pytest -p no:cacheprovider -rs -n "$WORKERS" "$@"
