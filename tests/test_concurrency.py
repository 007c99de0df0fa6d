"""Concurrent update processing: different chats at once, one chat's updates never overtake each
other, nothing lost or processed twice, one database transaction per update — through the real PTB
Application (polling and webhook) and the real intake, only the Bot API faked (tests/fakes/bot_api.py).
No timing assertions: random delays make overtaking likely if the order were not enforced."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from typing import Any

import pytest
from aiohttp import test_utils, web
from sqlalchemy import event, func, select

from bot.assemble import build
from bot.channels.telegram import SECRET_HEADER, TelegramChannel, build_channel
from bot.intake import Outcome
from bot.kernel import App
from bot.sequencer import ChatSequencer
from db.models import ProcessedUpdate
from handlers.core import Incoming
from tests.fakes.bot_api import FakeBotApi
from tests.test_telegram_adapter import BOT_USERNAME, message_update, tg_settings

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
SECRET = "s3cret-token"


# --- the sequencer alone ------------------------------------------------------------------------


async def test_sequencer_keeps_each_keys_order_and_runs_keys_together() -> None:
    seq = ChatSequencer(limit=4)
    rng = random.Random(7)
    seen: dict[str, list[int]] = defaultdict(list)

    async def work(key: str, i: int) -> None:
        turn = seq.reserve(key)  # reserved at arrival, as the PTB processor does
        async with turn:
            await asyncio.sleep(rng.random() / 500)
            seen[key].append(i)

    tasks = [asyncio.create_task(work(f"chat{i % 5}", i)) for i in range(100)]
    await asyncio.gather(*tasks)
    for k in range(5):
        assert seen[f"chat{k}"] == list(range(k, 100, 5))
    assert 1 < seq.peak <= 4
    assert seq.waiting_keys == 0  # nothing left behind


async def test_a_cancelled_waiting_turn_does_not_let_the_next_overtake() -> None:
    seq = ChatSequencer(limit=4)
    order: list[str] = []
    gate = asyncio.Event()

    async def first() -> None:
        async with seq.reserve("k"):
            await gate.wait()
            order.append("first")

    async def second() -> None:
        async with seq.reserve("k"):
            order.append("second")

    async def third() -> None:
        async with seq.reserve("k"):
            order.append("third")

    t1 = asyncio.create_task(first())
    await asyncio.sleep(0)
    t2 = asyncio.create_task(second())
    await asyncio.sleep(0)
    t3 = asyncio.create_task(third())
    await asyncio.sleep(0.01)
    t2.cancel()
    await asyncio.sleep(0.01)
    assert order == []  # third still waits for first
    gate.set()
    await asyncio.gather(t1, t3)
    assert order == ["first", "third"]
    assert seq.waiting_keys == 0


# --- the real channel ---------------------------------------------------------------------------


class Spy:
    """Wraps the real intake: records the order updates reach it per chat, with random delays
    before the real work, and counts database transactions begun on the engine."""

    def __init__(self, app: App, seed: int) -> None:
        self.app = app
        self.real = app.intake.handle
        self.rng = random.Random(seed)
        self.order: dict[str, list[str]] = defaultdict(list)
        self.running = 0
        self.peak = 0
        self.begins = 0
        app.intake.handle = self.handle  # type: ignore[method-assign]
        event.listen(app.intake.engine.sync_engine, "begin", self._begin)

    def _begin(self, _conn: Any) -> None:
        self.begins += 1

    async def handle(self, msg: Incoming) -> Outcome:
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            self.order[msg.chat_id].append(msg.text or "")
            await asyncio.sleep(self.rng.random() / 100)
            return await self.real(msg)
        finally:
            self.running -= 1

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.order.values())


async def processed_rows(app: App) -> int:
    async with app.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(ProcessedUpdate))).scalar_one())


CHATS = [31, 32, 33, 34, 35]
PER_CHAT = 12  # under the flood guard's 20 messages / 10 s


async def test_polling_processes_chats_concurrently_in_order_once_each(db_url: str) -> None:
    async with FakeBotApi(username=BOT_USERNAME) as api:
        app = build(tg_settings(db_url, api))
        channel = build_channel(app, web.Application())
        assert isinstance(channel, TelegramChannel)
        spy = Spy(app, seed=1)
        before = await processed_rows(app)
        begins_before = spy.begins
        uid = 5000
        for i in range(PER_CHAT):
            for chat in CHATS:
                uid += 1
                api.push_update(message_update(uid, f"tin nhắn số {i}", user_id=chat))
        # The last update delivered a second time (same update_id): the intake's mark stops it.
        api.push_update(message_update(uid, f"tin nhắn số {PER_CHAT - 1}", user_id=CHATS[-1]))
        await channel.start()
        try:
            for _ in range(600):  # until everything went through (bounded; no timing assertion)
                if spy.total >= len(CHATS) * PER_CHAT + 1 and not channel._tasks:
                    break
                await asyncio.sleep(0.05)
            await channel.drain()
        finally:
            await channel.stop()
        begins = spy.begins - begins_before
        try:
            expected = [f"tin nhắn số {i}" for i in range(PER_CHAT)]
            for chat in CHATS[:-1]:
                assert spy.order[str(chat)] == expected, chat
            assert spy.order[str(CHATS[-1])] == [*expected, expected[-1]]
            assert spy.peak > 1  # different chats were in the intake at the same time
            assert channel.sequencer.peak > 1
            assert await processed_rows(app) - before == len(CHATS) * PER_CHAT
            # One transaction per update (the duplicate's only finds the mark and ends).
            assert app.intake.transactions == len(CHATS) * PER_CHAT + 1
            assert begins == len(CHATS) * PER_CHAT + 1
            per_chat = defaultdict(int)
            for call in api.calls_to("sendMessage"):
                per_chat[int(call.params["chat_id"])] += 1
            assert all(per_chat[c] >= PER_CHAT for c in CHATS)  # every update was answered
        finally:
            await app.close()


async def test_webhook_requests_overlap_and_a_duplicate_is_processed_once(db_url: str) -> None:
    async with FakeBotApi(username=BOT_USERNAME) as api:
        settings = tg_settings(
            db_url,
            api,
            TOCNS_TELEGRAM_MODE="webhook",
            TOCNS_TELEGRAM_WEBHOOK_SECRET=SECRET,
            TOCNS_WEBHOOK_PUBLIC_URL="https://bot.example.vn",
        )
        app = build(settings)
        webapp = web.Application()
        channel = build_channel(app, webapp)
        assert isinstance(channel, TelegramChannel)
        await channel.start()
        client = test_utils.TestClient(test_utils.TestServer(webapp))
        await client.start_server()
        spy = Spy(app, seed=2)
        before = await processed_rows(app)
        try:
            updates = [message_update(7000 + i, "/help", user_id=CHATS[i % 5]) for i in range(20)]
            updates.append(dict(updates[3]))  # Telegram delivers one twice, at the same time
            headers = {SECRET_HEADER: SECRET}
            statuses = await asyncio.gather(
                *(client.post("/telegram/webhook", json=u, headers=headers) for u in updates)
            )
            assert [r.status for r in statuses] == [200] * len(updates)
            await channel.drain()
            assert spy.peak > 1
            assert await processed_rows(app) - before == 20
            assert app.intake.transactions == 21  # the duplicate's transaction only finds the mark
            help_answers = [c for c in api.calls_to("sendMessage") if int(c.params["chat_id"]) == CHATS[3]]
            assert len({c.params["text"] for c in help_answers}) == 1
            assert len(help_answers) == 4  # four /help to that chat, the duplicate not answered twice
        finally:
            await client.close()
            await channel.stop()
            await app.close()
