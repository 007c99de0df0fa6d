"""Test helpers: a fresh migrated database per test, the real app, and a chat driver."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bot.config import load_settings
from bot.kernel import ROOT, App
from db import migrate
from db.base import Base, utcnow
from db.engine import create_engine
from handlers.core import Incoming, Reply

PG_ENV = "TOCNS_TEST_DATABASE_URL"
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"]


def pg_admin_url() -> str:
    url = os.environ[PG_ENV]
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://") :]
    return url


class PgDatabase:
    """One throw-away database per test session (so parallel runs never collide), migrated
    once; each test starts from empty tables."""

    def __init__(self) -> None:
        admin = make_url(pg_admin_url())
        self.name = f"tocns_t_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.admin_url = admin.render_as_string(hide_password=False)
        self.url = admin.set(database=self.name).render_as_string(hide_password=False)

    async def create(self) -> None:
        engine = create_engine(self.admin_url)
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        await engine.dispose()
        engine = create_engine(self.url)
        await migrate.upgrade(engine, self.url)
        await engine.dispose()

    async def truncate(self) -> None:
        engine = create_engine(self.url)
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        await engine.dispose()

    async def drop(self) -> None:
        engine = create_engine(self.admin_url)
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        await engine.dispose()


class SqliteTemplate:
    """Migrate one file per test session, copy it for every test."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "template.db"

    async def create(self) -> None:
        url = f"sqlite+aiosqlite:///{self.path}"
        engine = create_engine(url)
        await migrate.upgrade(engine, url)
        await engine.dispose()

    def fresh(self, directory: Path) -> str:
        target = directory / f"t-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(self.path, target)
        return f"sqlite+aiosqlite:///{target}"


def make_settings(db_url: str, **overrides: str) -> Any:
    env = {"TOCNS_DATABASE_URL": db_url, "TOCNS_CONFIG": str(ROOT / "config.yaml"), **overrides}
    return load_settings(environ=env)


@dataclass
class Said:
    """What the bot answered to one message."""

    replies: list[Reply]
    duplicate: bool = False

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)

    def button(self, label_part: str) -> str:
        """The payload of the first button whose label contains `label_part`."""
        for reply in reversed(self.replies):
            for row in reply.buttons:
                for b in row:
                    if label_part.lower() in b.label.lower():
                        return b.payload
        raise AssertionError(
            f"no button {label_part!r} in {[b.label for r in self.replies for row in r.buttons for b in row]}"
        )

    def labels(self) -> list[str]:
        return [b.label for r in self.replies for row in r.buttons for b in row]


@dataclass
class ChatDriver:
    """Talks to the real intake as one user on one channel."""

    app: App
    user_id: str
    name: str = "Người dùng thử"
    channel: str = "telegram"
    chat_id: str | None = None
    supports_buttons: bool = True
    chat_type: str = "private"
    history: list[Said] = field(default_factory=list)

    def _msg(self, **kw: Any) -> Incoming:
        from handlers.core import ChatType

        return Incoming(
            channel=self.channel,
            chat_id=self.chat_id or self.user_id,
            user_id=self.user_id,
            display_name=self.name,
            update_key=kw.pop("update_key", None) or f"test:{uuid.uuid4()}",
            supports_buttons=self.supports_buttons,
            chat_type=ChatType(self.chat_type),
            bot_username="tocns_test_bot",
            **kw,
        )

    async def send(self, text: str, *, update_key: str | None = None) -> Said:
        outcome = await self.app.intake.handle(self._msg(text=text, update_key=update_key))
        said = Said(outcome.replies, outcome.duplicate)
        self.history.append(said)
        return said

    async def press(self, payload: str) -> Said:
        outcome = await self.app.intake.handle(self._msg(payload=payload))
        said = Said(outcome.replies, outcome.duplicate)
        self.history.append(said)
        return said

    async def tap(self, label_part: str) -> Said:
        """Press the button (by label) shown in the last answer."""
        return await self.press(self.history[-1].button(label_part))

    async def upload(
        self, name: str, data: bytes, mime: str = "application/octet-stream", caption: str | None = None
    ) -> Said:
        from handlers.core import IncomingFile

        outcome = await self.app.intake.handle(self._msg(file=IncomingFile(name, mime, data), text=caption))
        said = Said(outcome.replies, outcome.duplicate)
        self.history.append(said)
        return said


async def _seed_for_real(app: App) -> None:
    from services import demo

    async with app.sessions() as session, session.begin():
        await demo.seed(session, ROOT / "data" / "demo" / "units_hue.csv", utcnow())


# The demo seed (a quarter of history) takes seconds; tests get a copy of one seeded snapshot per
# test session instead: an attached SQLite file, or a schema of the session's PostgreSQL database.
_SQLITE_SNAPSHOT: dict[str, Path] = {}
_PG_SNAPSHOTS: set[str] = set()
SNAPSHOT_SCHEMA = "seed_snapshot"


async def seed_demo(app: App) -> None:
    """Load the demo data into the app's (empty) database, from a per-session snapshot."""
    url = app.settings.database.url
    tables = [t.name for t in Base.metadata.sorted_tables]
    if url.startswith("sqlite"):
        await _seed_sqlite(app, url, tables)
    else:
        await _seed_pg(app, url, tables)


async def _seed_sqlite(app: App, url: str, tables: list[str]) -> None:
    import sqlite3
    import tempfile

    target = make_url(url).database or ""
    snapshot = _SQLITE_SNAPSHOT.get("path")
    if snapshot is None:
        await _seed_for_real(app)
        await app.engine.dispose()
        snapshot = Path(tempfile.mkdtemp(prefix="tocns-seed-")) / "seeded.db"
        src, dst = sqlite3.connect(target), sqlite3.connect(snapshot)
        src.backup(dst)
        src.close()
        dst.close()
        _SQLITE_SNAPSHOT["path"] = snapshot
        return
    await app.engine.dispose()
    conn = sqlite3.connect(target, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("ATTACH DATABASE ? AS snap", (str(snapshot),))
        conn.execute("BEGIN IMMEDIATE")
        for table in reversed(tables):
            conn.execute(f'DELETE FROM "{table}"')
        for table in tables:
            conn.execute(f'INSERT INTO "{table}" SELECT * FROM snap."{table}"')
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE snap")
    finally:
        conn.close()


async def _seed_pg(app: App, url: str, tables: list[str]) -> None:
    quoted = ", ".join(f'"{t}"' for t in tables)
    if url not in _PG_SNAPSHOTS:
        await _seed_for_real(app)
        async with app.engine.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {SNAPSHOT_SCHEMA} CASCADE"))
            await conn.execute(text(f"CREATE SCHEMA {SNAPSHOT_SCHEMA}"))
            for table in tables:
                await conn.execute(
                    text(f'CREATE TABLE {SNAPSHOT_SCHEMA}."{table}" AS SELECT * FROM public."{table}"')
                )
        _PG_SNAPSHOTS.add(url)
        return
    async with app.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        for table in tables:
            await conn.execute(
                text(f'INSERT INTO public."{table}" SELECT * FROM {SNAPSHOT_SCHEMA}."{table}"')
            )
        for table in Base.metadata.sorted_tables:
            if "id" in table.c and table.c["id"].primary_key and table.c["id"].type.python_type is int:
                await conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                        f'coalesce((SELECT max(id) FROM "{table.name}"), 0) + 1, false)'
                    )
                )


def demo_driver(app: App, key: str, **kw: Any) -> ChatDriver:
    """A driver speaking as a demo person (console accounts from the demo seed)."""
    from services.demo import DEMO_USERS

    user = next(u for u in DEMO_USERS if u.key == key)
    return ChatDriver(app, f"demo-{key}", user.display_name, channel="console", **kw)


async def outbox_rows(app: App) -> list[Any]:
    from sqlalchemy import select

    from db.models import OutboxMessage

    async with app.sessions() as session:
        return list((await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def lines(*items: str) -> Iterable[str]:
    return items


class Clock:
    """An injected clock: the intake (and whatever else is given `clock`) reads the time here."""

    def __init__(self, start: datetime) -> None:
        self.now = start if start.tzinfo else start.replace(tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        """Jump to `when` (naive values are local Vietnam time, as people say them)."""
        self.now = (when if when.tzinfo else when.replace(tzinfo=VN)).astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def count(app: App, model: type) -> int:
    """Rows of `model` in the app's database."""
    async with app.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


def run_cli(db_url: str, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """`tocns ARGS` in a child process on the test's database (warnings only in the log, Vietnamese
    unless TOCNS_LOCALE is passed in `env`); stdin closed, as in CI. From another `cwd` (relative
    paths on the command line), this checkout's code is still the one run."""
    full = {**os.environ, "TOCNS_DATABASE_URL": db_url, "TOCNS_LOG_LEVEL": "WARNING", "COLUMNS": "80", **env}
    if cwd is not None:
        full["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), full.get("PYTHONPATH")) if p)
    if "TOCNS_LOCALE" not in env:
        full.pop("TOCNS_LOCALE", None)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=full,
        cwd=cwd or ROOT,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def tocns_at(when: str, db_url: str, *args: str, config: Path | None = None) -> str:
    """`tocns ARGS` in its own process with the clock set by libfaketime (local time in Huế); its
    standard output (the run must succeed)."""
    env = {
        **os.environ,
        "TOCNS_DATABASE_URL": db_url,
        "TOCNS_CONFIG": str(config or ROOT / "config.yaml"),
        "TZ": "Asia/Ho_Chi_Minh",
        "COLUMNS": "200",
    }
    cmd = ["faketime", when, sys.executable, "-m", "bot.cli", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout


async def close_team(app: App, button: str) -> None:
    """The demo officer closes a team of Thuận Hóa from chat (/donvi → the team → «Đóng tổ», twice)."""
    canbo = demo_driver(app, "canbo")
    await canbo.send("/donvi")
    await canbo.tap(button)
    await canbo.tap("Đóng tổ")
    said = await canbo.tap("Đóng tổ")
    assert "Đã đóng" in said.text and button in said.text, said.text
