"""The same conversations on every real channel adapter, each running for real against a local
fake of its platform's HTTP API: Telegram (webhook, PTB), Zalo Bot (long polling and webhook) and
Zalo OA (signed webhook)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.kernel import App
from handlers.core import Button, Reply
from services import outbox
from tests.harness.telegram import TelegramHarness
from tests.harness.zalo import ZaloBotHarness, ZaloOAHarness, processed_count

CHANNELS = ["telegram", "zalo_bot_polling", "zalo_bot_webhook", "zalo_oa"]
# PTB 22 warns about its own int→timedelta migration (see tests/test_telegram_adapter.py).
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def make_harness(app: App, kind: str) -> Any:
    if kind == "zalo_oa":
        return ZaloOAHarness(app)
    if kind == "telegram":
        return TelegramHarness(app)
    return ZaloBotHarness(app, kind.removeprefix("zalo_bot_"))


def chat_id(chan: Any, user: str) -> str:
    return str(chan.chat(user)) if chan.name == "telegram" else user


@pytest.fixture(params=CHANNELS)
async def chan(request: pytest.FixtureRequest, app: App) -> AsyncIterator[Any]:
    async with make_harness(app, request.param) as harness:
        yield harness


async def test_start_and_help(chan: Any) -> None:
    said = "\n".join(await chan.send("u100", "/start"))
    assert "Xin chào" in said or "Chào" in said, said
    said = "\n".join(await chan.send("u100", "/help"))
    assert "/ngonngu" in said and "/help" in said


async def test_language_button_flow(chan: Any) -> None:
    said = "\n".join(await chan.send("u101", "/ngonngu"))
    assert "English" in said and "Tiếng Việt" in said
    said = "\n".join(await chan.choose("u101", "English"))
    assert "Switched to English" in said
    said = "\n".join(await chan.send("u101", "/huy"))  # the person now reads English
    assert "nothing in progress to cancel" in said, said


async def test_unknown_text_gets_a_helpful_answer(chan: Any) -> None:
    said = "\n".join(await chan.send("u102", "hôm nay trời đẹp quá"))
    assert "chưa hiểu" in said and "Hướng dẫn" in said
    said = "\n".join(await chan.choose("u102", "Hướng dẫn"))
    assert "/ngonngu" in said


async def test_push_from_the_outbox_reaches_the_user(chan: Any) -> None:
    app = chan.app
    await chan.send("u103", "/start")  # the person exists and has talked to the bot
    reply = Reply("Nhắc việc: báo cáo tuần", buttons=((Button("English", "lang:en"),),))
    async with app.sessions() as s, s.begin():
        await outbox.enqueue(
            s,
            key="test:push:1",
            kind="test",
            channel=chan.name,
            chat_id=chat_id(chan, "u103"),
            payload=reply.to_payload(),
        )
    assert await app.dispatcher.drain_once() == 1
    assert any("Nhắc việc: báo cáo tuần" in t for t in chan.texts_to("u103"))
    async with app.sessions() as s:
        assert [r for _, status, r in await outbox.summary(s) if status == "sent"] == [1]
    # The push's option works like any other button.
    said = "\n".join(await chan.choose("u103", "English"))
    assert "Switched to English" in said


async def test_duplicate_delivery_processed_once(chan: Any) -> None:
    app = chan.app
    first = await chan.send("u104", "/help", message_id="dup-0001")
    before = await processed_count(app)
    again = await chan.send("u104", "/help", message_id="dup-0001")
    assert first and again == []
    assert await processed_count(app) == before


@pytest.mark.parametrize("kind", ["telegram", "zalo_bot_webhook", "zalo_oa"])
async def test_forged_webhook_rejected(kind: str, app: App) -> None:
    async with make_harness(app, kind) as harness:
        assert await harness.forge("u105", "/start") == 403
        assert await processed_count(harness.app) == 0
        assert harness.texts_to("u105") == []
