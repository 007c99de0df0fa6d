"""Issue 14, Medium 7-8: a team named like a formula stays text in every export; a volunteer of
one commune cannot record (squat) a code whose commune segment is another commune's."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select

from bot.kernel import App
from db.models import Dossier
from db.repositories import core as repo
from services.export_safety import csv_row, neutralise
from tests.support import demo_driver

FORMULA = '=HYPERLINK("http://attacker.example/x","Bấm")'


async def test_team_named_like_a_formula_is_text_in_xuat(seeded_app: App) -> None:
    canbo = demo_driver(seeded_app, "canbo")
    async with seeded_app.sessions() as s:
        team = await repo.unit_by_code(s, "19786-1")
        assert team is not None
        team_id = team.id
    await canbo.press(f"dv:rn:{team_id}")
    said = await canbo.send(FORMULA)
    assert "HYPERLINK" in said.text
    said = await canbo.send("/xuat 19786")
    [attachment] = [r.attachment for r in said.replies if r.attachment is not None]
    wb = load_workbook(io.BytesIO(attachment.data))
    cells = [c for row in wb.active.iter_rows() for c in row if isinstance(c.value, str)]  # type: ignore[union-attr]
    assert any("HYPERLINK" in c.value for c in cells)
    for cell in cells:
        assert cell.data_type == "s", (cell.coordinate, cell.value)
        assert not cell.value.startswith(("=", "+", "-", "@")), cell.value


def test_owasp_leading_characters_are_neutralised() -> None:
    for bad in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert neutralise(bad).startswith("'")
    assert neutralise("Tổ dân phố 1") == "Tổ dân phố 1"
    assert csv_row(["=cmd", 5, None]) == ["'=cmd", 5, None]


async def test_volunteer_cannot_squat_another_communes_code(seeded_app: App) -> None:
    tnv = demo_driver(seeded_app, "tnv")  # a volunteer of commune 19786
    squatted = "H46.19768-261120-0001"  # 19768: Phường Phú Xuân, another commune
    await tnv.send(f"/hoso {squatted}")
    await tnv.send("mot thu tuc la hoac")
    await tnv.tap("Dùng đúng tên")
    await tnv.tap("tại quầy")
    await tnv.tap("Hôm nay")
    await tnv.tap("Chưa có")
    said = await tnv.tap("Có")
    assert "không thuộc xã/phường của anh/chị" in said.text
    async with seeded_app.sessions() as s:
        assert (await s.execute(select(Dossier).where(Dossier.code == squatted))).first() is None
    # Its own commune's segment is fine.
    own = "H46.19786-261120-0002"
    await tnv.send(f"/hoso {own}")
    await tnv.send("mot thu tuc la hoac")
    await tnv.tap("Dùng đúng tên")
    await tnv.tap("tại quầy")
    await tnv.tap("Hôm nay")
    await tnv.tap("Chưa có")
    said = await tnv.tap("Có")
    assert "Đã ghi hồ sơ" in said.text
