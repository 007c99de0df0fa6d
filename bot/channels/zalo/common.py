"""Pieces both Zalo adapters share: emoji-safe text splitting, sending a webhook's replies
afterwards (or queueing them), and the short-lived signed download links served by the
project's web server (images Zalo Bot fetches by URL, exports the OA cannot attach), and fetching a
file a person sent, with the polite reply when it does not arrive."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import secrets
import time
import unicodedata
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

from bot.channels.zalo.safe_fetch import FileFetcher, Refused, TooLarge
from bot.kernel import App, DeliveryError
from db.repositories import file_links
from handlers.core import MessageKind, NotReceived, Reply
from services import outbox

log = logging.getLogger("tocns.zalo")

# Both Zalo APIs refuse a text over 2,000 characters. Neither says how it counts; Zalo's
# servers are Java, whose String.length() counts UTF-16 code units — an emoji outside the BMP
# counts 2. Counting UTF-16 units is never less than counting code points, so it fails safe.
TEXT_LIMIT = 2000


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_JOINERS = {"\u200d", "\ufe0e", "\ufe0f"}


def _glued(text: str, i: int) -> bool:
    """True when cutting text before index i would split a user-perceived character."""
    if i <= 0 or i >= len(text):
        return False
    ch, prev = text[i], text[i - 1]
    if ch in _JOINERS or prev == "\u200d" or unicodedata.combining(ch):
        return True
    if 0x1F3FB <= ord(ch) <= 0x1F3FF:  # skin-tone modifier
        return True
    if 0xE0020 <= ord(ch) <= 0xE007F:  # tag characters (flags of regions)
        return True
    regional = 0x1F1E6 <= ord(ch) <= 0x1F1FF and 0x1F1E6 <= ord(prev) <= 0x1F1FF
    if regional:  # a flag is a pair of regional indicators: cut only between pairs
        run = 0
        j = i - 1
        while j >= 0 and 0x1F1E6 <= ord(text[j]) <= 0x1F1FF:
            run += 1
            j -= 1
        return run % 2 == 1
    return False


def _fit(text: str, limit: int) -> int:
    """The largest index i with utf16_len(text[:i]) <= limit."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return i
    return len(text)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut a long text into pieces of at most `limit` UTF-16 units, preferring paragraph, then
    line, then word breaks, and never inside an emoji, a flag or a letter with its marks."""
    text = text.strip()
    if not text:
        return []
    pieces: list[str] = []
    while utf16_len(text) > limit:
        end = _fit(text, limit)
        window = text[: end + 1]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = window.rfind(sep)
            if cut > 0:
                break
        if cut <= 0:
            cut = end
            while cut > 1 and _glued(text, cut):
                cut -= 1
        piece = text[:cut].rstrip()
        if not piece:  # only glued characters: cut hard rather than loop
            piece, cut = text[:end], end
        pieces.append(piece)
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


async def fetch_sent_file(fetcher: FileFetcher, url: str, max_mb: float, channel: str) -> bytes | NotReceived:
    """The bytes of a file a person sent, or why not: over `max_mb` («tối đa … MB»), or not
    fetched (host refused or unknown, network) — never silently nothing, which read as an empty
    message («Tin nhắn trống…») and reached nobody."""
    try:
        return await fetcher.fetch(url, int(max_mb * 1024 * 1024))
    except TooLarge:
        return NotReceived("zalo.file_too_large", {"limit_mb": f"{max_mb:g}"})
    except (Refused, aiohttp.ClientError, TimeoutError) as exc:
        log.info("%s: file not downloaded (%s)", channel, type(exc).__name__)
        return NotReceived("zalo.file_not_received")


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
        """Send in the caller's task; failures go to the outbox all the same."""
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


class SignedFiles:
    """Short-lived signed download links on the project's web server:
    `<base>/<path>/<id>/<name>?exp=<unix>&sig=<hmac>`. The bytes are kept in the database (table
    file_links) until the link expires, so whichever worker a request reaches can serve it — with
    several workers behind one address the link is made by one and fetched through another (Zalo's
    servers fetch a sent photo's URL themselves). The signature (HMAC-SHA256 over id, expiry and name,
    with TOCNS_ZALO_FILES_SECRET or a key derived from the channel's own secret, the same on every
    worker) and the expiry are checked in constant time before the database is asked."""

    def __init__(
        self,
        app: App,
        webapp: web.Application,
        base_url: str,
        path: str,
        ttl: float,
        *,
        secret: bytes,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.base_url = base_url.rstrip("/")
        self.path = "/" + path.strip("/")
        self.ttl = ttl
        env = os.environ.get("TOCNS_ZALO_FILES_SECRET", "")
        # Derived, not the channel's secret itself: a leaked link signature says nothing about it.
        self._key = env.encode() if env else hmac.new(secret, b"tocns signed files", hashlib.sha256).digest()
        self.clock = clock
        webapp.router.add_get(self.path + "/{id}/{name}", self._serve)

    def _sig(self, file_id: str, exp: int, name: str) -> str:
        msg = f"{file_id}\n{exp}\n{name}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()[:32]

    async def put(self, data: bytes, content_type: str, filename: str) -> str:
        """Store the file (and drop expired ones) in one short transaction; the link to it."""
        now = self.clock()
        file_id = secrets.token_urlsafe(18)
        exp = int(now + self.ttl)
        name = _safe_name(filename)
        expires = datetime.fromtimestamp(exp, UTC)
        async with self.app.intake.write_gate.hold(), self.app.sessions() as session, session.begin():
            await file_links.store(
                session, file_id, name, content_type, data, expires, datetime.fromtimestamp(now, UTC)
            )
        sig = self._sig(file_id, exp, name)
        return f"{self.base_url}{self.path}/{file_id}/{quote(name)}?exp={exp}&sig={sig}"

    async def _serve(self, request: web.Request) -> web.Response:
        file_id, name = request.match_info["id"], request.match_info["name"]
        try:
            exp = int(request.query.get("exp", ""))
        except ValueError:
            raise web.HTTPNotFound() from None
        given = request.query.get("sig", "")
        good = hmac.compare_digest(given.encode(), self._sig(file_id, exp, name).encode())
        if not good or exp < self.clock():
            raise web.HTTPNotFound()
        async with self.app.sessions() as session:
            stored = await file_links.get(session, file_id)
        if stored is None or stored.filename != name:
            raise web.HTTPNotFound()
        disposition = f"attachment; filename*=UTF-8''{quote(stored.filename)}"
        if stored.content_type.startswith("image/"):
            disposition = "inline"
        return web.Response(
            body=stored.data,
            content_type=stored.content_type,
            headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
        )


def _safe_name(filename: str) -> str:
    name = filename.replace("/", "_").replace("\\", "_").strip() or "file"
    return name[:120]


def guess_image_type(filename: str) -> str:
    name = filename.lower()
    if name.endswith(".png"):
        return "image/png"
    if name.endswith(".gif"):
        return "image/gif"
    return "image/jpeg"


def mime_for(filename: str) -> str:
    name = filename.lower()
    table = {
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".xls": "application/vnd.ms-excel",
        ".pdf": "application/pdf",
        ".doc": "application/msword",
        ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".csv": "text/csv",
    }
    for ext, mime in table.items():
        if name.endswith(ext):
            return mime
    if name.endswith((".png", ".jpg", ".jpeg", ".gif")):
        return guess_image_type(name)
    return "application/octet-stream"


def first(*values: Any) -> Any:
    """The first value that is not None/empty (payloads differ slightly between API versions)."""
    return next((v for v in values if v not in (None, "")), None)


def all_buttons(reply: Reply) -> Iterable[Any]:
    return (b for row in reply.buttons for b in row)


# Message events that carry no text the dialogs can use: they are still answered (what the bot can
# take, or relayed into an open hand-off), never dropped. OA: user_send_<kind> (developers.zalo.me,
# "Sự kiện người dùng gửi tin nhắn"); Bot Platform: message.<kind>.received.
EVENT_KINDS: dict[str, MessageKind] = {
    "sticker": MessageKind.STICKER,
    "audio": MessageKind.VOICE,
    "voice": MessageKind.VOICE,
    "video": MessageKind.VIDEO,
    "gif": MessageKind.ANIMATION,
    "location": MessageKind.LOCATION,
    "business_card": MessageKind.CONTACT,
    "contact": MessageKind.CONTACT,
    "unsupported": MessageKind.OTHER,
}


def event_kind(event_name: str) -> MessageKind | None:
    """The kind of a non-text message event (user_send_sticker, message.sticker.received), if known."""
    for part, kind in EVENT_KINDS.items():
        if f"_{part}" in event_name or f".{part}." in event_name:
            return kind
    return None
