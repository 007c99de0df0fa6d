"""Issue 14, High 1: /lienket handed your identity to whoever typed your code. Now typing a code
only asks; the code's owner confirms on their own account, seeing both accounts with roles; staff
roles never flow to an account silently; /toi lists linked accounts; /lienket huy unlinks; both
sides are audit-logged."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.kernel import App
from db.models import AuditLog
from handlers.core import Reply
from services import people
from tests.support import ChatDriver, demo_driver, outbox_rows

CODE = re.compile(r"\b([A-Z2-9]{8})\b")


def code_of(text: str) -> str:
    found = CODE.search(text)
    assert found, text
    return found.group(1)


async def pushes(app: App, kind: str, chat_id: str) -> list[Reply]:
    return [
        Reply.from_payload(r.payload)
        for r in await outbox_rows(app)
        if r.kind == kind and r.chat_id == chat_id
    ]


async def test_officer_typing_a_citizens_code_gives_the_citizen_nothing(seeded_app: App) -> None:
    """The reproduction: dan issues a code, canbo types it, dan's /toi said «cán bộ xã/phường»."""
    dan, canbo = demo_driver(seeded_app, "dan"), demo_driver(seeded_app, "canbo")
    code = code_of((await dan.send("/lienket")).text)
    said = await canbo.send(f"/lienket {code}")
    assert "vai trò mà tài khoản kia không có" in said.text
    assert "cán bộ" not in (await dan.send("/toi")).text
    assert not await pushes(seeded_app, "link_confirm", "demo-dan")


async def test_typing_an_officers_code_waits_for_the_officer(seeded_app: App) -> None:
    """canbo's code seen over the shoulder: the stranger's account asks, canbo sees who and refuses."""
    canbo = demo_driver(seeded_app, "canbo")
    stranger = ChatDriver(seeded_app, "tg-stranger", "Kẻ lạ")
    code = code_of((await canbo.send("/lienket")).text)
    said = await stranger.send(f"/lienket {code}")
    assert "chưa có gì thay đổi" in said.text and "Phạm Quốc Bảo" in said.text
    assert "cán bộ" not in (await stranger.send("/toi")).text  # nothing linked yet
    [ask] = await pushes(seeded_app, "link_confirm", "demo-canbo")
    assert "Kẻ lạ" in ask.text and "Telegram" in ask.text and "cán bộ xã/phường" in ask.text
    refuse = next(b.payload for row in ask.buttons for b in row if b.payload.startswith("lk:n:"))
    await canbo.press(refuse)
    assert "cán bộ" not in (await stranger.send("/toi")).text
    again = await stranger.send(f"/lienket {code}")
    assert "đã được dùng" in again.text
    # A forged confirmation by the stranger (the code's id in a payload) is refused.
    approve = next(b.payload for row in ask.buttons for b in row if b.payload.startswith("lk:y:"))
    await stranger.press(approve)
    assert "cán bộ" not in (await stranger.send("/toi")).text


async def test_owner_confirms_then_toi_lists_both_accounts_and_huy_unlinks(seeded_app: App) -> None:
    canbo = demo_driver(seeded_app, "canbo")
    zalo = ChatDriver(seeded_app, "z-canbo-9876", "Bảo Zalo", channel="zalo_bot", supports_buttons=False)
    await zalo.send("/start")
    code = code_of((await canbo.send("/lienket")).text)
    await zalo.send(f"/lienket {code}")
    [ask] = await pushes(seeded_app, "link_confirm", "demo-canbo")
    approve = next(b.payload for row in ask.buttons for b in row if b.payload.startswith("lk:y:"))
    said = await canbo.press(approve)
    assert "Đã liên kết" in said.text
    me = (await zalo.send("/toi")).text
    assert "cán bộ xã/phường" in me and "Zalo …9876" in me and "console" in me
    async with seeded_app.sessions() as s:
        rows = list((await s.execute(select(AuditLog).where(AuditLog.action == "person.link"))).scalars())
    assert len(rows) == 2 and {r.target for r in rows} == {
        f"person:{rows[0].details['owner']}",
        f"person:{rows[0].details['requester']}",
    }
    assert rows[0].details["requester_accounts"] == ["zalo_bot:…9876"]
    # Unlink the Zalo account from the officer's console account: it keeps no role.
    menu = await canbo.send("/lienket huy")
    await canbo.tap("Zalo")
    assert "cán bộ" not in (await zalo.send("/toi")).text
    assert "cán bộ" in (await canbo.send("/toi")).text
    async with seeded_app.sessions() as s:
        unl = list((await s.execute(select(AuditLog).where(AuditLog.action == "person.unlink"))).scalars())
        zalo_actor = (await people.resolve(s, "zalo_bot", "z-canbo-9876", "", "x"))[0]
    assert len(unl) == 2 and not zalo_actor.grants
    assert any("Zalo" in label for label in menu.labels())


async def test_two_different_staff_roles_are_never_merged(seeded_app: App) -> None:
    canbo, tnv = demo_driver(seeded_app, "canbo"), demo_driver(seeded_app, "tnv")
    code = code_of((await canbo.send("/lienket")).text)
    said = await tnv.send(f"/lienket {code}")
    assert "liên hệ quản trị" in said.text
    assert "cán bộ" not in (await tnv.send("/toi")).text


async def test_a_code_typed_on_the_same_channel_merges_nobody(seeded_app: App) -> None:
    """tnv2's code typed by tnv (two volunteers on the same channel) merged Đặng Thị Thu into Trần
    Văn Minh: name, sessions and all. A link joins one person's Telegram and Zalo accounts."""
    tnv, tnv2 = demo_driver(seeded_app, "tnv"), demo_driver(seeded_app, "tnv2")
    code = code_of((await tnv2.send("/lienket")).text)
    said = await tnv.send(f"/lienket {code}")
    assert "cùng một kênh" in said.text and "Không có gì thay đổi" in said.text, said.text
    assert not await pushes(seeded_app, "link_confirm", "demo-tnv2")
    assert "Đặng Thị Thu" in (await tnv2.send("/toi")).text
    assert "Trần Văn Minh" in (await tnv.send("/toi")).text
    # The same person's account on another channel still links.
    zalo = ChatDriver(seeded_app, "zl-thu", "Thu", channel="zalo_bot")
    said = await zalo.send(f"/lienket {code}")
    assert "chưa có gì thay đổi" in said.text, said.text
