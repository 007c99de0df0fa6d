"""Import of the one-stop export: Excel quirks, row errors, structural errors, upsert, scope."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from bot.app import App
from db.base import utcnow
from db.models import Dossier, DossierEvent
from services import dossier_import
from services.access import Actor, Grant, Role
from services.errors import DomainError
from tests.support import ChatDriver, demo_driver, seed_demo

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
HEADER = [
    "STT",
    "Mã hồ sơ",
    "Tên thủ tục",
    "Ngày tiếp nhận",
    "Ngày hẹn trả",
    "Ngày có kết quả",
    "Trạng thái",
    "Kênh nộp",
    "Mã đơn vị",
    "Ghi chú thêm",
]


def sample_rows() -> list[list[Any]]:
    return [
        [
            1,
            "H46.19786-261101-0001",
            "Đăng ký khai sinh",
            datetime(2026, 11, 2, 8, 30),
            "05/11/2026",
            None,
            "Đang xử lý",
            "Trực tuyến toàn trình",
            None,
            "x",
        ],
        [
            2,
            " h46.19786-261101-0002 ",
            "Đăng ký kết hôn",
            "03/11/2026",
            "06/11/2026",
            "05/11/2026",
            "Đã trả kết quả",
            "Trực tiếp",
            "19786",
            "",
        ],
        [3, "H46.19786-261101-0003", "Chứng thực bản sao", "31/02/2026", None, None, None, None, None, None],
        [4, "H46.19786-261101-0001", "Đăng ký khai sinh", "02/11/2026", None, None, None, None, None, None],
        [5, "H46.19768-261101-0004", "Đăng ký khai tử", "04/11/2026", None, None, None, None, "19768", None],
        [6, "xyz", "Đăng ký khai tử", "04/11/2026", None, None, None, None, None, None],
        [
            7,
            "H46.19786-261101-0005",
            "Đăng ký thường trú",
            46330,
            None,
            None,
            "Chờ bổ sung",
            "Một phần",
            None,
            None,
        ],
        [
            8,
            "H46.19786-261101-0006",
            "Đăng ký tạm trú",
            "04/11/2026",
            None,
            None,
            "Bay lên trời",
            None,
            None,
            None,
        ],
    ]


def make_xlsx(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    """A realistic export: a title, a merged group header, the real header on row 3."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["DANH SÁCH HỒ SƠ TIẾP NHẬN"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=6)
    ws.append(["", "Thông tin hồ sơ", "", "", "Thời hạn", ""])
    ws.merge_cells(start_row=2, start_column=2, end_row=2, end_column=4)
    ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def make_csv(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    import csv

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            ["" if v is None else v.strftime("%d/%m/%Y %H:%M") if isinstance(v, datetime) else v for v in row]
        )
    return buf.getvalue().encode("utf-8-sig")


async def count(app: App) -> int:
    async with app.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(Dossier))).scalar_one())


def reasons(said_text: str) -> dict[int, str]:
    out = {}
    for line in said_text.splitlines():
        if line.startswith("• Dòng "):
            n, _, reason = line[len("• Dòng ") :].partition(": ")
            out[int(n)] = reason
    return out


async def test_officer_uploads_xlsx_with_row_errors(app: App) -> None:
    await seed_demo(app)
    canbo = demo_driver(app, "canbo")
    said = await canbo.upload("hoso.xlsx", make_xlsx(sample_rows()))
    assert "3 hồ sơ mới" in said.text and "5 dòng bị từ chối" in said.text, said.text
    errors = reasons(said.text)
    # Row numbers are the sheet's: data starts on row 4.
    assert set(errors) == {6, 7, 8, 9, 11}
    assert "31/02/2026" in errors[6]
    assert "lặp" in errors[7]
    assert "ngoài phạm vi" in errors[8]
    assert "xyz" in errors[9]
    assert "Bay lên trời" in errors[11]
    async with app.sessions() as s:
        d = (await s.execute(select(Dossier).where(Dossier.code == "H46.19786-261101-0002"))).scalar_one()
        assert d.status == "returned" and d.mode == "counter" and d.finished_at is not None
        d1 = (await s.execute(select(Dossier).where(Dossier.code == "H46.19786-261101-0001"))).scalar_one()
        assert d1.mode == "full_online" and d1.received_at == datetime(2026, 11, 2, 8, 30, tzinfo=TZ)
        d5 = (await s.execute(select(Dossier).where(Dossier.code == "H46.19786-261101-0005"))).scalar_one()
        assert d5.received_at.astimezone(TZ).date().isoformat() == "2026-11-04"  # Excel serial 46330
        assert d5.status == "supplement"
    # Re-upload: unchanged; then a change of status updates and is kept as an event.
    said = await canbo.upload("hoso.xlsx", make_xlsx(sample_rows()))
    assert "0 hồ sơ mới" in said.text and "3 không đổi" in said.text
    rows = sample_rows()
    rows[0][6] = "Có kết quả"
    said = await canbo.upload("hoso.xlsx", make_xlsx(rows))
    assert "1 cập nhật" in said.text
    async with app.sessions() as s:
        d1 = (await s.execute(select(Dossier).where(Dossier.code == "H46.19786-261101-0001"))).scalar_one()
        assert d1.status == "result_ready"
        n = (await s.execute(select(func.count()).where(DossierEvent.dossier_id == d1.id))).scalar_one()
        assert n == 2


async def test_csv_upload_and_structural_errors(app: App) -> None:
    await seed_demo(app)
    canbo = demo_driver(app, "canbo")
    said = await canbo.upload("hoso.csv", make_csv(sample_rows()))
    assert "2 hồ sơ mới" in said.text, said.text
    # Header on row 1; an Excel serial number is no date in a CSV text file.
    assert set(reasons(said.text)) == {4, 5, 6, 7, 8, 9}
    before = await count(app)
    broken = [h for h in HEADER if h != "Ngày tiếp nhận"]
    rows = [r[:3] + r[4:] for r in sample_rows()]
    said = await canbo.upload("thieu-cot.xlsx", make_xlsx(rows, broken))
    assert "thiếu cột bắt buộc" in said.text and "Chưa nhập dòng nào" in said.text
    said = await canbo.upload("hong.xlsx", b"PK\x03\x04 not really a workbook")
    assert "Không đọc được tệp" in said.text
    said = await canbo.upload("trong.csv", b"")
    assert "Không tìm thấy dòng tiêu đề" in said.text
    assert await count(app) == before
    # Someone without import rights: the file is not taken as an import.
    dan = ChatDriver(app, "7007")
    said = await dan.upload("hoso.xlsx", make_xlsx(sample_rows()))
    assert "hồ sơ mới" not in said.text
    assert await count(app) == before


async def test_service_import_from_path_with_progress(app: App, tmp_path: Path) -> None:
    await seed_demo(app)
    path = tmp_path / "export.xlsx"
    path.write_bytes(make_xlsx(sample_rows()))
    admin = Actor(0, "cli", None, (Grant(Role.ADMIN, None, None, None, None),))
    seen: list[tuple[int, int | None]] = []
    async with app.sessions() as s, s.begin():
        summary = await dossier_import.import_file(
            s, admin, path, path.name, "46", utcnow(), TZ, progress=lambda n, t: seen.append((n, t))
        )
    # As an admin for the province, the row naming commune 19768 is accepted.
    assert (summary.new, summary.rejected) == (4, 4)
    assert seen and seen[-1][0] == seen[-1][1]
    async with app.sessions() as s, s.begin():
        with pytest.raises(DomainError):
            await dossier_import.import_file(s, admin, path, path.name, "46", utcnow(), TZ, profile="../x")


def test_dates() -> None:
    assert dossier_import.parse_when("05/11/2026", TZ) == datetime(2026, 11, 5, 8, 0, tzinfo=TZ)
    assert dossier_import.parse_when("05/11/2026", TZ, end_of_day=True) == datetime(
        2026, 11, 5, 23, 59, 59, tzinfo=TZ
    )
    assert dossier_import.parse_when("2026-11-05 14:30", TZ) == datetime(2026, 11, 5, 14, 30, tzinfo=TZ)
    assert dossier_import.parse_when(None, TZ) is None
    for bad in ("31/02/2026", "hôm qua", "5/13/2026", -3):
        with pytest.raises(dossier_import.RowError):
            dossier_import.parse_when(bad, TZ)
