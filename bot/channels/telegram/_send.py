"""Reply → Bot API calls: keyboards, long-text splitting, edits, photos and documents; plus the
outbox Sender and the mapping of Telegram errors to DeliveryError."""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from telegram import Bot, InputFile, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.kernel import DeliveryError
from handlers.core import AttachmentKind, Button, Reply

log = logging.getLogger("tocns.telegram")
MAX_TEXT = 4096
MAX_CAPTION = 1024
T = TypeVar("T")


def keyboard(buttons: Sequence[Sequence[Button]]) -> dict[str, Any] | None:
    """Inline keyboard from Reply buttons (url buttons open a link, the others call back), as the
    Bot API's InlineKeyboardMarkup JSON (core.telegram.org/bots/api#inlinekeyboardmarkup): PTB's
    InlineKeyboardButton objects cost more to build and serialise again than the whole request."""
    rows = [
        [
            {"text": b.label, "url": b.url} if b.url else {"text": b.label, "callback_data": b.payload}
            for b in row
        ]
        for row in buttons
        if row
    ]
    return {"inline_keyboard": rows} if rows else None


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut text into pieces ≤ limit, at paragraph boundaries, else at lines, else at spaces."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    for sep in ("\n\n", "\n", " "):
        cut = text.rfind(sep, 0, limit + 1)
        if cut > 0:
            return [text[:cut].rstrip(), *split_text(text[cut + len(sep) :], limit)]
    return [text[:limit], *split_text(text[limit:], limit)]


def retry_seconds(exc: RetryAfter) -> float:
    # `retry_after` warns about int/timedelta in PTB 22; the private timedelta is unambiguous.
    value: Any = getattr(exc, "_retry_after", None)
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(exc.retry_after if isinstance(exc.retry_after, int) else exc.retry_after.total_seconds())


def delivery_error(exc: TelegramError) -> DeliveryError:
    """Telegram's error → what the outbox dispatcher should do about it."""
    if isinstance(exc, RetryAfter):
        return DeliveryError(str(exc), retry_after=retry_seconds(exc))
    if isinstance(exc, Forbidden):  # blocked by the user, or kicked from the group
        return DeliveryError(str(exc), unreachable=True)
    if isinstance(exc, BadRequest | ChatMigrated):  # chat not found, bad markup: retrying cannot help
        return DeliveryError(str(exc), permanent=True)
    return DeliveryError(str(exc))  # NetworkError, TimedOut, 5xx: retry later with backoff


async def with_retries(call: Callable[[], Awaitable[T]], *, attempts: int = 3, base_delay: float = 0.5) -> T:
    """Retry network errors with backoff and honour flood waits; other errors go to the caller."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except RetryAfter as exc:
            if attempt == attempts:
                raise
            await asyncio.sleep(min(retry_seconds(exc), 30.0))
        except BadRequest:
            raise
        except NetworkError:
            if attempt == attempts:
                raise
            await asyncio.sleep(base_delay * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


class ReplyRenderer:
    """Sends one Reply to one chat (or edits the message a button was on)."""

    def __init__(self, bot: Bot, *, retry: bool = True) -> None:
        self.bot = bot
        self.retry = retry

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        return await with_retries(call) if self.retry else await call()

    async def send(
        self,
        chat_id: int | str,
        reply: Reply,
        *,
        edit_message_id: int | None = None,
        thread_id: int | None = None,
    ) -> None:
        """`thread_id`: the forum topic to answer in (otherwise the answer lands in General)."""
        markup = keyboard(reply.buttons)
        if reply.attachment is not None:
            await self._send_attachment(chat_id, reply, markup, thread_id)
            return
        parts = split_text(reply.text) or ["…"]
        if (
            edit_message_id is not None
            and len(parts) == 1
            and await self._edit(chat_id, edit_message_id, parts[0], markup)
        ):
            return
        for i, part in enumerate(parts):
            await self._send_text(chat_id, part, markup if i == len(parts) - 1 else None, thread_id)

    async def _post(self, method: str, params: dict[str, Any]) -> None:
        """sendMessage / editMessageText through PTB's own request path — its defaults, the rate
        limiter, the errors (BadRequest, RetryAfter…) — without PTB building a Message out of the
        answer, which tocns never reads and which cost as much as the rest of the reply
        (docs/benchmarks.md, "Update cost"). `Bot._post` is the call under every `Bot.send_*`; the
        public `do_api_request` warns for methods PTB knows. tests/test_telegram_adapter.py pins
        what goes over HTTP against the contract fake, so a PTB upgrade that moves it fails there."""
        await self.bot._post(method, dict(params))  # it fills defaults in place: a retry gets a fresh copy

    async def _send_text(
        self, chat_id: int | str, text: str, markup: Any, thread_id: int | None = None
    ) -> None:
        params = {"chat_id": chat_id, "text": text, "reply_markup": markup, "message_thread_id": thread_id}
        await self._call(lambda: self._post("sendMessage", params))

    async def _edit(self, chat_id: int | str, message_id: int, text: str, markup: Any) -> bool:
        params = {"chat_id": chat_id, "message_id": message_id, "text": text, "reply_markup": markup}
        try:
            await self._call(lambda: self._post("editMessageText", params))
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return True
            # Too old, deleted, or a photo: say it as a new message instead.
            log.info("edit failed, sending instead: %s", exc)
            return False
        return True

    async def _send_attachment(
        self, chat_id: int | str, reply: Reply, markup: Any, thread_id: int | None = None
    ) -> None:
        att = reply.attachment
        assert att is not None
        caption = "\n\n".join(dict.fromkeys(x for x in (att.caption, reply.text) if x))
        fits = len(caption) <= MAX_CAPTION
        method = self.bot.send_photo if att.kind is AttachmentKind.PHOTO else self.bot.send_document
        # A fresh InputFile per attempt: it wraps a stream.
        await self._call(
            lambda: method(
                chat_id,
                InputFile(att.data, filename=att.filename),
                caption=(caption if fits else None) or None,
                reply_markup=markup if fits else None,
                message_thread_id=thread_id,
            )
        )
        if not fits:  # a caption over Telegram's limit follows as a normal (split) message
            await self.send(chat_id, Reply(caption, reply.buttons), thread_id=thread_id)


class TelegramSender:
    """The outbox dispatcher's way to push a Reply to a Telegram chat."""

    channel = "telegram"
    supports_buttons = True

    def __init__(self, bot: Bot) -> None:
        # No in-call retries: the dispatcher owns retry timing (backoff, retry_after).
        self.renderer = ReplyRenderer(bot, retry=False)
        self.ready: asyncio.Event | None = None  # set by the channel once the bot is initialised

    async def send(self, chat_id: str, reply: Reply) -> None:
        if self.ready is not None and not self.ready.is_set():
            try:
                await asyncio.wait_for(self.ready.wait(), timeout=30)
            except TimeoutError:
                raise DeliveryError("telegram channel not started yet") from None
        try:
            await self.renderer.send(_chat(chat_id), reply)
        except TelegramError as exc:
            raise delivery_error(exc) from exc


def _chat(chat_id: str) -> int | str:
    try:
        return int(chat_id)
    except ValueError:
        return chat_id


async def answer_callback(bot: Bot, query_id: str, text: str | None = None) -> Message | bool:
    """Stop the button's spinner; `text` shows as a toast over the chat (at most 200 characters)."""
    toast = text[:200] if text else None
    try:
        return await with_retries(lambda: bot.answer_callback_query(query_id, text=toast))
    except TelegramError as exc:  # too old (>15 min) or already answered: nothing to do
        log.info("answerCallbackQuery failed: %s", type(exc).__name__)
        return False
