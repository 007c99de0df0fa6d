"""Zalo Official Account channel (OA Open API v3): a signed webhook on the project's web server,
replies through /v3.0/oa/message/cs, buttons as `oa.query.show` template buttons whose payload
comes back as the user's text (marked with "#"), tokens refreshed from the database."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Mapping
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from bot.channels.zalo.common import ReplyQueue, TooLarge, fetch_capped, first, guess_image_type, split_text
from bot.channels.zalo.oa_tokens import NotAuthorized, OAuthConfig, OAuthError, TokenStore
from bot.config import ZaloOASettings
from bot.intake import DatabaseUnavailable
from bot.kernel import App, DeliveryError, StartupError
from db import crypto
from handlers.core import AttachmentKind, Button, Incoming, IncomingFile, Reply

log = logging.getLogger("tocns.zalo_oa")
CHANNEL = "zalo_oa"
PAYLOAD_MARK = "#"
MAX_BUTTONS = 5  # Zalo shows at most five buttons under one message
# Error codes (assumptions documented in docs/zalo.md): -216 invalid/expired access token (-124
# is returned by some OAuth endpoints for the same); -213 the user has not followed / not
# interacted with the OA; -230 no interaction within the allowed window (7 days).
EXPIRED_TOKEN = {-216, -124}
UNREACHABLE = {-213, -230}
PERMANENT = {-201}  # invalid parameters: retrying the same message cannot help
IGNORED_FILE_TYPES = ("oa_", "user_received", "user_seen")


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
    app.add_sender(channel)
    return channel


def signature(app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """X-ZEvent-Signature: "mac=" + sha256(app_id + raw body + timestamp + OA secret key)."""
    digest = hashlib.sha256(app_id.encode() + body + timestamp.encode() + oa_secret_key.encode())
    return "mac=" + digest.hexdigest()


class OAError(Exception):
    def __init__(self, status: int, code: int | None, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status} error={code}: {message[:120]}")
        self.status = status
        self.code = code
        self.retry_after = retry_after


class ZaloOAChannel:
    name = CHANNEL
    channel = CHANNEL
    supports_buttons = True

    def __init__(self, app: App, config: ZaloOAConfig) -> None:
        self.app = app
        self.config = config
        self.settings = config.settings
        self.http: aiohttp.ClientSession | None = None
        self.tokens: TokenStore | None = None
        self.replies = ReplyQueue(app, CHANNEL, self.send)
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

    async def stop(self) -> None:
        await self.replies.drain()
        if self.http is not None:
            await self.http.close()

    # --- incoming --------------------------------------------------------------------------

    async def webhook(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        timestamp = str(body.get("timestamp", "")) if isinstance(body, dict) else ""
        expected = signature(self.config.app_id, raw, timestamp, self.config.oa_secret_key)
        given = request.headers.get("X-ZEvent-Signature", "")
        if not isinstance(body, dict) or not hmac.compare_digest(given.encode(), expected.encode()):
            log.warning("zalo_oa webhook: bad signature")
            raise web.HTTPForbidden()
        msg, too_large = await self.to_incoming(body)
        if too_large is not None:
            text = self.app.catalog.text(
                self.app.settings.app.locale, "zalo.file_too_large", limit_mb=f"{self.settings.max_file_mb:g}"
            )
            self.replies.schedule(too_large, f"zalo_oa:too_large:{timestamp}", [Reply(text)])
        if msg is None:
            return web.json_response({"ok": True})
        try:
            outcome = await self.app.intake.handle(msg)
        except DatabaseUnavailable:
            raise web.HTTPServiceUnavailable() from None
        # Stored: answer now (Zalo waits ~2 s), send the replies in the background.
        self.replies.schedule(msg.chat_id, msg.update_key, outcome.replies)
        self.processed += 1
        return web.json_response({"ok": True})

    async def to_incoming(self, event: dict[str, Any]) -> tuple[Incoming | None, str | None]:
        """(Incoming or None to ignore, user id to tell "file too large")."""
        name = str(event.get("event_name", ""))
        if name.startswith(IGNORED_FILE_TYPES):
            return None, None
        if name in ("follow", "unfollow"):
            user = str((event.get("follower") or {}).get("id") or "")
            if name == "unfollow" or not user:
                log.info("zalo_oa %s", name)
                return None, None
            key = f"zalo_oa:{name}:{user}:{event.get('timestamp')}"
            return self._incoming(user, key, text="/start"), None
        if name not in ("user_send_text", "user_send_image", "user_send_file"):
            return None, None
        user = str((event.get("sender") or {}).get("id") or "")
        message = event.get("message") or {}
        if not user or not isinstance(message, dict):
            return None, None
        key = f"zalo_oa:{message.get('msg_id')}"
        text = message.get("text") if isinstance(message.get("text"), str) else None
        if name == "user_send_text":
            payload = self._payload_of(text or "")
            if payload is not None:
                return self._incoming(user, key, payload=payload), None
            return self._incoming(user, key, text=text), None
        attachments = message.get("attachments") or []
        att = attachments[0] if attachments and isinstance(attachments[0], dict) else {}
        info = att.get("payload") or {}
        url = first(info.get("url"), info.get("thumbnail"))
        if not isinstance(url, str):
            return self._incoming(user, key, text=text), None
        if name == "user_send_image":
            filename, mime = "zalo-image.jpg", "image/jpeg"
        else:
            filename = str(first(info.get("name"), "zalo-file"))
            mime = _mime_for(filename)
        try:
            data = await self._download(url)
        except TooLarge:
            return None, user
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.info("zalo_oa: file not downloaded (%s)", type(exc).__name__)
            return self._incoming(user, key, text=text), None
        return self._incoming(user, key, text=text, file=IncomingFile(filename, mime, data)), None

    def _payload_of(self, text: str) -> str | None:
        """A button tap comes back as text "#<payload>": accept it when its prefix is registered."""
        if not text.startswith(PAYLOAD_MARK):
            return None
        payload = text[len(PAYLOAD_MARK) :].strip()
        prefix = payload.split(":", 1)[0]
        return payload if ":" in payload and prefix in self.app.router.callbacks else None

    def _incoming(
        self,
        user: str,
        key: str,
        *,
        text: str | None = None,
        payload: str | None = None,
        file: IncomingFile | None = None,
    ) -> Incoming:
        name = self.app.catalog.text(self.app.settings.app.locale, "zalo.default_name")
        return Incoming(
            channel=CHANNEL,
            chat_id=user,
            user_id=user,
            display_name=name,
            update_key=key,
            text=text,
            payload=payload,
            file=file,
            supports_buttons=True,
        )

    async def _download(self, url: str) -> bytes:
        assert self.http is not None
        return await fetch_capped(self.http, url, int(self.settings.max_file_mb * 1024 * 1024))

    # --- outgoing (Sender) -----------------------------------------------------------------

    async def send(self, chat_id: str, reply: Reply) -> None:
        recipient = {"user_id": chat_id}
        att = reply.attachment
        if att is not None:
            await self._send_attachment(recipient, att.kind, att.filename, att.data, att.caption)
        buttons = [b for row in reply.buttons for b in row]
        pieces = split_text(reply.text) or ([] if not buttons else ["…"])
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            chunk = buttons[:MAX_BUTTONS] if last else []
            await self._message(recipient, self._text_message(piece, chunk))
        rest = buttons[MAX_BUTTONS:] if pieces else []
        more = self.app.catalog.text(self.app.settings.app.locale, "zalo.more_options")
        for start in range(0, len(rest), MAX_BUTTONS):
            await self._message(recipient, self._text_message(more, rest[start : start + MAX_BUTTONS]))

    def _text_message(self, text: str, buttons: list[Button]) -> dict[str, Any]:
        message: dict[str, Any] = {"text": text}
        if buttons:
            message["attachment"] = {
                "type": "template",
                "payload": {"buttons": [self._button(b) for b in buttons]},
            }
        return message

    def _button(self, button: Button) -> dict[str, Any]:
        if button.url:
            return {"title": button.label[:100], "type": "oa.open.url", "payload": {"url": button.url}}
        return {
            "title": button.label[:100],
            "type": self.settings.button_type,
            "payload": PAYLOAD_MARK + button.payload,
        }

    async def _send_attachment(
        self, recipient: dict[str, str], kind: AttachmentKind, filename: str, data: bytes, caption: str
    ) -> None:
        if kind is AttachmentKind.PHOTO:
            result = await self._api(
                "/v2.0/oa/upload/image", upload=(filename, data, guess_image_type(filename))
            )
            element = {"media_type": "image", "attachment_id": result.get("attachment_id")}
            message: dict[str, Any] = {
                "attachment": {
                    "type": "template",
                    "payload": {"template_type": "media", "elements": [element]},
                }
            }
            if caption:
                message["text"] = caption[:2000]
        else:
            result = await self._api("/v2.0/oa/upload/file", upload=(filename, data, _mime_for(filename)))
            message = {"attachment": {"type": "file", "payload": {"token": result.get("token")}}}
        await self._message(recipient, message)
        if caption and kind is not AttachmentKind.PHOTO:
            for piece in split_text(caption):
                await self._message(recipient, {"text": piece})

    async def _message(self, recipient: dict[str, str], message: dict[str, Any]) -> None:
        await self._api("/v3.0/oa/message/cs", body={"recipient": recipient, "message": message})

    async def _api(
        self,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        upload: tuple[str, bytes, str] | None = None,
    ) -> dict[str, Any]:
        """One OA call with the access token; an expired token is refreshed and the call retried once."""
        assert self.tokens is not None, "channel not started"
        try:
            token = await self.tokens.current()
            try:
                return await self._call(path, token, body, upload)
            except OAError as exc:
                if exc.code not in EXPIRED_TOKEN:
                    raise
                token = await self.tokens.refresh(token)
                return await self._call(path, token, body, upload)
        except OAError as exc:
            raise _delivery_error(exc) from None
        except NotAuthorized as exc:
            raise DeliveryError(str(exc)) from None
        except OAuthError as exc:
            raise DeliveryError(f"token refresh failed: {exc}") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"network: {type(exc).__name__}") from None

    async def _call(
        self, path: str, token: str, body: dict[str, Any] | None, upload: tuple[str, bytes, str] | None
    ) -> dict[str, Any]:
        assert self.http is not None
        url = self.settings.base_url.rstrip("/") + path
        headers = {"access_token": token}
        kwargs: dict[str, Any] = {"headers": headers, "timeout": aiohttp.ClientTimeout(total=30)}
        if upload is not None:
            form = aiohttp.FormData()
            form.add_field("file", upload[1], filename=upload[0], content_type=upload[2])
            kwargs["data"] = form
        else:
            kwargs["json"] = body
        data: Any = None
        async with self.http.post(url, **kwargs) as resp:
            status = resp.status
            retry_after = resp.headers.get("Retry-After")
            with contextlib.suppress(json.JSONDecodeError, aiohttp.ContentTypeError):
                data = await resp.json(content_type=None)
        if status >= 400:
            wait = float(retry_after) if retry_after and retry_after.isdigit() else None
            raise OAError(status, None, f"HTTP {status}", wait)
        if not isinstance(data, dict):
            raise OAError(status, None, "not a JSON object")
        code = data.get("error", 0)
        if code:
            raise OAError(status, int(code), str(data.get("message", "")))
        result = data.get("data")
        return result if isinstance(result, dict) else {}


def _delivery_error(exc: OAError) -> DeliveryError:
    if exc.code in UNREACHABLE:
        return DeliveryError(str(exc), unreachable=True)
    if exc.code in PERMANENT:
        return DeliveryError(str(exc), permanent=True)
    if exc.status == 429:
        return DeliveryError(str(exc), retry_after=exc.retry_after or 5.0)
    return DeliveryError(str(exc))


def _mime_for(filename: str) -> str:
    name = filename.lower()
    if name.endswith(".xlsx"):
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    if name.endswith(".xls"):
        return "application/vnd.ms-excel"
    if name.endswith(".pdf"):
        return "application/pdf"
    if name.endswith(".csv"):
        return "text/csv"
    if name.endswith((".png", ".jpg", ".jpeg", ".gif")):
        return guess_image_type(name)
    return "application/octet-stream"
