"""Run the real Zalo adapters against the local contract fakes (tests/fakes/zalo_*.py): the
project's aiohttp web app on a real port (webhooks, download links), the adapter's own HTTP client
towards the fake API, the real App and intake. The fakes serve people's files from 127.0.0.1, so
the harness lists that host and allows private addresses (off in production)."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer, unused_port
from sqlalchemy import select

from bot import serve
from bot.channels.zalo import bot as zalo_bot
from bot.channels.zalo import oa as zalo_oa
from bot.kernel import App
from db.base import utcnow
from db.models import OutboxMessage, ProcessedUpdate, TicketMessage
from db.repositories import zalo as zalo_repo
from tests.fakes.zalo_bot_api import FakeZaloBotApi
from tests.fakes.zalo_oa_api import FakeZaloOA
from tests.support import count

BOT_TOKEN = "1459232241454765289:test-token"
FAKE_FILES = {"file_hosts": ["127.0.0.1"], "allow_private_file_hosts": True}
BOT_SECRET = "s3cret-webhook-token"
OA_APP_ID = "4321"
OA_SECRET = "app-secret-key"
OA_OA_SECRET = "oa-secret-key"


async def wait_until(cond: Any, limit: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not cond():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


async def outbox(app: App) -> list[OutboxMessage]:
    async with app.sessions() as s:
        return list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


class ZaloBotHarness:
    """The Zalo Bot adapter in `polling` or `webhook` mode against FakeZaloBotApi."""

    name = "zalo_bot"

    def __init__(self, app: App, mode: str = "polling", *, public_files: bool = True, **extra: Any) -> None:
        self.app = app
        self.mode = mode
        self.public_files = public_files
        self.extra = extra
        self.last_status: int | None = None
        self.fake = FakeZaloBotApi(BOT_TOKEN)
        self.port = unused_port()
        self.server: TestServer | None = None
        self.channel: zalo_bot.ZaloBotChannel | None = None

    @property
    def has_webhook(self) -> bool:
        return self.mode == "webhook"

    async def __aenter__(self) -> ZaloBotHarness:
        await self.fake.start()
        public = f"http://127.0.0.1:{self.port}"
        self.app.settings.extra["zalo_bot"] = {
            "mode": self.mode,
            "poll_timeout": 1,
            "webhook_public_url": public,
            "files_public_url": public if self.public_files else "",
            **FAKE_FILES,
            **self.extra,
        }
        env = {
            "TOCNS_ZALO_BOT_TOKEN": BOT_TOKEN,
            "TOCNS_ZALO_BOT_WEBHOOK_SECRET": BOT_SECRET,
            "TOCNS_ZALO_BOT_BASE_URL": self.fake.base_url,
        }
        serve.set_attachment_reach(self.app)  # as `tocns run` does, from these settings
        webapp = web.Application()
        self.channel = zalo_bot.build_channel(self.app, webapp, environ=env)
        assert self.channel is not None
        self.server = TestServer(webapp, host="127.0.0.1", port=self.port)
        await self.server.start_server()
        await self.channel.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.channel is not None and self.server is not None
        await self.channel.stop()
        await self.server.close()
        await self.fake.close()
        self.app.settings.extra.pop("zalo_bot", None)

    async def settle(self) -> None:
        assert self.channel is not None
        channel = self.channel
        # Twice: a reply sent by the first round can make the fake hand back an echo (the bot's own
        # message), which the second round waits for as well.
        fake = self.fake
        for _ in range(2):
            if self.mode == "polling":
                await wait_until(lambda: fake.updates.empty() and channel.processed >= fake.delivered)
            await channel.inbound.drain()
            await channel.replies.drain()

    async def send(
        self, user: str, text: str, *, message_id: str | None = None, name: str = "Chị Lan"
    ) -> list[str]:
        mark = len(self.fake.sent)
        self.last_status = await self.fake.deliver(
            self.fake.update(user, text, message_id=message_id, name=name)
        )
        await self.settle()
        return [str(p.get("text") or p.get("caption")) for p in self.fake.sent[mark:] if p["chat_id"] == user]

    async def choose(self, user: str, label: str) -> list[str]:
        """Answer with the number shown in front of `label` in the last numbered list."""
        for text in reversed(self.fake.texts_to(user)):
            for line in text.splitlines():
                m = re.match(r"^(\d+)\. (.*)$", line.strip())
                if m and label.lower() in m.group(2).lower():
                    return await self.send(user, m.group(1))
        raise AssertionError(f"no option {label!r} shown to {user}")

    async def forge(self, user: str, text: str) -> int | None:
        return await self.fake.deliver(self.fake.update(user, text), secret="wrong-secret-123")

    def texts_to(self, user: str) -> list[str]:
        return self.fake.texts_to(user)


class ZaloOAHarness:
    """The Zalo OA adapter (signed webhook, message/cs, tokens in the database) against FakeZaloOA."""

    name = "zalo_oa"
    has_webhook = True

    def __init__(self, app: App, **extra: Any) -> None:
        self.app = app
        self.extra = extra
        self.fake = FakeZaloOA(OA_APP_ID, OA_SECRET, OA_OA_SECRET)
        self.port = unused_port()
        self.server: TestServer | None = None
        self.channel: zalo_oa.ZaloOAChannel | None = None
        self.last_status: int | None = None

    def env(self) -> dict[str, str]:
        return {
            "TOCNS_ZALO_OA_APP_ID": OA_APP_ID,
            "TOCNS_ZALO_OA_SECRET_KEY": OA_SECRET,
            "TOCNS_ZALO_OA_OA_SECRET_KEY": OA_OA_SECRET,
            "TOCNS_ZALO_OA_BASE_URL": self.fake.base_url,
            "TOCNS_ZALO_OA_OAUTH_URL": self.fake.base_url,
        }

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> ZaloOAHarness:
        await self.fake.start()
        self.app.settings.extra["zalo_oa"] = {"files_public_url": self.public_url, **FAKE_FILES, **self.extra}
        serve.set_attachment_reach(self.app)  # as `tocns run` does, from these settings
        webapp = web.Application()
        self.channel = zalo_oa.build_channel(self.app, webapp, environ=self.env())
        assert self.channel is not None
        self.server = TestServer(webapp, host="127.0.0.1", port=self.port)
        await self.server.start_server()
        self.fake.webhook_url = f"{self.public_url}/zalo/oa/webhook"
        access, refresh = self.fake.issue_tokens()  # as after `tocns zalo oa-login`
        async with self.app.sessions() as s, s.begin():
            await zalo_repo.save_tokens(s, OA_APP_ID, access, refresh, utcnow() + timedelta(hours=25))
        await self.channel.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.channel is not None and self.server is not None
        await self.channel.stop()
        await self.server.close()
        await self.fake.close()
        self.app.settings.extra.pop("zalo_oa", None)
        self.app.dispatcher.unreachable_hooks.pop("zalo_oa", None)

    async def deliver(self, event: dict[str, Any], **kw: Any) -> list[dict[str, Any]]:
        """Zalo posts the event; wait until it is processed and answered (after the 200)."""
        assert self.channel is not None
        mark = len(self.fake.sent)
        self.last_status = await self.fake.deliver(event, **kw)
        await self.channel.drain()
        user = str((event.get("sender") or event.get("follower") or {}).get("id"))
        return [b["message"] for b in self.fake.sent[mark:] if b["recipient"]["user_id"] == user]

    async def send(self, user: str, text: str, *, message_id: str | None = None, name: str = "") -> list[str]:
        messages = await self.deliver(self.fake.text_event(user, text, msg_id=message_id))
        return [oa_text(m) for m in messages]

    async def choose(self, user: str, label: str) -> list[str]:
        """Pick an option as a person would: tap the template button (Zalo sends its payload, the
        option's number, as the person's text) or type the number of a numbered line."""
        for message in reversed(self.fake.messages_to(user)):
            for button in oa_buttons(message):
                if label.lower() in str(button["title"]).lower() and isinstance(button["payload"], str):
                    return await self.send(user, str(button["payload"]))
            for line in oa_text(message).splitlines():
                m = re.match(r"^(\d+)\. (.*)$", line.strip())
                if m and label.lower() in m.group(2).lower():
                    return await self.send(user, m.group(1))
        raise AssertionError(f"no option {label!r} shown to {user}")

    async def forge(self, user: str, text: str) -> int | None:
        return await self.fake.deliver(self.fake.text_event(user, text), oa_secret_key="not-the-key")

    def texts_to(self, user: str) -> list[str]:
        return [oa_text(m) for m in self.fake.messages_to(user)]


def oa_buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    att = message.get("attachment") or {}
    return list((att.get("payload") or {}).get("buttons") or []) if att.get("type") == "template" else []


def oa_text(message: dict[str, Any]) -> str:
    """What a person reads: the text, a transaction template's header and text, button titles."""
    parts = [str(message.get("text") or "")]
    att = message.get("attachment") or {}
    for el in (att.get("payload") or {}).get("elements") or []:
        if el.get("type") in ("header", "text"):
            parts.append(str(el.get("content") or ""))
    titles = [str(b["title"]) for b in oa_buttons(message)]
    return "\n".join([p for p in parts if p] + [f"[{t}]" for t in titles])


async def processed_count(app: App) -> int:
    return await count(app, ProcessedUpdate)


async def citizen_ticket_texts(app: App) -> list[str]:
    """What citizens wrote into tickets (held for the helper until someone claims)."""
    async with app.sessions() as s:
        stmt = select(TicketMessage.text).where(TicketMessage.sender == "citizen").order_by(TicketMessage.id)
        return list((await s.execute(stmt)).scalars())


async def open_ticket(h: ZaloBotHarness | ZaloOAHarness, user: str) -> None:
    """/hotro in Thuận Hóa with a question, through the harness's channel: a ticket is open."""
    said = await h.send(user, "/hotro")
    assert any("xã/phường nào" in t for t in said), said
    await h.send(user, "thuan hoa")
    await h.choose(user, "Phường Thuận Hóa")
    said = await h.send(user, "Cho hỏi đăng ký khai sinh cho con cần giấy tờ gì?")
    assert any(re.search(r"phiếu #\d+", t) for t in said), said
