"""A local stand-in for the Zalo Bot Platform API, written from the contract, not from the adapter.

Sources (public):
- Zalo Bot Platform docs, bot.zapps.me/docs (API base https://bot-api.zaloplatforms.com;
  a copy is in github.com/lamdt1/ckvn-bot docs/zalo-bot-doc.md): `/bot<TOKEN>/<method>`, GET or POST,
  parameters as query string, form, JSON or multipart; answers `{ok, result}` or
  `{ok: false, error_code, description}`; getMe (id, account_name, account_type,
  can_join_groups); getUpdates (long poll, `timeout` in seconds as a string, one event per
  answer, not available while a webhook is set); setWebhook (HTTPS url, secret_token of 8-256
  characters, sent back in the `X-Bot-Api-Secret-Token` header); deleteWebhook;
  getWebhookInfo; sendMessage (text of 1-2,000 characters); sendPhoto (photo URL, caption
  optional, 1-2,000 characters when given); sendSticker; sendChatAction (typing, upload_photo);
  webhook bodies `{"ok": true, "result": {event_name, message}}`; events
  message.text/image/sticker/unsupported.received; the error table 400 bad request, 401
  unauthorized, 403 internal server error, 404 not found, 408 request timeout, 429 quota exceeded.
- The official SDK `python-zalo-bot` 0.1.9 (PyPI; a fork of python-telegram-bot): images arrive
  in `photo_url` (the docs say `photo`), send_photo always posts a caption; HTTP errors are
  raised from the status code; the `User` from getMe carries the bot's id.
- openclaw's Zalo extension and its forks (photo_url parsing; 2,000-character chunks; expect
  duplicates and the bot's own messages).

Where the docs are silent the fake takes the stricter choice: texts are measured in UTF-16 code
units (an emoji counts 2); a webhook that does not answer 200 within 2 seconds is recorded as a
redelivery that would be due (the Bot docs give no deadline; the OA's is 2 s)."""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

BOT_ID = "1459232241454765289"
TEXT_MAX = 2000
WEBHOOK_DEADLINE = 2.0
DESCRIPTIONS = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Internal server error",
    404: "Not found",
    408: "Request timeout",
    429: "Quota exceeded",
}


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class FakeZaloBotApi:
    def __init__(self, token: str, *, poll_wait: float = 0.2) -> None:
        self.token = token
        self.poll_wait = poll_wait
        self.updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[dict[str, Any]] = []  # accepted sendMessage / sendPhoto payloads, in order
        self.rejected: list[tuple[str, dict[str, Any], int]] = []
        self.photos: list[bytes] = []
        self.webhook_url = ""
        self.webhook_secret = ""
        self.delivered = 0  # updates handed out by getUpdates
        self.fail_sends: list[int] = []  # documented error codes for the next send calls
        self.echo = False  # the platform echoes the bot's own messages as updates
        self.redeliveries_due: list[dict[str, Any]] = []  # webhook calls that missed 2 s / non-200
        self.webhook_latencies: list[float] = []
        self.files: dict[str, bytes] = {}  # images users send, served like Zalo's CDN
        webapp = web.Application(client_max_size=4 * 1024 * 1024)
        webapp.router.add_route("*", "/bot{token}/{method}", self._handle)
        webapp.router.add_get("/files/{name}", self._file)
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
        is_bot: bool = False,
    ) -> dict[str, Any]:
        return {
            "event_name": event,
            "message": {
                "from": {"id": user_id or chat_id, "display_name": name, "is_bot": is_bot},
                "chat": {"id": chat_id, "chat_type": chat_type},
                "text": text,
                "message_id": message_id or secrets.token_hex(10),
                "date": int(time.time() * 1000),
            },
        }

    def sticker_update(self, chat_id: str) -> dict[str, Any]:
        """message.sticker.received: a sticker, no text (Bot Platform docs, webhook event names)."""
        update = self.update(chat_id, "", event="message.sticker.received")
        del update["message"]["text"]
        update["message"]["sticker"] = "https://zalo-api.zadn.vn/sticker/1"
        return update

    def image_update(self, chat_id: str, name: str, data: bytes, caption: str = "") -> dict[str, Any]:
        self.files[name] = data
        update = self.update(chat_id, "", event="message.image.received")
        del update["message"]["text"]
        update["message"]["photo_url"] = f"{self.base_url}/files/{name}"  # as the SDK reads it
        if caption:
            update["message"]["caption"] = caption
        return update

    async def deliver(self, update: dict[str, Any], *, secret: str | None = None) -> int | None:
        """Hand the update to the bot: by webhook when one is set (returns the HTTP status, None
        when the bot did not answer within 2 s), else queue it for getUpdates (returns None)."""
        if not self.webhook_url:
            await self.updates.put(update)
            return None
        headers = {"X-Bot-Api-Secret-Token": self.webhook_secret if secret is None else secret}
        return await self.post_webhook({"ok": True, "result": update}, headers)

    async def post_webhook(self, body: Any, headers: dict[str, str]) -> int | None:
        started = time.perf_counter()
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    self.webhook_url,
                    data=json.dumps(body, ensure_ascii=False).encode(),
                    headers={**headers, "Content-Type": "application/json"},
                    timeout=aiohttp.ClientTimeout(total=WEBHOOK_DEADLINE),
                ) as resp,
            ):
                status = resp.status
        except TimeoutError:
            self.redeliveries_due.append(body)
            return None
        self.webhook_latencies.append(time.perf_counter() - started)
        if status != 200:
            self.redeliveries_due.append(body)
        return status

    def texts_to(self, chat_id: str) -> list[str]:
        return [str(p.get("text") or p.get("caption") or "") for p in self.sent if p["chat_id"] == chat_id]

    async def _file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["name"])
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type="image/jpeg")

    # --- the API ---------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any] | None:
        params: dict[str, Any] = dict(request.query)
        raw = await request.read()
        if not raw:
            return params
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = json.loads(raw)
            except ValueError:
                return None
            if not isinstance(body, dict):
                return None
            params.update(body)
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        else:
            return None
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        if request.method not in ("GET", "POST"):
            return _error(400)
        if request.match_info["token"] != self.token:
            return _error(401)
        method = request.match_info["method"]  # method names are case-sensitive
        params = await self._params(request)
        if params is None:
            return _error(400, "invalid body")
        self.calls.append((method, params))
        handler = getattr(self, "_m_" + method, None)
        if handler is None:
            return _error(400, "invalid API name")
        result: web.Response = await handler(params)
        return result

    async def _m_getMe(self, _p: dict[str, Any]) -> web.Response:
        return _ok(
            {"id": BOT_ID, "account_name": "bot.tocns", "account_type": "BASIC", "can_join_groups": False}
        )

    async def _m_getUpdates(self, p: dict[str, Any]) -> web.Response:
        if self.webhook_url:
            return _error(400, "getUpdates is not available while a webhook is set")
        wait = min(float(p.get("timeout") or 30), self.poll_wait)
        # In this task (asyncio.timeout, not wait_for's inner task): the update leaves the queue
        # and is counted in one step, so a test never sees the queue empty and the count short.
        try:
            async with asyncio.timeout(wait):
                update = await self.updates.get()
        except TimeoutError:
            return _error(408)
        self.delivered += 1
        return _ok(update)

    async def _m_setWebhook(self, p: dict[str, Any]) -> web.Response:
        url, secret = str(p.get("url") or ""), str(p.get("secret_token") or "")
        host = urlsplit(url).hostname or ""
        # HTTPS only; plain http is accepted for the loopback test server alone.
        if not (url.startswith("https://") or host in ("127.0.0.1", "localhost")):
            return _error(400, "url must be HTTPS")
        if not 8 <= len(secret) <= 256:
            return _error(400, "secret_token must have 8-256 characters")
        self.webhook_url, self.webhook_secret = url, secret
        return _ok({"url": url, "updated_at": int(time.time() * 1000)})

    async def _m_deleteWebhook(self, _p: dict[str, Any]) -> web.Response:
        self.webhook_url = self.webhook_secret = ""
        return _ok({"url": "", "updated_at": int(time.time() * 1000)})

    async def _m_getWebhookInfo(self, _p: dict[str, Any]) -> web.Response:
        return _ok({"url": self.webhook_url, "updated_at": int(time.time() * 1000)})

    async def _m_sendChatAction(self, p: dict[str, Any]) -> web.Response:
        if not p.get("chat_id") or p.get("action") not in ("typing", "upload_photo"):
            return _error(400, "chat_id and action (typing, upload_photo) are required")
        return web.json_response({"ok": True})

    def _injected(self, method: str, p: dict[str, Any]) -> web.Response | None:
        if not self.fail_sends:
            return None
        code = self.fail_sends.pop(0)
        self.rejected.append((method, p, code))
        return _error(code, "injected")

    async def _m_sendMessage(self, p: dict[str, Any]) -> web.Response:
        if (injected := self._injected("sendMessage", p)) is not None:
            return injected
        text = p.get("text")
        if not p.get("chat_id") or not isinstance(text, str) or not 1 <= utf16_len(text) <= TEXT_MAX:
            self.rejected.append(("sendMessage", p, 400))
            return _error(400, "text must have 1-2000 characters")
        return self._accepted(p)

    async def _m_sendPhoto(self, p: dict[str, Any]) -> web.Response:
        if (injected := self._injected("sendPhoto", p)) is not None:
            return injected
        url, caption = p.get("photo"), p.get("caption")
        bad_caption = caption is not None and (
            not isinstance(caption, str) or not 1 <= utf16_len(caption) <= TEXT_MAX
        )
        if not p.get("chat_id") or not isinstance(url, str) or bad_caption:
            self.rejected.append(("sendPhoto", p, 400))
            return _error(400, "photo URL required; caption 1-2000 characters when given")
        async with aiohttp.ClientSession() as http, http.get(url) as resp:  # Zalo fetches the URL
            if resp.status != 200:
                return _error(400, "cannot fetch photo")
            self.photos.append(await resp.read())
        return self._accepted(p)

    async def _m_sendSticker(self, p: dict[str, Any]) -> web.Response:
        if not p.get("chat_id") or not p.get("sticker"):
            return _error(400, "chat_id and sticker are required")
        return self._accepted(p)

    def _accepted(self, p: dict[str, Any]) -> web.Response:
        self.sent.append(p)
        message_id = secrets.token_hex(10)
        if self.echo:  # the bot's own message comes back as an update from the bot's id
            echo = self.update(str(p["chat_id"]), str(p.get("text") or ""), user_id=BOT_ID, name="bot.tocns")
            echo["message"]["chat"]["id"] = str(p["chat_id"])
            self.updates.put_nowait(echo)
        return _ok({"message_id": message_id, "date": int(time.time() * 1000)})


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, detail: str = "") -> web.Response:
    description = DESCRIPTIONS.get(code, "Error") + (f": {detail}" if detail else "")
    return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)


_ids = itertools.count(1)
