"""An invite code lends its creator's authority: it is honoured only while the creator could still
make it. Codes are made with /moi, roles end with /thuhoi, a team hand-over or closing a team, codes
are used with /thamgia or /start — all through the real intake; the operator's codes (no creator)
and `tocns invites list` through the real command line."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import select

from bot.kernel import App
from db.models import AuditLog, Invite, Membership
from db.repositories import core as repo
from services import invites
from tests.reliability.test_roles_over_time import tocns
from tests.support import ChatDriver, Said, demo_driver

CODE = re.compile(r"\b([A-HJ-NP-Z2-9]{8})\b")
LOST = "không còn hiệu lực"


def code_in(said: Said) -> str:
    match = CODE.search(said.text)
    assert match, said.text
    return match.group(1)


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """`tocns invites list` prints a table: one line per code in a wide terminal."""
    monkeypatch.setenv("COLUMNS", "240")


def cli_code(stdout: str) -> str:
    """The code `tocns invites create` printed."""
    match = CODE.search(stdout.split("Mã mời:")[1])
    assert match, stdout
    return match.group(1)


async def officer_code_from_canbo(app: App) -> str:
    """canbo: /moi → «cán bộ xã/phường» (one commune: no unit step) → 5 people, 7 days."""
    canbo = demo_driver(app, "canbo")
    await canbo.send("/moi")
    await canbo.tap("cán bộ xã/phường")
    said = await canbo.tap("5 người")
    assert "cán bộ xã/phường" in said.text and "5 người" in said.text
    return code_in(said)


async def thuhoi_canbo(app: App) -> None:
    lanhdao = demo_driver(app, "lanhdao")
    await lanhdao.send("/thuhoi")
    await lanhdao.tap("Phạm Quốc Bảo")
    assert "Đã thu hồi" in (await lanhdao.tap("Thu hồi")).text


async def roles_of(app: App, channel: str, user_id: str) -> list[str]:
    async with app.sessions() as s:
        account = await repo.find_account(s, channel, user_id)
        if account is None:
            return []
        stmt = select(Membership.role).where(
            Membership.person_id == account.person_id, Membership.active.is_(True)
        )
        return list((await s.execute(stmt)).scalars())


async def invite_row(app: App, code: str) -> Invite:
    async with app.sessions() as s:
        return (await s.execute(select(Invite).where(Invite.code == code))).scalar_one()


async def test_officer_code_dies_with_the_officers_role(seeded_app: App) -> None:
    """The reviewer's case: canbo's «cán bộ xã/phường» code, canbo revoked with /thuhoi, then
    someone types /thamgia <code>: refused politely, nothing granted, no use counted."""
    code = await officer_code_from_canbo(seeded_app)
    # Valid while canbo is an officer: the newcomer is asked to confirm, then cancels.
    early = ChatDriver(seeded_app, "7101", "Chị Lan")
    assert "Mã mời hợp lệ" in (await early.send(f"/thamgia {code}")).text
    await early.send("/huy")

    await thuhoi_canbo(seeded_app)
    row = await invite_row(seeded_app, code)
    assert row.revoked and row.uses == 0  # revoked at the moment the role was lost
    async with seeded_app.sessions() as s:
        audit = (await s.execute(select(AuditLog).where(AuditLog.action == "invite.revoke"))).scalars().all()
    assert [a.details["reason"] for a in audit if a.target == f"invite:{row.id}"] == ["creator_lost_role"]

    for who, text in (
        (ChatDriver(seeded_app, "7102", "Anh Khoa"), f"/thamgia {code}"),
        (early, f"/start {code}"),
    ):
        said = await who.send(text)
        assert LOST in said.text and "người tạo mã" in said.text, said.text
        assert "Đúng" not in " ".join(said.labels())
        assert await roles_of(seeded_app, "telegram", who.user_id) == []
        assert "cán bộ xã/phường" not in (await who.send("/toi")).text
    assert (await invite_row(seeded_app, code)).uses == 0


async def test_refused_between_the_code_and_the_name_confirmation(seeded_app: App) -> None:
    """The code was good when typed; the role ended before the newcomer tapped «Đúng»."""
    code = await officer_code_from_canbo(seeded_app)
    newcomer = ChatDriver(seeded_app, "7110", "Cô Hằng")
    assert "Mã mời hợp lệ" in (await newcomer.send(f"/thamgia {code}")).text
    await thuhoi_canbo(seeded_app)
    said = await newcomer.tap("Đúng")
    assert LOST in said.text, said.text
    assert await roles_of(seeded_app, "telegram", "7110") == []
    assert (await invite_row(seeded_app, code)).uses == 0


async def test_redemption_checks_the_creator_even_when_the_code_was_not_revoked(
    seeded_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Roles can end in ways that revoke nothing (a membership that lapses, a path added later):
    with revocation-at-loss switched off, the redemption check alone refuses. Here the team leader
    hands the team over and is a volunteer, who may invite nobody."""
    revoked: list[int] = []

    async def nothing(_session: object, person_id: int, _now: datetime) -> int:
        revoked.append(person_id)
        return 0

    monkeypatch.setattr(invites, "revoke_lapsed", nothing)
    totruong = demo_driver(seeded_app, "totruong")
    await totruong.send("/moi")
    await totruong.tap("Thành viên tổ")
    code = code_in(await totruong.tap("10 người"))
    await totruong.send("/to")
    await totruong.tap("Giao tổ trưởng")
    await totruong.tap("Trần Văn Minh")
    await totruong.tap("Đồng ý")
    assert revoked  # the hand-over would have revoked it; here nothing did
    assert not (await invite_row(seeded_app, code)).revoked

    listed = await tocns(seeded_app, "invites", "list", "--unit", "19786-1")
    assert listed.returncode == 0, listed.stderr
    line = next(ln for ln in listed.stdout.splitlines() if code in ln)
    assert "Lê Thị Hoa" in line and "10/10" in line and "bị từ chối: người tạo không còn quyền mời" in line

    newcomer = ChatDriver(seeded_app, "7120", "Bác Sáu")
    said = await newcomer.send(f"/start {code}")
    assert LOST in said.text, said.text
    assert await roles_of(seeded_app, "telegram", "7120") == []
    assert (await invite_row(seeded_app, code)).uses == 0


async def test_hand_over_revokes_the_old_team_leaders_codes(seeded_app: App) -> None:
    totruong = demo_driver(seeded_app, "totruong")
    await totruong.send("/moi")
    await totruong.tap("Thành viên tổ")
    code = code_in(await totruong.tap("1 người"))
    await totruong.send("/to")
    await totruong.tap("Giao tổ trưởng")
    await totruong.tap("Trần Văn Minh")
    await totruong.tap("Đồng ý")
    assert (await invite_row(seeded_app, code)).revoked
    said = await ChatDriver(seeded_app, "7130", "Em Vy").send(f"/thamgia {code}")
    assert LOST in said.text
    # The new team leader's code works.
    tnv = demo_driver(seeded_app, "tnv")
    await tnv.send("/moi")
    await tnv.tap("Thành viên tổ")
    fresh = code_in(await tnv.tap("1 người"))
    joiner = ChatDriver(seeded_app, "7131", "Em Vy 2")
    await joiner.send(f"/thamgia {fresh}")
    assert "Chào mừng" in (await joiner.tap("Đúng")).text


async def test_other_codes_of_the_same_person_that_still_hold_are_kept(seeded_app: App) -> None:
    """canbo loses the officer role: the commune leader's code (she keeps her role) still admits,
    and so does the operator's code made on the server (no creator)."""
    code = await officer_code_from_canbo(seeded_app)
    lanhdao = demo_driver(seeded_app, "lanhdao")
    await lanhdao.send("/moi")
    await lanhdao.tap("cán bộ xã/phường")
    leaders = code_in(await lanhdao.tap("1 người, hiệu lực 7"))
    cli = await tocns(seeded_app, "invites", "create", "--unit", "19786", "--role", "officer", "--uses", "2")
    assert cli.returncode == 0, cli.stderr
    operator_code = cli_code(cli.stdout)

    await thuhoi_canbo(seeded_app)
    assert LOST in (await ChatDriver(seeded_app, "7140", "Ông Năm").send(f"/thamgia {code}")).text
    for user_id, used in (("7141", leaders), ("7142", operator_code)):
        joiner = ChatDriver(seeded_app, user_id, f"Người {user_id}")
        await joiner.send(f"/thamgia {used}")
        assert "cán bộ xã/phường" in (await joiner.tap("Đúng")).text
        assert await roles_of(seeded_app, "telegram", user_id) == ["officer"]


async def test_cli_lists_open_codes(seeded_app: App) -> None:
    code = await officer_code_from_canbo(seeded_app)
    cli = await tocns(
        seeded_app, "invites", "create", "--unit", "19786-2", "--role", "volunteer", "--uses", "3"
    )
    assert cli.returncode == 0, cli.stderr
    operator_code = cli_code(cli.stdout)

    listed = await tocns(seeded_app, "invites", "list")
    assert listed.returncode == 0, listed.stderr
    out = listed.stdout
    mine = next(ln for ln in out.splitlines() if code in ln)
    assert "officer" in mine and "19786" in mine and "5/5" in mine and "Phạm Quốc Bảo" in mine
    assert "đang mở" in mine
    theirs = next(ln for ln in out.splitlines() if operator_code in ln)
    assert "volunteer" in theirs and "3/3" in theirs and "dòng lệnh (CLI)" in theirs
    assert "TNVHUE26" in out  # the demo code of team 19786-1
    assert re.search(r"\d+ mã đang mở", out)

    # --unit: that unit and below only.
    team2 = (await tocns(seeded_app, "invites", "list", "--unit", "19786-2")).stdout
    assert operator_code in team2 and code not in team2 and "TNVHUE26" not in team2
    # A used, revoked or lapsed code is no longer open.
    await thuhoi_canbo(seeded_app)
    await tocns(seeded_app, "invites", "revoke", operator_code)
    after = (await tocns(seeded_app, "invites", "list", "--unit", "19786")).stdout
    assert code not in after and operator_code not in after and "TNVHUE26" in after
    bad = await tocns(seeded_app, "invites", "list", "--unit", "NOPE-1")
    assert bad.returncode == 2 and "NOPE-1" in bad.stderr


async def test_list_and_cancel_own_codes_in_chat(seeded_app: App) -> None:
    code = await officer_code_from_canbo(seeded_app)
    canbo = demo_driver(seeded_app, "canbo")
    await canbo.send("/moi")
    said = await canbo.tap("Mã đang mở của tôi")
    assert code in said.text and "cán bộ xã/phường" in said.text and "còn 5/5 lượt" in said.text
    assert "TNVHUE26" not in said.text  # the demo codes are nobody's
    cancel = said.button(f"Huỷ mã {code}")

    # Someone else's forged button says nothing about the code and changes nothing.
    forged = await demo_driver(seeded_app, "totruong").press(cancel)
    assert "không còn dùng được" in forged.text and code not in forged.text
    assert not (await invite_row(seeded_app, code)).revoked

    said = await canbo.press(cancel)
    assert f"Đã huỷ mã mời {code}" in said.text
    assert (await invite_row(seeded_app, code)).revoked
    said = await ChatDriver(seeded_app, "7150", "Chú Bảy").send(f"/thamgia {code}")
    assert "hết hạn" in said.text and await roles_of(seeded_app, "telegram", "7150") == []
    await canbo.send("/moi")
    assert "không có mã mời nào đang mở" in (await canbo.tap("Mã đang mở của tôi")).text


async def test_closing_a_team_revokes_its_leaders_codes_and_says_the_team_is_closed(
    seeded_app: App,
) -> None:
    totruong = demo_driver(seeded_app, "totruong")
    await totruong.send("/moi")
    await totruong.tap("Thành viên tổ")
    code = code_in(await totruong.tap("10 người"))
    async with seeded_app.sessions() as s:
        team = await repo.unit_by_code(s, "19786-1")
        assert team is not None
        team_id = team.id
    canbo = demo_driver(seeded_app, "canbo")
    said = await canbo.press(f"dv:cl:{team_id}")
    await canbo.press(said.button("Đóng"))
    assert (await invite_row(seeded_app, code)).revoked
    said = await ChatDriver(seeded_app, "7160", "Cô Mười").send(f"/thamgia {code}")
    assert "ngừng hoạt động" in said.text  # the clearer reason of the two
    assert await roles_of(seeded_app, "telegram", "7160") == []
