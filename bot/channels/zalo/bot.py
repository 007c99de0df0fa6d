"""Zalo Bot Platform channel: a Telegram-like API (`/bot<TOKEN>/<method>`), one update per
getUpdates (long poll; 408 = nothing came), or a webhook with `X-Bot-Api-Secret-Token`.

Contract (docs/zalo.md has the table with sources): bot-api.zaloplatforms.com documents
getMe, getUpdates, setWebhook, deleteWebhook, getWebhookInfo, sendMessage (1-2,000 characters),
sendPhoto (by URL, optional caption), sendSticker, sendChatAction and the error codes 400, 401,
403 (internal server error — not "blocked"), 404, 408 and 429. No buttons on this platform: the
intake numbers the options (supports_buttons=False)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import ValidationError

from bot.channels.zalo.bot_errors import ZaloBotError
from bot.channels.zalo.bot_errors import delivery_error as _delivery_error
from bot.channels.zalo.common import (
    ReplyQueue,
    SignedFiles,
    event_kind,
    fetch_sent_file,
    first,
    guess_image_type,
    mime_for,
    split_text,
)
from bot.channels.zalo.inbound import Inbound
from bot.channels.zalo.safe_fetch import FileFetcher
from bot.config import Settings, ZaloBotSettings
from bot.intake import DatabaseUnavailable
from bot.kernel import App, DeliveryError, StartupError
from handlers.core import (
    AttachmentKind,
    ChatType,
    FileLimits,
    Incoming,
    IncomingFile,
    MessageKind,
    NotReceived,
    Reply,
)

log = logging.getLogger("tocns.zalo_bot")
CHANNEL = "zalo_bot"


def load_settings(app: App, environ: Mapping[str, str]) -> tuple[ZaloBotSettings, str, str] | None:
    token = environ.get("TOCNS_ZALO_BOT_TOKEN", "")
    if not token:
        return None
    raw = dict(app.settings.extra.get("zalo_bot") or {})
    if environ.get("TOCNS_ZALO_BOT_BASE_URL"):
        raw["base_url"] = environ["TOCNS_ZALO_BOT_BASE_URL"]
    try:
        settings = ZaloBotSettings.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise StartupError(f"zalo_bot.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None
    secret = environ.get("TOCNS_ZALO_BOT_WEBHOOK_SECRET", "")
    if settings.mode == "webhook":
        if not settings.webhook_public_url:
            raise StartupError("zalo_bot.webhook_public_url: required when zalo_bot.mode is webhook")
        if not 8 <= len(secret) <= 256:
            raise StartupError(
                "TOCNS_ZALO_BOT_WEBHOOK_SECRET: webhook mode needs a secret of 8-256 characters"
            )
    return settings, token, secret


def attachment_limits(settings: Settings) -> FileLimits | None:
    """Without `files_public_url` the Zalo Bot sends no file at all (only a note): it hands on
    nothing. Read from the settings, not the running channel: another worker may deliver."""
    if ZaloBotSettings.model_validate(settings.extra.get("zalo_bot") or {}).files_public_url:
        return None
    return FileLimits()


def build_channel(
    app: App, webapp: web.Application, *, environ: Mapping[str, str] | None = None
) -> ZaloBotChannel | None:
    """The Zalo Bot channel when TOCNS_ZALO_BOT_TOKEN is set, else None."""
    loaded = load_settings(app, os.environ if environ is None else environ)
    if loaded is None:
        return None
    settings, token, secret = loaded
    channel = ZaloBotChannel(app, settings, token, secret)
    if settings.mode == "webhook":
        webapp.router.add_post(settings.webhook_path, channel.webhook)
    if settings.files_public_url:
        channel.files = SignedFiles(
            app,
            webapp,
            settings.files_public_url,
            settings.files_path,
            settings.link_ttl_minutes * 60.0,
            secret=token.encode(),
        )
    app.add_sender(channel)
    return channel


class ZaloBotChannel:
    name = CHANNEL
    channel = CHANNEL
    supports_buttons = False

    def __init__(self, app: App, settings: ZaloBotSettings, token: str, secret: str) -> None:
        self.app = app
        self.settings = settings
        self._token = token
        self._secret = secret
        self.files: SignedFiles | None = None
        self.http: aiohttp.ClientSession | None = None
        self.fetcher = FileFetcher(settings.file_hosts, allow_private=settings.allow_private_file_hosts)
        self.replies = ReplyQueue(app, CHANNEL, self.send)
        self.inbound = Inbound(app, CHANNEL, self._process_stored, _chat_of)
        self._poller: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self.bot_id = ""  # from getMe: updates from this id are the bot's own echoes
        self.processed = 0  # updates handled (tests wait on it)

    # --- HTTP ------------------------------------------------------------------------------

    def _url(self, method: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}/bot{self._token}/{method}"

    async def call(self, method: str, payload: dict[str, Any] | None = None, *, wait: float = 30) -> Any:
        """Call one API method; returns `result`, raises ZaloBotError."""
        assert self.http is not None, "channel not started"
        async with self.http.post(
            self._url(method), json=payload or {}, timeout=aiohttp.ClientTimeout(total=wait)
        ) as resp:
            try:
                body = await resp.json(content_type=None)
            except (json.JSONDecodeError, aiohttp.ContentTypeError):
                body = None
        if not isinstance(body, dict):
            raise ZaloBotError(resp.status, None, "not a JSON object")
        if resp.status >= 400 or not body.get("ok", False):
            code = body.get("error_code")
            raise ZaloBotError(
                resp.status, code if isinstance(code, int) else None, str(body.get("description"))
            )
        return body.get("result")

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self.http = aiohttp.ClientSession()
        try:
            me = await self.call("getMe")
        except (ZaloBotError, aiohttp.ClientError, TimeoutError) as exc:
            await self.http.close()
            raise StartupError(f"TOCNS_ZALO_BOT_TOKEN: getMe failed ({exc})") from None
        self.bot_id = str((me or {}).get("id") or "")
        log.info("zalo_bot connected as %s mode=%s", (me or {}).get("account_name", "?"), self.settings.mode)
        if self.settings.mode == "webhook":
            url = self.settings.webhook_public_url.rstrip("/") + self.settings.webhook_path
            await self.call("setWebhook", {"url": url, "secret_token": self._secret})
            await self.inbound.sweep(timedelta(seconds=60))  # older: not in flight elsewhere
            self._sweeper = asyncio.create_task(self.inbound.sweep_forever(), name="zalo_bot.sweep")
        else:
            with contextlib.suppress(ZaloBotError):
                await self.call("deleteWebhook")
            self._poller = asyncio.create_task(self._poll(), name="zalo_bot.poll")

    async def stop(self) -> None:
        self._stop.set()
        for task in (self._poller, self._sweeper):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.inbound.drain()
        await self.replies.drain()
        await self.fetcher.close()
        if self.http is not None:
            await self.http.close()

    # --- incoming --------------------------------------------------------------------------

    async def _poll(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                update = await self.call(
                    "getUpdates",
                    {"timeout": str(self.settings.poll_timeout)},
                    wait=self.settings.poll_timeout + 10,
                )
            except ZaloBotError as exc:
                if exc.status == 408 or exc.code == 408:
                    continue  # the long poll ended with nothing new
                log.warning("zalo_bot getUpdates failed: %s", exc)
                await self._pause(backoff)
                backoff = min(backoff * 2, 60)
                continue
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("zalo_bot getUpdates failed: %s", type(exc).__name__)
                await self._pause(backoff)
                backoff = min(backoff * 2, 60)
                continue
            backoff = 1.0
            for item in _updates(update):
                await self._process_polled(item)
            if self.settings.poll_interval:
                await self._pause(self.settings.poll_interval)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    async def _process_polled(self, update: dict[str, Any]) -> None:
        # getUpdates has no offset: the platform will not deliver this update again, so keep
        # trying while the database is down instead of dropping it.
        try:
            msg = await self.to_incoming(update)  # once: the photo is fetched once
        except Exception:
            log.exception("zalo_bot: update failed")
            msg = None
        delay = 1.0
        while msg is not None:
            try:
                outcome = await self.app.intake.handle(msg)
            except DatabaseUnavailable:
                log.warning("zalo_bot: database unavailable, retrying in %.0fs", delay)
                await self._pause(delay)
                if self._stop.is_set():
                    return
                delay = min(delay * 2, 60)
                continue
            except Exception:
                log.exception("zalo_bot: update failed")
                break
            await self._send_now_or_queue(msg, outcome.replies)
            break
        self.processed += 1

    async def _send_now_or_queue(self, msg: Incoming, replies: list[Reply]) -> None:
        await self.replies.send_now(msg.chat_id, msg.update_key, replies)

    async def webhook(self, request: web.Request) -> web.Response:
        """Check the secret, store the raw event (one insert), answer; process afterwards."""
        given = request.headers.get("X-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), self._secret.encode()):
            log.warning("zalo_bot webhook: wrong secret token")
            raise web.HTTPForbidden()
        raw = await request.read()
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest()
        await self.inbound.accept(raw, body)
        return web.json_response({"ok": True})

    async def _process_stored(self, body: dict[str, Any], raw: bytes) -> None:
        """A stored webhook event: the intake (DatabaseUnavailable propagates), then the replies."""
        for update in _updates(body):
            msg = await self.to_incoming(update)
            if msg is None:
                continue
            outcome = await self.app.intake.handle(msg)
            await self.replies.send_now(msg.chat_id, msg.update_key, outcome.replies)
            self.processed += 1

    async def to_incoming(self, update: dict[str, Any]) -> Incoming | None:
        """An Incoming for a message event (None for events without a message). A photo that did
        not arrive travels as `not_received` («Ảnh quá lớn…», «Chưa nhận được ảnh…»): the intake
        says it after the update's dedupe mark, so a redelivered event is not answered twice, and
        only the caption, if any, goes on to the dialogs."""
        event = str(update.get("event_name") or "message.unknown.received")
        message = update.get("message")
        if not isinstance(message, dict):
            return None
        chat = message.get("chat") or {}
        sender = message.get("from") or {}
        user_id = str(first(sender.get("id"), chat.get("id")) or "")
        chat_id = str(first(chat.get("id"), user_id) or "")
        if not user_id or not chat_id or sender.get("is_bot"):
            return None
        if self.bot_id and user_id == self.bot_id:
            return None  # the bot's own message echoed back
        chat_type = ChatType.GROUP if str(chat.get("chat_type", "")).upper() == "GROUP" else ChatType.PRIVATE
        text = message.get("text") if isinstance(message.get("text"), str) else None
        file: IncomingFile | None = None
        missing: NotReceived | None = None
        # The docs name the field `photo`; the official SDK and openclaw read `photo_url`.
        photo = first(message.get("photo_url"), message.get("photo"))
        if event == "message.image.received" and isinstance(photo, str):
            text = message.get("caption") if isinstance(message.get("caption"), str) else text
            got = await fetch_sent_file(self.fetcher, photo, self.settings.max_file_mb, CHANNEL)
            if isinstance(got, NotReceived):
                missing = got
            else:
                file = IncomingFile("zalo-image.jpg", "image/jpeg", got)
        kind = MessageKind.TEXT if file is not None or missing else event_kind(event) or MessageKind.TEXT
        if kind is not MessageKind.TEXT:
            log.info("zalo_bot message kind=%s", kind.value)  # answered, never dropped
        return Incoming(
            channel=CHANNEL,
            chat_id=chat_id,
            user_id=user_id,
            display_name=str(
                first(sender.get("display_name"), sender.get("first_name"), sender.get("name"))
                or self.app.catalog.text(self.app.settings.app.locale, "zalo.default_name")
            ),
            update_key=_update_key(event, message, update),
            text=text,
            file=file,
            chat_type=chat_type,
            supports_buttons=False,
            kind=kind,
            not_received=missing,
        )

    # --- outgoing (Sender) -----------------------------------------------------------------

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Deliver one reply (already without buttons: the intake/dispatcher numbered them).
        The text goes first; an image or file follows by URL (a signed link) or as a note, so a
        failing attachment never takes the text with it."""
        with contextlib.suppress(Exception):
            await self.call("sendChatAction", {"chat_id": chat_id, "action": "typing"}, wait=5)
        att = reply.attachment
        text = reply.text
        notes: list[str] = []
        if att is not None and self.files is None:
            key = (
                "zalo.photo_unavailable" if att.kind is AttachmentKind.PHOTO else "zalo.document_unavailable"
            )
            notes = [p for p in (att.caption, self._t(key, name=att.filename)) if p]
            text = "\n\n".join(p for p in (text, *notes) if p)
        for piece in split_text(text):
            await self._checked("sendMessage", {"chat_id": chat_id, "text": piece})
        if att is None or self.files is None:
            return
        if att.kind is AttachmentKind.PHOTO:
            url = await self.files.put(att.data, guess_image_type(att.filename), att.filename)
            payload: dict[str, Any] = {"chat_id": chat_id, "photo": url}
            caption = (att.caption or "").strip()
            if caption and len(split_text(caption)) == 1:
                payload["caption"] = caption  # documented as 1-2,000 characters: omitted when empty
                caption = ""
            await self._checked("sendPhoto", payload)
            for piece in split_text(caption):
                await self._checked("sendMessage", {"chat_id": chat_id, "text": piece})
            return
        url = await self.files.put(att.data, mime_for(att.filename), att.filename)
        minutes = self.settings.link_ttl_minutes
        link = self._t("zalo.download_link", name=att.filename, url=url, minutes=str(minutes))
        for piece in split_text("\n\n".join(p for p in (att.caption, link) if p)):
            await self._checked("sendMessage", {"chat_id": chat_id, "text": piece})

    def _t(self, key: str, **params: str) -> str:
        return self.app.catalog.text(self.app.settings.app.locale, key, **params)

    async def _checked(self, method: str, payload: dict[str, Any]) -> None:
        try:
            await self.call(method, payload)
        except ZaloBotError as exc:
            raise _delivery_error(exc) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"network: {type(exc).__name__}") from None


def _update_key(event: str, message: dict[str, Any], update: dict[str, Any]) -> str:
    """`message_id` when there is one; otherwise a digest of the whole update, so two people's
    id-less events never share a key (and a redelivered one still does)."""
    message_id = message.get("message_id")
    if message_id not in (None, ""):
        return f"zalo_bot:{event}:{message_id}"
    digest = hashlib.sha256(json.dumps(update, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"zalo_bot:{event}:h{digest[:24]}"


def _chat_of(body: dict[str, Any]) -> str:
    for update in _updates(body):
        message = update.get("message")
        if isinstance(message, dict):
            chat = message.get("chat") or {}
            return str(chat.get("id") if isinstance(chat, dict) else "") or "?"
    return "?"


def _updates(body: Any) -> list[dict[str, Any]]:
    """Polling answers are wrapped in {ok, result}; webhook bodies may or may not be. Result may be
    one update or a list."""
    if isinstance(body, dict) and "result" in body and ("ok" in body or "message" not in body):
        body = body["result"]
    if isinstance(body, dict):
        return [body]
    if isinstance(body, list):
        return [u for u in body if isinstance(u, dict)]
    return []
