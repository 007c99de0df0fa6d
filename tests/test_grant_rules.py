"""The operator's `tocns users grant` keeps the rules an invite code keeps: a role only on the kind of
unit it is held for (volunteer, team leader → a team; officer → a commune; leader → a commune or
above; admin → a province, the country, or the whole installation), never on a closed team, and a
team's leader is in the team already. A team leader code redeemed on a team that has a leader is the
same hand-over as the chat's and the command line's. Each case drives the real command line in its
own process, then the chat as the people concerned."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from bot.kernel import App
from db.models import ChannelAccount
from handlers.core import Reply
from tests.support import ChatDriver, Said, close_team, demo_driver, outbox_rows, run_cli

TEAM = "Tổ CNSCĐ Tổ dân phố 1"
COMMUNE = "Phường Thuận Hóa"
HOA = "Lê Thị Hoa"  # the demo's team leader of 19786-1 (totruong)
MINH = "Trần Văn Minh"  # tnv, a member of 19786-1
CODE = re.compile(r"\b([A-HJ-NP-Z2-9]{8})\b")


def grant(
    app: App, user_id: str, role: str, *unit: str, lang: str = "vi", channel: str = "telegram"
) -> tuple[int, str, str]:
    """`tocns [--lang en] users grant ...`: (exit code, stdout, stderr)."""
    args = ("--lang", "en") if lang == "en" else ()
    done = run_cli(
        app.settings.database.url,
        *args,
        "users",
        "grant",
        "--channel",
        channel,
        "--user-id",
        user_id,
        "--role",
        role,
        *(("--unit", unit[0]) if unit else ()),
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout.strip(), done.stderr.strip()


def refused(app: App, user_id: str, role: str, *unit: str, lang: str = "vi") -> str:
    """The grant ended with exit code 2 and one line on stderr; that line."""
    code, out, err = grant(app, user_id, role, *unit, lang=lang)
    assert code == 2 and not out and err.count("\n") == 0, (code, out, err)
    return err


async def accounts(app: App, external_id: str) -> int:
    async with app.sessions() as s:
        found = await s.scalar(
            select(func.count()).select_from(ChannelAccount).where(ChannelAccount.external_id == external_id)
        )
    return int(found or 0)


WRONG_KIND = [
    (
        "officer",
        "19786-1",
        "--unit 19786-1 (Tổ CNSCĐ Tổ dân phố 1) là một tổ; vai trò cán bộ xã/phường (officer) chỉ gắn với "
        "một xã/phường/đặc khu.",
        "--unit 19786-1 (Tổ CNSCĐ Tổ dân phố 1) is a team; the role commune officer (officer) is held only "
        "for a commune.",
    ),
    (
        "volunteer",
        "46",
        "--unit 46 (Thành phố Huế) là một tỉnh/thành phố; vai trò thành viên tổ (volunteer) chỉ gắn với "
        "một tổ.",
        "--unit 46 (Thành phố Huế) is a province; the role team member (volunteer) is held only for a team.",
    ),
    (
        "admin",
        "19786-1",
        "--unit 19786-1 (Tổ CNSCĐ Tổ dân phố 1) là một tổ; vai trò quản trị (admin) chỉ gắn với một "
        "tỉnh/thành phố hoặc cả nước (hoặc bỏ --unit: toàn hệ thống).",
        "--unit 19786-1 (Tổ CNSCĐ Tổ dân phố 1) is a team; the role administrator (admin) is held only for "
        "a province or the whole country (or no --unit: the whole installation).",
    ),
    (
        "team_leader",
        "19786",
        "--unit 19786 (Phường Thuận Hóa) là một xã/phường/đặc khu; vai trò tổ trưởng (team_leader) chỉ gắn "
        "với một tổ.",
        "--unit 19786 (Phường Thuận Hóa) is a commune; the role team leader (team_leader) is held only for "
        "a team.",
    ),
    (
        "leader",
        "19786-1",
        "--unit 19786-1 (Tổ CNSCĐ Tổ dân phố 1) là một tổ; vai trò lãnh đạo (leader) chỉ gắn với một "
        "xã/phường/đặc khu, một quận/huyện, một tỉnh/thành phố hoặc cả nước.",
        "--unit 19786-1 (Tổ CNSCĐ Tổ dân phố 1) is a team; the role leader (leader) is held only for a "
        "commune, a district, a province or the whole country.",
    ),
]


@pytest.mark.parametrize(
    ("role", "unit", "vi", "en"), WRONG_KIND, ids=[f"{r}@{u}" for r, u, *_ in WRONG_KIND]
)
async def test_a_role_on_the_wrong_kind_of_unit_is_refused_as_an_invite_is(
    seeded_app: App, role: str, unit: str, vi: str, en: str
) -> None:
    assert refused(seeded_app, "555", role, unit) == f"tocns: {vi}"
    assert refused(seeded_app, "555", role, unit, lang="en") == f"tocns: {en}"
    assert await accounts(seeded_app, "555") == 0  # refused before anything is written
    # The operator's invite code for it says the same.
    made = run_cli(seeded_app.settings.database.url, "invites", "create", "--unit", unit, "--role", role)
    assert made.returncode == 2 and made.stderr.strip() == f"tocns: {vi}", made
    # The chat: the person holds nothing, so files nothing against the unit.
    person = ChatDriver(seeded_app, "555", "Người thử")
    said = await person.send("/baocao")
    assert "chưa có quyền" in said.text, said.text
    said = await person.send("/ghi dvc nha 1")
    assert "chưa thuộc tổ công nghệ số nào" in said.text, said.text


async def test_citizen_is_nothing_to_grant(seeded_app: App) -> None:
    choices = "volunteer, team_leader, officer, leader, admin"
    said = refused(seeded_app, "555", "citizen", "19786")
    assert said == (
        f"tocns: --role citizen: ai cũng là người dân, không cần cấp vai trò này; chọn một trong: {choices}."
    )
    said = refused(seeded_app, "555", "citizen", lang="en")
    assert said == (
        f"tocns: --role citizen: everyone is a citizen, there is nothing to grant; choose one of: {choices}."
    )
    assert await accounts(seeded_app, "555") == 0


async def test_roles_on_their_own_kinds_of_unit_still_work(seeded_app: App) -> None:
    """Leaders at a commune or a province, an admin of a province or of everything, an officer of a
    commune, a volunteer of a team: granted, and the chat gives what the role gives there."""
    for user_id, role, unit in (
        ("561", "leader", "46"),
        ("562", "leader", "19786"),
        ("563", "admin", "46"),
        ("564", "officer", "19786"),
        ("565", "volunteer", "19786-2"),
    ):
        code, out, err = grant(seeded_app, user_id, role, unit)
        assert code == 0 and out.startswith("Đã cấp vai trò ") and f" tại {unit} cho người #" in out, (
            out,
            err,
        )
    code, out, err = grant(seeded_app, "566", "admin")
    assert code == 0 and "Đã cấp vai trò quản trị (admin) tại toàn hệ thống" in out, (out, err)

    said = await ChatDriver(seeded_app, "561", "Lãnh đạo tỉnh").send("/toi")
    assert "lãnh đạo — Thành phố Huế (46)" in said.text, said.text
    said = await ChatDriver(seeded_app, "564", "Cán bộ").send("/baocao")
    assert "chưa có quyền" not in said.text, said.text
    said = await ChatDriver(seeded_app, "565", "Thành viên").send("/ghi dvc nha 1")
    assert "Đã ghi" in said.text, said.text


async def test_volunteer_for_the_teams_leader_changes_nothing(seeded_app: App) -> None:
    """A team leader is in the team already (their invite says so too): no second row, /to lists
    them once, and the line says nothing changed."""
    hoa = demo_driver(seeded_app, "totruong")
    before = len(await outbox_rows(seeded_app))
    code, out, err = grant(seeded_app, "demo-totruong", "volunteer", "19786-1", channel="console")
    assert code == 0 and not err, err
    number = re.search(r"người #(\d+)", out)
    assert number and out == (
        f"{HOA} (người #{number.group(1)}) là tổ trưởng của {TEAM} (19786-1), tức là đã ở trong tổ; "
        "không có gì thay đổi."
    ), out
    code, out, err = grant(seeded_app, "demo-totruong", "volunteer", "19786-1", lang="en", channel="console")
    assert code == 0 and out == (
        f"{HOA} (person #{number.group(1)}) leads {TEAM} (19786-1) and so already belongs to it; "
        "nothing changed."
    ), (out, err)
    assert len(await outbox_rows(seeded_app)) == before
    said = await hoa.send("/to")
    assert said.text.count(HOA) == 1 and f"• {HOA} — tổ trưởng" in said.text, said.text
    said = await hoa.send("/toi")
    assert f"tổ trưởng — {TEAM}" in said.text and "thành viên tổ" not in said.text, said.text


async def test_no_role_on_a_closed_team(seeded_app: App) -> None:
    await close_team(seeded_app, "Tổ dân phố 2")
    closed = (
        "--unit 19786-2 (Tổ CNSCĐ Tổ dân phố 2) đã đóng, không nhận thêm ai; chọn một đơn vị đang hoạt "
        "động (xem `tocns units list`)."
    )
    assert refused(seeded_app, "570", "volunteer", "19786-2") == f"tocns: {closed}"
    assert refused(seeded_app, "570", "team_leader", "19786-2") == f"tocns: {closed}"
    english = refused(seeded_app, "570", "volunteer", "19786-2", lang="en")
    assert english == (
        "tocns: --unit 19786-2 (Tổ CNSCĐ Tổ dân phố 2) is closed and takes nobody new; choose an open "
        "unit (see `tocns units list`)."
    ), english
    assert await accounts(seeded_app, "570") == 0
    said = await ChatDriver(seeded_app, "570", "Người thử").send("/ghi dvc nha 1")
    assert "chưa thuộc tổ công nghệ số nào" in said.text, said.text


async def officer_code(app: App, team_button: str) -> str:
    """The demo officer's team leader code for one team, made in the chat (/moi)."""
    canbo = demo_driver(app, "canbo")
    await canbo.send("/moi")
    await canbo.tap("Tổ trưởng")
    await canbo.tap(team_button)
    said = await canbo.tap("1 người")
    found = CODE.search(said.text)
    assert found, said.text
    return found.group(1)


def texts(rows: list[object]) -> dict[str, str]:
    return {r.chat_id: Reply.from_payload(r.payload).text for r in rows}  # type: ignore[attr-defined]


async def test_a_team_leader_code_on_a_led_team_hands_the_team_over(seeded_app: App) -> None:
    """The officer's code, used by a member of a team that has a leader: the chat's hand-over. The
    sitting leader becomes a member and is told; the member now leads, listed once."""
    code = await officer_code(seeded_app, "19786-1")
    minh, hoa = demo_driver(seeded_app, "tnv"), demo_driver(seeded_app, "totruong")
    before = len(await outbox_rows(seeded_app))
    await minh.send(f"/thamgia {code}")
    said: Said = await minh.tap("Đúng")
    assert f"Anh/chị đã là tổ trưởng của {TEAM}" in said.text, said.text
    assert f"{HOA} nay là thành viên tổ và đã được báo tin." in said.text, said.text
    told = texts((await outbox_rows(seeded_app))[before:])
    assert told == {
        "demo-totruong": (
            f"Vai trò tổ trưởng của {TEAM} ({COMMUNE}) đã được giao cho {MINH}. "
            "Anh/chị tiếp tục là thành viên tổ, vẫn ghi buổi hỗ trợ bằng /ghi như trước."
        )
    }, told

    said = await minh.send("/to")
    assert f"• {MINH} — tổ trưởng" in said.text and said.text.count(MINH) == 1, said.text
    assert f"• {HOA} — thành viên tổ" in said.text and "nhiều tổ trưởng" not in said.text, said.text
    said = await hoa.send("/to")
    assert "chưa có quyền" in said.text, said.text
    said = await hoa.send("/ghi dvc nha 1")
    assert "Đã ghi" in said.text, said.text


async def test_a_team_leader_code_for_a_newcomer_tells_the_sitting_leader_in_their_language(
    seeded_app: App,
) -> None:
    hoa = demo_driver(seeded_app, "totruong")
    assert "English" in (await hoa.press("lang:en")).text
    code = await officer_code(seeded_app, "19786-1")
    before = len(await outbox_rows(seeded_app))
    binh = ChatDriver(seeded_app, "7801", "Phạm Văn Bình")
    await binh.send(f"/start {code}")
    said = await binh.tap("Đúng")
    assert "Chào mừng Phạm Văn Bình" in said.text and f"{HOA} nay là thành viên tổ" in said.text, said.text
    told = texts((await outbox_rows(seeded_app))[before:])
    assert list(told) == ["demo-totruong"], told
    assert told["demo-totruong"].startswith(
        f"The team leader role of {TEAM} ({COMMUNE}) was handed to Phạm Văn Bình."
    ), told
    said = await binh.send("/to")
    assert [line for line in said.text.splitlines() if line.endswith("— tổ trưởng")] == [
        "• Phạm Văn Bình — tổ trưởng"
    ], said.text
