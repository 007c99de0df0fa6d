"""The Zalo OA adapter against its local fake: signatures, token refresh (rotating single-use
refresh tokens, two workers), window errors, retries, files, follow events, buttons, oa-login."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.channels.zalo import oa as zalo_oa
from bot.channels.zalo.oa_tokens import OAuthError, TokenStore, exchange_code, pkce_pair, refresh_pair
from bot.cli.zalo import begin_login, finish_login, parse_code
from bot.intake import DatabaseUnavailable
from bot.kernel import App, StartupError
from db.repositories import zalo as zalo_repo
from handlers.core import Attachment, AttachmentKind, Button, Context, Incoming, Reply
from handlers.router import Router
from services import outbox as outbox_service
from tests.zalo_helpers import OA_APP_ID, ZaloOAHarness, outbox, processed_count


def test_signature_is_the_documented_formula() -> None:
    body = b'{"event_name":"user_send_text","timestamp":"1700000000000"}'
    expected = hashlib.sha256(b"4321" + body + b"1700000000000" + b"k").hexdigest()
    assert zalo_oa.signature("4321", body, "1700000000000", "k") == "mac=" + expected


async def test_configuration(app: App) -> None:
    assert zalo_oa.build_channel(app, web.Application(), environ={}) is None
    with pytest.raises(StartupError, match="TOCNS_ZALO_OA_OA_SECRET_KEY"):
        zalo_oa.build_channel(
            app, web.Application(), environ={"TOCNS_ZALO_OA_APP_ID": "1", "TOCNS_ZALO_OA_SECRET_KEY": "s"}
        )


async def push(app: App, user: str, reply: Reply, key: str = "t:1") -> str:
    async with app.sessions() as s, s.begin():
        await outbox_service.enqueue(
            s, key=key, kind="test", channel="zalo_oa", chat_id=user, payload=reply.to_payload()
        )
    await app.dispatcher.drain_once()
    rows = [r for r in await outbox(app) if r.idempotency_key == key]
    return rows[0].status


async def stored_tokens(app: App) -> tuple[str | None, str | None]:
    async with app.sessions() as s:
        row = await zalo_repo.get_tokens(s, OA_APP_ID)
    assert row is not None
    return row.access_token, row.refresh_token


async def test_expired_token_is_refreshed_once_and_the_send_retried(app: App) -> None:
    async with ZaloOAHarness(app) as h:
        old_access, old_refresh = await stored_tokens(app)
        h.fake.expire_access()
        assert await push(app, "u1", Reply("Nhắc việc")) == "sent"
        assert h.fake.refreshes == 1
        new_access, new_refresh = await stored_tokens(app)
        assert new_access != old_access and new_refresh != old_refresh
        assert new_access in h.fake.valid_access
        # The refresh token rotated and was single-use: the old one no longer works.
        assert h.channel is not None and h.channel.http is not None and old_refresh is not None
        with pytest.raises(OAuthError):
            await refresh_pair(h.channel.http, h.channel.config.oauth, old_refresh)


async def test_two_workers_refresh_only_once(app: App) -> None:
    async with ZaloOAHarness(app) as h:
        stale, _ = await stored_tokens(app)
        assert stale is not None and h.channel is not None
        h.fake.expire_access()
        async with aiohttp.ClientSession() as http1, aiohttp.ClientSession() as http2:
            worker1 = TokenStore(app.sessions, h.channel.config.oauth, http1)
            worker2 = TokenStore(app.sessions, h.channel.config.oauth, http2)
            a, b = await asyncio.gather(worker1.refresh(stale), worker2.refresh(stale))
        assert a == b and a in h.fake.valid_access
        assert h.fake.refreshes == 1
        assert worker1.refreshes + worker2.refreshes == 1


@pytest.mark.parametrize("window", ["unreachable", "not_followers"])
async def test_messaging_window_marks_the_push_unreachable(app: App, window: str) -> None:
    async with ZaloOAHarness(app) as h:
        getattr(h.fake, window).add("u2")
        assert await push(app, "u2", Reply("Nhắc việc")) == "unreachable"
        async with app.sessions() as s:
            assert ("test", "unreachable", 1) in await outbox_service.summary(s)
        assert await app.dispatcher.drain_once() == 0  # never retried


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_rate_limit_and_server_errors_retry_later(app: App, status: int) -> None:
    async with ZaloOAHarness(app) as h:
        h.fake.fail_next = [status]
        assert await push(app, "u3", Reply("Nhắc việc")) == "pending"
        (row,) = await outbox(app)
        assert row.attempts == 1 and row.last_error
        assert h.fake.sent == []


async def test_failed_reply_is_queued_and_delivered_later(app: App) -> None:
    async with ZaloOAHarness(app) as h:
        h.fake.fail_next = [502]
        assert await h.send("u4", "/help") == []
        assert h.last_status == 200
        (row,) = await outbox(app)
        assert (row.kind, row.status) == ("reply", "pending")
        await app.dispatcher.drain_once()
        assert any("/ngonngu" in t for t in h.texts_to("u4"))


async def test_excel_file_from_an_officer_reaches_the_dialogs(app: App) -> None:
    seen: list[Any] = []
    probe = Router()

    @probe.file()
    async def got(ctx: Context) -> bool:
        seen.append(ctx.msg.file)
        ctx.reply("đã nhận tệp")
        return True

    app.router.include(probe)
    async with ZaloOAHarness(app) as h:
        data = b"PK\x03\x04 fake xlsx" * 100
        messages = await h.deliver(h.fake.file_event("u5", "mot-cua-tuan.xlsx", data))
        assert [m["text"] for m in messages] == ["đã nhận tệp"]
        (file,) = seen
        assert (file.name, file.data) == ("mot-cua-tuan.xlsx", data)
        assert file.mime.endswith("spreadsheetml.sheet")


async def test_oversized_file_is_refused_politely(app: App) -> None:
    app.settings.extra["zalo_oa"] = {"max_file_mb": 0.001}
    async with ZaloOAHarness(app) as h:
        messages = await h.deliver(h.fake.file_event("u6", "big.xlsx", b"x" * 5000))
        assert "MB" in messages[0]["text"]
        assert await processed_count(app) == 0
    app.settings.extra.pop("zalo_oa")


async def test_follow_greets_and_echoes_are_ignored(app: App) -> None:
    async with ZaloOAHarness(app) as h:
        messages = await h.deliver(h.fake.follow_event("u7"))
        assert "Xin chào" in messages[0]["text"] or "Chào" in messages[0]["text"]
        before = await processed_count(app)
        echo = h.fake.text_event("u7", "tin OA gửi")
        echo["event_name"] = "oa_send_text"
        assert await h.deliver(echo) == [] and h.last_status == 200
        assert await h.deliver(h.fake.follow_event("u7", "unfollow")) == []
        assert await processed_count(app) == before


async def test_tampered_body_is_rejected(app: App) -> None:
    async with ZaloOAHarness(app) as h:
        assert await h.fake.deliver(h.fake.text_event("u8", "/start"), tamper=True) == 403
        assert await processed_count(app) == 0


async def test_webhook_answers_503_when_the_database_is_down(app: App, monkeypatch: Any) -> None:
    async def down(msg: Incoming) -> Any:
        raise DatabaseUnavailable("down")

    async with ZaloOAHarness(app) as h:
        monkeypatch.setattr(app.intake, "handle", down)
        await h.send("u9", "/start")
        assert h.last_status == 503


async def test_buttons_urls_images_and_unknown_payloads(app: App) -> None:
    async with ZaloOAHarness(app) as h:
        buttons = tuple((Button(f"Lựa chọn {i}", f"lang:{i}"),) for i in range(7))
        reply = Reply(
            "Chọn:",
            buttons=((Button("Cổng DVC", url="https://dichvucong.gov.vn"),), *buttons),
            attachment=Attachment(AttachmentKind.PHOTO, "chart.png", b"PNG", caption="Biểu đồ"),
        )
        assert await push(app, "u10", reply) == "sent"
        assert h.fake.uploads == [("image", "chart.png", 3)]
        media, first, second = h.fake.messages_to("u10")
        assert media["attachment"]["payload"]["template_type"] == "media"
        assert len(first["attachment"]["payload"]["buttons"]) == 5
        assert first["attachment"]["payload"]["buttons"][0]["type"] == "oa.open.url"
        assert [b["payload"] for b in second["attachment"]["payload"]["buttons"]] == [
            "#lang:4",
            "#lang:5",
            "#lang:6",
        ]
        # Text that merely looks like a payload of an unknown prefix stays text.
        said = "\n".join(await h.send("u10", "#khong:1"))
        assert said and "Nút này đã cũ" not in said


async def test_oa_login_pkce_exchange(app: App) -> None:
    async with ZaloOAHarness(app) as h:
        assert h.channel is not None
        config = h.channel.config
        url = await begin_login(app, config, "https://bot.example.vn/zalo/callback")
        assert url.startswith(h.fake.base_url + "/v4/oa/permission?app_id=4321&redirect_uri=")
        challenge = url.split("code_challenge=")[1].split("&")[0]
        state = url.split("state=")[1]
        code = h.fake.authorize(challenge)
        pasted = f"https://bot.example.vn/zalo/callback?code={code}&state={state}&oa_id=1"
        assert parse_code(pasted) == (code, state)
        await finish_login(app, config, code, state)
        access, _refresh = await stored_tokens(app)
        assert access in h.fake.valid_access
        # A code is single-use, and a wrong verifier is refused.
        verifier, challenge2 = pkce_pair()
        code2 = h.fake.authorize(challenge2)
        assert h.channel.http is not None
        with pytest.raises(OAuthError):
            await exchange_code(h.channel.http, config.oauth, code2, verifier + "x")
        with pytest.raises(StartupError, match="no login in progress"):
            await finish_login(app, config, code, None)
