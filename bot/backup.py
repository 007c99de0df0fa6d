"""Backups: SQLite through the online backup API (safe while the bot runs); PostgreSQL via pg_dump."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    pass


def default_name(url: str, tz: tzinfo | None = None, now: datetime | None = None) -> str:
    """tocns-YYYYmmdd-HHMMSS in the installation's local time (what the operator's clock says)."""
    stamp = (now or datetime.now(UTC)).astimezone(tz).strftime("%Y%m%d-%H%M%S")
    return f"tocns-{stamp}.{'db' if url.startswith('sqlite') else 'dump'}"


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database:
        raise BackupError("database.url: an in-memory SQLite database cannot be backed up")
    return Path(database)


def backup(url: str, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        source = sqlite_path(url)
        if not source.exists():
            raise BackupError(f"database file not found: {source}")
        src = sqlite3.connect(source)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"backup failed: {exc}") from None
        finally:
            dst.close()
            src.close()
        if check != "ok":
            raise BackupError(f"backup failed its integrity check: {check}")
        return target
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("pg_dump not found: install the PostgreSQL client tools")
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    result = subprocess.run(
        [pg_dump, "--format=custom", "--file", str(target), libpq], capture_output=True, text=True
    )
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()[:200]}")
    return target


def restore_sqlite(url: str, source: Path) -> None:
    """Replace the SQLite database with a backup (stop the bot first)."""
    if not url.startswith("sqlite"):
        raise BackupError("for PostgreSQL use pg_restore --clean --dbname … FILE (see docs/deploy.md)")
    if not source.exists():
        raise BackupError(f"backup file not found: {source}")
    target = sqlite_path(url)
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        if src.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"{source} is not a healthy SQLite database")
        src.backup(dst)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source} is not a usable SQLite database ({exc})") from None
    finally:
        dst.close()
        src.close()
