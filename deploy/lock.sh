#!/usr/bin/env bash
# Regenerate the pinned lock files from pyproject.toml (run after changing a dependency).
# Installs (./start.sh, ./test.sh, CI, the Dockerfile) read these files, so every machine gets the
# same versions. Needs `uv` (pip install uv); the locks are universal for Python >= 3.11.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v uv >/dev/null || python3 -m pip install -q uv
uv pip compile pyproject.toml --universal --python-version 3.11 -q -o requirements.lock
uv pip compile pyproject.toml --universal --python-version 3.11 -q --extra dev --extra provinces \
  -o requirements-dev.lock
echo "requirements.lock and requirements-dev.lock updated"
