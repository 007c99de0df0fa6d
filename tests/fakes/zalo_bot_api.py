"""A local stand-in for the Zalo Bot Platform API (`/bot<TOKEN>/<method>`), speaking its documented
shapes over HTTP: one update per getUpdates (HTTP 408 when the long poll ends empty), setWebhook
with a secret delivered as X-Bot-Api-Secret-Token, sendMessage ≤ 2,000 characters, sendPhoto by URL."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer


class FakeZaloBotApi:
    def __init__(self, token: str, *, poll_wait: float = 0.2) -> None:
        self.token = token
        self.poll_wait = poll_wait
        self.updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[dict[str, Any]] = []  # sendMessage / sendPhoto payloads, in order
        self.photos: list[bytes] = []
        self.webhook_url = ""
        self.webhook_secret = ""
        self.delivered = 0  # updates handed out by getUpdates
        self.fail_sends: list[int] = []  # HTTP statuses to answer the next send calls with
        self._ids = itertools.count(1)
        webapp = web.Application()
        webapp.router.add_post("/bot{token}/{method}", self._handle)
        webapp.router.add_get("/files/{name}", self._file)
        self.files: dict[str, bytes] = {}  # images users send, served like Zalo's CDN
        self.server = TestServer(webapp)

    @property
    def base_url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    async def start(self) -> None:
        await self.server.start_server()

    async def close(self) -> None:
        await self.server.close()

    # --- what a user does ------------------------------------------------------------------

    def update(
        self,
        chat_id: str,
        text: str,
        *,
        message_id: str | None = None,
        name: str = "Người dùng Zalo",
        event: str = "message.text.received",
        chat_type: str = "PRIVATE",
        user_id: str | None = None,
    ) -> dict[str, Any]:
        return {
            "event_name": event,
            "message": {
                "from": {"id": user_id or chat_id, "display_name": name, "is_bot": False},
                "chat": {"id": chat_id, "chat_type": chat_type},
                "text": text,
                "message_id": message_id or f"m{next(self._ids):06d}",
                "date": int(time.time() * 1000),
            },
        }

    async def deliver(self, update: dict[str, Any], *, secret: str | None = None) -> int | None:
        """Hand the update to the bot: by webhook when one is set (returns the HTTP status), else
        queue it for getUpdates (returns None)."""
        if not self.webhook_url:
            await self.updates.put(update)
            return None
        headers = {"X-Bot-Api-Secret-Token": self.webhook_secret if secret is None else secret}
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.webhook_url, json=update, headers=headers) as resp,
        ):
            return resp.status

    def texts_to(self, chat_id: str) -> list[str]:
        return [str(p.get("text") or p.get("caption") or "") for p in self.sent if p["chat_id"] == chat_id]

    def image_update(self, chat_id: str, name: str, data: bytes, caption: str = "") -> dict[str, Any]:
        self.files[name] = data
        update = self.update(chat_id, "", event="message.image.received")
        del update["message"]["text"]
        update["message"]["photo_url"] = f"{self.base_url}/files/{name}"
        update["message"]["caption"] = caption
        return update

    async def _file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["name"])
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type="image/jpeg")

    # --- the API ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        try:
            payload: dict[str, Any] = await request.json() if await request.read() else {}
        except ValueError:
            return _error(400, "Bad Request: invalid JSON")
        self.calls.append((method, payload))
        handler = getattr(self, "_m_" + method, None)
        if handler is None:
            return _error(404, "Not Found")
        result: web.Response = await handler(payload)
        return result

    async def _m_getMe(self, _p: dict[str, Any]) -> web.Response:
        return _ok({"id": "1459232241454765289", "account_name": "bot.tocns", "account_type": "BASIC"})

    async def _m_getUpdates(self, p: dict[str, Any]) -> web.Response:
        if self.webhook_url:
            return _error(409, "Conflict: webhook is set")
        wait = min(float(p.get("timeout") or 30), self.poll_wait)
        try:
            update = await asyncio.wait_for(self.updates.get(), timeout=wait)
        except TimeoutError:
            return _error(408, "Request timeout")
        self.delivered += 1
        return _ok(update)

    async def _m_setWebhook(self, p: dict[str, Any]) -> web.Response:
        url, secret = str(p.get("url") or ""), str(p.get("secret_token") or "")
        if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            return _error(400, "Bad Request: url must be HTTPS")
        if not 8 <= len(secret) <= 256:
            return _error(400, "Bad Request: secret_token must have 8-256 characters")
        self.webhook_url, self.webhook_secret = url, secret
        return _ok({"url": url, "updated_at": int(time.time() * 1000)})

    async def _m_deleteWebhook(self, _p: dict[str, Any]) -> web.Response:
        self.webhook_url = self.webhook_secret = ""
        return _ok({"url": "", "updated_at": int(time.time() * 1000)})

    async def _m_sendChatAction(self, p: dict[str, Any]) -> web.Response:
        return _ok(True) if p.get("chat_id") else _error(400, "Bad Request: chat_id")

    async def _m_sendMessage(self, p: dict[str, Any]) -> web.Response:
        if self.fail_sends:
            status = self.fail_sends.pop(0)
            return _error(status, "injected failure")
        text = p.get("text")
        if not p.get("chat_id") or not isinstance(text, str) or not 1 <= len(text) <= 2000:
            return _error(400, "Bad Request: text must have 1-2000 characters")
        self.sent.append(p)
        return _ok({"message_id": f"s{next(self._ids)}", "date": int(time.time() * 1000)})

    async def _m_sendPhoto(self, p: dict[str, Any]) -> web.Response:
        if self.fail_sends:
            return _error(self.fail_sends.pop(0), "injected failure")
        url = p.get("photo")
        if not p.get("chat_id") or not isinstance(url, str):
            return _error(400, "Bad Request: photo must be a URL")
        async with aiohttp.ClientSession() as http, http.get(url) as resp:  # Zalo fetches the URL
            if resp.status != 200:
                return _error(400, "Bad Request: cannot fetch photo")
            self.photos.append(await resp.read())
        self.sent.append(p)
        return _ok({"message_id": f"s{next(self._ids)}", "date": int(time.time() * 1000)})


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": status, "description": description}, status=status)
