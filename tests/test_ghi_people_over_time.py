"""/ghi and /sua while the volunteer's teams change: a second team joined through /moi and
/thamgia, a team left (/roito), a removal by the team leader, a team closed (/donvi) — all through
the real intake, with the intake's clock injected. «Như lần trước» copies into the team of this
/ghi; /sua lists only what may still be changed; «↩ Quay lại» steps back; notes keep ID numbers out."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.kernel import App
from db.models import HelpSession
from services import sessions, units
from services.errors import InvalidInput
from tests.support import ChatDriver, Clock, Said, close_team, demo_driver

TEAM1 = "Tổ CNSCĐ Tổ dân phố 1"
TEAM2 = "Tổ CNSCĐ Tổ dân phố 2"
INVITE = re.compile(r"/thamgia ([A-HJ-NP-Z2-9]{8})")


async def join_team2(app: App, tnv: ChatDriver) -> None:
    """canbo makes a volunteer code for Tổ dân phố 2 (/moi); tnv uses it (/thamgia, «Đúng»)."""
    canbo = demo_driver(app, "canbo")
    await canbo.send("/moi")
    await canbo.tap("thành viên tổ")
    await canbo.tap("Tổ dân phố 2")
    said = await canbo.tap("1 người")
    match = INVITE.search(said.text)
    assert match, said.text
    await tnv.send(f"/thamgia {match.group(1)}")
    said = await tnv.tap("Đúng")
    assert "Tổ dân phố 2" in said.text, said.text
    said = await tnv.send("/toi")
    assert "19786-1" in said.text and "19786-2" in said.text, said.text


async def unit_id(app: App, code: str) -> int:
    async with app.sessions() as s:
        return (await units.get(s, code)).id


async def sessions_of(app: App, volunteer_id: int) -> list[HelpSession]:
    async with app.sessions() as s:
        stmt = (
            select(HelpSession)
            .where(HelpSession.volunteer_id == volunteer_id, HelpSession.deleted_at.is_(None))
            .order_by(HelpSession.id)
        )
        return list((await s.execute(stmt)).scalars())


async def newest(app: App) -> HelpSession:
    async with app.sessions() as s:
        return (await s.execute(select(HelpSession).order_by(HelpSession.id.desc()).limit(1))).scalar_one()


def same_label(said: Said) -> str:
    return next(label for label in said.labels() if label.startswith("Như lần trước"))


# --- «Như lần trước» -------------------------------------------------------------------------------


async def test_same_as_last_goes_to_the_team_picked_now(seeded_app: App, clock: Clock) -> None:
    tnv = demo_driver(seeded_app, "tnv")
    await join_team2(seeded_app, tnv)
    said = await tnv.send("/ghi dvc quay tiep")
    said = await tnv.tap("Tổ dân phố 1")
    assert "Đã ghi: DVC · tại một cửa · 1 người · Cần hỗ trợ tiếp" in said.text, said.text
    assert f"cho {TEAM1}" in said.text, said.text  # the confirmation names the team
    first = await newest(seeded_app)
    assert first.unit_id == await unit_id(seeded_app, "19786-1")

    clock.advance(minutes=20)
    await tnv.send("/ghi")
    said = await tnv.tap("Tổ dân phố 2")
    # The button shows everything the copy will carry, the result included.
    assert same_label(said) == "Như lần trước: DVC · tại một cửa · 1 người · Cần hỗ trợ tiếp"
    said = await tnv.tap("Như lần trước")
    assert "Đã ghi" in said.text and f"cho {TEAM2}" in said.text, said.text
    copy = await newest(seeded_app)
    assert copy.id != first.id and copy.volunteer_id == first.volunteer_id
    assert copy.unit_id == await unit_id(seeded_app, "19786-2")  # not the last session's team
    assert (copy.activity, copy.place, copy.citizens, copy.result) == ("dvc", "counter", 1, "followup")


async def test_same_as_last_after_leaving_the_last_sessions_team(seeded_app: App, clock: Clock) -> None:
    tnv = demo_driver(seeded_app, "tnv")
    await join_team2(seeded_app, tnv)
    await tnv.send("/ghi vneid nha 2")
    await tnv.tap("Tổ dân phố 1")
    clock.advance(hours=1)
    await tnv.send("/roito")
    said = await tnv.tap("Tổ dân phố 1")
    assert "đã rời" in said.text, said.text
    said = await tnv.send("/ghi")  # one team left: no team step, «Như lần trước» still offered
    assert "việc gì" in said.text and same_label(said).startswith("Như lần trước: VNeID · tại nhà · 2")
    assert "↩ Quay lại" not in said.labels()  # the first step of this /ghi
    said = await tnv.tap("Như lần trước")
    assert "Đã ghi" in said.text and f"cho {TEAM2}" in said.text, said.text
    assert "chưa có quyền" not in said.text
    assert (await newest(seeded_app)).unit_id == await unit_id(seeded_app, "19786-2")


async def test_same_as_last_after_the_last_sessions_team_was_closed(seeded_app: App, clock: Clock) -> None:
    tnv = demo_driver(seeded_app, "tnv")
    await join_team2(seeded_app, tnv)
    await tnv.send("/ghi cks dt 3 khong")
    await tnv.tap("Tổ dân phố 2")
    clock.advance(hours=2)
    await close_team(seeded_app, "Tổ dân phố 2")
    said = await tnv.send("/ghi")
    assert "Chưa làm được" in same_label(said)
    said = await tnv.tap("Như lần trước")
    assert "Đã ghi" in said.text and f"cho {TEAM1}" in said.text, said.text
    row = await newest(seeded_app)
    assert row.unit_id == await unit_id(seeded_app, "19786-1") and row.result == "failed"


async def test_same_as_last_from_a_cancelled_ghi_saves_nothing(seeded_app: App) -> None:
    tnv = demo_driver(seeded_app, "tnv")
    await tnv.send("/ghi dvc nha 2")
    said = await tnv.send("/ghi")
    button = said.button("Như lần trước")
    before = await newest(seeded_app)
    await tnv.send("/huy")
    said = await tnv.press(button)
    assert "đã cũ" in said.text, said.text
    assert (await newest(seeded_app)).id == before.id


# --- /sua lists only what may still be changed ----------------------------------------------------


async def test_sua_after_removal_from_a_team(seeded_app: App, clock: Clock) -> None:
    tnv = demo_driver(seeded_app, "tnv")
    await join_team2(seeded_app, tnv)
    await tnv.send("/ghi dvc nha 2")
    await tnv.tap("Tổ dân phố 1")
    in_team1 = await newest(seeded_app)
    clock.advance(minutes=5)
    await tnv.send("/ghi vneid quay 3")
    await tnv.tap("Tổ dân phố 2")
    said = await tnv.send("/sua")
    assert len(said.labels()) == 2
    old_pick = said.button("DVC")  # a list shown before the removal

    leader = demo_driver(seeded_app, "totruong")
    await leader.send("/to")
    await leader.tap("Xoá thành viên")
    await leader.tap("Trần Văn Minh")
    assert "Đã xoá Trần Văn Minh" in (await leader.tap("Đồng ý")).text

    clock.advance(minutes=5)
    said = await tnv.send("/sua")
    assert [label for label in said.labels() if "VNeID" in label]
    assert not [label for label in said.labels() if "DVC" in label], said.labels()
    # The old list's button: refused at once, naming the entry's team (not the current one).
    said = await tnv.press(old_pick)
    assert f"được ghi cho {TEAM1}" in said.text and "không còn ở tổ này" in said.text, said.text
    assert TEAM2 not in said.text
    # Nor can it be deleted through a forged «Xoá» of that entry.
    said = await tnv.press(f"sua:del:{in_team1.id}")
    assert f"được ghi cho {TEAM1}" in said.text, said.text
    assert in_team1.id in [r.id for r in await sessions_of(seeded_app, in_team1.volunteer_id)]


async def test_sua_hides_a_closed_teams_entries_and_the_window_still_ends(
    seeded_app: App, clock: Clock
) -> None:
    tnv = demo_driver(seeded_app, "tnv")
    await join_team2(seeded_app, tnv)
    await tnv.send("/ghi dvc nha 2")
    await tnv.tap("Tổ dân phố 2")
    clock.advance(minutes=1)
    await tnv.send("/ghi app nha 1")
    await tnv.tap("Tổ dân phố 1")
    await close_team(seeded_app, "Tổ dân phố 2")
    said = await tnv.send("/sua")
    assert [label for label in said.labels() if "Cài ứng dụng" in label]
    assert not [label for label in said.labels() if "DVC" in label], said.labels()
    await tnv.tap("Cài ứng dụng")
    said = await tnv.tap("Sửa số người")
    said = await tnv.send("4")
    assert "Đã sửa" in said.text and "4 người" in said.text, said.text
    clock.advance(hours=24, minutes=1)
    said = await tnv.send("/sua")
    assert "chưa ghi buổi nào trong 24 giờ qua" in said.text, said.text


# --- «↩ Quay lại» ------------------------------------------------------------------------------------


async def test_back_steps_keep_the_earlier_answers(seeded_app: App, clock: Clock) -> None:
    tnv = demo_driver(seeded_app, "tnv")
    await join_team2(seeded_app, tnv)
    said = await tnv.send("/ghi")
    assert "↩ Quay lại" not in said.labels()  # the team step is the first
    await tnv.tap("Tổ dân phố 1")
    said = await tnv.tap("Quay lại")  # a wrong team: back to the team step
    assert "tổ nào" in said.text, said.text
    said = await tnv.tap("Tổ dân phố 2")
    assert "việc gì" in said.text and "↩ Quay lại" in said.labels()
    await tnv.tap("Dịch vụ công")
    said = await tnv.tap("Quay lại")
    assert "việc gì" in said.text, said.text
    await tnv.tap("Kích hoạt VNeID")
    await tnv.tap("tại nhà")
    said = await tnv.send("quay lai")  # typed, without diacritics
    assert "ở đâu" in said.text, said.text
    await tnv.tap("qua điện thoại")
    await tnv.send("3")
    said = await tnv.send("Quay lại")
    assert "Bao nhiêu người" in said.text, said.text
    await tnv.send("4")
    await tnv.tap("Cần hỗ trợ tiếp")
    said = await tnv.send("back")
    assert "Kết quả" in said.text, said.text
    await tnv.tap("Đã xong")
    said = await tnv.tap("Lưu")
    assert "Đã ghi: VNeID · qua điện thoại · 4 người" in said.text and f"cho {TEAM2}" in said.text
    row = await newest(seeded_app)
    assert (row.activity, row.place, row.citizens, row.result) == ("vneid", "phone", 4, "done")
    assert row.unit_id == await unit_id(seeded_app, "19786-2")


async def test_an_old_back_button_is_out_of_date(seeded_app: App) -> None:
    tnv = demo_driver(seeded_app, "tnv")
    await tnv.send("/ghi")
    said = await tnv.tap("Dịch vụ công")
    back = said.button("Quay lại")
    await tnv.tap("tại nhà")  # the «where» step is over
    said = await tnv.press(back)
    assert "đã cũ" in said.text, said.text


# --- notes keep ID numbers out --------------------------------------------------------------------


async def test_notes_with_a_separated_cmnd_are_refused_and_dossier_codes_kept(seeded_app: App) -> None:
    tnv = demo_driver(seeded_app, "tnv")
    before = (await newest(seeded_app)).id
    await tnv.send("/ghi")
    await tnv.tap("Dịch vụ công")
    await tnv.tap("tại một cửa")
    await tnv.tap("1")
    await tnv.tap("Đã xong")
    for note in ("chu Hung CMND 191.234.567", "bà Lan CMND 191 234 567", "046 123 456 789", "0905 123 456"):
        said = await tnv.send(note)
        assert "số CCCD/CMND" in said.text and "Đã ghi" not in said.text, (note, said.text)
    assert (await newest(seeded_app)).id == before
    note = "hồ sơ 000.00.19786.H46-261207-0001 chờ bổ sung, hẹn 20/11"
    said = await tnv.send(note)
    assert "Đã ghi" in said.text, said.text
    row = await newest(seeded_app)
    assert row.id != before and row.note == note


async def test_the_copy_is_dated_by_the_clock(seeded_app: App, clock: Clock) -> None:
    """The copy is dated by the injected clock, not the original's time."""
    tnv = demo_driver(seeded_app, "tnv")
    await tnv.send("/ghi dvc nha 2")
    first = await newest(seeded_app)
    clock.advance(hours=3)
    await tnv.send("/ghi")
    await tnv.tap("Như lần trước")
    copy = await newest(seeded_app)
    assert copy.logged_at - first.logged_at >= timedelta(hours=3) - timedelta(seconds=1)


@pytest.mark.parametrize(
    "note",
    [
        "chu Hung CMND 191.234.567",
        "bà Lan CMND 191 234 567",
        "CMND 191 234 567 đã làm lại",
        "cmnd 191234567",
        "CCCD 046 123 456 789",
        "sđt 0905 123 456",
        "mail ba.lan@gmail.com",
    ],
)
def test_a_note_with_an_id_phone_or_mail_is_refused(note: str) -> None:
    with pytest.raises(InvalidInput) as err:
        sessions.check_note(note)
    assert err.value.key == "ghi.errors.note_personal"


@pytest.mark.parametrize(
    "note",
    [
        "hồ sơ 000.00.19786.H46-261207-0001 chờ bổ sung",  # a full dossier code is no phone number
        "mã H12.34-241120-0001 đã nộp",
        "nộp lệ phí 150.000.000 đồng",  # an amount written in groups is no CMND
        "hỗ trợ 3 hộ ở tổ 12, hẹn lại ngày 20/11 lúc 10:30",
        "gửi về motcua.thuanhoa@hue.gov.vn",  # a State body's mailbox
    ],
)
def test_ordinary_notes_and_dossier_codes_pass(note: str) -> None:
    assert sessions.check_note(note) == note
