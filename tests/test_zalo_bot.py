"""The Zalo Bot Platform adapter against its contract fake (tests/fakes/zalo_bot_api.py): emoji-safe
splitting, photos and files, every documented error code, the webhook answering before
processing, self-echoes, id-less updates and downloads only from Zalo's file hosts."""

from __future__ import annotations

import asyncio
import unicodedata
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.zalo import bot as zalo_bot
from bot.channels.zalo.common import split_text, utf16_len
from bot.channels.zalo.safe_fetch import FileFetcher, Refused, host_allowed
from bot.intake import DatabaseUnavailable
from bot.kernel import App, StartupError
from handlers.core import Attachment, AttachmentKind, Context, Incoming, Reply
from handlers.router import Router
from services import outbox as outbox_service
from tests.fakes.zalo_bot_api import BOT_ID
from tests.harness.zalo import BOT_TOKEN, ZaloBotHarness, outbox, processed_count

EMOJI = ["😀", "👍🏽", "👨‍👩‍👧", "🇻🇳", "❤️", "ệ", "e\u0301", "a", " ", "\n"]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(EMOJI), min_size=0, max_size=700))
def test_split_counts_utf16_and_never_cuts_a_character(parts: list[str]) -> None:
    text = "".join(parts)
    pieces = split_text(text, limit=50)
    assert all(0 < utf16_len(p) <= 50 for p in pieces)
    assert "".join(pieces).split() == text.split() or "".join("".join(pieces).split()) == "".join(
        text.split()
    )
    for p in pieces:  # no piece starts with a joiner, a modifier or a combining mark
        assert not p.startswith(("\u200d", "\ufe0f", "🏽")) and not unicodedata.combining(p[0])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="abc đê \n", min_size=0, max_size=900), max_size=12))
def test_split_text_keeps_everything_under_the_limit(parts: list[str]) -> None:
    text = "\n\n".join(parts)
    pieces = split_text(text, limit=500)
    assert all(0 < len(p) <= 500 for p in pieces)
    assert "".join(pieces).split() == text.split()


def test_split_prefers_paragraphs_and_counts_emoji_as_two() -> None:
    text = "a" * 1500 + "\n\n" + "b" * 1500 + "\nc"
    assert split_text(text) == ["a" * 1500, "b" * 1500 + "\nc"]
    assert len(split_text("😀" * 1500)) == 2  # 3,000 UTF-16 units: two messages, not one


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


async def test_long_push_with_emoji_is_split_within_the_limit(app: App) -> None:
    async with ZaloBotHarness(app) as h:
        text = "\n\n".join(f"Đoạn {i} 🎉: " + "x" * 900 for i in range(5)) + "\n\n" + "👍" * 1200
        await push(app, "u1", Reply(text))
        sent = h.texts_to("u1")
        assert h.fake.rejected == [] and all(utf16_len(t) <= 2000 for t in sent)
        assert sent[0].startswith("Đoạn 0") and sent[1].startswith("Đoạn 2")
        assert "".join(sent).count("👍") == 1200


async def test_photo_after_the_text_without_an_empty_caption(app: App) -> None:
    png = b"\x89PNG fake chart"
    async with ZaloBotHarness(app) as h:
        photo = Attachment(AttachmentKind.PHOTO, "chart.png", png, caption="Biểu đồ tuần")
        await push(app, "u2", Reply("Tổng hợp tuần", attachment=photo))
        await push(
            app,
            "u2",
            Reply("Không chú thích", attachment=Attachment(AttachmentKind.PHOTO, "c.png", png)),
            "t:2",
        )
        methods = [m for m, _ in h.fake.calls if m in ("sendMessage", "sendPhoto")]
        assert methods == ["sendMessage", "sendPhoto", "sendMessage", "sendPhoto"]
        photos = [p for m, p in h.fake.calls if m == "sendPhoto"]
        assert photos[0]["caption"] == "Biểu đồ tuần" and "caption" not in photos[1]
        assert h.fake.photos == [png, png] and h.fake.rejected == []
        assert "/zalo/files/" in photos[0]["photo"] and "sig=" in photos[0]["photo"]


async def test_photo_without_public_url_sends_a_note(app: App) -> None:
    async with ZaloBotHarness(app, public_files=False) as h:
        photo = Attachment(AttachmentKind.PHOTO, "chart.png", b"png", caption="Biểu đồ")
        await push(app, "u3", Reply("Tổng hợp", attachment=photo))
        assert not [m for m, _ in h.fake.calls if m == "sendPhoto"]
        (text,) = h.texts_to("u3")
        assert "Tổng hợp" in text and "Biểu đồ" in text and "chart.png" in text


async def test_document_becomes_a_signed_short_lived_link(app: App) -> None:
    data = b"PK\x03\x04 xlsx bytes"
    async with ZaloBotHarness(app) as h:
        doc = Attachment(AttachmentKind.DOCUMENT, "bao-cao.xlsx", data)
        await push(app, "u4", Reply("Báo cáo tuần", attachment=doc))
        text, link_text = h.texts_to("u4")
        assert text == "Báo cáo tuần" and "bao-cao.xlsx" in link_text
        url = next(w for w in link_text.split() if w.startswith("http"))
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as resp:
                assert resp.status == 200 and await resp.read() == data
                assert "attachment" in resp.headers["Content-Disposition"]
            async with http.get(url.replace("sig=", "sig=0")) as resp:
                assert resp.status == 404
        assert h.channel is not None and h.channel.files is not None
        h.channel.files.clock = lambda: 4102444800.0  # 2100: the link has expired
        async with aiohttp.ClientSession() as http, http.get(url) as resp:
            assert resp.status == 404


async def test_a_link_made_by_one_worker_is_served_by_another(app: App, db_url: str) -> None:
    """Two workers behind one address (deploy/compose.yaml): the link is made by the worker that sent
    the message and fetched — by the person, or by Zalo's servers for a photo — through either."""
    from bot.assemble import build
    from tests.support import make_settings

    data = b"PK\x03\x04 two workers"
    other = build(make_settings(db_url))
    try:
        async with ZaloBotHarness(app) as one, ZaloBotHarness(other) as two:
            await push(
                app, "u9", Reply("Báo cáo", attachment=Attachment(AttachmentKind.DOCUMENT, "bc.xlsx", data))
            )
            _text, link_text = one.texts_to("u9")
            url = next(w for w in link_text.split() if w.startswith("http"))
            assert f":{one.port}/" in url
            via_two = url.replace(f":{one.port}/", f":{two.port}/")
            async with aiohttp.ClientSession() as http:
                async with http.get(via_two) as resp:
                    assert resp.status == 200 and await resp.read() == data
                async with http.get(via_two.replace("sig=", "sig=0")) as resp:
                    assert resp.status == 404  # the signature is checked by every worker alike
    finally:
        await other.close()


@pytest.mark.parametrize(
    ("code", "outcome"),
    [(400, "dead"), (401, "pending"), (403, "pending"), (404, "dead"), (408, "pending"), (429, "pending")],
)
async def test_every_documented_error_code(app: App, code: int, outcome: str) -> None:
    """403 is documented as "internal server error": retried, never "the user blocked us"."""
    async with ZaloBotHarness(app) as h:
        h.fake.fail_sends = [code]
        await push(app, "u4", Reply("Nhắc việc"))
        (row,) = await outbox(app)
        assert (row.status, row.attempts) == (outcome, 1)
        assert h.texts_to("u4") == []


async def test_failed_webhook_reply_goes_to_the_outbox(app: App) -> None:
    async with ZaloBotHarness(app, "webhook") as h:
        h.fake.fail_sends = [403]
        assert await h.send("u5", "/help") == []
        assert h.last_status == 200
        (row,) = await outbox(app)
        assert (row.kind, row.status, row.chat_id) == ("reply", "pending", "u5")
        await app.dispatcher.drain_once()
        assert "/ngonngu" in h.texts_to("u5")[0]


async def test_webhook_answers_before_processing(app: App, monkeypatch: Any) -> None:
    """The raw event is stored and answered at once; a slow intake cannot make Zalo redeliver."""
    real = app.intake.handle

    async def slow(msg: Incoming) -> Any:
        await asyncio.sleep(2.5)
        return await real(msg)

    async with ZaloBotHarness(app, "webhook") as h:
        monkeypatch.setattr(app.intake, "handle", slow)
        said = await h.send("u6", "/help")
        assert h.last_status == 200 and h.fake.redeliveries_due == []
        assert any("/ngonngu" in t for t in said)


async def test_webhook_answers_503_when_the_event_cannot_be_stored(app: App, monkeypatch: Any) -> None:
    async with ZaloBotHarness(app, "webhook") as h:
        assert h.channel is not None

        async def down(raw: bytes, body: Any) -> int:
            raise ConnectionRefusedError("database down")

        monkeypatch.setattr(h.channel.inbound, "store", down)
        await h.send("u6", "/start")
        assert h.last_status == 503 and len(h.fake.redeliveries_due) == 1
    assert await processed_count(app) == 0


async def test_database_down_after_the_answer_is_retried(app: App, monkeypatch: Any) -> None:
    real = app.intake.handle
    calls = {"n": 0}

    async def flaky(msg: Incoming) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise DatabaseUnavailable("down")
        return await real(msg)

    async with ZaloBotHarness(app, "webhook") as h:
        assert h.channel is not None
        h.channel.inbound.retry_delays = (0.01,)
        monkeypatch.setattr(app.intake, "handle", flaky)
        said = await h.send("u6", "/help")
        assert h.last_status == 200 and any("/ngonngu" in t for t in said)


@pytest.mark.parametrize("body", [b"[]", b"null", b"123", b'"x"', b"{not json"])
async def test_webhook_bodies_that_are_not_objects_get_400(app: App, body: bytes) -> None:
    async with ZaloBotHarness(app, "webhook") as h:
        headers = {"X-Bot-Api-Secret-Token": h.fake.webhook_secret, "Content-Type": "application/json"}
        async with (
            aiohttp.ClientSession() as http,
            http.post(h.fake.webhook_url, data=body, headers=headers) as r,
        ):
            assert r.status == 400
    assert await processed_count(app) == 0


async def test_group_chatter_is_ignored_but_commands_answer(app: App) -> None:
    async with ZaloBotHarness(app) as h:
        await h.fake.deliver(h.fake.update("g1", "chào cả nhà", user_id="u7", chat_type="GROUP"))
        await h.fake.deliver(h.fake.update("g1", "/help", user_id="u7", chat_type="GROUP"))
        await h.settle()
        texts = h.texts_to("g1")
        assert len(texts) == 1 and "/ngonngu" in texts[0]


async def test_the_bots_own_echo_is_dropped(app: App) -> None:
    """The platform may hand the bot its own messages back (from.id == getMe id)."""
    async with ZaloBotHarness(app) as h:
        h.fake.echo = True
        await h.send("u8", "/help")
        await h.settle()
        assert h.fake.delivered >= 2  # the user's message and the echo of the answer
        assert len(h.texts_to("u8")) == 1
        assert h.channel is not None and h.channel.bot_id == BOT_ID


async def test_updates_without_a_message_id_do_not_share_a_key(app: App) -> None:
    async with ZaloBotHarness(app, "webhook") as h:
        for user in ("u9", "u10"):
            update = h.fake.update(user, "/help")
            del update["message"]["message_id"]
            await h.fake.deliver(update)
        await h.settle()
        assert h.texts_to("u9") and h.texts_to("u10")


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


async def test_photo_url_outside_zalo_hosts_is_never_fetched(app: App) -> None:
    """Blind SSRF: a forged event pointing at an internal address gets no request from us."""
    hits: list[str] = []

    async def internal(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(body=b"secret")

    inner = web.Application()
    inner.router.add_get("/{tail:.*}", internal)
    runner = web.AppRunner(inner)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.2", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with ZaloBotHarness(app) as h:
            for url in (
                f"http://127.0.0.2:{port}/latest/meta-data",  # not a listed host
                "https://evil.example/x.jpg",
                "https://zdn.vn.evil.example/x.jpg",
            ):
                update = h.fake.image_update("u11", "x.jpg", b"x")
                update["message"]["photo_url"] = url
                await h.fake.deliver(update)
            await h.settle()
        assert hits == []
    finally:
        await runner.cleanup()


async def test_file_fetcher_refuses_private_addresses_in_production() -> None:
    assert host_allowed("f21-zpc.zdn.vn", ("zdn.vn",)) and not host_allowed("zdn.vn.evil.io", ("zdn.vn",))
    fetcher = FileFetcher(("zdn.vn", "127.0.0.1", "localhost"))
    for url in ("http://photo.zdn.vn/a.jpg", "https://127.0.0.1/a.jpg", "https://localhost/a.jpg"):
        with pytest.raises(Refused):
            await fetcher.fetch(url, 1000)
    await fetcher.close()


async def test_a_sticker_is_answered_never_dropped(app: App) -> None:
    async with ZaloBotHarness(app) as h:
        mark = len(h.fake.sent)
        await h.fake.deliver(h.fake.sticker_update("zb-77"))
        await h.settle()
        replies = [str(p.get("text")) for p in h.fake.sent[mark:] if p["chat_id"] == "zb-77"]
        assert replies and "nhãn dán" in replies[0]
