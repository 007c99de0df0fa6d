"""One run of a (job, period) at a time across processes, without holding a database transaction.

PostgreSQL: a session-level advisory lock on a connection of its own (autocommit), released when the
run ends or the process dies. SQLite: an exclusive `flock` on `<database>.jobs.lock` beside the
database file (also released by the kernel when the process dies). Either way, people's updates are
never blocked by a running job: only a second run of the same job waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

_local: dict[str, asyncio.Lock] = {}


@contextlib.asynccontextmanager
async def job_lock(engine: AsyncEngine, job: str, period: str) -> AsyncIterator[None]:
    key = f"job:{job}:{period}"
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": key})
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    await conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": key})
        return
    database = make_url(engine.url).database
    if not database or database == ":memory:":
        async with _local.setdefault(key, asyncio.Lock()):
            yield
        return
    path = Path(database).with_name(Path(database).name + ".jobs.lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
