"""Onboarding through the real intake: invites from /moi, joining with /start <code> or /thamgia,
the name confirmation, approval by the team leader (pushes in the outbox), and bad codes."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.kernel import App
from db.base import utcnow
from db.models import AuditLog, JoinRequest
from handlers.core import Reply
from services import invites, linking, people, units
from services.access import Role
from services.demo.units import DEMO_INVITE_CODE
from services.errors import InvalidInput
from tests.support import ChatDriver, Said, demo_driver, outbox_rows

CODE = re.compile(r"\b([A-HJ-NP-Z2-9]{8})\b")


def code_in(said: Said) -> str:
    match = CODE.search(said.text)
    assert match, said.text
    return match.group(1)


async def make_code(
    app: App,
    team: str = "19786-1",
    *,
    role: Role = Role.VOLUNTEER,
    uses: int = 5,
    days: int = 7,
    approval: bool = False,
) -> str:
    async with app.sessions() as session, session.begin():
        unit = await units.get(session, team)
        invite = await invites.create(
            session,
            None,
            role=role,
            unit_id=unit.id,
            now=utcnow(),
            uses=uses,
            days=days,
            needs_approval=approval,
        )
    return invite.code


async def test_open_code_from_team_leader_join_and_approval(seeded_app: App) -> None:
    leader = demo_driver(seeded_app, "totruong")
    said = await leader.send("/moi")
    assert "vai trò" in said.text
    await leader.tap("Mã mở")  # the team leader leads one team: no unit step
    said = await leader.tap("10 người")
    code = code_in(said)
    assert "Duyệt" in said.text or "duyệt" in said.text
    assert f"https://t.me/tocns_test_bot?start={code}" in said.text

    newcomer = ChatDriver(seeded_app, "7001", "hung_tg")
    said = await newcomer.send(f"/start {code}")
    assert "hung_tg" in said.text and "Tổ CNSCĐ Tổ dân phố 1" in said.text
    said = await newcomer.send("Nguyễn Văn Hùng")  # types a better name instead of «Đúng»
    assert "chờ" in said.text or "gửi tới tổ trưởng" in said.text

    asks = [r for r in await outbox_rows(seeded_app) if r.kind == "join_request"]
    assert [r.chat_id for r in asks] == ["demo-totruong"]
    ask = Reply.from_payload(asks[0].payload)
    assert "Nguyễn Văn Hùng" in ask.text
    approve = next(b.payload for row in ask.buttons for b in row if "Duyệt" in b.label)

    said = await leader.press(approve)
    assert "Đã duyệt" in said.text
    said = await leader.press(approve)  # a second press (or a second team leader) changes nothing
    assert "đã được xử lý" in said.text
    told = [r for r in await outbox_rows(seeded_app) if r.kind == "join_decision"]
    assert [r.chat_id for r in told] == ["7001"]
    assert "được duyệt" in Reply.from_payload(told[0].payload).text

    said = await newcomer.send("/toi")
    assert "Nguyễn Văn Hùng" in said.text and "thành viên tổ — Tổ CNSCĐ Tổ dân phố 1" in said.text
    said = await leader.send("/to")
    assert "Nguyễn Văn Hùng" in said.text
    async with seeded_app.sessions() as s:
        actions = set((await s.execute(select(AuditLog.action))).scalars())
    assert {"invite.create", "join.request", "role.grant"} <= actions


async def test_team_leader_code_admits_at_once(seeded_app: App) -> None:
    leader = demo_driver(seeded_app, "totruong")
    await leader.send("/moi")
    await leader.tap("Thành viên tổ")
    code = code_in(await leader.tap("1 người"))
    newcomer = ChatDriver(seeded_app, "7002", "Chị Mai", channel="zalo_bot", supports_buttons=False)
    said = await newcomer.send(f"/thamgia {code.lower()}")
    assert "1. ✔ Đúng" in said.text  # numbered on a channel without buttons
    said = await newcomer.send("1")
    assert "Chào mừng Chị Mai" in said.text and "thành viên tổ" in said.text
    assert not [r for r in await outbox_rows(seeded_app) if r.kind == "join_request"]
    # The single use is gone.
    said = await ChatDriver(seeded_app, "7003", "Anh Ba").send(f"/thamgia {code}")
    assert "hết lượt" in said.text


async def test_officer_picks_a_team_by_search(seeded_app: App) -> None:
    officer = demo_driver(seeded_app, "canbo")
    await officer.send("/moi")
    said = await officer.tap("Tổ trưởng")
    assert any("19786-1" in label for label in said.labels())
    said = await officer.send("dan pho 3")  # typed without diacritics
    assert [label for label in said.labels() if "19786" in label] == ["Tổ CNSCĐ Tổ dân phố 3 (19786-3)"]
    await officer.tap("19786-3")
    code = code_in(await officer.tap("1 người"))
    newcomer = ChatDriver(seeded_app, "7004", "Ông Tư")
    await newcomer.send(f"/start {code}")
    said = await newcomer.tap("Đúng")
    assert "tổ trưởng" in said.text and "Tổ dân phố 3" in said.text


async def test_bad_codes(seeded_app: App) -> None:
    user = ChatDriver(seeded_app, "7010", "Người mới")
    assert "không đúng" in (await user.send("/thamgia ZZZZZZZZ")).text
    assert "không đúng" in (await user.send("/start ABCDEFGH")).text

    expired = await make_code(seeded_app, days=1)
    async with seeded_app.sessions() as session, session.begin():
        actor = (await people.resolve(session, "telegram", "7010", "7010", "Người mới"))[0]
        try:
            await invites.redeem(session, actor, expired, utcnow() + timedelta(days=2))
        except InvalidInput as exc:
            assert exc.key == "onboarding.errors.expired"
        else:
            raise AssertionError("an expired code was accepted")

    closed = await make_code(seeded_app, "19786-2")
    async with seeded_app.sessions() as session, session.begin():
        admin = await people.load_actor(
            session, (await people.resolve(session, "console", "demo-admin", "", "x"))[0].person_id
        )
        await units.close_unit(session, admin, (await units.get(session, "19786-2")).id, utcnow())
    assert "ngừng hoạt động" in (await user.send(f"/thamgia {closed}")).text

    # A volunteer already in the team.
    said = await demo_driver(seeded_app, "tnv").send(f"/thamgia {DEMO_INVITE_CODE}")
    assert "đã ở trong" in said.text
    # A team leader is already in the team too.
    said = await demo_driver(seeded_app, "totruong").send(f"/thamgia {DEMO_INVITE_CODE}")
    assert "đã ở trong" in said.text


async def test_forged_and_stale_approvals_are_refused(seeded_app: App) -> None:
    async with seeded_app.sessions() as s:
        request = (
            (await s.execute(select(JoinRequest).where(JoinRequest.status == "pending"))).scalars().first()
        )
    assert request is not None  # the demo seeder's pending request in 19786-1

    # A team leader of another team forges the payload.
    other = ChatDriver(seeded_app, "7020", "Tổ trưởng khác")
    await other.send("/start")
    async with seeded_app.sessions() as session, session.begin():
        await people.grant_role(
            session, channel="telegram", external_id="7020", role=Role.TEAM_LEADER, unit_code="19786-2"
        )
    said = await other.press(f"jr:a:{request.id}")
    assert "chưa có quyền" in said.text
    # A volunteer of the same team is not a team leader either.
    said = await demo_driver(seeded_app, "tnv").press(f"jr:a:{request.id}")
    assert "chưa có quyền" in said.text

    # The team leader hands over, then tries to approve: no longer allowed.
    leader = demo_driver(seeded_app, "totruong")
    await leader.send("/to")
    await leader.tap("Giao tổ trưởng")
    await leader.tap("Trần Văn Minh")
    said = await leader.tap("Đồng ý")
    assert "Trần Văn Minh" in said.text
    said = await leader.press(f"jr:a:{request.id}")
    assert "chưa có quyền" in said.text
    async with seeded_app.sessions() as s:
        still = await s.get(JoinRequest, request.id)
        assert still is not None and still.status == "pending"
    # The new team leader may.
    said = await demo_driver(seeded_app, "tnv").press(f"jr:r:{request.id}")
    assert "Đã từ chối" in said.text
    told = [r for r in await outbox_rows(seeded_app) if r.kind == "join_decision"]
    assert len(told) == 1 and "chưa được chấp nhận" in Reply.from_payload(told[0].payload).text


async def test_open_code_without_team_leader_goes_to_officers(seeded_app: App) -> None:
    code = await make_code(seeded_app, "19786-3", approval=True)
    user = ChatDriver(seeded_app, "7030", "Cô Hạnh")
    await user.send(f"/start {code}")
    await user.tap("Đúng")
    asks = [r for r in await outbox_rows(seeded_app) if r.kind == "join_request"]
    assert [r.chat_id for r in asks] == ["demo-canbo"]
    said = await user.send(f"/thamgia {code}")
    assert "đang chờ" in said.text


def _link_approval(rows: list[Any], chat_id: str) -> str:
    row = next(r for r in rows if r.kind == "link_confirm" and r.chat_id == chat_id)
    reply = Reply.from_payload(row.payload)
    return next(b.payload for line in reply.buttons for b in line if b.payload.startswith("lk:y:"))


async def test_link_two_channels(seeded_app: App) -> None:
    code = await make_code(seeded_app)
    tg = ChatDriver(seeded_app, "7040", "Minh TG")
    await tg.send(f"/start {code}")
    await tg.tap("Đúng")
    said = await tg.send("/lienket")
    link_code = code_in(said)
    assert "15 phút" in said.text

    zalo = ChatDriver(seeded_app, "z-7040", "Minh Zalo", channel="zalo_bot", supports_buttons=False)
    await zalo.send("/start")  # the Zalo account exists as its own (newer) person
    said = await zalo.send(f"/lienket {link_code}")
    assert "Minh TG" in said.text
    await tg.press(_link_approval(await outbox_rows(seeded_app), "7040"))
    said = await zalo.send("/toi")
    assert "thành viên tổ" in said.text and "Telegram" in said.text and "Zalo" in said.text
    said = await zalo.send(f"/lienket {link_code}")
    assert "đã được dùng" in said.text

    # Both have history (the same role on the same team): memberships merge into the older person.
    again = await tg.send("/lienket")
    async with seeded_app.sessions() as session, session.begin():
        other = (await people.resolve(session, "console", "demo-tnv2", "", "x"))[0]
        asked = await linking.request(session, other, code_in(again), utcnow())
        owner = await people.load_actor(session, asked.owner.person_id)
        linked = await linking.confirm(session, owner, asked.code_id, utcnow())
    assert linked.merged
    async with seeded_app.sessions() as session:
        kept = await people.load_actor(session, linked.person_id)
        assert {g.unit_code for g in kept.grants} == {"19786-1"}
        assert len([g for g in kept.grants if g.role is Role.VOLUNTEER]) == 1
        assert {a.channel for a in await people.reach(session, linked.person_id)} == {
            "console",
            "telegram",
            "zalo_bot",
        }


async def test_link_code_expires_and_not_on_same_account(app: App) -> None:
    user = ChatDriver(app, "7050", "An")
    code = code_in(await user.send("/lienket"))
    assert "chính tài khoản" in (await user.send(f"/lienket {code}")).text
    other = ChatDriver(app, "7051", "Bình")
    await other.send("/start")
    async with app.sessions() as session, session.begin():
        actor = (await people.resolve(session, "telegram", "7051", "7051", "Bình"))[0]
        try:
            await linking.request(session, actor, code, utcnow() + timedelta(minutes=16))
        except InvalidInput as exc:
            assert exc.key == "link.errors.expired"
        else:
            raise AssertionError("an expired link code was accepted")
