"""/to, /roito, /toi and /donvi through the real intake."""

from __future__ import annotations

from bot.kernel import App
from handlers.core import Reply
from services import units
from tests.support import ChatDriver, demo_driver, outbox_rows, seed_demo


async def test_team_leader_sees_members_and_pending_request(seeded_app: App) -> None:
    said = await demo_driver(seeded_app, "totruong").send("/to")
    assert "Tổ CNSCĐ Tổ dân phố 1" in said.text
    for name in ("Trần Văn Minh", "Đặng Thị Thu", "Lê Thị Hoa", "Ngô Văn Hải", "Bùi Thị Ngọc"):
        assert name in said.text
    assert "Trương Văn Lộc đang xin vào tổ" in said.text
    assert "✔ Duyệt" in said.labels() and "Xoá thành viên" in said.labels()


async def test_remove_member_and_notify(seeded_app: App) -> None:
    leader = demo_driver(seeded_app, "totruong")
    await leader.send("/to")
    said = await leader.tap("Xoá thành viên")
    assert "Lê Thị Hoa" not in said.labels()  # not oneself
    await leader.tap("Ngô Văn Hải")
    said = await leader.tap("Đồng ý")
    assert "Đã xoá Ngô Văn Hải" in said.text
    said = await leader.send("/to")
    assert "Ngô Văn Hải" not in said.text
    removed = [r for r in await outbox_rows(seeded_app) if r.kind == "team_removed"]
    assert [r.chat_id for r in removed] == ["demo-tv-1"]


async def test_confirmations_name_the_member_picked(seeded_app: App) -> None:
    """The list is by name, the confirmation too: a list shown before someone joined or left
    must not lead to removing (or promoting) someone else than the leader means."""
    leader = demo_driver(seeded_app, "totruong")
    await leader.send("/to")
    await leader.tap("Xoá thành viên")
    said = await leader.tap("Ngô Văn Hải")
    assert "xoá Ngô Văn Hải khỏi Tổ CNSCĐ Tổ dân phố 1?" in said.text
    await leader.tap("Huỷ")
    await leader.send("/to")
    await leader.tap("Giao tổ trưởng")
    said = await leader.tap("Đặng Thị Thu")
    assert "giao vai trò tổ trưởng của Tổ CNSCĐ Tổ dân phố 1 cho Đặng Thị Thu?" in said.text
    # Someone else's confirmation (a forged or another team's button) names nobody.
    said = await demo_driver(seeded_app, "tnv").press("to:rmx:1")
    assert "chưa có quyền" in said.text


async def test_volunteer_cannot_view_or_manage(seeded_app: App) -> None:
    tnv = demo_driver(seeded_app, "tnv")
    said = await tnv.send("/to 19786-1")
    assert "chưa có quyền" in said.text
    said = await tnv.press("to:rmy:1")
    assert "chưa có quyền" in said.text or "không còn là thành viên" in said.text


async def test_officer_views_any_team_of_the_commune_but_not_others(seeded_app: App) -> None:
    officer = demo_driver(seeded_app, "canbo")
    said = await officer.send("/to 19786-2")
    assert "Phan Văn Quang" in said.text
    said = await officer.send("/to 19768-1")
    assert "chưa có quyền" in said.text
    said = await officer.send("/to")
    assert len(said.labels()) >= 3


async def test_leave_team_and_profile(seeded_app: App) -> None:
    tnv = demo_driver(seeded_app, "tnv")
    said = await tnv.send("/toi")
    assert "Trần Văn Minh" in said.text and "thành viên tổ — Tổ CNSCĐ Tổ dân phố 1 (19786-1)" in said.text
    said = await tnv.send("/roito")
    said = await tnv.tap("Tổ dân phố 1")
    assert "đã rời" in said.text
    said = await tnv.send("/toi")
    assert "chưa tham gia tổ" in said.text
    said = await tnv.send("/roito")
    assert "không ở trong tổ nào" in said.text
    said = await ChatDriver(seeded_app, "8001", "Khách").send("/toi")
    assert "người dân" in said.text


async def test_officer_creates_renames_and_closes_a_team(seeded_app: App) -> None:
    officer = demo_driver(seeded_app, "canbo")
    said = await officer.send("/donvi")
    assert "Phường Thuận Hóa — 3 tổ" in said.text
    await officer.tap("Thêm tổ")
    said = await officer.send("Tổ CNSCĐ Tổ dân phố 4")
    assert "19786-4" in said.text
    await officer.send("/donvi")
    await officer.tap("Tổ dân phố 4")
    await officer.tap("Đổi tên")
    said = await officer.send("Tổ CNSCĐ Khu vực 4")
    assert "Khu vực 4" in said.text
    await officer.send("/donvi")
    await officer.tap("Khu vực 4")
    await officer.tap("Đóng tổ")
    said = await officer.tap("Đóng tổ")
    assert "Đã đóng" in said.text
    async with seeded_app.sessions() as session:
        team = await units.get(session, "19786-4")
    assert not team.active and team.name == "Tổ CNSCĐ Khu vực 4"
    # A forged payload for another commune's team is refused.
    async with seeded_app.sessions() as session:
        other = await units.get(session, "19768-1")
    said = await officer.press(f"dv:cly:{other.id}")
    assert "chưa có quyền" in said.text


async def test_province_leader_searches_communes(seeded_app: App) -> None:
    leader = demo_driver(seeded_app, "tinh")
    said = await leader.send("/donvi")
    assert said.labels()
    said = await leader.send("thuan hoa")
    assert said.labels() == ["Phường Thuận Hóa (19786)"]
    said = await leader.tap("Thuận Hóa")
    assert "3 tổ" in said.text


async def test_hand_over_notifies_new_leader(seeded_app: App) -> None:
    leader = demo_driver(seeded_app, "totruong")
    await leader.send("/to")
    await leader.tap("Giao tổ trưởng")
    await leader.tap("Đặng Thị Thu")
    await leader.tap("Đồng ý")
    rows = [r for r in await outbox_rows(seeded_app) if r.kind == "team_leader"]
    assert [r.chat_id for r in rows] == ["demo-tnv2"]
    assert "tổ trưởng" in Reply.from_payload(rows[0].payload).text
    said = await demo_driver(seeded_app, "tnv2").send("/to")
    assert "Lê Thị Hoa — thành viên tổ" in said.text


async def test_demo_seed_is_idempotent(seeded_app: App) -> None:
    from sqlalchemy import func, select

    from db.models import Invite, JoinRequest, Membership

    async def counts() -> tuple[int, ...]:
        async with seeded_app.sessions() as s:
            return tuple(
                [
                    int((await s.execute(select(func.count()).select_from(m))).scalar_one())
                    for m in (Invite, JoinRequest, Membership)
                ]
            )

    first = await counts()
    await seed_demo(seeded_app)
    assert await counts() == first


async def test_toi_shows_this_weeks_own_tally(seeded_app: App) -> None:
    tnv = demo_driver(seeded_app, "tnv2")
    before = (await tnv.send("/toi")).text
    assert "tuần này" in before
    await tnv.send("/ghi dvc nha 3")
    after = (await tnv.send("/toi")).text
    import re

    def counts(text: str) -> tuple[int, int]:
        m = re.search(r"tuần này: (\d+) buổi hỗ trợ, (\d+) lượt", text)
        assert m, text
        return int(m.group(1)), int(m.group(2))

    s0, c0 = counts(before)
    assert counts(after) == (s0 + 1, c0 + 3)
    citizen = demo_driver(seeded_app, "dan")
    assert "tuần này" not in (await citizen.send("/toi")).text


async def test_leaving_the_team_on_a_channel_without_buttons(seeded_app: App) -> None:
    """On the console and Zalo the options are numbered, so the chat has a dialog row while the
    volunteer picks; leaving ends their dialogs, that row included — the answer must still be saved
    (it failed with "try again later" and nothing left the team)."""
    tnv = demo_driver(seeded_app, "tnv", supports_buttons=False)
    await tnv.send("/ghi")  # a dialog open on this chat: leaving must end it too
    said = await tnv.send("/roito")
    assert "1. Tổ CNSCĐ Tổ dân phố 1" in said.text, said.text
    said = await tnv.send("1")
    assert "đã rời" in said.text, said.text
    said = await tnv.send("/toi")
    assert "chưa tham gia tổ" in said.text
    said = await tnv.send("/ghi")
    assert "Anh/chị đã hỗ trợ" not in said.text  # no longer a volunteer
    said = await tnv.send("2")  # the old numbered options are gone with the dialog
    assert "đã rời" not in said.text and "sự cố" not in said.text
