"""Backups: SQLite through the online backup API (safe while the bot runs); PostgreSQL via pg_dump."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from db import migrate

PRIVATE = 0o600  # databases and backups hold personal data: owner only


class BackupError(Exception):
    """A backup or restore cannot go on: `key` names the sentence in the command line's catalog
    (bot/cli/_messages_*: "backup.<key>"), `params` fill it — the OS's or the driver's own words
    among them, as `detail`."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(f"{key}: {params}" if params else key)
        self.key, self.params = key, params


def default_name(url: str, tz: tzinfo | None = None, now: datetime | None = None) -> str:
    """tocns-YYYYmmdd-HHMMSS in the installation's local time (what the operator's clock says)."""
    stamp = (now or datetime.now(UTC)).astimezone(tz).strftime("%Y%m%d-%H%M%S")
    return f"tocns-{stamp}.{'db' if url.startswith('sqlite') else 'dump'}"


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database:
        raise BackupError("in_memory")
    return Path(database)


try:
    import fcntl
except ImportError:  # not on Windows: restore then trusts the scheduler lease alone
    fcntl = None  # type: ignore[assignment]


def _running_marker(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(f"{database}.running")


@contextlib.contextmanager
def running(url: str) -> Iterator[None]:
    """Held while `tocns run` serves a SQLite file, whatever its channels: `restore` refuses while
    it is. (The scheduler lease alone missed the console bot of `./start.sh`, which takes none, and
    the restore went through under it.) A shared lock on `<database>.running`: the system drops it
    when the process ends, killed or not."""
    marker = _running_marker(url)
    if marker is None or fcntl is None:
        yield
        return
    with marker.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_SH)
        yield


def _a_bot_is_running(target: Path) -> bool:
    marker = Path(f"{target}.running")
    if fcntl is None or not marker.exists():
        return False
    with marker.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
    return False


def private_file(path: Path) -> None:
    """Create `path` (if missing) readable by its owner only, or tighten it."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE)
    os.close(fd)
    os.chmod(path, PRIVATE)


def _private_target(target: Path) -> None:
    try:
        private_file(target)
    except OSError as exc:  # a read-only folder, someone else's file: one line, not a traceback
        raise BackupError("cannot_write", path=target, detail=exc.strerror or exc) from None


def backup(url: str, target: Path) -> Path:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError("cannot_mkdir", path=target.parent, detail=exc.strerror or exc) from None
    if target.is_dir():
        raise BackupError("is_folder", path=target)
    if url.startswith("sqlite"):
        source = sqlite_path(url)
        if not source.exists():
            raise BackupError("no_database", path=source)
        _private_target(target)
        src = sqlite3.connect(source)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise BackupError("failed", detail=exc) from None
        finally:
            dst.close()
            src.close()
        if check != "ok":
            raise BackupError("integrity", detail=check)
        return target
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("no_pg_dump")
    parsed = make_url(url).set(drivername="postgresql")
    # The password goes through the environment, never the command line (visible in `ps`).
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    bare = URL.create(
        "postgresql", parsed.username, None, parsed.host, parsed.port, parsed.database, parsed.query
    )
    libpq = bare.render_as_string(hide_password=False)
    _private_target(target)
    result = subprocess.run(
        [pg_dump, "--format=custom", "--file", str(target), libpq], capture_output=True, text=True, env=env
    )
    if result.returncode != 0:
        raise BackupError("pg_dump_failed", detail=result.stderr.strip()[:200])
    os.chmod(target, PRIVATE)
    return target


def restore_sqlite(url: str, source: Path) -> None:
    """Replace the SQLite database with a backup (stop the bot first)."""
    if not url.startswith("sqlite"):
        raise BackupError("restore_pg")
    if not source.exists():
        raise BackupError("no_file", path=source)
    target = sqlite_path(url)
    _check_backup(url, source)
    if target.exists():
        _refuse_while_held(target)
        safety = target.with_name(f"{target.name}.before-restore-{datetime.now(UTC):%Y%m%d-%H%M%S}")
        backup(url, safety)  # the current database, kept in case the restore was a mistake
    private_file(target)
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    except sqlite3.DatabaseError as exc:
        raise BackupError("unusable", path=source, detail=exc) from None
    finally:
        dst.close()
        src.close()


def _check_backup(url: str, source: Path) -> None:
    """A healthy SQLite file made by this version's schema (same Alembic revisions)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        if src.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError("unhealthy", path=source)
        found = {r[0] for r in src.execute("SELECT version_num FROM alembic_version")}
    except sqlite3.DatabaseError as exc:
        raise BackupError("not_tocns", path=source, detail=exc) from None
    finally:
        src.close()
    expected = migrate.head_revisions(url)
    if found != expected:
        raise BackupError(
            "revision",
            path=source,
            found=", ".join(sorted(found)) or "—",
            expected=", ".join(sorted(expected)),
        )


def _refuse_while_held(target: Path) -> None:
    """A running `tocns run` holds its marker's lock and, on the schedule's worker, the scheduler lease
    (renewed while alive): stop it first."""
    if _a_bot_is_running(target):
        raise BackupError("bot_running")
    conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT name, holder, expires_at FROM leases").fetchall()
    except sqlite3.DatabaseError:
        rows = []
    finally:
        conn.close()
    now = datetime.now(UTC)
    for name, holder, expires in rows:
        until = datetime.fromisoformat(str(expires))
        until = until if until.tzinfo else until.replace(tzinfo=UTC)
        if until > now:
            raise BackupError("lease_held", holder=holder, lease=name, until=f"{until:%H:%M:%S}")
