"""A local stand-in for Zalo's OA Open API v3 and OAuth v4, written from the contract, not from
the adapter.

Sources (public):
- Zalo for Developers, Official Account API (developers.zalo.me/docs/official-account):
  customer-service messages `POST /v3.0/oa/message/cs` with the `access_token` header — text
  (1-2,000 characters), image as a `media` template (one element, `attachment_id` from
  `/v2.0/oa/upload/image` or a `url`), file (`{"type": "file", "payload": {"token"}}` from
  `/v2.0/oa/upload/file`: PDF/DOC/DOCX, ≤ 5 MB), sticker, request-user-info; no buttons on
  /message/cs. Buttons are documented on the transaction template
  (`/v3.0/oa/message/transaction`: template_type transaction_*, language VI/EN, elements
  banner/header/text/table, buttons oa.open.url / oa.query.show / oa.query.hide / oa.open.sms /
  oa.open.phone). Errors come as HTTP 200 with `error` ≠ 0 (-216 invalid token, -220 expired
  token, -201 invalid parameters, -210 parameter over its limit, -213 not a follower, -227
  account locked/inactive, -230 no interaction for 7 days, -232 no interaction, -32 rate limit,
  -211 quota, -320/-321 billing).
- Webhook: `X-ZEvent-Signature: mac=sha256(app_id + body + timestamp + OA secret key)`; answer
  200 within 2 seconds or Zalo retries after 30 s, 5 min, 15 min, 30 min, 1 h, then disables the
  webhook (Zalo webhook docs; also hoangnd25/monorepo wip/zalo-platform-integration.md, which
  names oa_id instead of app_id in the MAC — the official page uses app_id).
- OAuth v4 (developers.zalo.me, "xác thực và ủy quyền", and zaloplatform/zalo-java-sdk):
  `/v4/oa/permission?app_id&redirect_uri&code_challenge&state`, `/v4/oa/access_token` with the
  `secret_key` header, form `app_id`, `grant_type` authorization_code (+`code_verifier`, S256)
  or refresh_token; access token ~25 h (`expires_in` "90000"), refresh token single-use and
  rotating, ~3 months. The OA console can keep a saved code challenge (`console_challenge`).
- Zalo's Java SDK (zaloplatform/zalo-java-sdk, v3 samples): the media template with an optional
  `text` (SendImageCSMessage), the transaction template with banner/header/text/table elements and
  oa.open.url / oa.query.show / oa.open.phone buttons (SendTransactionMessage), MacUtils.
- Messaging window: free within 48 h of the user's last interaction, billable to 7 days, refused
  after (-230) (the guide above; subiz.com.vn's Zalo OA error page and
  khoicodedao/Poto_platform docs/FIX_ERROR_230.md report -230 in practice).
- Upload types: n8n-node-zalo-oa docs list XLS/XLSX too; the official page does not — the fake
  follows the official page (stricter).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

INVALID_TOKEN = -216
EXPIRED_TOKEN = -220
INVALID_PARAMS = -201
NOT_FOLLOWER = -213
NO_INTERACTION = -230
INVALID_REFRESH = -14014
INVALID_CODE = -14019
TEXT_MAX = 2000
FILE_TYPES = (".pdf", ".doc", ".docx")
FILE_MAX = 5 * 1024 * 1024
IMAGE_TYPES = (".jpg", ".jpeg", ".png")
IMAGE_MAX = 1024 * 1024
WINDOW = 7 * 24 * 3600
WEBHOOK_DEADLINE = 2.0
RETRY_SCHEDULE = (30, 300, 900, 1800, 3600)
TRANSACTION_TYPES = {
    "transaction_billing",
    "transaction_order",
    "transaction_reward",
    "transaction_contract",
    "transaction_booking",
    "transaction_membership",
    "transaction_event",
    "transaction_transaction",
    "transaction_account",
    "transaction_internal",
    "transaction_partnership",
    "transaction_education",
    "transaction_rating",
}
BUTTON_TYPES = {"oa.open.url", "oa.query.show", "oa.query.hide", "oa.open.sms", "oa.open.phone"}
ELEMENT_TYPES = {"banner", "header", "text", "table"}


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


class FakeZaloOA:
    def __init__(self, app_id: str, secret_key: str, oa_secret_key: str) -> None:
        self.app_id = app_id
        self.secret_key = secret_key
        self.oa_secret_key = oa_secret_key
        self.clock: Callable[[], float] = time.time
        self.valid_access: set[str] = set()
        self.expiry_code = INVALID_TOKEN  # what a stale access token gets (-216 or -220)
        self.refresh_token = ""
        self.used_refresh: set[str] = set()
        self.refreshes = 0
        self.codes: dict[str, str] = {}  # code -> code_challenge
        self.console_challenge = ""  # a challenge saved in the OA console
        self.sent: list[dict[str, Any]] = []  # accepted message bodies (cs and transaction)
        self.rejected: list[tuple[str, dict[str, Any], int]] = []
        self.uploads: list[tuple[str, str, int]] = []  # (kind, filename, size)
        self.file_tokens: set[str] = set()
        self.image_ids: set[str] = set()
        self.last_interaction: dict[str, float] = {}
        self.not_followers: set[str] = set()
        self.errors_for: dict[str, int] = {}  # user -> error code for every send to them
        self.fail_next: list[tuple[int, int]] = []  # (HTTP status, error code) for next sends
        self.files: dict[str, bytes] = {}
        self.webhook_url = ""
        self.redeliveries_due: list[tuple[dict[str, Any], int]] = []  # (event, delay s)
        self.webhook_latencies: list[float] = []
        self._ids = itertools.count(1)
        webapp = web.Application(client_max_size=8 * 1024 * 1024)
        webapp.router.add_post("/v3.0/oa/message/cs", self._cs)
        webapp.router.add_post("/v3.0/oa/message/transaction", self._transaction)
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

    def expire_access(self, code: int = INVALID_TOKEN) -> None:
        self.valid_access.clear()
        self.expiry_code = code

    def authorize(self, code_challenge: str | None = None) -> str:
        """The admin grants permission: a one-time code bound to the challenge of the link (or
        the one saved in the OA console)."""
        code = "code-" + secrets.token_hex(6)
        self.codes[code] = code_challenge if code_challenge is not None else self.console_challenge
        return code

    # --- events ----------------------------------------------------------------------------

    def text_event(self, user: str, text: str, *, msg_id: str | None = None) -> dict[str, Any]:
        return self._event("user_send_text", user, {"text": text, "msg_id": msg_id or self._msg_id()})

    def attachment_event(self, user: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """user_send_sticker / _audio / _video / _gif / _location / _business_card: an attachment of
        that type and no text (OA webhook docs, "Sự kiện người dùng gửi tin nhắn")."""
        message = {"msg_id": self._msg_id(), "attachments": [{"type": kind, "payload": payload}]}
        return self._event(f"user_send_{kind}", user, message)

    def file_event(
        self, user: str, name: str, data: bytes, *, kind: str = "file", url: str | None = None
    ) -> dict[str, Any]:
        self.files[name] = data
        payload: dict[str, Any] = {"url": url or f"{self.base_url}/files/{name}"}
        if kind == "file":
            payload.update(name=name, size=str(len(data)), type=name.rsplit(".", 1)[-1])
        else:
            payload["thumbnail"] = payload["url"]
        event = "user_send_file" if kind == "file" else "user_send_image"
        message = {"msg_id": self._msg_id(), "attachments": [{"type": kind, "payload": payload}]}
        return self._event(event, user, message)

    def follow_event(self, user: str, name: str = "follow") -> dict[str, Any]:
        self.last_interaction[user] = self.clock()
        return {
            "app_id": self.app_id,
            "oa_id": "oa-1",
            "event_name": name,
            "follower": {"id": user},
            "source": "testing",
            "timestamp": str(int(self.clock() * 1000) + next(self._ids)),
        }

    def _event(self, name: str, user: str, message: dict[str, Any]) -> dict[str, Any]:
        self.last_interaction[user] = self.clock()
        return {
            "app_id": self.app_id,
            "user_id_by_app": "app-" + user,
            "event_name": name,
            "timestamp": str(int(self.clock() * 1000) + next(self._ids)),
            "sender": {"id": user},
            "recipient": {"id": "oa-1"},
            "message": message,
        }

    def _msg_id(self) -> str:
        return secrets.token_hex(16)

    def sign(self, raw: bytes, timestamp: str, oa_secret_key: str | None = None) -> str:
        key = self.oa_secret_key if oa_secret_key is None else oa_secret_key
        return (
            "mac="
            + hashlib.sha256(self.app_id.encode() + raw + timestamp.encode() + key.encode()).hexdigest()
        )

    async def deliver(
        self, event: dict[str, Any], *, oa_secret_key: str | None = None, tamper: bool = False, retry: int = 0
    ) -> int | None:
        """POST the signed event (wrong key / tampered body to forge). Returns the status, or None
        when no answer came within 2 s; a miss or a non-200 is recorded as a due redelivery."""
        raw = json.dumps(event, ensure_ascii=False).encode()
        headers = {"X-ZEvent-Signature": self.sign(raw, str(event.get("timestamp", "")), oa_secret_key)}
        if tamper:
            raw = raw.replace(b"}", b', "x": 1}', 1)
        headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    self.webhook_url,
                    data=raw,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=WEBHOOK_DEADLINE),
                ) as resp,
            ):
                status: int | None = resp.status
        except TimeoutError:
            status = None
        self.webhook_latencies.append(time.perf_counter() - started)
        if status != 200 and retry < len(RETRY_SCHEDULE):
            self.redeliveries_due.append((event, RETRY_SCHEDULE[retry]))
        return status

    def messages_to(self, user: str) -> list[dict[str, Any]]:
        return [b["message"] for b in self.sent if b["recipient"]["user_id"] == user]

    # --- the API ---------------------------------------------------------------------------

    def _refuse(self, path: str, body: dict[str, Any], code: int, message: str) -> web.Response:
        self.rejected.append((path, body, code))
        return web.json_response({"error": code, "message": message})

    def _check_send(self, request: web.Request, body: Any) -> tuple[str, web.Response | None]:
        if self.fail_next:
            status, code = self.fail_next.pop(0)
            payload = {"error": code, "message": "injected"} if code else {"message": "injected"}
            return "", web.json_response(payload, status=status)
        if request.headers.get("access_token") not in self.valid_access:
            return "", self._refuse(request.path, {}, self.expiry_code, "Access token is invalid or expired")
        if not isinstance(body, dict):
            return "", self._refuse(request.path, {}, INVALID_PARAMS, "body must be an object")
        user = str((body.get("recipient") or {}).get("user_id") or "")
        if not user or not isinstance(body.get("message"), dict):
            return "", self._refuse(request.path, body, INVALID_PARAMS, "recipient and message are required")
        if user in self.errors_for:
            return user, self._refuse(request.path, body, self.errors_for[user], "refused for this user")
        if user in self.not_followers:
            return user, self._refuse(request.path, body, NOT_FOLLOWER, "User has not followed the OA")
        last = self.last_interaction.get(user)
        if last is None or self.clock() - last > WINDOW:
            return user, self._refuse(
                request.path, body, NO_INTERACTION, "User has not interacted with the OA in the past 7 days"
            )
        return user, None

    async def _cs(self, request: web.Request) -> web.Response:
        body = await _json(request)
        user, refused = self._check_send(request, body)
        if refused is not None:
            return refused
        problem = self._cs_problem(body["message"])
        if problem:
            return self._refuse(request.path, body, INVALID_PARAMS, problem)
        return self._accept(body, user)

    def _cs_problem(self, message: dict[str, Any]) -> str:
        """Only the shapes /message/cs documents: text, media template (image/sticker), file,
        request_user_info. Anything else — buttons included — is invalid."""
        allowed = {"text", "attachment"}
        if set(message) - allowed:
            return f"unknown fields {sorted(set(message) - allowed)}"
        text = message.get("text")
        if text is not None and (not isinstance(text, str) or not 1 <= utf16_len(text) <= TEXT_MAX):
            return "text must have 1-2000 characters"
        att = message.get("attachment")
        if att is None:
            return "" if text is not None else "message is empty"
        if not isinstance(att, dict):
            return "attachment must be an object"
        kind, payload = att.get("type"), att.get("payload")
        if not isinstance(payload, dict):
            return "attachment payload missing"
        if kind == "file":
            if text is not None:
                return "a file message has no text"
            return (
                ""
                if payload.get("token") in self.file_tokens and set(payload) == {"token"}
                else "bad file token"
            )
        if kind != "template":
            return f"attachment type {kind!r} not documented"
        template = payload.get("template_type")
        if "buttons" in payload:
            return "buttons are not documented on /message/cs"
        if template == "media":
            elements = payload.get("elements")
            if not isinstance(elements, list) or len(elements) != 1:
                return "media needs exactly one element"
            el = elements[0]
            if el.get("media_type") == "image":
                return "" if el.get("attachment_id") in self.image_ids or el.get("url") else "bad image"
            if el.get("media_type") == "sticker":
                return "" if el.get("attachment_id") else "bad sticker"
            return "unknown media_type"
        if template == "request_user_info":
            return ""
        return f"template_type {template!r} not documented on /message/cs"

    async def _transaction(self, request: web.Request) -> web.Response:
        body = await _json(request)
        user, refused = self._check_send(request, body)
        if refused is not None:
            return refused
        problem = _transaction_problem(body["message"])
        if problem:
            return self._refuse(request.path, body, INVALID_PARAMS, problem)
        return self._accept(body, user)

    def _accept(self, body: dict[str, Any], user: str) -> web.Response:
        self.sent.append(body)
        return web.json_response(
            {"error": 0, "message": "Success", "data": {"message_id": self._msg_id(), "user_id": user}}
        )

    async def _upload(self, request: web.Request) -> web.Response:
        kind = "image" if request.path.endswith("/image") else "file"
        if request.headers.get("access_token") not in self.valid_access:
            return self._refuse(request.path, {}, self.expiry_code, "Access token is invalid or expired")
        reader = await request.multipart()
        part = await reader.next()
        if part is None or getattr(part, "name", None) != "file":
            return self._refuse(request.path, {}, INVALID_PARAMS, "file is missing")
        data = await part.read()  # type: ignore[union-attr]
        filename = str(getattr(part, "filename", "") or "").lower()
        types, cap = (IMAGE_TYPES, IMAGE_MAX) if kind == "image" else (FILE_TYPES, FILE_MAX)
        if not filename.endswith(types):
            return self._refuse(
                request.path, {"filename": filename}, INVALID_PARAMS, "file type not supported"
            )
        if len(data) > cap:
            return self._refuse(request.path, {"filename": filename}, INVALID_PARAMS, "file too large")
        self.uploads.append((kind, filename, len(data)))
        if kind == "image":
            ident = f"img-{next(self._ids)}"
            self.image_ids.add(ident)
            return web.json_response({"error": 0, "message": "Success", "data": {"attachment_id": ident}})
        token = f"file-{secrets.token_hex(6)}"
        self.file_tokens.add(token)
        return web.json_response({"error": 0, "message": "Success", "data": {"token": token}})

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
            if challenge is None or s256(verifier) != challenge:
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


def _transaction_problem(message: dict[str, Any]) -> str:
    if set(message) != {"attachment"}:
        return "a transaction message is one template attachment"
    att = message["attachment"]
    payload = att.get("payload") if isinstance(att, dict) else None
    if not isinstance(att, dict) or att.get("type") != "template" or not isinstance(payload, dict):
        return "attachment must be a template"
    if payload.get("template_type") not in TRANSACTION_TYPES:
        return "template_type not documented"
    if payload.get("language", "VI") not in ("VI", "EN"):
        return "language must be VI or EN"
    elements = payload.get("elements")
    if not isinstance(elements, list) or not elements:
        return "elements required"
    for el in elements:
        if not isinstance(el, dict) or el.get("type") not in ELEMENT_TYPES:
            return "element type not documented"
        content = el.get("content")
        if el["type"] == "header" and (not isinstance(content, str) or not 1 <= len(content) <= 100):
            return "header 1-100 characters"
        if el["type"] == "text" and (not isinstance(content, str) or not 1 <= len(content) <= 1000):
            return "text 1-1000 characters"
    buttons = payload.get("buttons", [])
    if not isinstance(buttons, list) or len(buttons) > 4:
        return "at most 4 buttons"
    for b in buttons:
        if not isinstance(b, dict) or b.get("type") not in BUTTON_TYPES:
            return "button type not documented"
        if not isinstance(b.get("title"), str) or not 1 <= len(b["title"]) <= 100:
            return "button title 1-100 characters"
        if b["type"] == "oa.open.url":
            if not isinstance(b.get("payload"), dict) or not str(b["payload"].get("url", "")).startswith(
                "http"
            ):
                return "oa.open.url needs payload.url"
        elif not isinstance(b.get("payload"), str) or not 1 <= len(b["payload"]) <= 1000:
            return "query payload 1-1000 characters"
    return ""


async def _json(request: web.Request) -> Any:
    try:
        return json.loads(await request.read())
    except ValueError:
        return None
