"""A small fake Telegram Bot API (aiohttp) for in-process tests: the real PTB Bot talks HTTP to it.

    async with FakeBotApi(rate_limit=30) as api:          # optional: 30 sends/s, then HTTP 429
        bot = Bot(api.token, base_url=api.bot_base_url)     # or TOCNS_TELEGRAM_BASE_URL=api.base_url
        ...
        api.calls_to("sendMessage")[0].params["text"]       # every call is recorded
        api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")   # next call fails
        api.push_update({...})                              # served by getUpdates (offset honoured)

Methods: getMe, getUpdates, sendMessage, editMessageText, answerCallbackQuery, sendPhoto and
sendDocument (multipart or file_id), setMyCommands, setWebhook, deleteWebhook, getWebhookInfo,
sendChatAction, getFile (+ file download under /file/bot<token>/<path>). Parameters arrive decoded
(JSON values parsed); uploaded files are in `Call.files` as {field: (filename, bytes)}.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

SEND_METHODS = {"sendMessage", "sendPhoto", "sendDocument", "editMessageText"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


@dataclass
class _Failure:
    code: int
    description: str
    retry_after: int | None
    times: int


class FakeBotApi:
    def __init__(
        self,
        token: str = "123456:FAKE-TOKEN",
        *,
        rate_limit: int | None = None,
        per_seconds: float = 1.0,
        username: str = "tocns_test_bot",
    ) -> None:
        self.token = token
        self.username = username
        self.bot_id = int(token.split(":")[0])
        self.rate_limit = rate_limit
        self.per_seconds = per_seconds
        self.calls: list[Call] = []
        self.files: dict[str, bytes] = {}  # file_id -> content, for getFile + download
        self.webhook: dict[str, Any] = {}
        # What Telegram reports in getWebhookInfo after failing to deliver to the webhook:
        # (unix time, message) of the last error, and how many updates wait.
        self.webhook_error: tuple[int, str] | None = None
        self.pending_updates = 0
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._failures: dict[str, deque[_Failure]] = {}
        self._sends: deque[float] = deque()
        self._new_update = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- life cycle ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What TOCNS_TELEGRAM_BASE_URL takes."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def bot_base_url(self) -> str:
        """What PTB's Bot(base_url=…) takes."""
        return f"{self.base_url}/bot"

    async def start(self) -> FakeBotApi:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.*}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeBotApi:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- test controls -------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def fail(
        self,
        method: str,
        code: int = 400,
        description: str = "Bad Request: chat not found",
        *,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` fail with this Bot API error."""
        self._failures.setdefault(method, deque()).append(_Failure(code, description, retry_after, times))

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates (update_id assigned when missing); returns its id."""
        update.setdefault("update_id", next(self._update_ids))
        self._updates.append(update)
        self._new_update.set()
        return int(update["update_id"])

    def add_file(self, file_id: str, data: bytes) -> None:
        self.files[file_id] = data

    # --- the API -------------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, tuple[str, bytes]] = {}
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = (value.filename, value.file.read())
                else:
                    params[key] = str(value)
        for key, value in list(params.items()):
            if isinstance(value, str):
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(value)
        for key in ("text", "caption", "callback_query_id", "secret_token", "url", "file_id"):
            if key in params and not isinstance(params[key], str):
                params[key] = str(params[key])  # digits-only strings were decoded as numbers
        return params, files

    def _error(self, code: int, description: str, retry_after: int | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=code)

    def _rate_limited(self) -> int | None:
        if self.rate_limit is None:
            return None
        now = time.monotonic()
        while self._sends and now - self._sends[0] > self.per_seconds:
            self._sends.popleft()
        if len(self._sends) >= self.rate_limit:
            return max(1, int(self.per_seconds - (now - self._sends[0])) + 1)
        self._sends.append(now)
        return None

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await self._params(request)
        self.calls.append(Call(method, params, files))
        queued = self._failures.get(method)
        if queued:
            failure = queued[0]
            failure.times -= 1
            if failure.times <= 0:
                queued.popleft()
            return self._error(failure.code, failure.description, failure.retry_after)
        if method in SEND_METHODS and (wait := self._rate_limited()) is not None:
            return self._error(429, f"Too Many Requests: retry after {wait}", wait)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._error(404, "Not Found: method not found")
        result = handler(params, files)
        if asyncio.iscoroutine(result):
            result = await result
        return web.json_response({"ok": True, "result": result})

    def _me(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "tocns test", "username": self.username}

    def _message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        message: dict[str, Any] = {
            "message_id": int(params.get("message_id") or next(self._message_ids)),
            "date": int(time.time()),
            "chat": {"id": int(chat_id) if str(chat_id).lstrip("-").isdigit() else 0, "type": "private"},
            "from": self._me(),
            **extra,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    def _m_getMe(self, *_: Any) -> dict[str, Any]:
        return self._me()

    async def _m_getUpdates(self, params: dict[str, Any], _files: Any) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and float(params.get("timeout") or 0) > 0:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout=min(float(params["timeout"]), 1.0))
        return list(self._updates)

    def _m_sendMessage(self, params: dict[str, Any], _files: Any) -> dict[str, Any]:
        return self._message(params, text=params.get("text", ""))

    def _m_editMessageText(self, params: dict[str, Any], _files: Any) -> dict[str, Any]:
        return self._message(params, text=params.get("text", ""), edit_date=int(time.time()))

    def _file_message(self, kind: str, params: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
        name, data = files.get(kind, (str(params.get(kind, "file")), b""))
        caption = {"caption": params["caption"]} if params.get("caption") else {}
        n = len(self.calls)
        if kind == "photo":
            body: Any = [{"file_id": f"p{n}", "file_unique_id": f"p{n}", "width": 1, "height": 1}]
        else:
            body = {"file_id": f"d{n}", "file_unique_id": f"d{n}", "file_name": name, "file_size": len(data)}
        return self._message(params, **{kind: body}, **caption)

    def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
        return self._file_message("photo", params, files)

    def _m_sendDocument(self, params: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
        return self._file_message("document", params, files)

    def _m_answerCallbackQuery(self, *_: Any) -> bool:
        return True

    def _m_sendChatAction(self, *_: Any) -> bool:
        return True

    def _m_setMyCommands(self, params: dict[str, Any], _files: Any) -> bool:
        self.commands[str(params.get("language_code") or "")] = list(params.get("commands") or [])
        return True

    def _m_setWebhook(self, params: dict[str, Any], _files: Any) -> bool:
        self.webhook = dict(params)
        return True

    def _m_deleteWebhook(self, *_: Any) -> bool:
        self.webhook = {}
        return True

    def _m_getWebhookInfo(self, *_: Any) -> dict[str, Any]:
        # https://core.telegram.org/bots/api#webhookinfo: last_error_* only present after an error.
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": self.pending_updates,
        }
        if self.webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self.webhook_error
        return info

    def _m_getFile(self, params: dict[str, Any], _files: Any) -> dict[str, Any]:
        file_id = str(params.get("file_id"))
        data = self.files.get(file_id, b"")
        return {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_size": len(data),
            "file_path": f"documents/{file_id}",
        }

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id])
