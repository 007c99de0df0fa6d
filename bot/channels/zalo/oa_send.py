"""Zalo OA: what goes out — /message/cs text, numbered options or the transaction template,
attachments (upload/file, upload/image, or a signed download link), and the OA's error codes turned
into the outbox's DeliveryError. Mixed into ZaloOAChannel (oa.py), which owns the state."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp

from bot.channels.zalo import window
from bot.channels.zalo.common import SignedFiles, guess_image_type, mime_for, split_text
from bot.channels.zalo.oa_errors import Action, action_for, backoff_for
from bot.channels.zalo.oa_tokens import NotAuthorized, OAuthError, TokenStore
from bot.config import ZaloOASettings
from bot.intake import render_numbered
from bot.kernel import App, DeliveryError
from db.repositories import core as core_repo
from handlers.core import Attachment, AttachmentKind, Button, FileLimits, Reply
from services import outbox

log = logging.getLogger("tocns.zalo_oa")
CHANNEL = "zalo_oa"


# upload/file: PDF, DOC, DOCX up to 5 MB (Zalo's OA docs; some third-party guides add CSV or
# XLS/XLSX — sources disagree, so only what the official page lists). upload/image: JPG/PNG ≤ 1 MB.
# What is sent as a file; the rest goes as a signed link or a note. The hand-off reads the same
# value (bot/serve.py fills the app's AttachmentReach from it).
UPLOADS = FileLimits(
    photo_types=(".jpg", ".jpeg", ".png"),
    photo_max=1 * 1024 * 1024,
    document_types=(".pdf", ".doc", ".docx"),
    document_max=5 * 1024 * 1024,
)
# The transaction template: limits we keep under (the docs give titles ≤ 100 characters; for
# the rest we stay conservative, failing safe to numbered text when a reply does not fit).
TEMPLATE_MAX_BUTTONS = 4
TEMPLATE_HEADER_MAX = 100
TEMPLATE_TEXT_MAX = 1000


class OAError(Exception):
    def __init__(self, status: int, code: int | None, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status} error={code}: {message[:120]}")
        self.status = status
        self.code = code
        self.retry_after = retry_after

    @property
    def action(self) -> Action:
        return action_for(self.code, self.status)


class OAOutgoing:
    """Sending to OA users; the attributes are the channel's (see ZaloOAChannel.__init__)."""

    app: App
    settings: ZaloOASettings
    supports_buttons: bool
    http: aiohttp.ClientSession | None
    tokens: TokenStore | None
    files: SignedFiles | None
    clock: Callable[[], datetime]

    def _t(self, key: str, **params: str) -> str:
        raise NotImplementedError

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Text first, then the options, then the attachment — an attachment that cannot be
        sent becomes a download link or a note, never a lost text."""
        await self._check_window(chat_id)
        recipient = {"user_id": chat_id}
        buttons = [b for row in reply.buttons for b in row]
        if buttons:
            await self._send_with_options(chat_id, recipient, reply.text, buttons)
        else:
            for piece in split_text(reply.text):
                await self._message(recipient, {"text": piece})
        if reply.attachment is not None:
            await self._send_attachment(recipient, reply.attachment)

    async def _check_window(self, chat_id: str) -> None:
        async with self.app.sessions() as session:
            band = await window.band_of(session, CHANNEL, chat_id, self.clock())
        if band is window.Band.CLOSED:
            raise DeliveryError("zalo_oa: no interaction for 7 days (window closed)", unreachable=True)

    async def _send_with_options(
        self, chat_id: str, recipient: dict[str, str], text: str, buttons: list[Button]
    ) -> None:
        choices = [b for b in buttons if not b.url]
        links = [b for b in buttons if b.url]
        fits = (
            self.supports_buttons
            and 0 < len(buttons) <= TEMPLATE_MAX_BUTTONS
            and all(len(b.label) <= TEMPLATE_HEADER_MAX for b in buttons)
        )
        if not fits:
            numbered, menu = render_numbered(text, tuple((b,) for b in buttons))
            if choices:
                numbered += "\n" + self._t("core.choose_number")
            for piece in split_text(numbered):
                await self._message(recipient, {"text": piece})
            await self._save_menu(chat_id, menu)
            return
        header, body = _header_and_body(text)
        if len(body) > TEMPLATE_TEXT_MAX or len(header) > TEMPLATE_HEADER_MAX:
            for piece in split_text(text):
                await self._message(recipient, {"text": piece})
            header, body = self._t("zalo.more_options"), ""
        menu = [[b.label, b.payload] for b in choices]
        template_buttons: list[dict[str, Any]] = []
        for b in buttons:
            if b.url:
                template_buttons.append({"title": b.label, "type": "oa.open.url", "payload": {"url": b.url}})
            else:
                number = str(1 + choices.index(b))
                template_buttons.append(
                    {"title": b.label, "type": self.settings.button_type, "payload": number}
                )
        elements: list[dict[str, Any]] = [{"type": "header", "content": header, "align": "left"}]
        if body:
            elements.append({"type": "text", "content": body, "align": "left"})
        message = {
            "attachment": {
                "type": "template",
                "payload": {
                    "template_type": self.settings.template_type,
                    "language": "VI",
                    "elements": elements,
                    "buttons": template_buttons,
                },
            }
        }
        await self._api("/v3.0/oa/message/transaction", body={"recipient": recipient, "message": message})
        if links and not choices:
            return
        await self._save_menu(chat_id, menu)

    async def _save_menu(self, chat_id: str, menu: list[Any]) -> None:
        async with self.app.sessions() as session, session.begin():
            await core_repo.set_menu(session, CHANNEL, chat_id, chat_id, menu)

    async def _send_attachment(self, recipient: dict[str, str], att: Attachment) -> None:
        name = att.filename.lower()
        try:
            if att.kind is AttachmentKind.PHOTO:
                if UPLOADS.allows(att):
                    result = await self._api(
                        "/v2.0/oa/upload/image", upload=(att.filename, att.data, guess_image_type(name))
                    )
                    element = {"media_type": "image", "attachment_id": result.get("attachment_id")}
                    message: dict[str, Any] = {
                        "attachment": {
                            "type": "template",
                            "payload": {"template_type": "media", "elements": [element]},
                        }
                    }
                    caption = att.caption.strip()
                    if caption and len(split_text(caption)) == 1:
                        message["text"] = caption
                        caption = ""
                    await self._message(recipient, message)
                    for piece in split_text(caption):
                        await self._message(recipient, {"text": piece})
                    return
            elif UPLOADS.allows(att):
                result = await self._api(
                    "/v2.0/oa/upload/file", upload=(att.filename, att.data, mime_for(name))
                )
                await self._message(
                    recipient, {"attachment": {"type": "file", "payload": {"token": result.get("token")}}}
                )
                for piece in split_text(att.caption):
                    await self._message(recipient, {"text": piece})
                return
        except DeliveryError as exc:
            if exc.unreachable:
                raise
            log.info("zalo_oa: attachment %s not sent (%s): sending a link instead", att.filename, exc)
        await self._send_link(recipient, att)

    async def _send_link(self, recipient: dict[str, str], att: Attachment) -> None:
        """The attachment as a short-lived signed download link, or a note when links are off."""
        if self.files is not None:
            mime = (
                guess_image_type(att.filename) if att.kind is AttachmentKind.PHOTO else mime_for(att.filename)
            )
            url = await self.files.put(att.data, mime, att.filename)
            minutes = str(self.settings.link_ttl_minutes)
            note = self._t("zalo.download_link", name=att.filename, url=url, minutes=minutes)
        else:
            key = (
                "zalo.photo_unavailable" if att.kind is AttachmentKind.PHOTO else "zalo.document_unavailable"
            )
            note = self._t(key, name=att.filename)
        for piece in split_text("\n\n".join(p for p in (att.caption, note) if p)):
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
                if exc.action is not Action.REFRESH:
                    raise
                token = await self.tokens.refresh(token)
                return await self._call(path, token, body, upload)
        except OAError as exc:
            raise await self._delivery_error(exc) from None
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
        kwargs: dict[str, Any] = {
            "headers": {"access_token": token},
            "timeout": aiohttp.ClientTimeout(total=30),
        }
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
            with contextlib.suppress(json.JSONDecodeError, aiohttp.ContentTypeError, UnicodeDecodeError):
                data = await resp.json(content_type=None)
        wait = float(retry_after) if retry_after and retry_after.isdigit() else None
        code = _error_code(data)
        if code:  # the body decides, on HTTP 200 and on 4xx/5xx alike
            raise OAError(status, code, str(data.get("message", "")), wait)
        if status >= 400:
            raise OAError(status, None, f"HTTP {status}", wait)
        if not isinstance(data, dict):
            raise OAError(status, None, "not a JSON object")
        result = data.get("data")
        return result if isinstance(result, dict) else {}

    async def _delivery_error(self, exc: OAError) -> DeliveryError:
        action = exc.action
        if action is Action.UNREACHABLE:
            return DeliveryError(str(exc), unreachable=True)
        if action is Action.PERMANENT or action is Action.REFRESH:
            return DeliveryError(str(exc), permanent=action is Action.PERMANENT)
        if action is Action.BACKOFF:
            return DeliveryError(str(exc), retry_after=backoff_for(exc.code, exc.retry_after))
        if action is Action.BILLING:
            await self._alert_billing(exc.code or 0)
            return DeliveryError(str(exc), permanent=True)
        return DeliveryError(str(exc), retry_after=exc.retry_after)

    async def _alert_billing(self, code: int) -> None:
        log.error("zalo_oa: Zalo refused sending for billing reasons (error %s); admins alerted", code)
        try:
            async with self.app.sessions() as session, session.begin():
                queued = await window.alert_admins(
                    session, self.app.catalog, self.app.settings.app.locale, CHANNEL, code
                )
        except Exception:
            log.exception("zalo_oa: could not queue the billing alert")
            return
        if queued:
            self.app.dispatcher.wake()

    async def on_unreachable(self, session: Any, item: outbox.OutboxItem) -> None:
        """Dispatcher hook: an OA push that cannot reach its person goes to their other channel."""
        await window.reroute(session, CHANNEL, item)


def _error_code(data: Any) -> int | None:
    if not isinstance(data, dict):
        return None
    raw = data.get("error")
    try:
        code = int(raw) if raw is not None else 0
    except (TypeError, ValueError):
        return None
    return code or None


def _header_and_body(text: str) -> tuple[str, str]:
    lines = text.strip().split("\n", 1)
    header = lines[0].strip()
    body = lines[1].strip() if len(lines) > 1 else ""
    return header, body
