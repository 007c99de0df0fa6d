"""A Zalo event is stored before the webhook's 200 (at-least-once), but what a citizen typed is not
kept once it was handled: a processed row keeps who wrote when (the OA messaging window), not the
message — an ID number or phone typed to the bot must not sit in the database for eight days."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.intake import DatabaseUnavailable
from bot.kernel import App
from db.models import ZaloInbound
from handlers.core import Incoming
from tests.harness.zalo import ZaloBotHarness, ZaloOAHarness

TYPED = "Số CCCD của tôi là 046190001234, điện thoại 0905123456, làm lại căn cước thế nào"


async def _rows(app: App) -> list[ZaloInbound]:
    async with app.sessions() as s:
        return list((await s.execute(select(ZaloInbound).order_by(ZaloInbound.id))).scalars())


def _assert_forgotten(rows: list[ZaloInbound], user: str | None) -> None:
    assert rows and all(r.done_at is not None for r in rows)
    assert all("046190001234" not in r.body and "0905123456" not in r.body for r in rows)
    assert all(r.body == "" for r in rows)
    if user is not None:  # OA: who wrote when is still known (its messaging window)
        assert user in {r.chat_id for r in rows}


async def test_oa_message_body_is_not_kept_after_processing(app: App) -> None:
    async with ZaloOAHarness(app) as h:
        answer = await h.send("oa-citizen-1", TYPED)
        assert answer  # the question was answered from what was typed
    _assert_forgotten(await _rows(app), "oa-citizen-1")


async def test_bot_platform_message_body_is_not_kept_after_processing(app: App) -> None:
    async with ZaloBotHarness(app, mode="webhook") as h:  # webhook events are the ones stored
        answer = await h.send("bot-citizen-1", TYPED)
        assert answer
    _assert_forgotten(await _rows(app), None)  # the Bot Platform has no window to keep


async def test_an_event_left_for_the_sweep_keeps_its_body_until_it_is_processed(
    app: App, monkeypatch: Any
) -> None:
    async def down(msg: Incoming) -> Any:
        raise DatabaseUnavailable("down")

    async with ZaloOAHarness(app) as h:
        assert h.channel is not None
        h.channel.inbound.retry_delays = (0.01,)
        monkeypatch.setattr(app.intake, "handle", down)
        await h.send("oa-citizen-2", TYPED)
        (row,) = await _rows(app)
        assert row.done_at is None and "046190001234" in row.body  # needed to process it later
        monkeypatch.undo()
        await h.channel.inbound.sweep()
        await h.channel.drain()
        assert h.texts_to("oa-citizen-2")
    _assert_forgotten(await _rows(app), "oa-citizen-2")
