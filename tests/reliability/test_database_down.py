"""Database down: PostgreSQL unreachable or SQLite locked → the person gets a polite "try again
shortly", the update is not marked seen (so the platform's redelivery is processed), the
dispatcher pauses and resumes, and nothing is lost when the database returns."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.assemble import build
from bot.intake import DatabaseUnavailable
from bot.kernel import App
from db.models import OutboxMessage, ProcessedUpdate
from handlers.core import Reply
from services import outbox
from tests.reliability.proxy import CuttableProxy
from tests.support import ChatDriver, make_settings


class Recorder:
    channel = "telegram"
    supports_buttons = True

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.sent.append((chat_id, reply.text))


@pytest.fixture
async def proxied(db_url: str) -> AsyncIterator[tuple[App, CuttableProxy | None]]:
    """The app, talking to PostgreSQL through a cuttable proxy (None for SQLite)."""
    proxy = None
    url = db_url
    if db_url.startswith("postgresql"):
        parsed = make_url(db_url)
        proxy = CuttableProxy(parsed.host or "127.0.0.1", parsed.port or 5432)
        await proxy.start()
        url = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = make_settings(url)
    settings = settings.model_copy(
        update={"database": settings.database.model_copy(update={"sqlite_busy_timeout": 0.3})}
    )
    app = build(settings)
    try:
        yield app, proxy
    finally:
        if proxy is not None:
            await proxy.cut()
        await app.close()


class SqliteLock:
    """Hold SQLite's write lock from another connection, as a long backup or a stuck writer would."""

    def __init__(self, url: str) -> None:
        self.path = make_url(url).database or ""
        self.conn: sqlite3.Connection | None = None

    def cut(self) -> None:
        self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=1)
        self.conn.execute("BEGIN EXCLUSIVE")

    def restore(self) -> None:
        assert self.conn is not None
        self.conn.execute("ROLLBACK")
        self.conn.close()


async def outage(app: App, proxy: CuttableProxy | None) -> tuple[object, object]:
    if proxy is not None:
        return proxy.cut, proxy.restore
    lock = SqliteLock(app.settings.database.url)

    async def cut() -> None:
        lock.cut()

    async def restore() -> None:
        lock.restore()

    return cut, restore


async def test_update_during_outage_is_not_lost(proxied: tuple[App, CuttableProxy | None]) -> None:
    app, proxy = proxied
    user = ChatDriver(app, "5001")
    assert (await user.send("/start")).text
    cut, restore = await outage(app, proxy)
    await cut()  # type: ignore[operator]
    with pytest.raises(DatabaseUnavailable):
        await user.send("/help", update_key="telegram:42")
    await restore()  # type: ignore[operator]
    # The platform delivers the same update again: it is processed now, once.
    said = await user.send("/help", update_key="telegram:42")
    assert "/ngonngu" in said.text and not said.duplicate
    again = await user.send("/help", update_key="telegram:42")
    assert again.duplicate
    async with app.sessions() as s:
        n = (await s.execute(select(func.count()).select_from(ProcessedUpdate))).scalar_one()
    assert n == 2


async def test_dispatcher_pauses_and_resumes(proxied: tuple[App, CuttableProxy | None]) -> None:
    app, proxy = proxied
    recorder = Recorder()
    app.add_sender(recorder)
    async with app.sessions() as s, s.begin():
        for i in range(5):
            await outbox.enqueue(
                s, key=f"k{i}", kind="test", channel="telegram", chat_id=f"c{i}", payload={"text": f"m{i}"}
            )
    cut, restore = await outage(app, proxy)
    await cut()  # type: ignore[operator]
    task = asyncio.create_task(app.dispatcher.run())
    await asyncio.sleep(0.8)
    assert recorder.sent == []  # paused, not crashed
    assert not task.done()
    await restore()  # type: ignore[operator]
    for _ in range(100):
        if len(recorder.sent) == 5:
            break
        await asyncio.sleep(0.1)
    app.dispatcher.stop()
    await task
    assert sorted(t for _c, t in recorder.sent) == [f"m{i}" for i in range(5)]
    async with app.sessions() as s:
        statuses = (await s.execute(select(OutboxMessage.status))).scalars().all()
    assert set(statuses) == {"sent"}


async def test_console_says_busy(proxied: tuple[App, CuttableProxy | None]) -> None:
    import io

    from bot.channels.console import chat
    from services.demo import DEMO_USERS

    app, proxy = proxied
    cut, restore = await outage(app, proxy)
    await cut()  # type: ignore[operator]
    out = io.StringIO()
    try:
        await chat(app, DEMO_USERS[0], ["/help"], out)
    finally:
        await restore()  # type: ignore[operator]
    assert "thử lại" in out.getvalue()
    assert "Traceback" not in out.getvalue()


async def test_a_database_restart_between_updates_is_not_seen(
    proxied: tuple[App, CuttableProxy | None],
) -> None:
    """The engine does not ping before each transaction: a pooled connection the server dropped
    fails its first statement, and the intake runs the update once more on a fresh connection."""
    app, proxy = proxied
    if proxy is None:
        pytest.skip("PostgreSQL's pooled connections")
    user = ChatDriver(app, "5003")
    assert (await user.send("/start")).text  # the pool now holds an open connection
    await proxy.cut()  # the server restarts: every open connection is gone…
    await proxy.restore()  # …and it accepts new ones
    said = await user.send("/help", update_key="telegram:4242")
    assert "/ngonngu" in said.text and not said.duplicate
    assert (await user.send("/help", update_key="telegram:4242")).duplicate
