"""`tocns backup` and `tocns restore` on SQLite: a restore brings back exactly the backed-up data."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tocns(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TOCNS_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "TOCNS_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def count_people(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM people").fetchone()[0])


def test_backup_and_restore_roundtrip(tmp_path: Path) -> None:
    db = tmp_path / "tocns.db"
    assert tocns("demo", "seed", db=db).returncode == 0
    before = count_people(db)
    out = tmp_path / "b" / "copy.db"
    result = tocns("backup", "--out", str(out), db=db)
    assert result.returncode == 0, result.stderr
    assert out.exists()
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM channel_accounts")
        conn.execute("DELETE FROM memberships")
        conn.execute("DELETE FROM audit_log")
        conn.execute("DELETE FROM people")
    assert count_people(db) == 0
    result = tocns("restore", str(out), "--yes", db=db)
    assert result.returncode == 0, result.stderr
    assert count_people(db) == before


def test_restore_refuses_a_broken_file(tmp_path: Path) -> None:
    db = tmp_path / "tocns.db"
    assert tocns("db", "upgrade", db=db).returncode == 0
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    result = tocns("restore", str(junk), "--yes", db=db)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
