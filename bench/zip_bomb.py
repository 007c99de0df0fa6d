"""Zip bomb figures (issue 14 #3): a ~2 MB .xlsx whose sharedStrings inflate to 2 GB.

Prints: file size, the archive check's time, and the wall time and peak memory of
`tocns import dossiers` refusing it (a fresh SQLite database). Run: .venv/bin/python bench/zip_bomb.py
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services import spreadsheet_guard  # noqa: E402
from tests.reliability.test_hostile_files import bomb  # noqa: E402


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="tocns-bomb-"))
    path = workdir / "bomb.xlsx"
    path.write_bytes(bomb(2048))
    print(f"bomb: {path.stat().st_size / 1e6:.2f} MB on disk, 2048 MiB of sharedStrings")
    started = time.perf_counter()
    with contextlib.suppress(spreadsheet_guard.SpreadsheetRefused):
        spreadsheet_guard.check_archive(path.read_bytes(), "bomb.xlsx", spreadsheet_guard.UPLOAD)
    print(f"archive check (upload limits): refused in {(time.perf_counter() - started) * 1000:.1f} ms")
    env = {
        **os.environ,
        "TOCNS_DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/b.db",
        "TOCNS_LOG_LEVEL": "WARNING",
    }
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "import", "dossiers", str(path), "--unit", "1"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"tocns import dossiers: exit {done.returncode} in {wall:.2f} s, peak RSS {peak:.0f} MB")
    print("  " + done.stderr.strip().splitlines()[0][:150])


if __name__ == "__main__":
    main()
