"""The operator's `tocns users grant --role team_leader` and `tocns users revoke --role team_leader`
keep one team leader per team, as the chat's «Giao tổ trưởng» does: the grant is that hand-over (the
sitting leader becomes a member and is told through the outbox, in the same words), a grant to the
sitting leader changes nothing, and a revoked leader leaves the team without one. Each test drives the
real command line in its own process, then the chat as the people concerned."""

from __future__ import annotations

import re
from typing import Any

from bot.kernel import App
from handlers.core import Reply
from tests.support import ChatDriver, demo_driver, outbox_rows, run_cli

TEAM = "Tổ CNSCĐ Tổ dân phố 1"
UNIT = "19786-1"
COMMUNE = "Phường Thuận Hóa"
HOA = "Lê Thị Hoa"  # the demo's team leader of 19786-1 (totruong)
MINH = "Trần Văn Minh"  # tnv, a member of 19786-1
YOU_LEAD = (
    f"Anh/chị vừa được giao vai trò tổ trưởng của {TEAM} ({COMMUNE}). "
    "Gõ /to để xem thành viên, /moi để mời thành viên mới."
)


def stepped_down(name: str) -> str:
    return (
        f"Vai trò tổ trưởng của {TEAM} ({COMMUNE}) đã được giao cho {name}. "
        "Anh/chị tiếp tục là thành viên tổ, vẫn ghi buổi hỗ trợ bằng /ghi như trước."
    )


def users(app: App, verb: str, channel: str, user_id: str, role: str, *more: str, lang: str = "vi") -> str:
    """`tocns [--lang en] users VERB ... --unit 19786-1`; its standard output (it must succeed)."""
    args = ("--lang", "en") if lang == "en" else ()
    done = run_cli(
        app.settings.database.url,
        *args,
        "users",
        verb,
        "--channel",
        channel,
        "--user-id",
        user_id,
        "--role",
        role,
        "--unit",
        UNIT,
        *more,
    )
    assert done.returncode == 0 and not done.stderr.strip(), done
    return done.stdout


def person_no(out: str) -> str:
    found = re.search(r"(?:người|person) #(\d+)", out)
    assert found, out
    return found.group(1)


def leaders_in(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.endswith("— tổ trưởng")]


async def pushes_since(app: App, before: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(chat id, kind, payload) of the outbox rows queued after the first `before`."""
    return [(r.chat_id, r.kind, dict(r.payload)) for r in (await outbox_rows(app))[before:]]


async def test_grant_to_a_member_is_the_chats_hand_over(seeded_app: App) -> None:
    hoa, minh, canbo = (demo_driver(seeded_app, k) for k in ("totruong", "tnv", "canbo"))
    await hoa.send("/to")  # the management buttons she holds before the grant
    remove_button = hoa.history[-1].button("Xoá thành viên")
    before = len(await outbox_rows(seeded_app))

    out = users(seeded_app, "grant", "console", "demo-tnv", "team_leader")
    number = person_no(out)
    assert (
        f"Đã chuyển vai trò tổ trưởng của {TEAM} ({UNIT}) từ {HOA} sang {MINH} (người #{number}); "
        f"{HOA} nay là thành viên tổ. Đã xếp 2 tin báo cho những người này vào hàng đợi."
    ) in out, out
    told = await pushes_since(seeded_app, before)
    assert told == [
        ("demo-tnv", "team_leader", {"text": YOU_LEAD}),
        ("demo-totruong", "team_leader", {"text": stepped_down(MINH)}),
    ], told

    # The chat as the people concerned: Minh manages the team, Hoa is a member who logs sessions.
    said = await minh.send("/to")
    assert leaders_in(said.text) == [f"• {MINH} — tổ trưởng"], said.text
    assert f"• {HOA} — thành viên tổ" in said.text and "nhiều tổ trưởng" not in said.text, said.text
    said = await minh.tap("Xoá thành viên")
    assert HOA in said.labels(), said.labels()  # a member now: her leader may remove her
    said = await minh.send("/moi")
    assert "Mã mở — cần duyệt" in " ".join(said.labels()), said.text  # as a team leader invites
    said = await hoa.send("/to")
    assert "chưa có quyền" in said.text, said.text
    assert "chưa có quyền" in (await hoa.send("/moi")).text
    said = await hoa.press(remove_button)  # a button from when she led
    assert "chưa có quyền" in said.text and not said.labels(), said.text
    said = await hoa.send("/ghi dvc nha 1")
    assert "Đã ghi" in said.text, said.text

    # The same words as the chat's hand-over: the officer appoints Hoa back, then Minh again.
    before = len(await outbox_rows(seeded_app))
    await canbo.send(f"/to {UNIT}")
    await canbo.tap("Giao tổ trưởng")
    await canbo.tap(HOA)
    said = await canbo.tap("Đồng ý")
    assert f"{MINH} nay là thành viên tổ và đã được báo tin." in said.text, said.text
    await canbo.send(f"/to {UNIT}")
    await canbo.tap("Giao tổ trưởng")
    await canbo.tap(MINH)
    await canbo.tap("Đồng ý")
    by_chat = await pushes_since(seeded_app, before)
    assert by_chat[-2:] == told, (by_chat, told)


async def test_grant_to_the_sitting_leader_changes_nothing(seeded_app: App) -> None:
    hoa = demo_driver(seeded_app, "totruong")
    before = len(await outbox_rows(seeded_app))
    out = users(seeded_app, "grant", "console", "demo-totruong", "team_leader")
    number = person_no(out)
    assert out.strip() == (
        f"{HOA} (người #{number}) đã là tổ trưởng của {TEAM} ({UNIT}); không có gì thay đổi."
    ), out
    out = users(seeded_app, "grant", "console", "demo-totruong", "team_leader", lang="en")
    assert out.strip() == f"{HOA} (person #{number}) already leads {TEAM} ({UNIT}); nothing changed.", out
    assert len(await outbox_rows(seeded_app)) == before
    said = await hoa.send("/to")
    assert leaders_in(said.text) == [f"• {HOA} — tổ trưởng"], said.text
    assert "Xoá thành viên" in said.labels()


async def test_grant_to_someone_new_in_english_tells_each_in_their_language(seeded_app: App) -> None:
    """A person the bot has never seen is made leader from the command line (`--lang en`): the
    sitting leader, who reads English, is told in English; the new leader in Vietnamese."""
    hoa = demo_driver(seeded_app, "totruong")
    assert "English" in (await hoa.press("lang:en")).text
    before = len(await outbox_rows(seeded_app))
    out = users(seeded_app, "grant", "telegram", "7788", "team_leader", "--name", "Phạm Văn Bình", lang="en")
    number = person_no(out)
    assert (
        f"Moved the team leader role of {TEAM} ({UNIT}) from {HOA} to Phạm Văn Bình (person #{number}); "
        f"{HOA} is now a member of the team. Queued 2 message(s) telling them."
    ) in out, out
    told = {chat: Reply.from_payload(p).text for chat, _kind, p in await pushes_since(seeded_app, before)}
    assert told["7788"] == YOU_LEAD, told
    assert told["demo-totruong"].startswith(
        f"The team leader role of {TEAM} ({COMMUNE}) was handed to Phạm Văn Bình."
    ), told

    binh = ChatDriver(seeded_app, "7788", "Bình")
    said = await binh.send("/to")
    assert leaders_in(said.text) == ["• Phạm Văn Bình — tổ trưởng"], said.text
    assert f"• {HOA} — thành viên tổ" in said.text, said.text
    said = await binh.send("/moi")
    assert "Mã mở — cần duyệt" in " ".join(said.labels()), said.text
    said = await hoa.send("/to")
    assert "not allowed" in said.text, said.text
    said = await hoa.send("/ghi dvc nha 1")
    assert "✅ Logged" in said.text, said.text


async def test_revoking_the_leader_leaves_the_team_without_one(seeded_app: App) -> None:
    hoa, canbo = demo_driver(seeded_app, "totruong"), demo_driver(seeded_app, "canbo")
    out = users(seeded_app, "revoke", "console", "demo-totruong", "team_leader")
    assert "Đã thu hồi vai trò tổ trưởng (team_leader) tại 19786-1" in out, out
    assert f"{TEAM} ({UNIT}) nay chưa có tổ trưởng: yêu cầu tham gia tổ sẽ gửi tới cán bộ" in out, out
    assert f"{HOA} không còn ở trong tổ." in out, out

    # She led without also being a member: now she is neither.
    said = await hoa.send("/to")
    assert "chưa có quyền" in said.text, said.text
    said = await hoa.send("/ghi dvc nha 1")
    assert "chưa thuộc tổ công nghệ số nào" in said.text, said.text
    # The team has no leader: the officer sees it and decides the waiting join request.
    said = await canbo.send(f"/to {UNIT}")
    assert leaders_in(said.text) == [] and HOA not in said.text, said.text
    assert "✔ Duyệt" in said.labels(), said.labels()  # Trương Văn Lộc's request, from the demo
    # A newcomer with the open code: the request goes to the commune's officer.
    before = len(await outbox_rows(seeded_app))
    newcomer = ChatDriver(seeded_app, "7790", "Người mới")
    await newcomer.send("/thamgia MHUE26XK")
    await newcomer.tap("Đúng")
    asked = [chat for chat, kind, _p in await pushes_since(seeded_app, before) if kind == "join_request"]
    assert asked == ["demo-canbo"], asked

    # The operator keeps her as a member; the next leader is appointed from the command line.
    users(seeded_app, "grant", "console", "demo-totruong", "volunteer")
    said = await hoa.send("/ghi dvc nha 1")
    assert "Đã ghi" in said.text, said.text
    assert "chưa có quyền" in (await hoa.send("/to")).text
    out = users(seeded_app, "grant", "console", "demo-tnv", "team_leader")
    assert f"Đã giao vai trò tổ trưởng của {TEAM} ({UNIT}) cho {MINH}" in out, out
    assert "tổ chưa có tổ trưởng trước đó. Đã xếp 1 tin báo vào hàng đợi." in out, out
    said = await demo_driver(seeded_app, "tnv").send("/to")
    assert leaders_in(said.text) == [f"• {MINH} — tổ trưởng"], said.text


async def legacy_member_row(app: App, external_id: str) -> None:
    """Legacy data, inserted: a team leader who also holds the team's member role. No flow of today
    makes it (`tocns users grant --role volunteer` for the team's leader changes nothing, as their
    invite code would: tests/test_grant_rules.py), but older installations' grants did."""
    from sqlalchemy import select

    from db.models import ChannelAccount, Membership, Unit

    async with app.sessions() as s, s.begin():
        person = await s.scalar(
            select(ChannelAccount.person_id).where(ChannelAccount.external_id == external_id)
        )
        team = await s.scalar(select(Unit.id).where(Unit.code == UNIT))
        s.add(Membership(person_id=person, unit_id=team, role="volunteer", active=True))


async def test_revoking_a_leader_who_is_also_a_member_keeps_them_in_the_team(seeded_app: App) -> None:
    """A leader who also holds the member role of the team (older installations' grants made it:
    inserted, see `legacy_member_row`) stays a member: /ghi works, /to does not."""
    hoa = demo_driver(seeded_app, "totruong")
    await legacy_member_row(seeded_app, "demo-totruong")
    out = users(seeded_app, "revoke", "console", "demo-totruong", "team_leader", lang="en")
    assert f"{TEAM} ({UNIT}) has no team leader now" in out, out
    assert f"{HOA} stays a member of the team (logs help sessions with /ghi as before)." in out, out
    said = await hoa.send("/to")
    assert "chưa có quyền" in said.text, said.text
    said = await hoa.send("/ghi dvc nha 1")
    assert "Đã ghi" in said.text, said.text
    said = await hoa.send("/toi")
    assert f"thành viên tổ — {TEAM}" in said.text and "tổ trưởng" not in said.text, said.text
