"""The Telegram adapter (webhook mode) against tests/fakes/bot_api.py, for the channel-parametrised
scenarios (tests/test_channels_scenarios.py)."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.kernel import App


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
