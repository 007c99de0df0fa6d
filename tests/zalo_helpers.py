"""Run the real Zalo adapters against the local fakes: the project's aiohttp web app on a real port
(webhooks), the adapter's own HTTP client towards the fake API, the real App and intake."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer, unused_port
from sqlalchemy import select

from bot.channels.zalo import bot as zalo_bot
from bot.channels.zalo import oa as zalo_oa
from bot.kernel import App
from db.base import utcnow
from db.models import OutboxMessage, ProcessedUpdate
from db.repositories import zalo as zalo_repo
from tests.fakes.zalo_bot_api import FakeZaloBotApi
from tests.fakes.zalo_oa_api import FakeZaloOA
from tests.support import count

BOT_TOKEN = "1459232241454765289:test-token"
BOT_SECRET = "s3cret-webhook-token"
OA_APP_ID = "4321"
OA_SECRET = "app-secret-key"
OA_OA_SECRET = "oa-secret-key"


async def wait_until(cond: Any, limit: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not cond():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


async def outbox(app: App) -> list[OutboxMessage]:
    async with app.sessions() as s:
        return list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


class ZaloBotHarness:
    """The Zalo Bot adapter in `polling` or `webhook` mode against FakeZaloBotApi."""

    name = "zalo_bot"

    def __init__(self, app: App, mode: str = "polling", *, public_files: bool = True) -> None:
        self.app = app
        self.mode = mode
        self.public_files = public_files
        self.fake = FakeZaloBotApi(BOT_TOKEN)
        self.port = unused_port()
        self.server: TestServer | None = None
        self.channel: zalo_bot.ZaloBotChannel | None = None

    @property
    def has_webhook(self) -> bool:
        return self.mode == "webhook"

    async def __aenter__(self) -> ZaloBotHarness:
        await self.fake.start()
        public = f"http://127.0.0.1:{self.port}"
        self.app.settings.extra["zalo_bot"] = {
            "mode": self.mode,
            "poll_timeout": 1,
            "webhook_public_url": public,
            "files_public_url": public if self.public_files else "",
        }
        env = {
            "TOCNS_ZALO_BOT_TOKEN": BOT_TOKEN,
            "TOCNS_ZALO_BOT_WEBHOOK_SECRET": BOT_SECRET,
            "TOCNS_ZALO_BOT_BASE_URL": self.fake.base_url,
        }
        webapp = web.Application()
        self.channel = zalo_bot.build_channel(self.app, webapp, environ=env)
        assert self.channel is not None
        self.server = TestServer(webapp, host="127.0.0.1", port=self.port)
        await self.server.start_server()
        await self.channel.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.channel is not None and self.server is not None
        await self.channel.stop()
        await self.server.close()
        await self.fake.close()
        self.app.settings.extra.pop("zalo_bot", None)

    async def settle(self) -> None:
        assert self.channel is not None
        channel = self.channel
        if self.mode == "polling":
            await wait_until(lambda: self.fake.updates.empty() and channel.processed >= self.fake.delivered)
        await channel.replies.drain()

    async def send(
        self, user: str, text: str, *, message_id: str | None = None, name: str = "Chị Lan"
    ) -> list[str]:
        mark = len(self.fake.sent)
        self.last_status = await self.fake.deliver(
            self.fake.update(user, text, message_id=message_id, name=name)
        )
        await self.settle()
        return [str(p.get("text") or p.get("caption")) for p in self.fake.sent[mark:] if p["chat_id"] == user]

    async def choose(self, user: str, label: str) -> list[str]:
        """Answer with the number shown in front of `label` in the last numbered list."""
        for text in reversed(self.fake.texts_to(user)):
            for line in text.splitlines():
                m = re.match(r"^(\d+)\. (.*)$", line.strip())
                if m and label.lower() in m.group(2).lower():
                    return await self.send(user, m.group(1))
        raise AssertionError(f"no option {label!r} shown to {user}")

    async def forge(self, user: str, text: str) -> int | None:
        return await self.fake.deliver(self.fake.update(user, text), secret="wrong-secret-123")

    def texts_to(self, user: str) -> list[str]:
        return self.fake.texts_to(user)


class ZaloOAHarness:
    """The Zalo OA adapter (signed webhook, message/cs, tokens in the database) against FakeZaloOA."""

    name = "zalo_oa"
    has_webhook = True

    def __init__(self, app: App) -> None:
        self.app = app
        self.fake = FakeZaloOA(OA_APP_ID, OA_SECRET, OA_OA_SECRET)
        self.port = unused_port()
        self.server: TestServer | None = None
        self.channel: zalo_oa.ZaloOAChannel | None = None
        self.last_status: int | None = None

    def env(self) -> dict[str, str]:
        return {
            "TOCNS_ZALO_OA_APP_ID": OA_APP_ID,
            "TOCNS_ZALO_OA_SECRET_KEY": OA_SECRET,
            "TOCNS_ZALO_OA_OA_SECRET_KEY": OA_OA_SECRET,
            "TOCNS_ZALO_OA_BASE_URL": self.fake.base_url,
            "TOCNS_ZALO_OA_OAUTH_URL": self.fake.base_url,
        }

    async def __aenter__(self) -> ZaloOAHarness:
        await self.fake.start()
        webapp = web.Application()
        self.channel = zalo_oa.build_channel(self.app, webapp, environ=self.env())
        assert self.channel is not None
        self.server = TestServer(webapp, host="127.0.0.1", port=self.port)
        await self.server.start_server()
        self.fake.webhook_url = f"http://127.0.0.1:{self.port}/zalo/oa/webhook"
        access, refresh = self.fake.issue_tokens()  # as after `tocns zalo oa-login`
        async with self.app.sessions() as s, s.begin():
            from datetime import timedelta

            await zalo_repo.save_tokens(s, OA_APP_ID, access, refresh, utcnow() + timedelta(hours=25))
        await self.channel.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.channel is not None and self.server is not None
        await self.channel.stop()
        await self.server.close()
        await self.fake.close()

    async def deliver(self, event: dict[str, Any], **kw: Any) -> list[dict[str, Any]]:
        assert self.channel is not None
        mark = len(self.fake.sent)
        self.last_status = await self.fake.deliver(event, **kw)
        await self.channel.replies.drain()
        user = str((event.get("sender") or event.get("follower") or {}).get("id"))
        return [b["message"] for b in self.fake.sent[mark:] if b["recipient"]["user_id"] == user]

    async def send(self, user: str, text: str, *, message_id: str | None = None, name: str = "") -> list[str]:
        messages = await self.deliver(self.fake.text_event(user, text, msg_id=message_id))
        return [_oa_text(m) for m in messages]

    async def choose(self, user: str, label: str) -> list[str]:
        """Tap the template button titled `label`: Zalo sends its payload back as the user's text."""
        for message in reversed(self.fake.messages_to(user)):
            for button in _oa_buttons(message):
                if label.lower() in str(button["title"]).lower():
                    return await self.send(user, str(button["payload"]))
        raise AssertionError(f"no button {label!r} shown to {user}")

    async def forge(self, user: str, text: str) -> int | None:
        return await self.fake.deliver(self.fake.text_event(user, text), oa_secret_key="not-the-key")

    def texts_to(self, user: str) -> list[str]:
        return [_oa_text(m) for m in self.fake.messages_to(user)]


def _oa_buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    att = message.get("attachment") or {}
    return list((att.get("payload") or {}).get("buttons") or []) if att.get("type") == "template" else []


def _oa_text(message: dict[str, Any]) -> str:
    titles = [str(b["title"]) for b in _oa_buttons(message)]
    return "\n".join([str(message.get("text") or ""), *(f"[{t}]" for t in titles)])


async def processed_count(app: App) -> int:
    return await count(app, ProcessedUpdate)


class TelegramHarness:
    """The Telegram adapter (webhook mode) against tests/fakes/bot_api.py, for the shared scenarios.
    It needs its own App: the Telegram token is part of the lead's typed settings."""

    name = "telegram"
    has_webhook = True
    secret = "s3cret-token"

    def __init__(self, app: App) -> None:
        from tests.fakes.bot_api import FakeBotApi

        self.db_url = app.settings.database.url
        self.api = FakeBotApi(username="tocns_test_bot")
        self.app = app
        self._ids: dict[str, int] = {}
        self._next = 1000
        self.last_status: int | None = None

    async def __aenter__(self) -> TelegramHarness:
        from aiohttp.test_utils import TestClient

        from bot.assemble import build
        from bot.channels.telegram import build_channel
        from tests.support import make_settings

        await self.api.start()
        settings = make_settings(
            self.db_url,
            TOCNS_TELEGRAM_TOKEN=self.api.token,
            TOCNS_TELEGRAM_BASE_URL=self.api.base_url,
            TOCNS_TELEGRAM_MODE="webhook",
            TOCNS_TELEGRAM_WEBHOOK_SECRET=self.secret,
            TOCNS_WEBHOOK_PUBLIC_URL="https://bot.example.vn",
        )
        self.app = build(settings)
        webapp = web.Application()
        self.channel = build_channel(self.app, webapp)
        assert self.channel is not None
        await self.channel.start()
        self.client = TestClient(TestServer(webapp))
        await self.client.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.close()
        await self.channel.stop()
        await self.app.close()
        await self.api.stop()

    @staticmethod
    def chat(user: str) -> int:
        return int(re.sub(r"\D", "", user) or "1")

    def _update_id(self, message_id: str | None) -> int:
        self._next += 1
        if message_id is None:
            return self._next
        return self._ids.setdefault(message_id, self._next)

    async def _post(self, update: dict[str, Any], secret: str) -> int:
        from bot.channels.telegram import SECRET_HEADER

        resp = await self.client.post("/telegram/webhook", json=update, headers={SECRET_HEADER: secret})
        await self.channel.drain()
        return resp.status

    def _sent(self) -> list[Any]:
        return [c for c in self.api.calls if c.method in ("sendMessage", "editMessageText")]

    def _render(self, call: Any) -> str:
        rows = (call.params.get("reply_markup") or {}).get("inline_keyboard") or []
        return "\n".join([str(call.params.get("text", "")), *(f"[{b['text']}]" for row in rows for b in row)])

    async def _deliver(self, user: str, update: dict[str, Any], secret: str | None = None) -> list[str]:
        mark = len(self._sent())
        self.last_status = await self._post(update, self.secret if secret is None else secret)
        chat = str(self.chat(user))
        return [self._render(c) for c in self._sent()[mark:] if str(c.params.get("chat_id")) == chat]

    def _message(self, user: str, text: str, update_id: int) -> dict[str, Any]:
        import time

        uid = self.chat(user)
        message: dict[str, Any] = {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": uid, "type": "private"},
            "from": {"id": uid, "is_bot": False, "first_name": "Lan", "language_code": "vi"},
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
        return {"update_id": update_id, "message": message}

    async def send(self, user: str, text: str, *, message_id: str | None = None, name: str = "") -> list[str]:
        return await self._deliver(user, self._message(user, text, self._update_id(message_id)))

    async def choose(self, user: str, label: str) -> list[str]:
        chat = str(self.chat(user))
        for call in reversed(self._sent()):
            if str(call.params.get("chat_id")) != chat:
                continue
            for row in (call.params.get("reply_markup") or {}).get("inline_keyboard") or []:
                for b in row:
                    if label.lower() in str(b["text"]).lower() and b.get("callback_data"):
                        uid = self.chat(user)
                        update_id = self._update_id(None)
                        update = {
                            "update_id": update_id,
                            "callback_query": {
                                "id": f"cb{update_id}",
                                "chat_instance": "ci",
                                "data": b["callback_data"],
                                "from": {
                                    "id": uid,
                                    "is_bot": False,
                                    "first_name": "Lan",
                                    "language_code": "vi",
                                },
                                "message": {
                                    "message_id": 77,
                                    "date": 0,
                                    "chat": {"id": uid, "type": "private"},
                                    "text": "menu",
                                },
                            },
                        }
                        return await self._deliver(user, update)
        raise AssertionError(f"no button {label!r} shown to {user}")

    async def forge(self, user: str, text: str) -> int | None:
        return await self._post(self._message(user, text, self._update_id(None)), "wrong-secret")

    def texts_to(self, user: str) -> list[str]:
        chat = str(self.chat(user))
        return [self._render(c) for c in self._sent() if str(c.params.get("chat_id")) == chat]
