"""The Telegram adapter in-process: the real PTB bot and the real intake, only the Bot API is faked
(tests/fakes/bot_api.py)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import test_utils, web
from sqlalchemy import select
from telegram import Bot

from bot.assemble import build
from bot.channels.telegram import SECRET_HEADER, TelegramChannel, TelegramSender, build_channel, split_text
from bot.channels.telegram._send import ReplyRenderer
from bot.intake import DatabaseUnavailable
from bot.kernel import App, DeliveryError, StartupError
from db.models import ProcessedUpdate
from handlers.core import Attachment, AttachmentKind, Button, Reply
from tests.fakes.bot_api import FakeBotApi
from tests.support import make_settings

# PTB 22 warns about its own int→timedelta migration inside RetryAfter; the bot opts in via
# PTB_TIMEDELTA (bot/telegram/_channel.py), bare Bot() objects in these tests do not.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
SECRET = "s3cret-token"
BOT_USERNAME = "tocns_test_bot"


def message_update(
    update_id: int,
    text: str | None = "/help",
    *,
    user_id: int = 11,
    chat_id: int | None = None,
    chat_type: str = "private",
    language_code: str = "vi",
    reply_to_bot: bool = False,
    document: dict[str, Any] | None = None,
) -> dict[str, Any]:
    chat = {"id": chat_id or user_id, "type": chat_type, "title": "Nhóm tổ 1"}
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": chat,
        "from": {"id": user_id, "is_bot": False, "first_name": "An", "language_code": language_code},
    }
    if text is not None:
        message["caption" if document else "text"] = text
    if text and text.startswith("/") and not document:
        message["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
    if reply_to_bot:
        message["reply_to_message"] = {
            "message_id": 1,
            "date": int(time.time()),
            "chat": chat,
            "from": {"id": 123456, "is_bot": True, "first_name": "bot", "username": BOT_USERNAME},
            "text": "…",
        }
    if document:
        message["document"] = document
    return {"update_id": update_id, "message": message}


def callback_update(update_id: int, data: str, *, message_id: int = 77, user_id: int = 11) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cb{update_id}",
            "chat_instance": "ci",
            "data": data,
            "from": {"id": user_id, "is_bot": False, "first_name": "An", "language_code": "vi"},
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private"},
                "text": "menu",
            },
        },
    }


@dataclass
class Tg:
    app: App
    channel: TelegramChannel
    api: FakeBotApi
    client: test_utils.TestClient[web.Request, web.Application]

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        resp = await self.client.post("/telegram/webhook", json=update, headers=headers)
        await self.channel.drain()
        return resp.status

    def texts(self) -> list[str]:
        return [c.params["text"] for c in self.api.calls_to("sendMessage")]


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(username=BOT_USERNAME) as fake:
        yield fake


def tg_settings(db_url: str, api: FakeBotApi, **env: str) -> Any:
    return make_settings(db_url, TOCNS_TELEGRAM_TOKEN=api.token, TOCNS_TELEGRAM_BASE_URL=api.base_url, **env)


@pytest.fixture
async def tg(db_url: str, api: FakeBotApi) -> AsyncIterator[Tg]:
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
    try:
        yield Tg(app, channel, api, client)
    finally:
        await client.close()
        await channel.stop()
        await app.close()


# --- pure translation and rendering ----------------------------------------------------------


def test_split_text_cuts_at_paragraphs_and_keeps_everything() -> None:
    paragraphs = [f"Đoạn {i}: " + " ".join(["chữ"] * 300) for i in range(12)]
    text = "\n\n".join(paragraphs)
    parts = split_text(text)
    assert len(parts) > 1
    assert all(len(p) <= 4096 for p in parts)
    assert all(p.startswith("Đoạn") for p in parts)  # every cut is at a paragraph boundary
    assert "\n\n".join(parts) == text.strip()
    assert split_text("x" * 9000) == ["x" * 4096, "x" * 4096, "x" * 808]


async def test_renderer_keyboards_splitting_and_files(api: FakeBotApi) -> None:
    bot = Bot(api.token, base_url=api.bot_base_url)
    async with bot:
        renderer = ReplyRenderer(bot)
        buttons = ((Button("Có", "x:yes"), Button("Trang web", url="https://dichvucong.gov.vn")),)
        await renderer.send(5, Reply("\n\n".join(["đoạn " * 500] * 3), buttons))
        sent = api.calls_to("sendMessage")
        assert len(sent) == 3 and all("reply_markup" not in c.params for c in sent[:2])
        # Exactly the Bot API's sendMessage fields tocns means (no nulls, no PTB leftovers).
        assert [sorted(c.params) for c in sent] == [["chat_id", "text"]] * 2 + [
            ["chat_id", "reply_markup", "text"]
        ]
        assert sent[0].params["chat_id"] == 5 and sent[0].params["text"].startswith("đoạn đoạn")
        assert sent[2].params["reply_markup"] == {
            "inline_keyboard": [
                [
                    {"text": "Có", "callback_data": "x:yes"},
                    {"text": "Trang web", "url": "https://dichvucong.gov.vn"},
                ]
            ]
        }
        png = b"\x89PNG\r\n\x1a\nchart"
        await renderer.send(
            5, Reply("Biểu đồ tuần", attachment=Attachment(AttachmentKind.PHOTO, "tuan.png", png))
        )
        await renderer.send(
            5, Reply("", attachment=Attachment(AttachmentKind.DOCUMENT, "bao-cao.xlsx", b"PK..", "Báo cáo"))
        )
    photo, doc = api.calls_to("sendPhoto")[0], api.calls_to("sendDocument")[0]
    assert photo.files["photo"] == ("tuan.png", png) and photo.params["caption"] == "Biểu đồ tuần"
    assert doc.files["document"] == ("bao-cao.xlsx", b"PK..") and doc.params["caption"] == "Báo cáo"


@pytest.mark.parametrize(
    ("code", "description", "retry_after", "expect"),
    [
        (429, "Too Many Requests: retry after 7", 7, {"retry_after": 7.0}),
        (403, "Forbidden: bot was blocked by the user", None, {"unreachable": True}),
        (400, "Bad Request: chat not found", None, {"permanent": True}),
        (502, "Bad Gateway", None, {}),
    ],
)
async def test_sender_maps_telegram_errors(
    api: FakeBotApi, code: int, description: str, retry_after: int | None, expect: dict[str, Any]
) -> None:
    api.fail("sendMessage", code, description, retry_after=retry_after)
    async with Bot(api.token, base_url=api.bot_base_url) as bot:
        sender = TelegramSender(bot)
        with pytest.raises(DeliveryError) as err:
            await sender.send("42", Reply("Nhắc việc"))
        await sender.send("42", Reply("Nhắc việc"))  # the next try goes through
    got = err.value
    assert (got.retry_after, got.unreachable, got.permanent) == (
        expect.get("retry_after"),
        expect.get("unreachable", False),
        expect.get("permanent", False),
    )


async def test_fake_enforces_its_rate_limit() -> None:
    async with (
        FakeBotApi(rate_limit=2, per_seconds=60) as api,
        Bot(api.token, base_url=api.bot_base_url) as bot,
    ):
        sender = TelegramSender(bot)
        await sender.send("1", Reply("một"))
        await sender.send("1", Reply("hai"))
        with pytest.raises(DeliveryError) as err:
            await sender.send("1", Reply("ba"))
    assert err.value.retry_after and err.value.retry_after >= 1


# --- the channel through its webhook ------------------------------------------------------------


async def test_start_publishes_commands_and_the_webhook(tg: Tg) -> None:
    assert tg.api.webhook["url"] == "https://bot.example.vn/telegram/webhook"
    assert tg.api.webhook["secret_token"] == SECRET
    vi = {c["command"]: c["description"] for c in tg.api.commands[""]}
    en = {c["command"]: c["description"] for c in tg.api.commands["en"]}
    assert vi["help"] == "danh sách lệnh" and en["help"] == "list of commands"


async def test_webhook_secret_and_duplicates(tg: Tg) -> None:
    assert await tg.post(message_update(1), secret=None) == 403
    assert await tg.post(message_update(1), secret="wrong") == 403
    assert tg.texts() == []
    assert await tg.post(message_update(1)) == 200
    assert await tg.post(message_update(1)) == 200  # Telegram retried: a no-op
    assert len(tg.texts()) == 1 and "/ngonngu" in tg.texts()[0]


async def test_webhook_answers_503_when_the_update_cannot_be_stored(
    tg: Tg, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down(_msg: Any) -> Any:
        raise DatabaseUnavailable("connection refused")

    monkeypatch.setattr(tg.app.intake, "handle", down)
    assert await tg.post(message_update(2)) == 503
    assert tg.texts() == []


async def test_button_edits_the_message_and_is_answered(tg: Tg) -> None:
    assert await tg.post(message_update(3, "/ngonngu")) == 200
    markup = tg.api.calls_to("sendMessage")[0].params["reply_markup"]
    assert [b["callback_data"] for b in markup["inline_keyboard"][0]] == ["lang:vi", "lang:en"]
    assert await tg.post(callback_update(4, "lang:en", message_id=77)) == 200
    edit = tg.api.calls_to("editMessageText")[0].params
    assert (edit["message_id"], edit["chat_id"], edit["text"]) == (77, 11, "Switched to English.")
    assert set(edit) <= {"chat_id", "message_id", "text", "reply_markup"}
    assert [c.params["callback_query_id"] for c in tg.api.calls_to("answerCallbackQuery")] == ["cb4"]
    assert len(tg.api.calls_to("sendMessage")) == 1  # edited, not stacked


async def test_language_hint_from_telegram(tg: Tg) -> None:
    assert await tg.post(message_update(5, "/start", user_id=12, language_code="en-US")) == 200
    assert tg.texts()[0].startswith("Hello An")


async def test_group_hears_only_commands_and_replies_to_the_bot(tg: Tg) -> None:
    group = {"chat_id": -100, "chat_type": "supergroup"}
    assert await tg.post(message_update(6, "chào cả nhà", **group)) == 200
    assert await tg.post(message_update(7, "/help@other_bot", **group)) == 200
    assert tg.texts() == []  # chatter and other bots' commands: silence
    assert await tg.post(message_update(8, f"/help@{BOT_USERNAME}", **group)) == 200
    assert len(tg.texts()) == 1 and tg.api.calls_to("sendMessage")[0].params["chat_id"] == -100
    assert await tg.post(message_update(9, "cảm ơn", reply_to_bot=True, **group)) == 200
    assert len(tg.texts()) == 1  # a reply to the bot reaches the router, which keeps group chatter silent
    async with tg.app.sessions() as session:
        keys = set((await session.execute(select(ProcessedUpdate.key))).scalars())
    assert {"telegram:8", "telegram:9"} <= keys and not {"telegram:6", "telegram:7"} & keys


async def test_document_is_downloaded_and_passed_on(tg: Tg) -> None:
    tg.api.add_file("f1", b"ma_ho_so;trang_thai\n")
    doc = {
        "file_id": "f1",
        "file_unique_id": "u1",
        "file_name": "xuat.csv",
        "mime_type": "text/csv",
        "file_size": 20,
    }
    assert await tg.post(message_update(10, "số liệu tuần", document=doc)) == 200
    assert [c.params["file_id"] for c in tg.api.calls_to("getFile")] == ["f1"]
    assert tg.texts() == [tg.app.catalog.text("vi", "core.file_unexpected")]
    big = {**doc, "file_id": "f2", "file_size": 25 * 1024 * 1024}
    assert await tg.post(message_update(11, None, document=big)) == 200
    assert tg.texts()[-1] == tg.app.catalog.text("vi", "telegram.file_too_large", limit_mb=20)
    assert len(tg.api.calls_to("getFile")) == 1  # too large: not even fetched


# --- polling and configuration ------------------------------------------------------------------


async def test_polling_mode_answers(db_url: str, api: FakeBotApi) -> None:
    app = build(tg_settings(db_url, api))
    channel = build_channel(app, web.Application())
    assert isinstance(channel, TelegramChannel) and app.senders["telegram"] is channel.sender
    api.push_update(message_update(20, "/start"))
    await channel.start()
    try:
        for _ in range(200):
            if api.calls_to("sendMessage"):
                break
            await channel.drain(0.05)
            await __import__("asyncio").sleep(0.05)
        assert api.calls_to("sendMessage")[0].params["text"].startswith("Xin chào An")
    finally:
        await channel.stop()
        await app.close()


def test_no_token_no_channel(db_url: str) -> None:
    assert build_channel(build(make_settings(db_url)), web.Application()) is None


async def test_webhook_mode_needs_a_secret(db_url: str, api: FakeBotApi) -> None:
    app = build(
        tg_settings(db_url, api, TOCNS_TELEGRAM_MODE="webhook", TOCNS_WEBHOOK_PUBLIC_URL="https://x.vn")
    )
    try:
        with pytest.raises(StartupError, match="TOCNS_TELEGRAM_WEBHOOK_SECRET"):
            build_channel(app, web.Application())
    finally:
        await app.close()
