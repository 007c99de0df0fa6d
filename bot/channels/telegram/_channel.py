"""The Telegram channel: a PTB 22 Application (polling) or a webhook route on the project's aiohttp
server. Handlers translate Updates into Incoming, hand them to the intake, and send the Replies
after the commit. No feature logic lives here."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web
from telegram import BotCommand, BotCommandScopeDefault, Update
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.channels.telegram._order import ChatOrderedProcessor, chat_key
from bot.channels.telegram._send import ReplyRenderer, TelegramSender, answer_callback
from bot.channels.telegram._translate import (
    FileRef,
    Me,
    ignored_reason,
    language_hint,
    thread_of,
    to_incoming,
    update_key,
    with_file,
)
from bot.config import TelegramSettings
from bot.intake import DatabaseUnavailable, Outcome
from bot.kernel import StartupError
from bot.sequencer import ChatSequencer
from handlers.core import Incoming, Reply
from services.access import Role
from services.ops import Problem

if TYPE_CHECKING:
    from bot.kernel import App

log = logging.getLogger("tocns.telegram")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Edits are answered at once ("an edit changes nothing, type it again"), never silently ignored.
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
MAX_FILE_BYTES = 20 * 1024 * 1024  # what the public Bot API lets a bot download
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")

PTBApp = Application[Any, Any, Any, Any, Any, Any]


def make_application(
    settings: TelegramSettings, *, webhook: bool, processor: ChatOrderedProcessor | None = None
) -> PTBApp:
    """The PTB Application: base URL from settings, rate-limited, no job queue (we have our own);
    updates of different chats processed concurrently, each chat's in order (ChatOrderedProcessor)."""
    assert settings.token is not None
    # Opt in to PTB 23's timedelta periods now: otherwise every flood wait logs a deprecation warning.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    base = settings.base_url.rstrip("/")
    builder = (
        ApplicationBuilder()
        .token(settings.token.get_secret_value())
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        # ~30 messages/s overall and 20/min per group, on every send (replies and pushes).
        .rate_limiter(AIORateLimiter(overall_max_rate=30, group_max_rate=20, group_time_period=60))
        .job_queue(None)
        .concurrent_updates(processor or ChatOrderedProcessor())
        .connect_timeout(10)
        .read_timeout(20)
        .write_timeout(30)
    )
    if webhook:
        builder = builder.updater(None)
    return builder.build()


class _ChatLocks:
    """One lock per chat so replies to one person leave in order while chats run in parallel."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, chat_id: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(chat_id, (asyncio.Lock(), 0))
        self._locks[chat_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[chat_id]
            if users <= 1:
                del self._locks[chat_id]
            else:
                self._locks[chat_id] = (lock, users - 1)


class TelegramChannel:
    name = "telegram"

    def __init__(self, app: App, settings: TelegramSettings, application: PTBApp | None = None) -> None:
        self.app = app
        self.settings = settings
        self.webhook = settings.mode == "webhook"
        self.application = application or make_application(settings, webhook=self.webhook)
        self.bot = self.application.bot
        self.renderer = ReplyRenderer(self.bot)
        self.sender = TelegramSender(self.bot)
        self.me = Me(0, "")
        self.ready = asyncio.Event()
        self.sender.ready = self.ready
        self.max_file_bytes = MAX_FILE_BYTES
        self._locks = _ChatLocks()
        # The same per-chat turns for polling (PTB's processor) and webhook requests.
        processor = self.application.update_processor
        self.sequencer: ChatSequencer = (
            processor.sequencer if isinstance(processor, ChatOrderedProcessor) else ChatSequencer()
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)

    # --- life cycle ----------------------------------------------------------------------------

    async def start(self) -> None:

        try:
            await self.application.initialize()
        except TelegramError as exc:
            raise StartupError(f"telegram: cannot reach the Bot API ({type(exc).__name__}: {exc})") from None
        self.me = Me(self.bot.id, self.bot.username or "")
        await self.application.start()
        await self.publish_commands()
        if self.webhook:
            url = self.settings.webhook_public_url.rstrip("/") + self.settings.webhook_path
            secret = self.settings.webhook_secret
            try:
                await self.bot.set_webhook(
                    url,
                    secret_token=secret.get_secret_value() if secret else None,
                    allowed_updates=ALLOWED_UPDATES,
                )
            except TelegramError as exc:
                raise StartupError(f"telegram: setWebhook failed ({exc})") from None
            log.info("telegram webhook mode path=%s", self.settings.webhook_path)
        else:
            assert self.application.updater is not None
            await self.application.updater.start_polling(
                poll_interval=self.settings.poll_interval,
                allowed_updates=ALLOWED_UPDATES,
                bootstrap_retries=3,
            )
            log.info("telegram polling mode")
        self.ready.set()

    async def stop(self) -> None:
        self.ready.clear()
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.drain(max_wait=10.0)
        await self.application.shutdown()

    async def health_problems(self, now: datetime) -> list[Problem]:
        """What getWebhookInfo says is wrong: a recent delivery error, or updates piling up."""
        if not self.webhook:
            return []
        info = await self.bot.get_webhook_info()
        recent = info.last_error_date is not None and info.last_error_date > now - timedelta(minutes=15)
        pending = info.pending_update_count or 0
        if not recent and pending <= self.app.settings.ops.webhook_pending_max:
            return []
        error = (info.last_error_message or "—")[:200]
        return [Problem("telegram.webhook", "ops.webhook_errors", {"error": error, "pending": pending})]

    async def drain(self, max_wait: float | None = None) -> None:
        """Wait until every reply scheduled so far was sent (tests and shutdown use it)."""
        while self._tasks:
            done, _ = await asyncio.wait(set(self._tasks), timeout=max_wait)
            if not done:
                break

    async def publish_commands(self) -> None:
        """setMyCommands per locale (vi default, en by language_code); a failure is only logged."""
        commands = [c for c in self.app.router.command_list if c.help_key and Role.CITIZEN in c.roles]
        try:
            for lang in ("vi", "en"):
                listed = [
                    BotCommand(c.names[0], self.app.catalog.text(lang, c.help_key or "")[:256])
                    for c in commands
                    if _COMMAND_NAME.match(c.names[0])
                ][:100]
                await self.bot.set_my_commands(
                    listed, scope=BotCommandScopeDefault(), language_code=None if lang == "vi" else lang
                )
        except TelegramError as exc:
            log.warning("setMyCommands failed (the command menu may be stale): %s", exc)

    # --- one update ----------------------------------------------------------------------------

    async def process(self, update: Update) -> tuple[Incoming, Outcome] | None:
        """Translate and hand to the intake (which commits); raises DatabaseUnavailable."""
        translated = to_incoming(update, self.me)
        if translated is None:
            log.info(
                "telegram update not used key=%s reason=%s",
                update_key(update),
                ignored_reason(update, self.me),
            )
            return None
        incoming, ref = translated
        if ref is not None:
            fetched = await self._download(incoming, ref)
            if isinstance(fetched, Reply):
                return incoming, Outcome([fetched])
            incoming = with_file(incoming, ref, fetched)
        return incoming, await self.app.intake.handle(incoming)

    async def _download(self, incoming: Incoming, ref: FileRef) -> bytes | Reply:
        lang = incoming.language_hint or self.app.settings.app.locale
        limit_mb = self.max_file_bytes // (1024 * 1024)
        too_large = Reply(self.app.catalog.text(lang, "telegram.file_too_large", limit_mb=limit_mb))
        if ref.size is not None and ref.size > self.max_file_bytes:
            return too_large
        try:
            file = await self.bot.get_file(ref.file_id)
            data = bytes(await file.download_as_bytearray())
        except TelegramError as exc:
            log.warning("document download failed key=%s: %s", incoming.update_key, type(exc).__name__)
            return Reply(self.app.catalog.text(lang, "telegram.file_download_failed"))
        return too_large if len(data) > self.max_file_bytes else data

    def schedule_delivery(self, update: Update, incoming: Incoming | None, replies: list[Reply]) -> None:
        """Send after the commit, in the background, in order per chat."""
        task = asyncio.create_task(self._deliver(update, incoming, replies), name=update_key(update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, update: Update, incoming: Incoming | None, replies: list[Reply]) -> None:
        query = update.callback_query
        chat = (
            incoming.chat_id if incoming else str(update.effective_chat.id if update.effective_chat else "")
        )
        thread = thread_of(update)
        try:
            async with self._locks.hold(chat):
                if query is not None:  # always answered, or the button spins on the phone
                    toast = next((r.text for r in replies if r.toast), None)
                    await answer_callback(self.bot, query.id, toast)
                    replies = [r for r in replies if not r.toast]
                edit_id = query.message.message_id if query is not None and query.message else None
                for reply in replies:
                    self.app.dispatcher.limiter.consume()  # replies first: pushes make room
                    target = edit_id if reply.edit and reply.attachment is None else None
                    await self.renderer.send(int(chat), reply, edit_message_id=target, thread_id=thread)
                    if target is not None:
                        edit_id = None  # one message is edited; further replies are new messages
        except Exception as exc:
            log.error("reply failed key=%s: %s: %s", update_key(update), type(exc).__name__, exc)

    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Polling: the one PTB handler. A database outage is retried briefly, then a polite 'busy'."""
        result: tuple[Incoming, Outcome] | None = None
        replies: list[Reply] = []
        for attempt in range(3):
            try:
                result = await self.process(update)
                break
            except DatabaseUnavailable:
                log.warning("database unavailable key=%s attempt=%d", update_key(update), attempt + 1)
                await asyncio.sleep(1.0 * 2**attempt)
        else:
            lang = _hint(update) or self.app.settings.app.locale
            replies = [Reply(self.app.catalog.text(lang, "core.busy"))]
        if result is not None:
            replies = result[1].replies
        if replies or update.callback_query is not None:
            self.schedule_delivery(update, result[0] if result else None, replies)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """PTB's error handler: log with the update key, answer politely when there is a chat."""
        if not isinstance(update, Update):
            log.warning("telegram: %s: %s", type(context.error).__name__, context.error)
            return
        log.error(
            "update failed key=%s: %s",
            update_key(update),
            type(context.error).__name__,
            exc_info=context.error,
        )
        if update.effective_chat is None:
            return
        lang = _hint(update) or self.app.settings.app.locale
        self.schedule_delivery(update, None, [Reply(self.app.catalog.text(lang, "core.error"))])

    # --- webhook -------------------------------------------------------------------------------

    async def webhook_view(self, request: web.Request) -> web.Response:
        """403 without the right secret; 200 once the update is committed (or a duplicate); 503 when
        it could not be stored, so Telegram delivers it again."""
        secret = self.settings.webhook_secret
        given = request.headers.get(SECRET_HEADER, "")
        if secret is None or not hmac.compare_digest(given.encode(), secret.get_secret_value().encode()):
            log.info("telegram webhook refused: wrong or missing secret token")
            return web.Response(status=403, text="forbidden")
        if not self.ready.is_set():
            return web.Response(status=503, text="starting")
        try:
            body = await request.json()
        except ValueError:
            log.info("telegram webhook refused: body is not JSON")
            return web.Response(status=400, text="not an update")
        if not isinstance(body, dict) or not isinstance(body.get("update_id"), int):
            # [], null, 123, "x": not an Update at all.
            log.info("telegram webhook refused: not an update object (%s)", type(body).__name__)
            return web.Response(status=400, text="not an update")
        try:
            update = Update.de_json(body, self.bot)
        except Exception as exc:
            # A well-formed update in a shape this library version cannot read (e.g. an older Bot
            # API's poll without persistent_id): not one we use. Logged, and 200 so Telegram does
            # not retry it forever.
            log.info(
                "telegram update not used key=%s%s reason=unreadable:%s",
                "telegram:",
                body["update_id"],
                type(exc).__name__,
            )
            return web.json_response({"ok": True})
        try:
            async with self.sequencer.reserve(chat_key(update)):
                result = await self.process(update)
        except DatabaseUnavailable:
            log.warning("database unavailable key=%s: answering 503", update_key(update))
            return web.Response(status=503, text="retry later")
        except Exception as exc:  # a bug in translation: log it, keep Telegram from retrying forever
            await self._on_error(update, _ErrorContext(exc))  # type: ignore[arg-type]
            return web.json_response({"ok": True})
        replies = result[1].replies if result else []
        if replies or update.callback_query is not None:
            self.schedule_delivery(update, result[0] if result else None, replies)
        return web.json_response({"ok": True})


class _ErrorContext:
    def __init__(self, error: Exception) -> None:
        self.error = error


def _hint(update: Update) -> str | None:

    return language_hint(update.effective_user)
