"""Pieces both Zalo adapters share: text splitting, capped downloads, answering a webhook only
after the intake committed and sending its replies afterwards (or queueing them), and the
short-lived public file store used to send images by URL."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from bot.kernel import App, DeliveryError
from handlers.core import Reply
from services import outbox

log = logging.getLogger("tocns.zalo")

# Both Zalo APIs reject a text over 2,000 characters.
TEXT_LIMIT = 2000


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut a long text into pieces ≤ limit, preferring paragraph, then line, then word breaks."""
    text = text.strip()
    if not text:
        return []
    pieces: list[str] = []
    while len(text) > limit:
        window = text[: limit + 1]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = window.rfind(sep)
            if cut > 0:
                break
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


class TooLarge(Exception):
    """A download went over its size cap."""


async def fetch_capped(http: aiohttp.ClientSession, url: str, cap: int) -> bytes:
    """Download `url`, refusing (TooLarge) anything over `cap` bytes without reading it all."""
    async with http.get(url, timeout=aiohttp.ClientTimeout(total=30)) as resp:
        resp.raise_for_status()
        if resp.content_length is not None and resp.content_length > cap:
            raise TooLarge(url)
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > cap:
                raise TooLarge(url)
            chunks.append(chunk)
        return b"".join(chunks)


SendFn = Callable[[str, Reply], Awaitable[None]]


class ReplyQueue:
    """Sends a webhook's replies after the answer went out; failed sends go to the outbox so the
    dispatcher retries them. Tracks its tasks so `drain()` (stop, tests) waits for them."""

    def __init__(self, app: App, channel: str, send: SendFn) -> None:
        self.app = app
        self.channel = channel
        self.send = send
        self._tasks: set[asyncio.Task[None]] = set()

    def schedule(self, chat_id: str, update_key: str, replies: list[Reply]) -> None:
        if not replies:
            return
        task = asyncio.create_task(self._send_all(chat_id, update_key, replies))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def send_now(self, chat_id: str, update_key: str, replies: list[Reply]) -> None:
        """Send in the caller's task (polling); failures go to the outbox all the same."""
        await self._send_all(chat_id, update_key, replies)

    async def _send_all(self, chat_id: str, update_key: str, replies: list[Reply]) -> None:
        for index, reply in enumerate(replies):
            try:
                await self.send(chat_id, reply)
            except Exception as exc:
                reason = type(exc).__name__ if not isinstance(exc, DeliveryError) else str(exc)[:80]
                log.info("%s reply failed (%s): queued in the outbox", self.channel, reason)
                await self._queue(chat_id, update_key, replies[index:])
                return

    async def _queue(self, chat_id: str, update_key: str, replies: list[Reply]) -> None:
        try:
            async with self.app.sessions() as session, session.begin():
                for i, reply in enumerate(replies):
                    await outbox.enqueue(
                        session,
                        key=f"reply:{update_key}:{i}",
                        kind="reply",
                        channel=self.channel,
                        chat_id=chat_id,
                        payload=reply.to_payload(),
                    )
        except Exception:
            log.exception("%s: could not queue failed replies", self.channel)
            return
        self.app.dispatcher.wake()

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


@dataclass
class _Stored:
    data: bytes
    content_type: str
    expires: float


class PublicFiles:
    """Serves attachment bytes at random unguessable paths for a while, so an API that only takes
    a URL (Zalo Bot's sendPhoto) can fetch them. In memory: the worker that stored a file serves it."""

    def __init__(self, webapp: web.Application, base_url: str, path: str, ttl: float = 3600.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.path = "/" + path.strip("/")
        self.ttl = ttl
        self._files: dict[str, _Stored] = {}
        webapp.router.add_get(self.path + "/{token}", self._serve)

    def put(self, data: bytes, content_type: str, suffix: str = "") -> str:
        self._prune()
        token = secrets.token_urlsafe(24) + suffix
        self._files[token] = _Stored(data, content_type, time.monotonic() + self.ttl)
        return f"{self.base_url}{self.path}/{token}"

    def _prune(self) -> None:
        now = time.monotonic()
        for token in [t for t, f in self._files.items() if f.expires < now]:
            del self._files[token]

    async def _serve(self, request: web.Request) -> web.Response:
        stored = self._files.get(request.match_info["token"])
        if stored is None or stored.expires < time.monotonic():
            raise web.HTTPNotFound()
        return web.Response(body=stored.data, content_type=stored.content_type)


def guess_image_type(filename: str) -> str:
    name = filename.lower()
    if name.endswith(".png"):
        return "image/png"
    if name.endswith(".gif"):
        return "image/gif"
    return "image/jpeg"


def first(*values: Any) -> Any:
    """The first value that is not None/empty (payloads differ slightly between API versions)."""
    return next((v for v in values if v not in (None, "")), None)


def all_buttons(reply: Reply) -> Iterable[Any]:
    return (b for row in reply.buttons for b in row)
