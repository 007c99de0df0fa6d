"""The intake's few hot statements straight on the inline SQLite connection (db/sqlite_inline.py).

Every update runs the same three or four short statements (the dedupe mark, the sender bundle, the
dialog state's write-back). Through SQLAlchemy each one costs 150–300 µs of Python — an execution
context, events, a greenlet switch per driver call, row objects — while SQLite runs it in a few
microseconds; a profile of `/help` put SQLAlchemy at half the intake's CPU (docs/benchmarks.md,
"Update cost"). Here a Core statement is compiled once for the connection's dialect, and run on the
`sqlite3` connection with the same bind and result processors SQLAlchemy would apply (UTC
datetimes, JSON), so what is stored and read back is byte for byte the same
(tests/test_sqlite_fast.py compares both ways).

Only for the inline engine: there the sqlite3 connection lives on the loop's thread and the
transaction SQLAlchemy began (BEGIN IMMEDIATE) is the one these statements join. Anything else —
the threaded engine, PostgreSQL — gets None from `inline_sqlite` and keeps SQLAlchemy's path.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import ClauseElement

from db.sqlite_inline import InlineConnection

Processor = Callable[[Any], Any] | None


class FastStatement:
    """A Core statement compiled once; `rows`/`rowcount` run it on a sqlite3 connection."""

    def __init__(self, stmt: ClauseElement) -> None:
        self._stmt = stmt
        self._dialect: Dialect | None = None
        self.sql = ""
        self._binds: list[tuple[str, Processor]] = []
        self._results: list[Processor] = []

    def _compile(self, dialect: Dialect) -> None:
        compiled: Any = self._stmt.compile(dialect=dialect)
        assert compiled.positiontup is not None, "a positional (qmark) dialect"
        processors = compiled._bind_processors  # what SQLAlchemy itself applies to each bind
        self._binds = [(name, processors.get(name)) for name in compiled.positiontup]
        self._results = [col[3]._cached_result_processor(dialect, None) for col in compiled._result_columns]
        self.sql = compiled.string
        self._dialect = dialect

    def _args(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[name] if p is None else p(params[name]) for name, p in self._binds]

    def rowcount(self, db: sqlite3.Connection, dialect: Dialect, params: Mapping[str, Any]) -> int:
        if dialect is not self._dialect:
            self._compile(dialect)
        return db.execute(self.sql, self._args(params)).rowcount

    def rows(
        self, db: sqlite3.Connection, dialect: Dialect, params: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        if dialect is not self._dialect:
            self._compile(dialect)
        found = db.execute(self.sql, self._args(params)).fetchall()
        procs = self._results
        if not any(procs):
            return found
        return [tuple(v if p is None else p(v) for p, v in zip(procs, row, strict=True)) for row in found]


async def inline_sqlite(session: AsyncSession) -> tuple[sqlite3.Connection, Dialect] | None:
    """The session's sqlite3 connection (its transaction begun) when it is an inline one."""
    conn: AsyncConnection = await session.connection()
    driver = conn.sync_connection.connection.driver_connection if conn.sync_connection else None
    if isinstance(driver, InlineConnection) and driver._connection is not None:
        return driver._connection, conn.dialect
    return None
