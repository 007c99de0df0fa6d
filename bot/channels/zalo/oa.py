"""Zalo Official Account channel (OA Open API v3): a signed webhook on the project's web server,
replies through /v3.0/oa/message/cs, tokens refreshed from the database.

What the contract documents, and so what this adapter does (docs/zalo.md has the table with
sources): /message/cs carries text, image (media template), file (token from upload/file),
sticker and request-user-info — no buttons. Options are therefore numbered by default, as on the
console and Zalo Bot (`zalo_oa.buttons: numbered`); `zalo_oa.buttons: transaction` sends the
documented transaction template (/v3.0/oa/message/transaction) with buttons whose payload is the
option's number, so a tap, a typed number and a typed payload all mean the same offered option:
nothing a person types can act as a button press that was not offered to them."""

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
from pydantic import BaseModel, ConfigDict, ValidationError

from bot.channels.zalo.common import (
    ReplyQueue,
    SignedFiles,
    event_kind,
    fetch_sent_file,
    first,
    mime_for,
)
from bot.channels.zalo.inbound import Inbound
from bot.channels.zalo.oa_send import CHANNEL, UPLOADS, OAOutgoing
from bot.channels.zalo.oa_tokens import NotAuthorized, OAuthConfig, OAuthError, TokenStore
from bot.channels.zalo.safe_fetch import FileFetcher
from bot.config import Settings, ZaloOASettings
from bot.kernel import App, StartupError
from db import crypto
from db.base import utcnow
from handlers.core import FileLimits, Incoming, IncomingFile, MessageKind, NotReceived

log = logging.getLogger("tocns.zalo_oa")
IGNORED_EVENTS = ("oa_", "user_received", "user_seen")
MESSAGE_EVENTS = ("user_send_text", "user_send_image", "user_send_file")


class ZaloOAConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    settings: ZaloOASettings
    app_id: str
    secret_key: str  # the app's secret (token refresh)
    oa_secret_key: str  # the OA secret key (webhook signature)

    @property
    def oauth(self) -> OAuthConfig:
        return OAuthConfig(self.settings.oauth_url, self.app_id, self.secret_key)


def load_config(app: App, environ: Mapping[str, str]) -> ZaloOAConfig | None:
    names = ("TOCNS_ZALO_OA_APP_ID", "TOCNS_ZALO_OA_SECRET_KEY", "TOCNS_ZALO_OA_OA_SECRET_KEY")
    values = [environ.get(n, "") for n in names]
    if not any(values):
        return None
    missing = [n for n, v in zip(names, values, strict=True) if not v]
    if missing:
        raise StartupError(f"{missing[0]}: needed with the other Zalo OA settings")
    raw = dict(app.settings.extra.get("zalo_oa") or {})
    for var, key in (("TOCNS_ZALO_OA_BASE_URL", "base_url"), ("TOCNS_ZALO_OA_OAUTH_URL", "oauth_url")):
        if environ.get(var):
            raw[key] = environ[var]
    try:
        settings = ZaloOASettings.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise StartupError(f"zalo_oa.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None
    # OA tokens are stored encrypted with a key from the environment (db.crypto).
    crypto.use_key(environ.get("TOCNS_SECRET_KEY") or values[1])
    return ZaloOAConfig(settings=settings, app_id=values[0], secret_key=values[1], oa_secret_key=values[2])


def build_channel(
    app: App, webapp: web.Application, *, environ: Mapping[str, str] | None = None
) -> ZaloOAChannel | None:
    """The Zalo OA channel when its app id and keys are in the environment, else None."""
    config = load_config(app, os.environ if environ is None else environ)
    if config is None:
        return None
    channel = ZaloOAChannel(app, config)
    webapp.router.add_post(config.settings.webhook_path, channel.webhook)
    settings = config.settings
    if settings.files_public_url:
        channel.files = SignedFiles(
            app,
            webapp,
            settings.files_public_url,
            settings.files_path,
            settings.link_ttl_minutes * 60.0,
            secret=config.oa_secret_key.encode(),
        )
    app.add_sender(channel)
    app.dispatcher.unreachable_hooks[CHANNEL] = channel.on_unreachable
    return channel


def attachment_limits(settings: Settings) -> FileLimits | None:
    """The attachments the OA hands on: all with `files_public_url` (what it cannot upload goes as a
    signed link), else only what it uploads (UPLOADS) — the rest gets a note. Read from the settings,
    not the running channel: another worker may be the one that delivers."""
    if ZaloOASettings.model_validate(settings.extra.get("zalo_oa") or {}).files_public_url:
        return None
    return UPLOADS


def signature(app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """X-ZEvent-Signature: "mac=" + sha256(app_id + raw body + timestamp + OA secret key)."""
    digest = hashlib.sha256(app_id.encode() + body + timestamp.encode() + oa_secret_key.encode())
    return "mac=" + digest.hexdigest()


class ZaloOAChannel(OAOutgoing):
    name = CHANNEL
    channel = CHANNEL

    def __init__(self, app: App, config: ZaloOAConfig) -> None:
        self.app = app
        self.config = config
        self.settings = config.settings
        self.supports_buttons = self.settings.buttons == "transaction"
        self.http: aiohttp.ClientSession | None = None
        self.tokens: TokenStore | None = None
        self.files: SignedFiles | None = None
        self.fetcher = FileFetcher(
            self.settings.file_hosts, allow_private=self.settings.allow_private_file_hosts
        )
        self.replies = ReplyQueue(app, CHANNEL, self.send)
        self.inbound = Inbound(app, CHANNEL, self._process_stored, _chat_of, interaction_of=_interaction_of)
        self._sweeper: asyncio.Task[None] | None = None
        self.clock = utcnow  # injectable: the messaging window is judged against it
        self.processed = 0

    async def start(self) -> None:
        self.http = aiohttp.ClientSession()
        self.tokens = TokenStore(self.app.sessions, self.config.oauth, self.http)
        try:
            await self.tokens.current()
        except NotAuthorized:
            log.warning(
                "zalo_oa: no token stored yet; run `tocns zalo oa-login` (incoming events still work)"
            )
        except (OAuthError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("zalo_oa: token refresh failed at start: %s", exc)
        await self.inbound.sweep(timedelta(seconds=60))  # older: not in flight elsewhere
        self._sweeper = asyncio.create_task(self.inbound.sweep_forever(), name="zalo_oa.sweep")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.inbound.drain()
        await self.replies.drain()
        await self.fetcher.close()
        if self.http is not None:
            await self.http.close()

    async def drain(self) -> None:
        """Wait until every stored event is processed and its replies are sent (tests, stop)."""
        await self.inbound.drain()
        await self.replies.drain()

    def _t(self, key: str, **params: str) -> str:
        return self.app.catalog.text(self.app.settings.app.locale, key, **params)

    # --- incoming --------------------------------------------------------------------------

    async def webhook(self, request: web.Request) -> web.Response:
        """Verify the signature, store the raw event (one insert), answer 200; process later."""
        raw = await request.read()
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest()
        timestamp = str(body.get("timestamp", ""))
        expected = signature(self.config.app_id, raw, timestamp, self.config.oa_secret_key)
        given = request.headers.get("X-ZEvent-Signature", "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            log.warning("zalo_oa webhook: bad signature")
            raise web.HTTPForbidden()
        await self.inbound.accept(raw, body)
        return web.json_response({"error": 0})

    async def _process_stored(self, event: dict[str, Any], raw: bytes) -> None:
        msg = await self.to_incoming(event, raw)
        if msg is None:
            return
        outcome = await self.app.intake.handle(msg)  # DatabaseUnavailable: Inbound retries
        await self.replies.send_now(msg.chat_id, msg.update_key, outcome.replies)
        self.processed += 1

    async def to_incoming(self, event: dict[str, Any], raw: bytes | None = None) -> Incoming | None:
        """An Incoming (None to ignore the event). A file that did not arrive travels as
        `not_received` («Ảnh/tệp … quá lớn…», «Chưa nhận được ảnh/tệp…») with only the event's
        text: the intake says it after the update's dedupe mark, so a redelivered event is not
        answered twice — and never as an empty message («Tin nhắn trống…») that, inside a ticket,
        reached nobody."""
        raw = raw if raw is not None else json.dumps(event, sort_keys=True).encode()
        name = str(event.get("event_name", ""))
        if name.startswith(IGNORED_EVENTS):
            return None
        if name in ("follow", "unfollow"):
            user = str((event.get("follower") or {}).get("id") or "")
            if name == "unfollow" or not user:
                log.info("zalo_oa %s", name)
                return None
            return self._incoming(user, _update_key(name, None, raw), text="/start")
        kind = event_kind(name) if name.startswith("user_send_") else None
        if name not in MESSAGE_EVENTS and kind is None:
            return None
        user = str((event.get("sender") or {}).get("id") or "")
        message = event.get("message") or {}
        if not user or not isinstance(message, dict):
            return None
        key = _update_key(name, message.get("msg_id"), raw)
        if kind is not None:  # a sticker, a voice note, a location…: answered, never dropped
            log.info("zalo_oa message kind=%s", kind.value)
            return self._incoming(user, key, kind=kind)
        text = message.get("text") if isinstance(message.get("text"), str) else None
        if name == "user_send_text":
            # Text is text: a typed "#lang:en" is not a button press (buttons, when enabled,
            # carry only the option's number, resolved against what this person was offered).
            return self._incoming(user, key, text=text)
        attachments = message.get("attachments") or []
        att = attachments[0] if attachments and isinstance(attachments[0], dict) else {}
        info = att.get("payload") or {}
        url = first(info.get("url"), info.get("thumbnail")) if isinstance(info, dict) else None
        if not isinstance(url, str):  # an image or file event with nothing to fetch
            return self._incoming(user, key, text=text, missing=NotReceived("zalo.file_not_received"))
        if name == "user_send_image":
            filename, mime = "zalo-image.jpg", "image/jpeg"
        else:
            filename = str(first(info.get("name"), "zalo-file"))
            mime = mime_for(filename)
        got = await fetch_sent_file(self.fetcher, url, self.settings.max_file_mb, CHANNEL)
        if isinstance(got, NotReceived):
            return self._incoming(user, key, text=text, missing=got)
        return self._incoming(user, key, text=text, file=IncomingFile(filename, mime, data=got))

    def _incoming(
        self,
        user: str,
        key: str,
        *,
        text: str | None = None,
        file: IncomingFile | None = None,
        kind: MessageKind = MessageKind.TEXT,
        missing: NotReceived | None = None,
    ) -> Incoming:
        return Incoming(
            channel=CHANNEL,
            chat_id=user,
            user_id=user,
            display_name=self._t("zalo.default_name"),
            update_key=key,
            text=text,
            file=file,
            supports_buttons=self.supports_buttons,
            kind=kind,  # a file's kind is known from its type (Incoming)
            not_received=missing,
        )

    # --- outgoing (Sender) -----------------------------------------------------------------


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:24]


def _update_key(event: str, msg_id: Any, raw: bytes) -> str:
    """`msg_id` when the event has one; otherwise the event name and a digest of the raw body,
    so id-less events (follow, some attachments) of different people never share a key, while a
    redelivery of the same event (same bytes) still does."""
    if msg_id not in (None, ""):
        return f"zalo_oa:{msg_id}"
    return f"zalo_oa:{event}:h{_digest(raw)}"


def _interaction_of(event: dict[str, Any]) -> str:
    """The person whose action opens the messaging window: a message they sent, or a follow."""
    name = str(event.get("event_name", ""))
    if name.startswith("user_send_") or name == "follow":
        return _chat_of(event) if _chat_of(event) != "?" else ""
    return ""


def _chat_of(event: dict[str, Any]) -> str:
    for part in ("sender", "follower"):
        value = event.get(part)
        if isinstance(value, dict) and value.get("id"):
            return str(value["id"])
    return "?"
