"""Closing a team from /donvi: every former member and the waiting applicant are told, in their
own language and once; the join request is rejected; the former volunteer's /ghi says why."""

from __future__ import annotations

from sqlalchemy import select

from bot.kernel import App
from db.models import JoinRequest
from db.repositories import core as repo
from handlers.core import Reply
from tests.support import ChatDriver, close_team, demo_driver, outbox_rows
from tests.test_scheduler import Console

TEAM = "Tổ CNSCĐ Tổ dân phố 1"
MEMBERS = ("demo-tnv", "demo-tnv2", "demo-tv-1", "demo-tv-2")  # volunteers of 19786-1
LEADER = "demo-totruong"
APPLICANT = "demo-xinvao"


async def delivered(app: App, sender: Console) -> dict[str, list[str]]:
    while await app.dispatcher.drain_once():
        pass
    out: dict[str, list[str]] = {}
    for chat_id, text in sender.sent:
        out.setdefault(chat_id, []).append(text)
    return out


async def test_closing_tells_each_member_once_in_their_language(seeded_app: App) -> None:
    sender = Console()
    seeded_app.add_sender(sender)
    said = await ChatDriver(seeded_app, "demo-tv-2", "Bùi Thị Ngọc", channel="console").press("lang:en")
    assert "English" in said.text, said.text
    await delivered(seeded_app, sender)
    sender.sent.clear()

    await close_team(seeded_app, "Tổ dân phố 1")
    got = await delivered(seeded_app, sender)

    leader = got.get(LEADER, [])
    assert len(leader) == 1 and f"{TEAM} đã được đóng" in leader[0], got
    assert "vai trò tổ trưởng" in leader[0] and "cán bộ xã/phường" in leader[0]
    for chat_id in ("demo-tnv", "demo-tnv2", "demo-tv-1"):
        texts = got.get(chat_id, [])
        assert len(texts) == 1, (chat_id, got)
        assert "vai trò thành viên tổ" in texts[0] and "chờ lời mời vào một tổ khác" in texts[0]
    english = got.get("demo-tv-2", [])
    assert len(english) == 1 and f"{TEAM} has been closed" in english[0], got
    applicant = got.get(APPLICANT, [])
    assert len(applicant) == 1 and "Rất tiếc" in applicant[0] and "ngừng hoạt động" in applicant[0], got
    assert "demo-canbo" not in got  # the closer reads it in the answer

    rows = [r for r in await outbox_rows(seeded_app) if r.kind == "team_closed"]
    assert sorted(r.chat_id for r in rows) == sorted((LEADER, *MEMBERS))

    # A second tap on the old confirmation (or a second officer) sends nothing again.
    async with seeded_app.sessions() as s:
        team = await repo.unit_by_code(s, "19786-1")
        assert team is not None
    said = await demo_driver(seeded_app, "canbo").press(f"dv:cly:{team.id}")
    assert "đã được đóng trước đó" in said.text
    assert await delivered(seeded_app, sender) == got
    assert len([r for r in await outbox_rows(seeded_app) if r.kind == "team_closed"]) == len(rows)


async def test_closing_rejects_the_waiting_join_request(seeded_app: App) -> None:
    canbo = demo_driver(seeded_app, "canbo")
    said = await canbo.send("/to 19786-1")
    assert "Trương Văn Lộc đang xin vào tổ" in said.text  # the demo's waiting applicant
    approve = said.button("Duyệt")

    await close_team(seeded_app, "Tổ dân phố 1")

    async with seeded_app.sessions() as s:
        team = await repo.unit_by_code(s, "19786-1")
        assert team is not None
        requests = list(
            (await s.execute(select(JoinRequest).where(JoinRequest.unit_id == team.id))).scalars()
        )
    assert requests and all(r.status == "rejected" and r.decided_at is not None for r in requests)
    said = await canbo.send("/to 19786-1")
    assert "đang xin vào tổ" not in said.text and "✔ Duyệt" not in said.labels(), said.text
    # The button shown before the closing no longer decides anything.
    said = await canbo.press(approve)
    assert "đã được xử lý trước đó" in said.text, said.text
    pushes = [
        r for r in await outbox_rows(seeded_app) if r.chat_id == APPLICANT and r.kind == "join_decision"
    ]
    assert len(pushes) == 1 and "ngừng hoạt động" in Reply.from_payload(pushes[0].payload).text
    said = await ChatDriver(seeded_app, APPLICANT, "Trương Văn Lộc", channel="console").send("/toi")
    assert TEAM not in said.text, said.text


async def test_former_volunteer_hears_the_team_was_closed(seeded_app: App) -> None:
    tnv = demo_driver(seeded_app, "tnv")
    await tnv.send("/ghi")  # a dialog open when the team closes
    await close_team(seeded_app, "Tổ dân phố 1")
    said = await tnv.send("/ghi dvc nha 2")
    assert f"{TEAM} đã đóng" in said.text and "cán bộ xã/phường" in said.text, said.text
    assert "nhờ tổ trưởng" not in said.text
    said = await tnv.send("/tuan")
    assert f"{TEAM} đã đóng" in said.text, said.text
    # Someone who never was in a team still gets the invitation hint.
    said = await demo_driver(seeded_app, "dan").send("/ghi dvc nha 2")
    assert "đã đóng" not in said.text
