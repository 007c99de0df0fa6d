"""Engine factory (called by bot/ at assembly; nothing is created at import time)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.util.concurrency import await_, in_greenlet


def create_engine(
    url: str, *, echo: bool = False, busy_timeout: float = 30.0, inline: bool = False
) -> AsyncEngine:
    """Create the async engine; SQLite gets WAL, foreign keys and explicit BEGIN IMMEDIATE.
    `inline` (SQLite files only): run statements on the loop's thread, for short transactions
    (db/sqlite_inline.py); anything else ignores it."""
    if url.startswith("sqlite"):
        database = _private_sqlite_file(url)
        if inline and database is not None:
            from db.sqlite_inline import creator

            engine = create_async_engine(url, echo=echo, async_creator=creator(database))
            _tune_sqlite(engine, 0, wait_ms=int(busy_timeout * 1000))
            return engine
        if database is not None:  # a file: connections whose close cannot hang (db/sqlite_threaded.py)
            from db.sqlite_threaded import creator as threaded_creator

            engine = create_async_engine(url, echo=echo, async_creator=threaded_creator(url, busy_timeout))
        else:
            engine = create_async_engine(url, echo=echo, connect_args={"timeout": busy_timeout})
        _tune_sqlite(engine, int(busy_timeout * 1000))
        return engine
    return create_async_engine(url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True)


def create_update_engine(
    url: str, *, echo: bool = False, busy_timeout: float = 30.0, sqlite_inline: bool = True
) -> AsyncEngine | None:
    """A second engine for people's updates (short transactions, one per update), or None when the
    main engine should serve them (in-memory SQLite, inline turned off).

    SQLite file: statements run inline on the loop's thread (db/sqlite_inline.py).
    PostgreSQL: no pre-ping — it cost a round trip per transaction, the dearest part of an update on
    a busy machine. A connection the server dropped fails its first statement as a disconnect; the
    pool then drops every connection of that age and the intake runs the update once more
    (bot/intake.py). Other users of the database (dispatcher, jobs, dashboard) keep the pre-ping.
    pool_recycle keeps idle connections from outliving firewalls' timeouts; the pool is sized for
    the updates processed at once (bot/channels/telegram/_order.py: 8)."""
    if url.startswith("sqlite"):
        if sqlite_inline and is_sqlite_file(url):
            return create_engine(url, echo=echo, busy_timeout=busy_timeout, inline=True)
        return None
    return create_async_engine(url, echo=echo, pool_size=8, max_overflow=4, pool_recycle=1800)


def is_sqlite_file(url: str) -> bool:
    """A SQLite database in a file (not in memory)."""
    from sqlalchemy.engine import make_url

    database = make_url(url).database if url.startswith("sqlite") else None
    return bool(database) and database != ":memory:" and not str(database).startswith("file:")


def is_busy(exc: BaseException) -> bool:
    """SQLite's "database is locked": another connection holds the write lock."""
    orig = getattr(exc, "orig", exc)
    return isinstance(orig, sqlite3.OperationalError) and (
        getattr(orig, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY or "locked" in str(orig)
    )


def _begin_immediate_waiting(conn: Any, wait_ms: int) -> None:
    """BEGIN IMMEDIATE on an inline connection (busy_timeout 0): while another connection holds
    the write lock, sleep on the event loop between tries (never on its thread) up to wait_ms."""
    deadline = time.monotonic() + wait_ms / 1000
    delay = 0.001
    # Straight on the sqlite3 connection (SQLAlchemy's statement path cost ~60 µs of each
    # update); its errors are wrapped as SQLAlchemy's would be, which callers expect.
    raw = getattr(conn.connection.driver_connection, "_connection", None)
    while True:
        try:
            if isinstance(raw, sqlite3.Connection):
                try:
                    raw.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:  # as SQLAlchemy would have wrapped it
                    raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
        except OperationalError as exc:
            if not is_busy(exc) or time.monotonic() + delay > deadline:
                raise
        if in_greenlet():
            await_(asyncio.sleep(delay))
        else:  # a plain synchronous caller (a script): its thread may wait
            time.sleep(delay)
        delay = min(delay * 2, 0.05)


def _tune_sqlite(engine: AsyncEngine, busy_ms: int, *, wait_ms: int | None = None) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: no deadlock when two writers upgrade. Sessions
        # from read_session_factory only read: a deferred BEGIN, which never blocks a writer (WAL).
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
        elif wait_ms is not None:
            _begin_immediate_waiting(conn, wait_ms)
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


READ_ONLY = "tocns_read_only"


def read_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for long reads (jobs computing a digest): on SQLite their transactions do not take
    the write lock, so people's updates go on meanwhile. Writing through them is a bug."""
    return async_sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)


def _private_sqlite_file(url: str) -> str | None:
    """The database file (personal data) is created owner-only, 0600; SQLite gives its -wal and
    -shm files the same mode. Returns the file's path (None for an in-memory database); a file in a
    missing directory is not created (connecting then fails with its own message)."""
    import contextlib
    import os

    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or not is_sqlite_file(url):
        return None
    path = os.path.abspath(database)
    if not os.path.isdir(os.path.dirname(path)):
        # Not created here; still a file, so still the threaded connections whose failed connect
        # leaves no worker thread answering a closed loop ("Exception in thread … Event loop is
        # closed" under `tocns status`'s one-line error).
        return path
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    with contextlib.suppress(PermissionError):  # someone else's file: leave it
        os.chmod(path, 0o600)
    return path
