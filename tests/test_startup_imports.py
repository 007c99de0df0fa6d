"""The console start (`./start.sh` with no token) does not load what only a configured channel
needs: python-telegram-bot and httpx were ~0.3 s of its CPU before the first answer
(docs/benchmarks.md, "First answer"). A fresh interpreter, as `tocns run` starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_cli_and_the_server_load_no_telegram_library_without_a_token() -> None:
    code = (
        "import sys, bot.cli, bot.serve; print(sorted(m for m in ('telegram', 'httpx') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
