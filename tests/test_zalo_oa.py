"""The Zalo OA adapter against its contract fake (tests/fakes/zalo_oa_api.py): signatures, the
webhook answering before processing, token refresh outside any transaction, every error code the
issue names, numbered choices by default and the documented transaction template behind a
setting, exports people can open, the messaging window, oa-login with the console's verifier."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select, update

from bot.channels.zalo import oa as zalo_oa
from bot.channels.zalo import oa_tokens
from bot.channels.zalo.oa_tokens import OAuthError, TokenStore, exchange_code, pkce_pair, refresh_pair
from bot.cli.zalo import (
    begin_login,
    finish_login,
    import_tokens,
    parse_code,
    print_window_status,
    window_status,
)
from bot.intake import DatabaseUnavailable
from bot.kernel import App, StartupError
from db.base import utcnow
from db.models import OutboxMessage, ZaloInbound, ZaloOAToken
from db.repositories import zalo as zalo_repo
from handlers.core import Attachment, AttachmentKind, Button, Context, Incoming, Reply
from handlers.router import Router
from services import outbox as outbox_service
from tests.fakes.zalo_oa_api import FakeZaloOA, s256
from tests.harness.zalo import OA_APP_ID, ZaloOAHarness, oa_text, outbox, processed_count
from tests.support import ChatDriver, demo_driver


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


async def push(app: App, user: str, reply: Reply, key: str = "t:1", kind: str = "test") -> str:
    async with app.sessions() as s, s.begin():
        await outbox_service.enqueue(
            s, key=key, kind=kind, channel="zalo_oa", chat_id=user, payload=reply.to_payload()
        )
    await app.dispatcher.drain_once()
    rows = [r for r in await outbox(app) if r.idempotency_key == key]
    return rows[0].status


async def stored_tokens(app: App) -> tuple[str | None, str | None]:
    async with app.sessions() as s:
        row = await zalo_repo.get_tokens(s, OA_APP_ID)
    assert row is not None
    return row.access_token, row.refresh_token


# --- the webhook -------------------------------------------------------------------------------


async def test_signed_event_with_a_20_mb_attachment_is_answered_before_the_deadline(app: App) -> None:
    """Stored raw and answered 200 at once; the 20 MB download happens afterwards. The fake
    models Zalo's 2-second deadline: a late answer would be recorded as a redelivery."""
    seen: list[int] = []
    probe = Router()

    @probe.file()
    async def got(ctx: Context) -> bool:
        assert ctx.msg.file is not None
        seen.append(len(ctx.msg.file.data))
        ctx.reply("đã nhận tệp")
        return True

    app.router.include(probe)
    async with ZaloOAHarness(app) as h:
        big = b"x" * (20 * 1024 * 1024)
        h.fake.last_interaction["u1"] = 0  # (set by the event itself)
        messages = await h.deliver(h.fake.file_event("u1", "mot-cua.xlsx", big))
        assert h.last_status == 200 and h.fake.redeliveries_due == []
        assert seen == [len(big)] and [m["text"] for m in messages] == ["đã nhận tệp"]
        async with app.sessions() as s:
            (row,) = (await s.execute(select(ZaloInbound))).scalars()
            assert row.channel == "zalo_oa" and row.done_at is not None and row.body == ""


async def test_slow_processing_does_not_delay_the_answer(app: App, monkeypatch: Any) -> None:
    real = app.intake.handle

    async def slow(msg: Incoming) -> Any:
        await asyncio.sleep(2.5)
        return await real(msg)

    async with ZaloOAHarness(app) as h:
        monkeypatch.setattr(app.intake, "handle", slow)
        said = await h.send("u2", "/help")
        assert h.last_status == 200 and h.fake.redeliveries_due == []
        assert any("/ngonngu" in t for t in said)


async def test_event_that_cannot_be_stored_gets_503_and_is_redelivered(app: App, monkeypatch: Any) -> None:
    async with ZaloOAHarness(app) as h:
        assert h.channel is not None

        async def down(raw: bytes, body: Any) -> int:
            raise ConnectionRefusedError("database down")

        monkeypatch.setattr(h.channel.inbound, "store", down)
        event = h.fake.text_event("u3", "/start")
        assert await h.deliver(event) == [] and h.last_status == 503
        assert [d for _, d in h.fake.redeliveries_due] == [30]
        monkeypatch.undo()
        said = await h.deliver(event)  # Zalo's redelivery, 30 s later
        assert h.last_status == 200 and said


async def test_events_left_by_a_stopped_worker_are_processed_at_start(app: App, monkeypatch: Any) -> None:
    async with ZaloOAHarness(app) as h:
        assert h.channel is not None
        monkeypatch.setattr(h.channel.inbound, "schedule", lambda *a: None)  # dies after the 200
        await h.deliver(h.fake.text_event("u4", "/help"))
        assert h.last_status == 200 and h.texts_to("u4") == []
        monkeypatch.undo()
        assert await h.channel.inbound.sweep() == 1
        await h.channel.drain()
        assert any("/ngonngu" in t for t in h.texts_to("u4"))


async def test_tampered_or_forged_events_are_refused(app: App) -> None:
    async with ZaloOAHarness(app) as h:
        assert await h.fake.deliver(h.fake.text_event("u5", "/start"), tamper=True) == 403
        assert await h.forge("u5", "/start") == 403
        for body in (b"[]", b"null", b"123", b'"x"'):
            headers = {"X-ZEvent-Signature": h.fake.sign(body, ""), "Content-Type": "application/json"}
            async with (
                aiohttp.ClientSession() as http,
                http.post(h.fake.webhook_url, data=body, headers=headers) as r,
            ):
                assert r.status == 400
        assert await processed_count(app) == 0
        async with app.sessions() as s:
            assert list((await s.execute(select(ZaloInbound))).scalars()) == []


async def test_events_without_a_message_id_do_not_share_a_dedupe_key(app: App) -> None:
    """Issue 14: two people's id-less events shared `zalo_oa:None`; the second was dropped."""
    async with ZaloOAHarness(app) as h:
        greeted = []
        for user in ("u6", "u7"):
            event = h.fake.text_event(user, "/help")
            del event["message"]["msg_id"]
            event["timestamp"] = "1700000000000"
            greeted.append(await h.deliver(event))
        assert all(greeted)
        again = h.fake.text_event("u6", "/help")
        del again["message"]["msg_id"]
        again["timestamp"] = "1700000000000"
        assert await h.deliver(again) == []  # the same bytes redelivered: processed once


async def test_follow_greets_and_echoes_are_ignored(app: App) -> None:
    async with ZaloOAHarness(app) as h:
        messages = await h.deliver(h.fake.follow_event("u8"))
        assert "Xin chào" in messages[0]["text"] or "Chào" in messages[0]["text"]
        before = await processed_count(app)
        echo = h.fake.text_event("u8", "tin OA gửi")
        echo["event_name"] = "oa_send_text"
        assert await h.deliver(echo) == [] and h.last_status == 200
        assert await h.deliver(h.fake.follow_event("u8", "unfollow")) == []
        assert await processed_count(app) == before


async def test_oversized_file_is_refused_politely(app: App) -> None:
    async with ZaloOAHarness(app, max_file_mb=0.001) as h:
        messages = await h.deliver(h.fake.file_event("u9", "big.xlsx", b"x" * 5000))
        assert len(messages) == 1 and "MB" in messages[0]["text"]
        # Said through the intake, after the update's dedupe mark: a redelivery is not answered.
        assert await processed_count(app) == 1


async def test_attachment_urls_outside_zalo_hosts_are_not_fetched(app: App) -> None:
    seen: list[Any] = []
    probe = Router()

    @probe.file()
    async def got(ctx: Context) -> bool:
        seen.append(ctx.msg.file)
        return True

    app.router.include(probe)
    async with ZaloOAHarness(app) as h:
        for url in ("http://169.254.169.254/latest/meta-data", "https://evil.example/a.pdf"):
            await h.deliver(h.fake.file_event("u10", "a.pdf", b"%PDF", url=url))
        assert seen == []


# --- choices -----------------------------------------------------------------------------------


async def test_options_are_numbered_by_default_and_typed_payloads_are_text(app: App) -> None:
    async with ZaloOAHarness(app) as h:
        # A typed payload is plain text, not a button press.
        said = "\n".join(await h.send("u11", "#lang:en"))
        assert "Switched to English" not in said
        said = "\n".join(await h.send("u11", "/ngonngu"))
        assert "1. " in said and "English" in said
        assert all("attachment" not in m for m in h.fake.messages_to("u11"))
        said = "\n".join(await h.choose("u11", "English"))
        assert "Switched to English" in said
        assert h.fake.rejected == []


async def test_transaction_template_buttons_behind_a_setting(app: App) -> None:
    async with ZaloOAHarness(app, buttons="transaction") as h:
        said = "\n".join(await h.send("u12", "/ngonngu"))
        assert "[English]" in said and h.fake.rejected == []
        (template,) = [m for m in h.fake.messages_to("u12") if "attachment" in m]
        payload = template["attachment"]["payload"]
        assert payload["template_type"] == "transaction_event"
        assert {b["type"] for b in payload["buttons"]} == {"oa.query.hide"}
        assert all(b["payload"].isdigit() for b in payload["buttons"])  # only the option number
        said = "\n".join(await h.choose("u12", "English"))  # the tap sends the number
        assert "Switched to English" in said
        # Too many options for the template: numbered text instead, still pickable.
        many = Reply("Chọn:", buttons=tuple((Button(f"Lựa chọn {i}", f"lang:{i}"),) for i in range(7)))
        assert await push(app, "u12", many) == "sent"
        assert "7. Lựa chọn 6" in h.texts_to("u12")[-1] and h.fake.rejected == []


async def test_the_fake_rejects_undocumented_shapes() -> None:
    fake = FakeZaloOA("1", "s", "k")
    buttons = {"buttons": [{"title": "A", "type": "oa.query.show", "payload": "#a"}]}
    assert fake._cs_problem({"text": "x", "attachment": {"type": "template", "payload": buttons}})
    assert fake._cs_problem({"attachment": {"type": "file", "payload": {"token": "never-issued"}}})
    assert fake._cs_problem({"text": "😀" * 1001})
    assert fake._cs_problem({"text": "ok"}) == ""


# --- exports -----------------------------------------------------------------------------------


async def test_xlsx_export_becomes_a_download_link_after_the_text(app: App) -> None:
    data = b"PK\x03\x04 xlsx bytes" * 10
    async with ZaloOAHarness(app) as h:
        h.fake.last_interaction["u13"] = h.fake.clock()
        doc = Attachment(AttachmentKind.DOCUMENT, "xuat-tuan.xlsx", data, caption="Số liệu tuần")
        assert await push(app, "u13", Reply("Xuất dữ liệu", attachment=doc)) == "sent"
        first, link = h.texts_to("u13")
        assert first == "Xuất dữ liệu" and "Số liệu tuần" in link and "xuat-tuan.xlsx" in link
        assert h.fake.uploads == []  # .xlsx is not an upload/file type: never tried
        url = next(w for w in link.split() if w.startswith("http"))
        async with aiohttp.ClientSession() as http, http.get(url) as resp:
            assert resp.status == 200 and await resp.read() == data


async def test_pdf_is_attached_and_a_failed_upload_never_swallows_the_text(app: App) -> None:
    async with ZaloOAHarness(app) as h:
        h.fake.last_interaction["u14"] = h.fake.clock()
        pdf = Attachment(AttachmentKind.DOCUMENT, "bao-cao.pdf", b"%PDF-1.4 ...")
        assert await push(app, "u14", Reply("Báo cáo", attachment=pdf)) == "sent"
        text, file_msg = h.fake.messages_to("u14")
        assert text == {"text": "Báo cáo"} and file_msg["attachment"]["type"] == "file"
        big = Attachment(AttachmentKind.DOCUMENT, "lon.pdf", b"%PDF" + b"x" * (6 * 1024 * 1024))
        assert await push(app, "u14", Reply("Báo cáo lớn", attachment=big), "t:2") == "sent"
        assert h.texts_to("u14")[-2] == "Báo cáo lớn" and "lon.pdf" in h.texts_to("u14")[-1]
        small = Attachment(AttachmentKind.PHOTO, "bieu-do.png", b"\x89PNG", caption="Biểu đồ")
        assert await push(app, "u14", Reply("Tuần này", attachment=small), "t:3") == "sent"
        media = h.fake.messages_to("u14")[-1]
        assert media["text"] == "Biểu đồ" and media["attachment"]["payload"]["template_type"] == "media"
        huge = Attachment(AttachmentKind.PHOTO, "lon.png", b"\x89PNG" + b"x" * (2 * 1024 * 1024))
        assert await push(app, "u14", Reply("Ảnh lớn", attachment=huge), "t:4") == "sent"
        assert "lon.png" in h.texts_to("u14")[-1] and "/zalo/oa/files/" in h.texts_to("u14")[-1]
        assert h.fake.rejected == []


async def test_xuat_on_oa_delivers_something_a_person_can_open(seeded_app: App) -> None:
    """The real /xuat dialog, as an officer who linked their Zalo OA account."""
    async with ZaloOAHarness(seeded_app) as h:
        # Linking as people do it now: the officer's account makes the code, the Zalo account types
        # it, and the officer confirms on the account holding the role (tests/reliability/test_identity.py).
        officer = demo_driver(seeded_app, "canbo")
        said = (await officer.send("/lienket")).text
        code = next(w for w in said.replace(".", " ").split() if w.isupper() and len(w) >= 6)
        await h.send("u15", f"/lienket {code}")
        async with seeded_app.sessions() as session:
            ask = (
                await session.execute(
                    select(OutboxMessage).where(
                        OutboxMessage.kind == "link_confirm", OutboxMessage.chat_id == "demo-canbo"
                    )
                )
            ).scalar_one()
        approve = next(
            b.payload
            for row in Reply.from_payload(ask.payload).buttons
            for b in row
            if b.payload.startswith("lk:y:")
        )
        assert "Đã liên kết" in (await officer.press(approve)).text
        said = "\n".join(await h.send("u15", "/xuat"))
        for _ in range(3):  # pick the first offered option until the export arrives
            links = [t for t in h.texts_to("u15") if "/zalo/oa/files/" in t]
            if links:
                break
            said = "\n".join(await h.send("u15", "1"))
        url = next(w for t in links for w in t.split() if w.startswith("http"))
        async with aiohttp.ClientSession() as http, http.get(url) as resp:
            assert resp.status == 200 and (await resp.read()).startswith(b"PK")
        assert h.fake.rejected == []


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "outcome"),
    [
        (200, -227, "unreachable"),
        (200, -230, "unreachable"),
        (200, -232, "unreachable"),
        (200, -213, "unreachable"),
        (200, -210, "dead"),
        (200, -201, "dead"),
        (200, -32, "pending"),
        (200, -211, "pending"),
        (400, -230, "unreachable"),  # the code is read from the body on HTTP 4xx too
        (429, 0, "pending"),
        (500, 0, "pending"),
        (200, -999, "pending"),  # unknown: retried, never dropped on a guess
    ],
)
async def test_error_codes(app: App, status: int, code: int, outcome: str) -> None:
    async with ZaloOAHarness(app) as h:
        h.fake.last_interaction["u16"] = h.fake.clock()
        h.fake.fail_next = [(status, code)]
        assert await push(app, "u16", Reply("Nhắc việc")) == outcome
        (row,) = await outbox(app)
        assert row.attempts == 1
        if outcome == "pending" and code in (-32, -211):
            assert row.next_attempt_at > utcnow() + timedelta(seconds=50)


@pytest.mark.parametrize("code", [-320, -321])
async def test_billing_errors_are_not_retried_and_admins_are_alerted(seeded_app: App, code: int) -> None:
    async with ZaloOAHarness(seeded_app) as h:
        h.fake.last_interaction["u17"] = h.fake.clock()
        h.fake.fail_next = [(200, code)]
        assert await push(seeded_app, "u17", Reply("Nhắc việc")) == "dead"
        alerts = [r for r in await outbox(seeded_app) if r.kind == "zalo_billing_alert"]
        assert alerts and all(r.channel != "zalo_oa" for r in alerts)
        assert str(code) in alerts[0].payload["text"]
        admin = demo_driver(seeded_app, "admin")
        assert any(r.chat_id == (admin.chat_id or admin.user_id) for r in alerts)


@pytest.mark.parametrize("code", [-216, -220, -124])
async def test_expired_token_is_refreshed_once_and_the_send_retried(app: App, code: int) -> None:
    async with ZaloOAHarness(app) as h:
        h.fake.last_interaction["u18"] = h.fake.clock()
        old_access, old_refresh = await stored_tokens(app)
        h.fake.expire_access(code)
        assert await push(app, "u18", Reply("Nhắc việc")) == "sent"
        assert h.fake.refreshes == 1
        new_access, new_refresh = await stored_tokens(app)
        assert new_access != old_access and new_refresh != old_refresh
        assert h.channel is not None and h.channel.http is not None and old_refresh is not None
        with pytest.raises(OAuthError):  # single-use: the old refresh token is spent
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
        assert h.fake.refreshes == 1 and worker1.refreshes + worker2.refreshes == 1


async def test_refresh_calls_zalo_outside_any_transaction(app: App, monkeypatch: Any) -> None:
    """While Zalo answers the refresh, the token row must be writable by someone else (no lock
    held across the network call); and a failed save does not lose the single-use token."""
    async with ZaloOAHarness(app) as h:
        assert h.channel is not None and h.channel.tokens is not None
        h.fake.last_interaction["u19"] = h.fake.clock()
        real_refresh = oa_tokens.refresh_pair
        writable: list[bool] = []

        async def probing(http: Any, cfg: Any, token: str) -> Any:
            async def touch() -> None:
                async with app.sessions() as s, s.begin():
                    await s.execute(update(ZaloOAToken).values(updated_at=utcnow()))

            try:
                await asyncio.wait_for(touch(), timeout=3)
                writable.append(True)
            except Exception:
                writable.append(False)
            return await real_refresh(http, cfg, token)

        monkeypatch.setattr(oa_tokens, "refresh_pair", probing)
        real_save = zalo_repo.save_tokens
        failures = {"n": 1}

        async def flaky_save(*args: Any, **kw: Any) -> None:
            if failures["n"]:
                failures["n"] -= 1
                raise ConnectionResetError("commit lost")
            await real_save(*args, **kw)

        monkeypatch.setattr(zalo_repo, "save_tokens", flaky_save)
        h.fake.expire_access(-220)
        assert await push(app, "u19", Reply("Nhắc việc")) == "sent"
        assert writable == [True]
        access, refresh = await stored_tokens(app)
        assert access in h.fake.valid_access and refresh == h.fake.refresh_token


async def confirm_link(app: App, owner: ChatDriver) -> None:
    """The code's owner confirms the link request the bot pushed to them («Đồng ý»)."""
    async with app.sessions() as session:
        ask = (
            await session.execute(
                select(OutboxMessage).where(
                    OutboxMessage.kind == "link_confirm",
                    OutboxMessage.chat_id == (owner.chat_id or owner.user_id),
                )
            )
        ).scalar_one()
    buttons = Reply.from_payload(ask.payload).buttons
    approve = next(b.payload for row in buttons for b in row if b.payload.startswith("lk:y:"))
    assert "Đã liên kết" in (await owner.press(approve)).text


# --- messaging window --------------------------------------------------------------------------


async def test_silent_for_7_days_the_push_goes_to_the_linked_channel(app: App) -> None:
    async with ZaloOAHarness(app) as h:
        assert h.channel is not None
        said = "\n".join(await h.send("u20", "/lienket"))
        code = next(w for w in said.replace(".", " ").split() if w.isupper() and len(w) >= 6)
        telegram = ChatDriver(app, "7720", "Chị Lan")
        await telegram.send(f"/lienket {code}")
        await confirm_link(app, ChatDriver(app, "u20", "Chị Lan", channel="zalo_oa", supports_buttons=False))
        sends_before = len(h.fake.sent)
        h.channel.clock = lambda: utcnow() + timedelta(days=8)  # eight days later
        assert await push(app, "u20", Reply("Nhắc việc: báo cáo tuần"), kind="reminder") == "unreachable"
        assert len(h.fake.sent) == sends_before  # not even tried: Zalo would refuse
        rerouted = [r for r in await outbox(app) if r.channel == "telegram" and r.kind == "reminder"]
        assert [(r.kind, r.chat_id, r.payload["text"]) for r in rerouted] == [
            ("reminder", "7720", "Nhắc việc: báo cáo tuần")
        ]


async def test_zalo_window_refusal_also_reroutes_and_outbox_status_flags(app: App, capsys: Any) -> None:
    async with ZaloOAHarness(app) as h:
        assert h.channel is not None
        h.channel.inbound.clock = lambda: utcnow() - timedelta(days=3)
        await h.send("u21", "/start")  # wrote 3 days ago: billable band
        h.channel.inbound.clock = lambda: utcnow() - timedelta(days=9)
        await h.send("u22", "/start")  # 9 days: outside the window
        h.channel.inbound.clock = utcnow
        async with app.sessions() as s, s.begin():
            for user in ("u21", "u22"):
                await outbox_service.enqueue(
                    s,
                    key=f"r:{user}",
                    kind="reminder",
                    channel="zalo_oa",
                    chat_id=user,
                    payload={"text": "x"},
                )
        rows = await window_status(app)
        assert rows == [("reminder", "billable", 1), ("reminder", "closed", 1)]
        print_window_status(rows)
        out = capsys.readouterr().out
        assert "tính phí" in out and "quá 7 ngày" in out
        h.fake.last_interaction["u23"] = h.fake.clock() - 8 * 86400  # Zalo knows better than we do
        assert await push(app, "u23", Reply("Nhắc việc")) == "unreachable"


# --- oa-login ----------------------------------------------------------------------------------


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
        verifier, challenge2 = pkce_pair()
        code2 = h.fake.authorize(challenge2)
        assert h.channel.http is not None
        with pytest.raises(OAuthError):
            await exchange_code(h.channel.http, config.oauth, code2, verifier + "x")
        with pytest.raises(StartupError, match="chưa bắt đầu đăng nhập"):
            await finish_login(app, config, code, None)


async def test_oa_login_with_the_verifier_saved_in_the_console(app: App, monkeypatch: Any) -> None:
    verifier = "v" * 20 + "E3rT9" * 5  # 45 characters
    monkeypatch.setenv("TOCNS_ZALO_OA_CODE_VERIFIER", verifier)
    async with ZaloOAHarness(app) as h:
        assert h.channel is not None
        h.fake.console_challenge = s256(verifier)  # the OA console built the link from it
        code = h.fake.authorize()
        await finish_login(app, h.channel.config, code, None)  # no `begin` needed
        access, _ = await stored_tokens(app)
        assert access in h.fake.valid_access
        url = await begin_login(app, h.channel.config, "https://bot.example.vn/cb")
        assert f"code_challenge={s256(verifier)}" in url
    monkeypatch.setenv("TOCNS_ZALO_OA_CODE_VERIFIER", "short")
    with pytest.raises(StartupError, match="43-128"):
        await finish_login(app, h.channel.config, "c", None)


async def test_oa_import_tokens_from_the_api_explorer(app: App) -> None:
    async with ZaloOAHarness(app) as h:
        assert h.channel is not None
        access, refresh = h.fake.issue_tokens()  # copied from the API Explorer
        await import_tokens(app, h.channel.config, f" {access} ", refresh, 90000)
        assert await stored_tokens(app) == (access, refresh)
        h.fake.last_interaction["u24"] = h.fake.clock()
        assert await push(app, "u24", Reply("Xin chào")) == "sent"
        with pytest.raises(StartupError):
            await import_tokens(app, h.channel.config, "", refresh, 90000)


async def test_database_down_after_the_answer_leaves_the_event_for_the_sweep(
    app: App, monkeypatch: Any
) -> None:
    async def down(msg: Incoming) -> Any:
        raise DatabaseUnavailable("down")

    async with ZaloOAHarness(app) as h:
        assert h.channel is not None
        h.channel.inbound.retry_delays = (0.01,)
        monkeypatch.setattr(app.intake, "handle", down)
        await h.send("u25", "/start")
        assert h.last_status == 200  # stored; left for the next sweep
        async with app.sessions() as s:
            (row,) = (await s.execute(select(ZaloInbound))).scalars()
            assert row.done_at is None
        monkeypatch.undo()
        await h.channel.inbound.sweep()
        await h.channel.drain()
        assert h.texts_to("u25")


def test_oa_text_renders_templates() -> None:
    message = {
        "attachment": {"type": "template", "payload": {"elements": [{"type": "header", "content": "H"}]}}
    }
    assert oa_text(message) == "H"


async def test_cli_import_tokens_and_outbox_status(app: App, db_url: str) -> None:
    """The commands themselves: `tocns zalo oa-import-tokens` reads the pair from the environment
    (never from options: shell history), `tocns outbox status` shows the window table."""
    import os
    import subprocess
    import sys

    from bot.kernel import ROOT

    async with ZaloOAHarness(app) as h:
        access, refresh = h.fake.issue_tokens()
        h.fake.last_interaction["u26"] = h.fake.clock()
        assert h.channel is not None
        h.channel.inbound.clock = lambda: utcnow() - timedelta(days=3)
        await h.send("u26", "/start")
        h.channel.inbound.clock = utcnow
        async with app.sessions() as s, s.begin():
            await outbox_service.enqueue(
                s, key="r:u26", kind="reminder", channel="zalo_oa", chat_id="u26", payload={"text": "x"}
            )
        env = {
            **os.environ,
            **h.env(),
            "TOCNS_DATABASE_URL": db_url,
            "TOCNS_CONFIG": str(ROOT / "config.yaml"),
            "TOCNS_ZALO_OA_ACCESS_TOKEN": access,
            "TOCNS_ZALO_OA_REFRESH_TOKEN": refresh,
        }

        def tocns(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "bot.cli", *args],
                capture_output=True,
                text=True,
                env=env,
                cwd=ROOT,
                timeout=60,
                stdin=subprocess.DEVNULL,
            )

        done = await asyncio.to_thread(tocns, "zalo", "oa-import-tokens")
        assert done.returncode == 0, done.stderr
        assert await stored_tokens(app) == (access, refresh)
        status = await asyncio.to_thread(tocns, "outbox", "status")
        assert status.returncode == 0, status.stderr
        assert "48 giờ – 7 ngày" in status.stdout and "reminder" in status.stdout


async def test_stickers_voice_and_locations_are_answered_never_dropped(seeded_app: App) -> None:
    """A sticker, a voice note or a location on Zalo OA gets a reply naming what arrived and what the
    bot can take (the same words as on Telegram), not silence."""
    async with ZaloOAHarness(seeded_app) as h:
        for kind, payload, said in (
            ("sticker", {"id": "abc", "url": "https://zalo-api.zadn.vn/sticker/abc"}, "nhãn dán"),
            ("audio", {"url": "https://voice.zadn.vn/v.aac"}, "tin nhắn thoại"),
            ("location", {"coordinates": {"latitude": "16.46", "longitude": "107.59"}}, "vị trí"),
        ):
            replies = [oa_text(m) for m in await h.deliver(h.fake.attachment_event("u31", kind, payload))]
            assert replies and said in replies[0] and "/help" in replies[0], (kind, replies)
