"""Issue 14, High 2 and Medium 4-6: people change over time. A removed volunteer's claimed ticket
goes back to the commune, the citizen's next message (a phone number) never reaches them, and
they are never labelled with a role they do not hold; staff roles are revoked at once (CLI and
/thuhoi); a removed member needs approval to come back; only teams are renamed from chat."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from bot.kernel import App
from db.models import AuditLog, DialogState, Membership, Ticket
from db.repositories import core as repo
from handlers.core import Reply
from services import revocation
from tests.support import ChatDriver, demo_driver, outbox_rows, seed_demo
from tests.test_handoff import open_ticket, person_of

PHONE = "0905 123 456"
ROOT = Path(__file__).resolve().parents[2]


async def tocns(app: App, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command line against the test's database, off the event loop."""
    env = {**os.environ, "TOCNS_DATABASE_URL": app.settings.database.url, "TOCNS_LOG_LEVEL": "WARNING"}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


async def claimed_by_tnv(app: App) -> tuple[ChatDriver, ChatDriver, int]:
    await seed_demo(app)
    dan, tnv = demo_driver(app, "dan"), demo_driver(app, "tnv")
    ticket = await open_ticket(app, dan, "Tôi cần hỏi về cấp lại căn cước")
    said = await tnv.press(f"hr:k:{ticket}")
    assert "đã nhận phiếu" in said.text
    return dan, tnv, ticket


async def texts_to(app: App, chat_id: str) -> list[str]:
    return [Reply.from_payload(r.payload).text for r in await outbox_rows(app) if r.chat_id == chat_id]


async def membership_id(app: App, key: str, role: str) -> int:
    async with app.sessions() as s:
        account = await repo.find_account(s, "console", f"demo-{key}")
        assert account is not None
        stmt = select(Membership.id).where(
            Membership.person_id == account.person_id, Membership.role == role, Membership.active.is_(True)
        )
        return int((await s.execute(stmt)).scalars().one())


async def test_removed_volunteer_loses_the_claimed_ticket(app: App) -> None:
    dan, tnv, ticket = await claimed_by_tnv(app)
    totruong = demo_driver(app, "totruong")
    mid = await membership_id(app, "tnv", "volunteer")
    await totruong.press(f"to:rmy:{mid}")
    async with app.sessions() as s:
        row = await s.get(Ticket, ticket)
        assert row is not None and row.status == "open" and row.claimed_by is None
    # Back to whoever a new ticket reaches (handoff.new_ticket_audience): the other volunteers,
    # who can be reached; the officers only when none can (tests/test_revoke_release.py).
    assert any("gửi lại cho các tình nguyện viên" in t for t in await texts_to(app, "demo-dan"))
    assert any(f"#{ticket}" in t and "trả lại" in t for t in await texts_to(app, "demo-tnv2"))
    assert not any(f"#{ticket}" in t and "trả lại" in t for t in await texts_to(app, "demo-tnv"))
    before = len(await texts_to(app, "demo-tnv"))
    await dan.send(f"Số của tôi là {PHONE}")
    assert len(await texts_to(app, "demo-tnv")) == before  # nothing relayed to the removed volunteer
    said = await tnv.send("Chị cho em xin thêm thông tin")
    assert "Phiếu" not in said.text or "không do anh/chị giữ" in said.text
    assert not any(PHONE in t for t in await texts_to(app, "demo-tnv"))
    # Whoever claims it next is labelled with their own role: the officer as «Cán bộ».
    canbo = demo_driver(app, "canbo")
    said = await canbo.press(f"hr:k:{ticket}")
    assert "đã nhận phiếu" in said.text


async def test_relay_and_close_recheck_the_current_role(app: App) -> None:
    """The role ends without the release step (a service call on its own): relay, close and reply
    mode still refuse, and the citizen's reply goes back to the queue, not to them."""
    dan, tnv, ticket = await claimed_by_tnv(app)
    mid = await membership_id(app, "tnv", "volunteer")
    from db.base import utcnow

    async with app.sessions() as s, s.begin():
        row = await s.get(Membership, mid)
        assert row is not None
        # What a team leader's /to removal does to the row, without the hand-off follow-up.
        row.active, row.ended_at = False, utcnow()
    assert "không do anh/chị giữ" in (await tnv.press(f"hr:r:{ticket}")).text
    said = await tnv.press(f"hr:c:{ticket}")
    assert "đóng phiếu" not in said.text.lower() or "Đã đóng" not in said.text
    before = len(await texts_to(app, "demo-tnv"))
    await dan.send(f"Gọi tôi số {PHONE}")
    assert len(await texts_to(app, "demo-tnv")) == before
    async with app.sessions() as s:
        row2 = await s.get(Ticket, ticket)
        assert row2 is not None and row2.status == "open" and row2.claimed_by is None
    for text in await texts_to(app, "demo-dan"):
        assert "Cán bộ" not in text.split("(phiếu")[0] or "đã nhận" not in text or "Tình nguyện" in text


async def test_cli_users_revoke_ends_an_officer_at_once(seeded_app: App) -> None:
    canbo = demo_driver(seeded_app, "canbo")
    await canbo.send("/donvi")  # an open dialog
    done = await tocns(
        seeded_app,
        "users",
        "revoke",
        "--channel",
        "console",
        "--user-id",
        "demo-canbo",
        "--role",
        "officer",
        "--unit",
        "19786",
    )
    assert done.returncode == 0, done.stderr
    async with seeded_app.sessions() as s:
        states = (
            (await s.execute(select(DialogState).where(DialogState.user_id == "demo-canbo"))).scalars().all()
        )
        assert all(st.name is None for st in states)
        audit = (await s.execute(select(AuditLog).where(AuditLog.action == "role.revoke"))).scalars().all()
    assert audit and audit[-1].details["role"] == "officer"
    said = await canbo.send("/nhap")
    assert "cán bộ xã/phường" not in (await canbo.send("/toi")).text
    assert "nhap" not in said.text.lower() or "quyền" in said.text.lower() or "không" in said.text.lower()


async def test_leader_revokes_officer_in_bot_and_not_the_other_way(seeded_app: App) -> None:
    lanhdao, canbo = demo_driver(seeded_app, "lanhdao"), demo_driver(seeded_app, "canbo")
    officer_mid = await membership_id(seeded_app, "canbo", "officer")
    leader_mid = await membership_id(seeded_app, "lanhdao", "leader")
    # The officer cannot revoke the leader, even with a forged payload.
    await canbo.press(f"th:y:{leader_mid}")
    assert "lãnh đạo" in (await lanhdao.send("/toi")).text
    said = await lanhdao.send("/thuhoi")
    assert "Phạm Quốc Bảo" in " ".join(said.labels())
    await lanhdao.press(f"th:x:{officer_mid}")
    said = await lanhdao.tap("Thu hồi")
    assert "Đã thu hồi" in said.text
    assert "cán bộ xã/phường" not in (await canbo.send("/toi")).text
    assert any("đã được thu hồi" in t for t in await texts_to(seeded_app, "demo-canbo"))
    async with seeded_app.sessions() as s:
        denied = (await s.execute(select(AuditLog).where(AuditLog.action == "access.denied"))).scalars().all()
    assert denied


async def test_removed_member_needs_approval_to_rejoin_with_the_old_code(seeded_app: App) -> None:
    from tests.test_onboarding import make_code

    code = await make_code(seeded_app, "19786-1", uses=10)
    newbie = ChatDriver(seeded_app, "tg-8001", "Chú Tư")
    await newbie.send(f"/start {code}")
    await newbie.tap("Đúng")
    assert "thành viên tổ" in (await newbie.send("/toi")).text
    totruong = demo_driver(seeded_app, "totruong")
    async with seeded_app.sessions() as s:
        account = await repo.find_account(s, "telegram", "tg-8001")
        assert account is not None
        mid = (
            await s.execute(
                select(Membership.id).where(
                    Membership.person_id == account.person_id, Membership.active.is_(True)
                )
            )
        ).scalar_one()
    await totruong.press(f"to:rmy:{mid}")
    await newbie.send(f"/start {code}")
    said = await newbie.tap("Đúng")
    assert "gửi tới tổ trưởng" in said.text
    me = (await newbie.send("/toi")).text
    assert "thành viên tổ" not in me and "đang chờ duyệt" in me


async def test_only_teams_are_renamed_from_chat(seeded_app: App) -> None:
    canbo = demo_driver(seeded_app, "canbo")
    async with seeded_app.sessions() as s:
        commune = await repo.unit_by_code(s, "19786")
        assert commune is not None
        commune_id = commune.id
    await canbo.press(f"dv:rn:{commune_id}")
    said = await canbo.send("Phường Của Tôi")
    async with seeded_app.sessions() as s:
        again = await repo.unit_by_code(s, "19786")
        assert again is not None and again.name != "Phường Của Tôi"
    assert "chỉ đổi tên" in (await canbo.press(f"dv:t:{commune_id}")).text or said.text


async def test_team_menu_does_not_leak_other_communes_teams(seeded_app: App) -> None:
    canbo = demo_driver(seeded_app, "canbo")
    async with seeded_app.sessions() as s:
        other = await repo.unit_by_code(s, "19768-1")
        assert other is not None
        other_id, other_name = other.id, other.name
    for step in ("t", "cl", "rn"):
        said = await canbo.press(f"dv:{step}:{other_id}")
        assert other_name not in said.text and "19768-1" not in said.text


async def test_revocation_rank(app: App) -> None:
    from services.access import Actor, Grant, Role

    leader = Actor(1, "L", None, (Grant(Role.LEADER, 1, "19786", "P", "/1/2/"),))
    assert revocation.can_revoke(leader, Role.OFFICER, "/1/2/", 2)
    assert not revocation.can_revoke(leader, Role.LEADER, "/1/2/", 2)
    assert revocation.can_revoke(leader, Role.LEADER, "/1/2/3/", 2)
    assert not revocation.can_revoke(leader, Role.OFFICER, "/1/9/", 2)
    assert not revocation.can_revoke(leader, Role.OFFICER, "/1/2/", 1)
    _ = person_of


async def test_removed_volunteer_cannot_undo_or_edit_sessions(seeded_app: App) -> None:
    tnv = demo_driver(seeded_app, "tnv")
    said = await tnv.send("/ghi dvc nha 2")
    assert "2" in said.text and "«" not in said.text[:12]
    from db.models import HelpSession

    async with seeded_app.sessions() as s:
        sid = (await s.execute(select(HelpSession.id).order_by(HelpSession.id.desc()).limit(1))).scalar_one()
    mid = await membership_id(seeded_app, "tnv", "volunteer")
    await demo_driver(seeded_app, "totruong").press(f"to:rmy:{mid}")
    await tnv.press(f"sua:del:{sid}")
    async with seeded_app.sessions() as s:
        before = await s.get(HelpSession, sid)
        assert before is not None
        other = "failed" if before.result != "failed" else "done"
    await tnv.press(f"sua:rr:{sid}:{other}")
    async with seeded_app.sessions() as s:
        row = await s.get(HelpSession, sid)
        assert row is not None and row.deleted_at is None and row.result != other


async def test_closing_a_team_releases_its_members_tickets_and_dialogs(app: App) -> None:
    _dan, _tnv, ticket = await claimed_by_tnv(app)
    canbo = demo_driver(app, "canbo")
    async with app.sessions() as s:
        team = await repo.unit_by_code(s, "19786-1")
        assert team is not None
        team_id = team.id
    said = await canbo.press(f"dv:cly:{team_id}")
    assert "19786-1" not in said.text or "đóng" in said.text.lower()
    async with app.sessions() as s:
        row = await s.get(Ticket, ticket)
        assert row is not None and row.status == "open" and row.claimed_by is None
        states = (
            (await s.execute(select(DialogState).where(DialogState.user_id == "demo-tnv"))).scalars().all()
        )
    assert not [st for st in states if st.name]
    # The commune's other teams can be reached: the ticket goes back to their volunteers.
    assert any(f"#{ticket}" in t and "trả lại" in t for t in await texts_to(app, "demo-tv-3"))
    assert not any(f"#{ticket}" in t and "trả lại" in t for t in await texts_to(app, "demo-tnv2"))


async def test_a_ticket_held_by_the_only_officer_goes_back_to_the_volunteers(seeded_app: App) -> None:
    """The officer (Thuận Hóa's only one) held a ticket and lost the role: the citizen was told it went
    to «cán bộ xã/phường» — there was none — and the volunteers, told «đã có người nhận», were never
    told it was open again. It goes back to them, with «Nhận»; the citizen is told so."""
    dan, canbo = demo_driver(seeded_app, "dan"), demo_driver(seeded_app, "canbo")
    lanhdao, tnv = demo_driver(seeded_app, "lanhdao"), demo_driver(seeded_app, "tnv")
    ticket = await open_ticket(seeded_app, dan, "Toi can ho tro lam giay khai sinh")
    assert "đã nhận phiếu" in (await canbo.press(f"hr:k:{ticket}")).text
    before = len(await texts_to(seeded_app, "demo-tnv"))
    await lanhdao.send("/thuhoi")
    await lanhdao.press(f"th:x:{await membership_id(seeded_app, 'canbo', 'officer')}")
    assert "Đã thu hồi" in (await lanhdao.tap("Thu hồi")).text
    told = await texts_to(seeded_app, "demo-dan")
    assert any("gửi lại cho các tình nguyện viên" in t for t in told), told
    assert not any("chuyển cho cán bộ" in t for t in told)
    again = (await texts_to(seeded_app, "demo-tnv"))[before:]
    assert any(f"#{ticket}" in t and "trả lại" in t for t in again), again
    assert "đã nhận phiếu" in (await tnv.press(f"hr:k:{ticket}")).text


async def test_a_follow_up_after_the_close_never_reopens_to_a_helper_who_lost_the_role(
    app: App,
) -> None:
    """A follow-up soon after the close reopens the ticket with the helper who closed it — unless they
    were removed from the team meanwhile: then it stays ended and nothing reaches them."""
    dan, tnv, ticket = await claimed_by_tnv(app)
    assert "Đã đóng phiếu" in (await tnv.press(f"hr:c:{ticket}")).text
    await demo_driver(app, "totruong").press(f"to:rmy:{await membership_id(app, 'tnv', 'volunteer')}")
    before = len(await texts_to(app, "demo-tnv"))
    said = await dan.send("chau oi con buoc 2 la gi")
    assert "mở lại" not in said.text, said.text
    async with app.sessions() as s:
        row = await s.get(Ticket, ticket)
        assert row is not None and row.status == "closed"
    assert len(await texts_to(app, "demo-tnv")) == before
