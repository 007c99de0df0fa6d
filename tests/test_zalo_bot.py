"""The Zalo Bot Platform adapter against its local fake: splitting, photos, failures, groups,
configuration, and the webhook's answers (403 / 503)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.zalo import bot as zalo_bot
from bot.channels.zalo.common import split_text
from bot.intake import DatabaseUnavailable
from bot.kernel import App, StartupError
from handlers.core import Attachment, AttachmentKind, Context, Incoming, Reply
from handlers.router import Router
from services import outbox as outbox_service
from tests.zalo_helpers import BOT_TOKEN, ZaloBotHarness, outbox, processed_count


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="abc đê \n", min_size=0, max_size=900), max_size=12))
def test_split_text_keeps_everything_under_the_limit(parts: list[str]) -> None:
    text = "\n\n".join(parts)
    pieces = split_text(text, limit=500)
    assert all(0 < len(p) <= 500 for p in pieces)
    assert "".join(pieces).split() == text.split()


def test_split_prefers_paragraphs() -> None:
    text = "a" * 1500 + "\n\n" + "b" * 1500 + "\nc"
    assert split_text(text) == ["a" * 1500, "b" * 1500 + "\nc"]


def test_updates_wrapped_unwrapped_or_lists() -> None:
    update = {"event_name": "message.text.received", "message": {"message_id": "1"}}
    assert zalo_bot._updates({"ok": True, "result": update}) == [update]
    assert zalo_bot._updates(update) == [update]
    assert zalo_bot._updates({"ok": True, "result": [update, update]}) == [update, update]
    assert zalo_bot._updates({"ok": True, "result": None}) == []


async def test_not_configured_without_token_and_webhook_needs_a_secret(app: App) -> None:
    assert zalo_bot.build_channel(app, web.Application(), environ={}) is None
    app.settings.extra["zalo_bot"] = {"mode": "webhook", "webhook_public_url": "https://bot.example.vn"}
    with pytest.raises(StartupError, match="TOCNS_ZALO_BOT_WEBHOOK_SECRET"):
        zalo_bot.build_channel(app, web.Application(), environ={"TOCNS_ZALO_BOT_TOKEN": BOT_TOKEN})
    app.settings.extra["zalo_bot"] = {"mode": "pigeon"}
    with pytest.raises(StartupError, match=r"zalo_bot\.mode"):
        zalo_bot.build_channel(app, web.Application(), environ={"TOCNS_ZALO_BOT_TOKEN": BOT_TOKEN})
    app.settings.extra.pop("zalo_bot")


async def push(app: App, chat_id: str, reply: Reply, key: str = "t:1") -> None:
    async with app.sessions() as s, s.begin():
        await outbox_service.enqueue(
            s, key=key, kind="test", channel="zalo_bot", chat_id=chat_id, payload=reply.to_payload()
        )
    await app.dispatcher.drain_once()


async def test_long_push_is_split_at_paragraphs(app: App) -> None:
    async with ZaloBotHarness(app) as h:
        text = "\n\n".join(f"Đoạn {i}: " + "x" * 900 for i in range(5))
        await push(app, "u1", Reply(text))
        sent = h.texts_to("u1")
        assert len(sent) == 3 and all(len(t) <= 2000 for t in sent)
        assert sent[0].startswith("Đoạn 0") and sent[1].startswith("Đoạn 2")


async def test_photo_is_served_at_an_unguessable_url(app: App) -> None:
    png = b"\x89PNG fake chart"
    async with ZaloBotHarness(app) as h:
        photo = Attachment(AttachmentKind.PHOTO, "chart.png", png, caption="Biểu đồ tuần")
        await push(app, "u2", Reply("Tổng hợp tuần", attachment=photo))
        photos = [p for m, p in h.fake.calls if m == "sendPhoto"]
        assert h.fake.photos == [png]
        assert photos[0]["caption"] == "Biểu đồ tuần" and len(photos[0]["photo"].rsplit("/", 1)[1]) >= 32
        assert h.texts_to("u2")[-1] == "Tổng hợp tuần"


async def test_photo_without_public_url_sends_a_note(app: App) -> None:
    async with ZaloBotHarness(app, public_files=False) as h:
        photo = Attachment(AttachmentKind.PHOTO, "chart.png", b"png", caption="Biểu đồ")
        await push(app, "u3", Reply("Tổng hợp", attachment=photo))
        assert not [m for m, _ in h.fake.calls if m == "sendPhoto"]
        (text,) = h.texts_to("u3")
        assert "Tổng hợp" in text and "Biểu đồ" in text and "chart.png" in text


@pytest.mark.parametrize(
    ("status", "outcome"), [(429, "pending"), (500, "pending"), (403, "unreachable"), (400, "dead")]
)
async def test_push_failures(app: App, status: int, outcome: str) -> None:
    async with ZaloBotHarness(app) as h:
        h.fake.fail_sends = [status]
        await push(app, "u4", Reply("Nhắc việc"))
        (row,) = await outbox(app)
        assert (row.status, row.attempts) == (outcome, 1)
        assert h.texts_to("u4") == []


async def test_failed_webhook_reply_goes_to_the_outbox(app: App) -> None:
    async with ZaloBotHarness(app, "webhook") as h:
        h.fake.fail_sends = [502]
        assert await h.send("u5", "/help") == []
        assert h.last_status == 200
        (row,) = await outbox(app)
        assert (row.kind, row.status, row.chat_id) == ("reply", "pending", "u5")
        await app.dispatcher.drain_once()
        assert "/ngonngu" in h.texts_to("u5")[0]


async def test_webhook_answers_503_when_the_database_is_down(app: App, monkeypatch: Any) -> None:
    async def down(msg: Incoming) -> Any:
        raise DatabaseUnavailable("down")

    async with ZaloBotHarness(app, "webhook") as h:
        monkeypatch.setattr(app.intake, "handle", down)
        await h.send("u6", "/start")
        assert h.last_status == 503
    assert await processed_count(app) == 0


async def test_group_chatter_is_ignored_but_commands_answer(app: App) -> None:
    async with ZaloBotHarness(app) as h:
        await h.fake.deliver(h.fake.update("g1", "chào cả nhà", user_id="u7", chat_type="GROUP"))
        await h.fake.deliver(h.fake.update("g1", "/help", user_id="u7", chat_type="GROUP"))
        await h.settle()
        texts = h.texts_to("g1")
        assert len(texts) == 1 and "/ngonngu" in texts[0]


async def test_received_image_becomes_a_file(app: App) -> None:
    seen: list[tuple[str, bytes, str | None]] = []
    probe = Router()

    @probe.file()
    async def got(ctx: Context) -> bool:
        assert ctx.msg.file is not None
        seen.append((ctx.msg.file.mime, ctx.msg.file.data, ctx.msg.text))
        ctx.reply("đã nhận ảnh")
        return True

    app.router.include(probe)
    async with ZaloBotHarness(app) as h:
        await h.fake.deliver(h.fake.image_update("u8", "phieu.jpg", b"JPEGDATA", caption="phiếu hẹn"))
        await h.settle()
        assert seen == [("image/jpeg", b"JPEGDATA", "phiếu hẹn")]
        assert h.texts_to("u8") == ["đã nhận ảnh"]
