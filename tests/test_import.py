"""Import of the one-stop export: Excel quirks, row errors, structural errors, upsert, scope."""

from __future__ import annotations

import io
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from bot.kernel import App
from db.base import utcnow
from db.models import Dossier, DossierEvent, Unit
from services.access import Actor, Grant, Role
from services.dossiers import import_ as dossier_import
from services.dossiers.import_ import reading
from services.errors import DomainError
from tests.support import ChatDriver, demo_driver, run_cli

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


async def test_officer_uploads_xlsx_with_row_errors(seeded_app: App) -> None:
    canbo = demo_driver(seeded_app, "canbo")
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
    async with seeded_app.sessions() as s:
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
    rows[0][5], rows[0][6] = "05/11/2026", "Có kết quả"  # a result comes with its date
    said = await canbo.upload("hoso.xlsx", make_xlsx(rows))
    assert "1 cập nhật" in said.text
    async with seeded_app.sessions() as s:
        d1 = (await s.execute(select(Dossier).where(Dossier.code == "H46.19786-261101-0001"))).scalar_one()
        assert d1.status == "result_ready"
        n = (await s.execute(select(func.count()).where(DossierEvent.dossier_id == d1.id))).scalar_one()
        assert n == 2


async def test_an_export_sent_in_a_group_is_not_imported_there(seeded_app: App) -> None:
    """/nhap is for the private chat: a file dropped in the team's group was imported and its row
    report posted to the group."""
    canbo = demo_driver(seeded_app, "canbo", chat_id="-100555", chat_type="group")
    said = await canbo.upload("hoso.xlsx", make_xlsx(sample_rows()))
    assert "trò chuyện riêng" in said.text and "hồ sơ mới" not in said.text, said.text
    async with seeded_app.sessions() as s:
        assert (
            await s.execute(
                select(func.count()).select_from(Dossier).where(Dossier.code.like("H46.19786-2611%"))
            )
        ).scalar_one() == 0


async def test_csv_upload_and_structural_errors(seeded_app: App) -> None:
    canbo = demo_driver(seeded_app, "canbo")
    said = await canbo.upload("hoso.csv", make_csv(sample_rows()))
    assert "2 hồ sơ mới" in said.text, said.text
    # Header on row 1; an Excel serial number is no date in a CSV text file.
    assert set(reasons(said.text)) == {4, 5, 6, 7, 8, 9}
    before = await count(seeded_app)
    broken = [h for h in HEADER if h != "Ngày tiếp nhận"]
    rows = [r[:3] + r[4:] for r in sample_rows()]
    said = await canbo.upload("thieu-cot.xlsx", make_xlsx(rows, broken))
    assert "thiếu cột bắt buộc" in said.text and "Chưa nhập dòng nào" in said.text
    said = await canbo.upload("hong.xlsx", b"PK\x03\x04 not really a workbook")
    assert "Không đọc được tệp" in said.text
    said = await canbo.upload("trong.csv", b"")
    assert "Không tìm thấy dòng tiêu đề" in said.text
    assert await count(seeded_app) == before
    # Someone without import rights: the file is not taken as an import.
    dan = ChatDriver(seeded_app, "7007")
    said = await dan.upload("hoso.xlsx", make_xlsx(sample_rows()))
    assert "hồ sơ mới" not in said.text
    assert await count(seeded_app) == before


async def test_service_import_from_path_with_progress(seeded_app: App, tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    path.write_bytes(make_xlsx(sample_rows()))
    admin = Actor(0, "cli", None, (Grant(Role.ADMIN, None, None, None, None),))
    seen: list[tuple[int, int | None]] = []
    async with seeded_app.sessions() as s, s.begin():
        summary = await dossier_import.import_file(
            s, admin, path, path.name, "46", utcnow(), TZ, progress=lambda n, t: seen.append((n, t))
        )
    # As an admin for the province, the rows naming communes 19786 and 19768 are accepted; the
    # ones naming none have no commune to go to (a dossier never belongs to the province).
    assert (summary.new, summary.rejected) == (2, 6)
    assert [n for n, key, _ in summary.errors if key == "nhap.row.no_commune"] == [4, 10]
    assert seen and seen[-1][0] == seen[-1][1]
    async with seeded_app.sessions() as s, s.begin():
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


# --- bulk upsert, readers ------------------------------------------------------------------

ADMIN = Actor(0, "cli", None, (Grant(Role.ADMIN, None, None, None, None),))


async def run_import(app: App, data: bytes | Path, name: str, unit: str = "19786") -> Any:
    async with app.sessions() as s, s.begin():
        return await dossier_import.import_file(s, ADMIN, data, name, unit, utcnow(), TZ)


async def event_count(app: App) -> int:
    async with app.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(DossierEvent))).scalar_one())


def many_rows(n: int) -> list[list[Any]]:
    return [
        [
            i,
            f"H46.19786-261101-{i:04d}",
            "Đăng ký khai sinh",
            datetime(2026, 11, 2, 8, i % 60),
            None,
            None,
            "Đang xử lý",
            "Trực tiếp",
            None,
            None,
        ]
        for i in range(1, n + 1)
    ]


@pytest.mark.parametrize("reader", ["path", "bytes"])
async def test_reimport_with_one_changed_status_updates_one_row_and_adds_one_event(
    seeded_app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str
) -> None:
    monkeypatch.setattr(dossier_import, "BATCH", 4)  # several batches, a duplicate across two of them
    rows = [*many_rows(10), [11, "H46.19786-261101-0002", "Đăng ký kết hôn", "03/11/2026", None, None, None,
                             None, None, None]]  # fmt: skip

    def source(rows: list[list[Any]]) -> bytes | Path:
        data = make_xlsx(rows)
        if reader == "bytes":
            return data
        path = tmp_path / "export.xlsx"
        path.write_bytes(data)
        return path

    before, events = await count(seeded_app), await event_count(seeded_app)
    first = await run_import(seeded_app, source(rows), "export.xlsx")
    assert (first.new, first.updated, first.unchanged, first.rejected) == (10, 0, 0, 1)
    assert first.errors == [(14, "nhap.row.duplicate", {"code": "H46.19786-261101-0002"})]
    assert await count(seeded_app) == before + 10 and await event_count(seeded_app) == events + 10
    rows[6][5], rows[6][6] = "03/11/2026", "Có kết quả"  # a result comes with its date
    again = await run_import(seeded_app, source(rows), "export.xlsx")
    assert (again.new, again.updated, again.unchanged, again.rejected) == (0, 1, 9, 1)
    assert await event_count(seeded_app) == events + 11
    async with seeded_app.sessions() as s:
        d = (await s.execute(select(Dossier).where(Dossier.code == "H46.19786-261101-0007"))).scalar_one()
        assert d.status == "result_ready" and d.source == "import"
        assert d.received_at == datetime(2026, 11, 2, 8, 7, tzinfo=TZ)
        last = (
            (
                await s.execute(
                    select(DossierEvent)
                    .where(DossierEvent.dossier_id == d.id)
                    .order_by(DossierEvent.id.desc())
                )
            )
            .scalars()
            .first()
        )
        assert last is not None and (last.status_from, last.status_to, last.note) == (
            "processing",
            "result_ready",
            "import",
        )
    third = await run_import(seeded_app, source(rows), "export.xlsx")
    assert (third.new, third.updated, third.unchanged) == (0, 0, 10)
    assert await event_count(seeded_app) == events + 11


@pytest.mark.parametrize("reader", ["path", "bytes"])
async def test_structural_error_imports_nothing(seeded_app: App, tmp_path: Path, reader: str) -> None:
    before, events = await count(seeded_app), await event_count(seeded_app)
    broken = [h for h in HEADER if h != "Tên thủ tục"]
    data = make_xlsx([r[:2] + r[3:] for r in many_rows(30)], broken)
    path = tmp_path / "broken.xlsx"
    path.write_bytes(data)
    with pytest.raises(dossier_import.ImportStructureError) as caught:
        await run_import(seeded_app, path if reader == "path" else data, "broken.xlsx")
    assert caught.value.key == "nhap.errors.missing_columns"
    assert "Tên thủ tục" in caught.value.params["columns"]
    with pytest.raises(dossier_import.ImportStructureError):
        await run_import(seeded_app, b"PK\x03\x04 not really a workbook", "broken.xlsx")
    assert (await count(seeded_app), await event_count(seeded_app)) == (before, events)


def test_fast_and_streaming_readers_agree(tmp_path: Path) -> None:
    """calamine (a file path) and openpyxl (bytes) give the same rows, row numbers and values."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append([])  # two empty rows above the header: row numbers must stay the sheet's
    ws.append([])
    ws.append(HEADER)
    ws.append(
        [1, "H46.19786-261101-0001", "Khai sinh", datetime(2026, 11, 2), None, None, None, None, 19786, "x"]
    )
    ws.append(
        [2, "H46.19786-261101-0002", "Kết hôn", 46330, "05/11/2026", None, "Đã trả kết quả", None, None, 1]
    )
    ws.append([])
    ws.append([3, "sai", "Kết hôn", "03/11/2026", None, None, None, None, None, None])
    ws["D4"].number_format = "dd/mm/yyyy"  # a date-only cell: calamine reads a date, openpyxl a datetime
    path = tmp_path / "export.xlsx"
    wb.save(path)
    profile = dossier_import.load_profile()

    def read(data: bytes | Path) -> tuple[str, list[tuple[int, Any]]]:
        sheet = dossier_import.open_sheet(data, "export.xlsx")
        try:
            rows = list(sheet.rows)
        finally:
            sheet.close()
        header, mapping = dossier_import.find_header(rows[:10], profile)
        out: list[tuple[int, Any]] = []
        for n, cells in rows:
            if n <= header or all(c in (None, "") for c in cells):
                continue
            try:
                out.append((n, dossier_import.parse_row(n, cells, mapping, profile, TZ)))
            except dossier_import.RowError as exc:
                out.append((n, exc.key))
        return sheet.reader, out

    fast, streamed = read(path), read(path.read_bytes())
    assert fast[0] == "calamine" and streamed[0] == "openpyxl"
    assert fast[1] == streamed[1]
    assert [n for n, _ in fast[1]] == [4, 5, 7]
    first = fast[1][0][1]
    assert first.unit_code == "19786"  # a number in the sheet: 19786.0 from calamine
    assert first.values["received_at"] == datetime(2026, 11, 2, 0, 0, tzinfo=TZ)
    assert fast[1][2][1] == "nhap.row.bad_code"


def test_fast_reader_only_for_sheets_that_fit(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"] = "Mã hồ sơ"
    ws["XFD1048576"] = "x"  # 17 billion cells by its dimension: calamine would try to allocate them
    path = tmp_path / "far.xlsx"
    wb.save(path)
    assert not reading._fast_xlsx_fits(path)
    sheet = dossier_import.open_sheet(path, "far.xlsx")
    try:
        assert sheet.reader == "openpyxl"
    finally:
        sheet.close()
    small = tmp_path / "small.xlsx"
    small.write_bytes(make_xlsx(sample_rows()))
    assert reading._fast_xlsx_fits(small)


# --- where a dossier goes, impossible rows (the command line as an operator runs it) -----------

ROOT = Path(__file__).resolve().parent.parent


def tocns_import(app: App, path: Path, unit: str) -> subprocess.CompletedProcess[str]:
    """`tocns import dossiers PATH --unit UNIT` in a child process, on the test's database."""
    return run_cli(app.settings.database.url, "import", "dossiers", str(path), "--unit", unit, COLUMNS="300")


def row(code: str, received: Any, finished: Any = None, status: Any = None, unit: Any = None) -> list[Any]:
    return [None, code, "Đăng ký khai sinh", received, None, finished, status, "Trực tiếp", unit, None]


async def owners(app: App, *codes: str) -> dict[str, tuple[str, str]]:
    """code → (unit code, unit kind) of the stored dossiers."""
    async with app.sessions() as s:
        found = await s.execute(
            select(Dossier.code, Unit.code, Unit.kind)
            .join(Unit, Unit.id == Dossier.unit_id)
            .where(Dossier.code.in_(codes))
        )
        return {code: (unit, kind) for code, unit, kind in found}


async def misplaced(app: App) -> int:
    async with app.sessions() as s:
        q = select(func.count()).select_from(Dossier).join(Unit, Unit.id == Dossier.unit_id)
        return int((await s.execute(q.where(Unit.kind != "commune"))).scalar_one())


async def test_cli_unit_above_a_commune_never_moves_a_dossier_off_its_commune(
    seeded_app: App, tmp_path: Path
) -> None:
    async with seeded_app.sessions() as s:
        known = (
            await s.execute(
                select(Dossier.code)
                .join(Unit, Unit.id == Dossier.unit_id)
                .where(Unit.code == "19813", Dossier.status == "processing")
                .order_by(Dossier.id)
                .limit(1)
            )
        ).scalar_one()
    fresh = "000.00.19813.H46-261130-0901"
    named = "000.00.19813.H46-261130-0902"
    rows = [
        row(known, "25/11/2026", status="Đang xử lý"),  # known: stays with its commune
        row(fresh, "30/11/2026"),  # new, no commune named
        row(named, "30/11/2026", unit="19813"),
        row("000.00.19813.H46-261130-0903", "30/11/2026", unit="19813-1"),  # a team
        row("000.00.19813.H46-261130-0904", "30/11/2026", unit="46"),  # the province
    ]
    path = tmp_path / "tinh.xlsx"
    path.write_bytes(make_xlsx(rows))
    before = await misplaced(seeded_app)
    done = tocns_import(seeded_app, path, "46")
    assert done.returncode == 0, done.stderr
    assert "1 hồ sơ mới, 1 cập nhật" in done.stdout, done.stdout
    errors = reasons(done.stdout)
    assert set(errors) == {5, 7, 8}, done.stdout
    assert "chưa ghi mã xã/phường" in errors[5] and "đơn vị 46" in errors[5]
    assert "19813-1 không phải xã/phường" in errors[7]
    assert "46 không phải xã/phường" in errors[8]
    assert await owners(seeded_app, known, fresh, named) == {
        known: ("19813", "commune"),
        named: ("19813", "commune"),
    }
    assert await misplaced(seeded_app) == before
    # A team is refused as a whole, saying which commune to import for.
    done = tocns_import(seeded_app, path, "19813-1")
    assert done.returncode == 2
    said = " ".join(done.stderr.split())
    assert "Đơn vị 19813-1 là tổ/nhóm" in said and "(mã 19813)" in said and "Chưa nhập dòng nào" in said
    assert await misplaced(seeded_app) == before


async def test_commune_takes_back_a_dossier_an_earlier_import_left_on_the_province(seeded_app: App) -> None:
    code = "H46.19786-261101-0001"
    first = await run_import(seeded_app, make_xlsx([row(code, "02/11/2026", status="Đang xử lý")]), "a.xlsx")
    assert first.new == 1
    # What `--unit 46` did before it was fixed: the dossier sat on the province itself.
    async with seeded_app.sessions() as s, s.begin():
        province = (await s.execute(select(Unit.id).where(Unit.code == "46"))).scalar_one()
        (await s.execute(select(Dossier).where(Dossier.code == code))).scalar_one().unit_id = province
    later = row(code, "02/11/2026", finished="05/11/2026", status="Có kết quả")
    again = await run_import(seeded_app, make_xlsx([later]), "a.xlsx")
    assert (again.updated, again.rejected) == (1, 0), again.errors
    assert await owners(seeded_app, code) == {code: ("19786", "commune")}


async def test_impossible_rows_are_refused_by_name_and_nothing_of_them_stored(seeded_app: App) -> None:
    canbo = demo_driver(seeded_app, "canbo")
    today = utcnow().astimezone(TZ).date()
    late_today = f"{today:%d/%m/%Y} 23:50"  # the rest of today is allowed (clocks differ)
    tomorrow = f"{today + timedelta(days=1):%d/%m/%Y}"
    codes = [f"H46.19786-261120-09{i:02d}" for i in range(7)]
    rows = [
        row(codes[0], late_today),
        row(codes[1], "24/11/2030"),
        row(codes[2], tomorrow),
        row(codes[3], "20/11/2026", finished="18/11/2026", status="Có kết quả"),
        row(codes[4], "20/11/2026 10:30", finished="20/11/2026", status="Có kết quả"),  # same day: fine
        row(codes[5], "20/11/2026", finished="22/11/2026", status="Đang xử lý"),
        row(codes[6], "20/11/2026", finished=tomorrow, status="Đã trả kết quả"),
    ]
    before, events = await count(seeded_app), await event_count(seeded_app)
    said = await canbo.upload("hoso.xlsx", make_xlsx(rows))
    assert "2 hồ sơ mới" in said.text and "5 dòng bị từ chối" in said.text, said.text
    errors = reasons(said.text)
    assert set(errors) == {5, 6, 7, 9, 10}, said.text
    assert "ngày tiếp nhận 24/11/2030 chưa tới" in errors[5]
    assert f"ngày tiếp nhận {tomorrow} chưa tới" in errors[6]
    assert "ngày có kết quả 18/11/2026 trước ngày tiếp nhận 20/11/2026" in errors[7]
    assert "trạng thái là «Đang xử lý»" in errors[9] and "để trống ngày có kết quả" in errors[9]
    assert f"ngày có kết quả {tomorrow} chưa tới" in errors[10]
    assert set(await owners(seeded_app, *codes)) == {codes[0], codes[4]}
    assert (await count(seeded_app), await event_count(seeded_app)) == (before + 2, events + 2)


async def test_an_older_export_does_not_undo_newer_statuses(seeded_app: App) -> None:
    canbo = demo_driver(seeded_app, "canbo")
    done, open_ = "H46.19786-261120-0801", "H46.19786-261120-0802"
    newer = [
        row(done, "20/11/2026", finished="25/11/2026", status="Đã trả kết quả"),
        row(open_, "20/11/2026", status="Đang xử lý"),
    ]
    said = await canbo.upload("moi.xlsx", make_xlsx(newer))
    assert "2 hồ sơ mới" in said.text, said.text
    events = await event_count(seeded_app)
    older = [
        [None, done, "Tên cũ", "20/11/2026", None, None, "Đang xử lý", "Trực tiếp", None, None],
        row(open_, "20/11/2026", status="Mới tiếp nhận"),
    ]
    said = await canbo.upload("cu.xlsx", make_xlsx(older))
    assert "0 cập nhật" in said.text and "2 dòng bị từ chối" in said.text, said.text
    errors = reasons(said.text)
    assert f"hồ sơ {done} đã ở trạng thái «Đã trả kết quả»" in errors[4] and "bỏ qua" in errors[4]
    assert f"hồ sơ {open_} đã ở trạng thái «Đang xử lý»" in errors[5]
    async with seeded_app.sessions() as s:
        d = (await s.execute(select(Dossier).where(Dossier.code == done))).scalar_one()
        assert (d.status, d.procedure_name) == ("returned", "Đăng ký khai sinh") and d.finished_at is not None
    assert await event_count(seeded_app) == events
    # Forward moves still go through.
    said = await canbo.upload("moi2.xlsx", make_xlsx([row(open_, "20/11/2026", status="Chờ bổ sung")]))
    assert "1 cập nhật" in said.text, said.text


def test_the_portal_named_without_a_level_is_online() -> None:
    """«Dịch vụ công trực tuyến» in a real export's submission column was refused as an unknown mode;
    like a bare «Trực tuyến», it is online at the profile's default level."""
    from services.dossiers.import_.profiles import load_profile
    from services.text import fold

    modes = load_profile().modes
    for written in ("Dịch vụ công trực tuyến", "DVC trực tuyến", "Nộp trực tuyến", "Qua Cổng dịch vụ công"):
        assert modes[" ".join(fold(written).split())] == modes["truc tuyen"], written
