"""A local stand-in for Zalo's OA Open API v3 and OAuth v4, over HTTP: signed webhook events
(X-ZEvent-Signature), /v3.0/oa/message/cs with an access_token header (-216 when invalid or
expired), image/file upload, rotating single-use refresh tokens, PKCE code exchange, window
errors (-213 / -230) and injected 429/5xx."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
import time
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

NO_INTERACTION = -230
NOT_FOLLOWER = -213
INVALID_TOKEN = -216
INVALID_REFRESH = -14014
INVALID_CODE = -14019


class FakeZaloOA:
    def __init__(self, app_id: str, secret_key: str, oa_secret_key: str) -> None:
        self.app_id = app_id
        self.secret_key = secret_key
        self.oa_secret_key = oa_secret_key
        self.valid_access: set[str] = set()
        self.refresh_token = ""
        self.used_refresh: set[str] = set()
        self.refreshes = 0
        self.codes: dict[str, str] = {}  # code -> code_challenge
        self.sent: list[dict[str, Any]] = []  # accepted message/cs bodies
        self.uploads: list[tuple[str, str, int]] = []  # (kind, filename, size)
        self.unreachable: set[str] = set()  # users outside the 7-day window (-230)
        self.not_followers: set[str] = set()  # users who never followed (-213)
        self.fail_next: list[int] = []  # HTTP statuses for the next message/cs calls
        self.files: dict[str, bytes] = {}
        self.webhook_url = ""
        self._ids = itertools.count(1)
        webapp = web.Application()
        webapp.router.add_post("/v3.0/oa/message/cs", self._message)
        webapp.router.add_post("/v2.0/oa/upload/image", self._upload)
        webapp.router.add_post("/v2.0/oa/upload/file", self._upload)
        webapp.router.add_post("/v4/oa/access_token", self._access_token)
        webapp.router.add_get("/files/{name}", self._file)
        self.server = TestServer(webapp)

    @property
    def base_url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    async def start(self) -> None:
        await self.server.start_server()

    async def close(self) -> None:
        await self.server.close()

    # --- tokens ----------------------------------------------------------------------------

    def issue_tokens(self) -> tuple[str, str]:
        access, refresh = "at-" + secrets.token_hex(8), "rt-" + secrets.token_hex(8)
        self.valid_access.add(access)
        self.refresh_token = refresh
        return access, refresh

    def expire_access(self) -> None:
        self.valid_access.clear()

    def authorize(self, code_challenge: str) -> str:
        """What Zalo does when the admin grants permission: a one-time code bound to the challenge."""
        code = "code-" + secrets.token_hex(6)
        self.codes[code] = code_challenge
        return code

    # --- events ----------------------------------------------------------------------------

    def text_event(self, user: str, text: str, *, msg_id: str | None = None) -> dict[str, Any]:
        return self._event("user_send_text", user, {"text": text, "msg_id": msg_id or self._msg_id()})

    def file_event(self, user: str, name: str, data: bytes, *, kind: str = "file") -> dict[str, Any]:
        self.files[name] = data
        url = f"{self.base_url}/files/{name}"
        payload: dict[str, Any] = {"url": url}
        if kind == "file":
            payload.update(name=name, size=str(len(data)), type=name.rsplit(".", 1)[-1])
        event = "user_send_file" if kind == "file" else "user_send_image"
        message = {"msg_id": self._msg_id(), "attachments": [{"type": kind, "payload": payload}]}
        return self._event(event, user, message)

    def follow_event(self, user: str, name: str = "follow") -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "oa_id": "oa-1",
            "event_name": name,
            "follower": {"id": user},
            "source": "testing",
            "timestamp": str(int(time.time() * 1000)),
        }

    def _event(self, name: str, user: str, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "user_id_by_app": "app-" + user,
            "event_name": name,
            "timestamp": str(int(time.time() * 1000) + next(self._ids)),
            "sender": {"id": user},
            "recipient": {"id": "oa-1"},
            "message": message,
        }

    def _msg_id(self) -> str:
        return f"msg{next(self._ids):08d}"

    def sign(self, raw: bytes, timestamp: str, oa_secret_key: str | None = None) -> str:
        key = self.oa_secret_key if oa_secret_key is None else oa_secret_key
        return (
            "mac="
            + hashlib.sha256(self.app_id.encode() + raw + timestamp.encode() + key.encode()).hexdigest()
        )

    async def deliver(
        self, event: dict[str, Any], *, oa_secret_key: str | None = None, tamper: bool = False
    ) -> int:
        """POST the event to the webhook URL, signed (with a wrong key / tampered body to forge)."""
        raw = json.dumps(event, ensure_ascii=False).encode()
        headers = {"X-ZEvent-Signature": self.sign(raw, str(event.get("timestamp", "")), oa_secret_key)}
        if tamper:
            raw = raw.replace(b"}", b', "x": 1}', 1)
        headers["Content-Type"] = "application/json"
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.webhook_url, data=raw, headers=headers) as resp,
        ):
            return resp.status

    def messages_to(self, user: str) -> list[dict[str, Any]]:
        return [b["message"] for b in self.sent if b["recipient"]["user_id"] == user]

    # --- the API ---------------------------------------------------------------------------

    async def _message(self, request: web.Request) -> web.Response:
        if self.fail_next:
            status = self.fail_next.pop(0)
            return web.json_response({"error": status, "message": "injected"}, status=status)
        if request.headers.get("access_token") not in self.valid_access:
            return _error(INVALID_TOKEN, "Access token is invalid")
        body = await request.json()
        user = str((body.get("recipient") or {}).get("user_id") or "")
        message = body.get("message") or {}
        if not user or not isinstance(message, dict):
            return _error(-201, "Parameters are invalid")
        text = message.get("text")
        if text is not None and (not isinstance(text, str) or not 1 <= len(text) <= 2000):
            return _error(-201, "text must have 1-2000 characters")
        attachment = message.get("attachment")
        if text is None and attachment is None:
            return _error(-201, "message is empty")
        if isinstance(attachment, dict) and attachment.get("type") == "template":
            buttons = (attachment.get("payload") or {}).get("buttons") or []
            if len(buttons) > 5 or any(
                b.get("type") not in ("oa.query.show", "oa.query.hide", "oa.open.url") for b in buttons
            ):
                return _error(-201, "invalid buttons")
        if user in self.unreachable:
            return _error(NO_INTERACTION, "User has not interacted with the OA in the past 7 days")
        if user in self.not_followers:
            return _error(NOT_FOLLOWER, "User has not followed the OA")
        self.sent.append(body)
        return web.json_response(
            {"error": 0, "message": "Success", "data": {"message_id": self._msg_id(), "user_id": user}}
        )

    async def _upload(self, request: web.Request) -> web.Response:
        if request.headers.get("access_token") not in self.valid_access:
            return _error(INVALID_TOKEN, "Access token is invalid")
        reader = await request.multipart()
        part = await reader.next()
        if part is None or getattr(part, "name", None) != "file":
            return _error(-201, "file is missing")
        data = await part.read()  # type: ignore[union-attr]
        kind = "image" if request.path.endswith("/image") else "file"
        self.uploads.append((kind, str(getattr(part, "filename", "")), len(data)))
        key = "attachment_id" if kind == "image" else "token"
        return web.json_response(
            {"error": 0, "message": "Success", "data": {key: f"{kind}-{next(self._ids)}"}}
        )

    async def _access_token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if request.headers.get("secret_key") != self.secret_key or form.get("app_id") != self.app_id:
            return web.json_response({"error": -14002, "error_name": "Invalid app secret"})
        grant = form.get("grant_type")
        if grant == "refresh_token":
            token = str(form.get("refresh_token") or "")
            if token != self.refresh_token or token in self.used_refresh:
                return web.json_response({"error": INVALID_REFRESH, "error_name": "Invalid refresh token"})
            self.used_refresh.add(token)
            self.refreshes += 1
        elif grant == "authorization_code":
            challenge = self.codes.pop(str(form.get("code") or ""), None)
            verifier = str(form.get("code_verifier") or "")
            computed = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
            )
            if challenge is None or computed != challenge:
                return web.json_response({"error": INVALID_CODE, "error_name": "Invalid authorization code"})
        else:
            return web.json_response({"error": -14001, "error_name": "Invalid grant type"})
        access, refresh = self.issue_tokens()
        return web.json_response({"access_token": access, "refresh_token": refresh, "expires_in": "90000"})

    async def _file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["name"])
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type="application/octet-stream")


def _error(code: int, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message})
